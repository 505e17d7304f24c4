"""Ministry pages and press releases: stm.fi, soteuudistus.fi, valtioneuvosto.fi."""

from __future__ import annotations

import re

from sotewatch.scrapers import register
from sotewatch.scrapers._html import Block
from sotewatch.scrapers._text import BARE_DATETIME, PUBLISHED, iso_from_match
from sotewatch.scrapers.generic import GenericScraper

ITEM_TYPES = frozenset(
    {
        *("tiedote", "uutinen", "artikkeli", "kolumni", "blogi", "puhe", "kannanotto", "ilmoitus"),
        *("katsaus", "lausunto", "pressmeddelande", "nyhet", "artikel", "kolumn", "blogg", "tal"),
        *("press release", "news item", "news article", "column", "speech"),
    }
)
_PUBLISHERS = re.compile(
    r"^(?:(?:[\w-]+\s+ja\s+)?[\w-]*(?:ministeriö|ministeriet|ministry|valtioneuvosto|statsrådet"
    r"|valtioneuvoston\s+kanslia|statsrådets\s+kansli)(?:\s+of\s+[\w\s]+?)?\s*)+$",
    re.IGNORECASE,
)
_DATE_LABEL = re.compile(
    r"^(?:julkaistu|julkaisuajankohta|julkaisupäivä|publicerad|publiceringstid|published)?\s*:?\s*$",
    re.IGNORECASE,
)
HEADER_LINES = 8  # the date, type and publisher lines sit right under the title


def read_header(items: list[Block], *, drop_types: bool) -> tuple[list[Block], str | None]:
    """Drop the publisher / date / type lines under the title; return the date as ISO.

    "Sosiaali- ja terveysministeriöValtiovarainministeriö 2.11.2018 15.02" gives
    "2018-11-02T15:02"; a lone "Tiedote" line is the item's type, not its text.
    """
    published: str | None = None
    kept: list[Block] = []
    header_paragraphs = 0
    for item in items:
        in_header = item.level == 0 and header_paragraphs < HEADER_LINES
        header_paragraphs = HEADER_LINES if item.level >= 2 else header_paragraphs + in_header
        if not in_header:
            kept.append(item)
            continue
        date = _header_date(item.text)
        if date and published is None:
            published = date
        elif drop_types and item.text.casefold().rstrip(".") in ITEM_TYPES:
            continue
        elif not _PUBLISHERS.match(item.text):
            kept.append(item)
    return kept, published


def _header_date(line: str) -> str | None:
    match = PUBLISHED.search(line) or BARE_DATETIME.search(line)
    if not match or len(line) > 160:
        return None
    rest = (line[: match.start()] + line[match.end() :]).strip()
    if rest and not (_PUBLISHERS.match(rest) or _DATE_LABEL.match(rest)):
        return None
    return iso_from_match(match)


@register
class MinistryScraper(GenericScraper):
    """Ministry pages, press releases (stm.fi, soteuudistus.fi, valtioneuvosto.fi): date, type."""

    name = "ministry"
    exclude = (
        ".publication-meta-tags",
        ".vn-tags",
        ".subject-list",
        ".some-share",
        ".liferay-share",
        "#vn-language-bar",
        ".language-bar",
        ".portlet-breadcrumb",
        ".site-search",
    )

    def refine(self, items: list[Block]) -> tuple[list[Block], str | None]:
        kept, published = read_header(items, drop_types=True)
        if published is None:
            return super().refine(kept)
        return kept, published
