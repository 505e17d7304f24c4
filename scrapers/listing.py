"""HTML news listings: every item a "date title" paragraph and a link to watch."""

from __future__ import annotations

import re
from dataclasses import replace

from sotewatch.pipeline.document.models import Document, Link, Section
from sotewatch.scrapers import _html, register
from sotewatch.scrapers._discovery import wanted
from sotewatch.scrapers._text import DATE, clean
from sotewatch.scrapers._tree import Element, first_below, text
from sotewatch.scrapers.base import Page
from sotewatch.scrapers.generic import GenericScraper

_DATE = re.compile(DATE)
_ITEM_TAGS = ["article", "li", "tr", "dt"]
_MIN_TITLE = 12  # characters: shorter link texts are "Lue lisää", page numbers, icons


@register
class ListingScraper(GenericScraper):
    """HTML news listing: each item a "date title" paragraph and a Link(kind="item") to watch."""

    name = "listing"

    def document(self, page: Page, root: Element, meta_published: str | None) -> Document:
        main = _html.find_main(root, self.options.include)
        title, _ = _html.page_title(root, main)
        found = items(main, root, page.url)
        chosen = wanted([link for link, _ in found], self.options)
        dates = {link.url: date for link, date in found}
        lines = tuple(clean(f"{dates[link.url]} {link.text}") for link in chosen)
        listed = {link.url for link in chosen}
        unlisted = [
            link
            for link in _html.links(main, root, page.url)
            if link.kind == "attachment" and link.url not in listed
        ]
        attachments = tuple(wanted(unlisted, replace(self.options, max_items=len(unlisted))))
        sections = (Section((title,) if title else (), lines),)
        return Document(
            url=page.url,
            title=title,
            language=self.language(title, sections),
            sections=sections,
            contacts=(),
            links=(*chosen, *attachments),
            published=None,
            kind="listing",
        )


def items(main: Element, root: Element, page_url: str) -> list[tuple[Link, str]]:
    """(item link, date as written) for each news item in `main`, in page order."""
    base = page_url
    found: list[tuple[Link, str]] = []
    seen: set[str] = set()
    for anchor in main.iterdescendants("a"):
        href = anchor.get("href")
        if href is None:
            continue
        url = _html.absolute(base, href)
        container = _container(anchor, main)
        heading = first_below(container, "h2", "h3", "h4") if container is not main else None
        title = clean(text(anchor if heading is None else heading, " "))
        if not url or url in seen or url == page_url or len(title) < _MIN_TITLE:
            continue
        seen.add(url)
        date = _DATE.search(text(container, " ")) if container is not main else None
        kind = "attachment" if _html.is_attachment(url) else "item"
        found.append((Link(url=url, text=title, kind=kind), date.group(0) if date else ""))
    return found


def _container(anchor: Element, main: Element) -> Element:
    for parent in anchor.iterancestors():
        if parent is main:
            break
        if parent.tag in _ITEM_TAGS:
            return parent
    return main
