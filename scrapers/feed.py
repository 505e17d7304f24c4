"""RSS and Atom feeds: every entry a "date title" paragraph and a link to watch.

Feeds are parsed from bytes only (never a URL or a path, which feedparser would
open itself), and a feed that declares entities is refused before feedparser
sees it: an XML bomb or an external entity does nothing but fail that one page.
"""

from __future__ import annotations

import io
import time
import warnings
from typing import TYPE_CHECKING

from sotewatch.pipeline.document.models import Document, Link, Section
from sotewatch.pipeline.errors import ExtractionError
from sotewatch.scrapers import _html, register
from sotewatch.scrapers._discovery import wanted
from sotewatch.scrapers._text import clean
from sotewatch.scrapers._xml import refuse_entities
from sotewatch.scrapers.base import Page
from sotewatch.scrapers.generic import GenericScraper

if TYPE_CHECKING:  # imported by `parse`: feedparser is slow to import, and few pages are feeds
    import feedparser


@register
class FeedScraper(GenericScraper):
    """RSS/Atom feed (feedparser, entities refused): entries become Link(kind="item") to watch."""

    name = "feed"

    def parse(self, page: Page) -> Document:
        import feedparser

        content = page.content or page.text.encode("utf-8")
        refuse_entities(content, page.url)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            parsed = feedparser.parse(
                io.BytesIO(content),
                response_headers={"content-location": page.url},
                sanitize_html=True,
            )
        if not parsed.entries and not parsed.feed.get("title"):
            raise ExtractionError("not an RSS or Atom feed", url=page.url)
        entries = [(_entry_link(e, page.url), _entry_date(e)) for e in parsed.entries]
        chosen = wanted([link for link, _ in entries if link is not None], self.options)
        dates = {link.url: date for link, date in entries if link is not None}
        lines = tuple(clean(f"{dates[link.url]} {link.text}") for link in chosen)
        title = clean(parsed.feed.get("title", ""))
        sections = (Section((title,) if title else (), lines),)
        language = str(parsed.feed.get("language", ""))[:2].lower()
        return Document(
            url=page.url,
            title=title,
            language=self.options.language
            or (language if language in ("fi", "sv", "en") else self.language(title, sections)),
            sections=sections,
            links=tuple(chosen),
            kind="feed",
        )


def _entry_link(entry: feedparser.FeedParserDict, base: str) -> Link | None:
    url = _html.absolute(base, str(entry.get("link", "")))
    if not url:
        return None
    kind = "attachment" if _html.is_attachment(url) else "item"
    return Link(url=url, text=clean(entry.get("title", "")) or url, kind=kind)


def _entry_date(entry: feedparser.FeedParserDict) -> str:
    stamp = entry.get("published_parsed") or entry.get("updated_parsed")
    return time.strftime("%Y-%m-%d", stamp) if stamp else ""
