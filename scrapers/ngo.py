"""NGO articles and pages: soste.fi news, Järjestöjen sote-muutostuki pages."""

from __future__ import annotations

from sotewatch.scrapers import register
from sotewatch.scrapers._html import Block
from sotewatch.scrapers.generic import GenericScraper
from sotewatch.scrapers.ministry import read_header


@register
class NgoScraper(GenericScraper):
    """NGO articles and pages (soste.fi): breadcrumb and share widgets dropped, quotes kept."""

    name = "ngo"
    exclude = (
        ".post-categories",
        ".post-navigation",
        ".author-box",
        ".wp-block-buttons",
        ".newsletter",
        ".subscribe",
    )

    def refine(self, items: list[Block]) -> tuple[list[Block], str | None]:
        kept, published = read_header(items, drop_types=False)
        if published is None:
            return super().refine(kept)
        return kept, published
