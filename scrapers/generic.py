"""The family for any HTML page, and the base the site-specific families refine."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import ClassVar

from lxml import etree

from sotewatch.pipeline.document.contacts import may_hold_contacts, parse_contacts
from sotewatch.pipeline.document.language import detect_language
from sotewatch.pipeline.document.models import Contact, Document, Link, Section
from sotewatch.pipeline.document.textscan import DIGITS, holding, is_latin1
from sotewatch.pipeline.errors import ExtractionError
from sotewatch.scrapers import _content, _html, register
from sotewatch.scrapers._html import Block
from sotewatch.scrapers._select import select_all
from sotewatch.scrapers._text import published_iso
from sotewatch.scrapers._tree import Element, first, text
from sotewatch.scrapers.base import Page, Reading, Scraper


@register
class GenericScraper(Scraper):
    """Any HTML page: main content without site chrome, sections by heading, contacts, links."""

    name = "generic"
    exclude: ClassVar[tuple[str, ...]] = ()  # a family's own chrome selectors
    include: ClassVar[tuple[str, ...]] = ()  # a family's own main-content selectors

    def parse(self, page: Page) -> Document:
        return self.read(page).document()

    def read(self, page: Page) -> Reading:
        """The page's tree without its chrome is what the Document depends on: its key is
        that tree's serialisation (libxml2's, in C: a fraction of the extraction). A
        family that reads pages its own way (its own `parse`: PDFs, feeds, sitemaps) is
        keyed by the body."""
        if type(self).parse is not GenericScraper.parse:
            return super().read(page)
        with _nested_too_deeply(page):
            root = _html.parse(page.content, page.text, page.content_type)
            meta_published = _meta_published(root) or ""
            _html.strip_chrome(root, (*self.exclude, *self.options.exclude))
            tree = etree.tostring(root, encoding="utf-8")
        key = self.input_key(page, meta_published.encode(), tree)
        return Reading(key, lambda: self._document(page, root, meta_published or None))

    def _document(self, page: Page, root: Element, meta_published: str | None) -> Document:
        with _nested_too_deeply(page):
            return self.document(page, root, meta_published)

    def document(self, page: Page, root: Element, meta_published: str | None) -> Document:
        """The Document of the page's tree, its chrome stripped (`read`)."""
        found, items, title, thin, shown = self.content(root, page.url)
        items, published = self.refine(items)
        sections = self.shape(_html.sections(items), title)
        return Document(
            url=page.url,
            title=title,
            language=self.language(title, sections),
            sections=sections,
            contacts=contacts_of(sections),
            links=self.links(_kept_links(found, items, thin)),
            published=published or meta_published,
            kind="page",
            extraction="thin" if thin else "",
            shown=frozenset(block.text for block in shown),
        )

    def content(
        self, root: Element, page_url: str
    ) -> tuple[tuple[Link, ...], list[Block], str, bool, list[Block]]:
        """(the links where the content is, its blocks, the title, whether the extraction
        is thin, every block the page shows).

        An `include` selector (the source's, then the family's) says where the content
        is; otherwise trafilatura decides which of the page's blocks are content."""
        include = (*self.options.include, *self.include)
        if include and any(select_all(root, include)):
            main = _html.find_main(root, include)
            title, title_outside = _html.page_title(root, main)
            items = _html.blocks(main)
            if title_outside:
                items = [Block(1, title), *items]
            return _html.links(main, root, page_url), items, title, False, items
        body = first(root, "body")
        main = root if body is None else body
        title, _ = _html.page_title(root, main)
        every = _html.blocks(main)
        markup = etree.tostring(root, encoding="unicode")
        visible = len(text(main, " ", strip=True)) - _html.link_text(main)
        chosen = _content.choose(every, markup, visible)
        found = _html.links(main, root, page_url)
        if chosen.thin:
            return found, chosen.items, title, True, every
        inner = _content.internal_link_texts(found, page_url)
        return found, _content.without_link_lists(chosen.items, inner), title, False, every

    def refine(self, items: list[Block]) -> tuple[list[Block], str | None]:
        """Hook: drop or read family-specific lines; returns the publication date found.

        A date line has digits: in a Latin-1 page, the lines with one are found for the
        whole page at once (most lines have none)."""
        lines = [item.text for item in items if not item.level]
        if is_latin1("\n".join(lines)):
            with_digits = holding(lines, DIGITS)
            lines = [line for line, digits in zip(lines, with_digits, strict=True) if digits]
        for line in lines:
            if found := published_iso(line):
                return items, found
        return items, None

    def shape(self, sections: tuple[Section, ...], title: str) -> tuple[Section, ...]:
        """Hook: regroup sections (the county family makes one per county)."""
        return sections

    def links(self, found: tuple[Link, ...]) -> tuple[Link, ...]:
        """Hook: what the page's links mean (a listing turns some into items)."""
        return found

    def language(self, title: str, sections: tuple[Section, ...]) -> str:
        if self.options.language:
            return self.options.language
        text = "\n".join([title, *(p for s in sections for p in s.paragraphs)])
        return detect_language(text)


@contextmanager
def _nested_too_deeply(page: Page) -> Iterator[None]:
    try:
        yield
    except RecursionError:
        raise ExtractionError("HTML nested too deeply to read", url=page.url) from None


def _kept_links(found: tuple[Link, ...], items: list[Block], thin: bool) -> tuple[Link, ...]:
    """The links of the content: a page link whose text is in a kept block (a link of a
    dropped menu is not the page's), every attachment and feed."""
    if thin:
        return found
    kept = "\n".join(item.text for item in items)
    return tuple(link for link in found if link.kind != "page" or (link.text and link.text in kept))


def contacts_of(sections: tuple[Section, ...]) -> tuple[Contact, ...]:
    """Contacts of every section, each tagged with the section's heading path."""
    found: list[Contact] = []
    held = may_hold_contacts([section.paragraphs for section in sections])
    for section, may_hold in zip(sections, held, strict=True):
        if may_hold:  # most sections are prose: told for the whole page at once
            found.extend(parse_contacts(section.paragraphs, section.heading))
    return tuple(found)


def _meta_published(root: Element) -> str | None:
    """The publication date a page declares in <meta> (Open Graph or Dublin Core)."""
    head = first(root, "head")  # meta tags live in <head>: no need to walk the whole page
    metas = list((root if head is None else head).iter("meta"))
    for attribute, name in _html.PUBLISHED_META:
        found = [meta for meta in metas if meta.get(attribute) == name]
        if found:
            value = found[0].get("content", "").strip()
            if len(value) >= 10 and value[4] == "-" and value[7] == "-":
                return value[:16] if "T" in value[:16] else value[:10]
    return None
