"""Blocks a site repeats on several watched pages (a "latest news" box, a footer-ish
block inside the content area) are its template, not the page's news.

Decided by structure, not by words: a run of at least `MIN_RUN` consecutive paragraphs
of a section, each of which also stands in the latest stored versions of at least
`MIN_OTHER_PAGES` other pages of the same host, is left out of what the diff compares.
A single shared line (a contact, a switchboard number) stays: it is content.

Stable by construction: the stored versions keep every paragraph (the page did say
it), the repeated set is computed from those stored versions alone, never from what an
earlier decision left out, and the diff drops the same set from the previous version
and the new one. A block that starts or stops repeating, or rotates its items, never
shows up as a change of the page.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import replace
from urllib.parse import urlsplit

from sotewatch.pipeline.document.models import Document, Section

MIN_OTHER_PAGES = 2  # a block on three pages of a site is its template
MIN_RUN = 2  # consecutive repeated paragraphs: one shared line is content

Repeated = dict[str, int]  # paragraph -> on how many other pages of the site it stands


def page_paragraphs(doc: Document) -> frozenset[str]:
    """The page's paragraphs, as its scraper wrote them (spacing collapsed): a template
    is the same text on every page, written by the same code."""
    return frozenset(p for s in doc.sections for p in s.paragraphs)


def host_of(url: str) -> str:
    """The site a page is on: its host and port."""
    return urlsplit(url).netloc.lower()


def repeated_on_others(own: frozenset[str], others: Iterable[frozenset[str]]) -> Repeated:
    """For the paragraphs of one page: on how many of the other pages each stands, for
    those on at least `MIN_OTHER_PAGES`."""
    counts = dict.fromkeys(own, 0)
    for keys in others:
        for key in own & keys:
            counts[key] += 1
    return {key: count for key, count in counts.items() if count >= MIN_OTHER_PAGES}


def dropped_runs(section: Section, repeated: Repeated) -> list[tuple[int, int]]:
    """(start, end) of each run of at least `MIN_RUN` repeated paragraphs."""
    runs, start = [], None
    for index, key in enumerate([*section.paragraphs, None]):
        if key is not None and key in repeated:
            start = index if start is None else start
            continue
        if start is not None and index - start >= MIN_RUN:
            runs.append((start, index))
        start = None
    return runs


def drop_repeated(doc: Document, repeated: Repeated) -> Document:
    """`doc` without its repeated blocks; a section they emptied goes with them."""
    if not repeated:
        return doc
    sections = []
    for section in doc.sections:
        runs = dropped_runs(section, repeated)
        if not runs:
            sections.append(section)
            continue
        gone = {index for start, end in runs for index in range(start, end)}
        kept = tuple(p for i, p in enumerate(section.paragraphs) if i not in gone)
        if kept:
            sections.append(replace(section, paragraphs=kept))
    return replace(doc, sections=tuple(sections))


class SiteBlocks:
    """The paragraphs of the latest version of every active page, by host: read from
    the store once a run, and only for a host one of whose pages changed (most runs
    change nothing); a page read anew in the run counts with what it says now
    (`note`), and a run notes every page of a wave before it asks about any, so that a
    line the site adds to its template on every page at once is known as template on
    the first page compared too."""

    def __init__(
        self, pages: Callable[[], Iterable[tuple[int, str]]], document: Callable[[int], str]
    ) -> None:
        self._pages = pages  # (page id, url) of the active pages with a stored version
        self._document = document  # page id -> its latest version's document JSON
        self._ids: dict[str, list[int]] | None = None
        self._paragraphs: dict[str, dict[int, frozenset[str]]] = {}

    def note(self, page_id: int, url: str, doc: Document) -> None:
        """The page says `doc` now: its paragraphs count with those it said before."""
        known = self._host(host_of(url))
        known[page_id] = known.get(page_id, frozenset()) | page_paragraphs(doc)

    def repeated(
        self, page_id: int, url: str, doc: Document, previous: Document | None = None
    ) -> Repeated:
        """The paragraphs of `doc` and of its `previous` version repeated on other pages
        of its host."""
        known = self._host(host_of(url))
        both = (
            page_paragraphs(doc) | page_paragraphs(previous)
            if previous is not None
            else page_paragraphs(doc)
        )
        return repeated_on_others(both, (k for i, k in known.items() if i != page_id))

    def _host(self, host: str) -> dict[int, frozenset[str]]:
        if self._ids is None:
            self._ids = {}
            for page_id, url in self._pages():
                self._ids.setdefault(host_of(url), []).append(page_id)
        if host not in self._paragraphs:
            ids = self._ids.get(host, [])
            read = len(ids) >= MIN_OTHER_PAGES  # with this page, enough to repeat a block
            self._paragraphs[host] = {
                i: page_paragraphs(Document.from_json(self._document(i))) for i in ids if read
            }
        return self._paragraphs[host]
