"""XML sitemaps: every listed URL a page to watch (defusedxml, gzip bounded)."""

from __future__ import annotations

from urllib.parse import urlsplit

from sotewatch.pipeline.document.models import Document, Link, Section
from sotewatch.scrapers import _html, register
from sotewatch.scrapers._discovery import wanted
from sotewatch.scrapers._xml import parse_xml
from sotewatch.scrapers.base import Page
from sotewatch.scrapers.generic import GenericScraper


@register
class SitemapScraper(GenericScraper):
    """XML sitemap or sitemap index (defusedxml): URLs become Link(kind="item") to watch."""

    name = "sitemap"

    def parse(self, page: Page) -> Document:
        root = parse_xml(page.content or page.text.encode("utf-8"), page.url)
        is_index = _local(root.tag) == "sitemapindex"
        locations = [
            _html.absolute(page.url, (child.text or "").strip())
            for entry in root
            for child in entry
            if _local(child.tag) == "loc"
        ]
        kind = "feed" if is_index else "item"
        links = [Link(url=u, text="", kind=kind) for u in locations if u]
        chosen = wanted(links, self.options) if not is_index else links
        title = f"Sitemap {urlsplit(page.url).netloc}".strip()
        return Document(
            url=page.url,
            title=title,
            language=self.options.language or "fi",
            sections=(Section((title,), tuple(link.url for link in chosen)),),
            links=tuple(chosen),
            kind="listing",
        )


def _local(tag: object) -> str:
    return str(tag).rsplit("}", 1)[-1]
