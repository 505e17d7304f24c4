"""Blocks a site repeats on several watched pages (a "latest news" box, a footer-ish
block inside the content area) are its template, not the page's news.

Decided by structure, not by words: a run of at least `MIN_RUN` consecutive blocks of
the page in reading order (a section's heading, its paragraphs), each of which the
site also shows on at least `MIN_OTHER_PAGES` of its other watched pages, is left out
of what the diff compares. What another page shows is every block its scraper read
there (`Document.shown`, kept as keys in `pages.shown`), not only what was taken for its
content: an extractor that keeps a box of teasers on one short page and drops it on the
others must not make that page report the box's rotation. A single shared line stays,
and so does any line that names a contact: a contact is content wherever it stands.

Stable by construction: the stored versions keep every paragraph (the page did say
it), the repeated set is computed from what the site's pages show, never from what an
earlier decision left out, and the diff drops the same set from the previous version
and the new one. A block that starts or stops repeating, or rotates its items, never
shows up as a change of the page.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import replace
from functools import partial
from urllib.parse import urlsplit

from sotewatch.pipeline.document.contacts import parse_contacts
from sotewatch.pipeline.document.models import Document

MIN_OTHER_PAGES = 2  # a block on three pages of a site is its template
MIN_RUN = 2  # consecutive repeated blocks: one shared line is content

Repeated = dict[str, int]  # block key -> on how many other pages of the site it shows


def block_key(text: str) -> str:
    """A block's text as a short key: what a page shows is stored as keys."""
    return hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=8).hexdigest()


def section_keys(doc: Document) -> frozenset[str]:
    """The keys of the page's headings and paragraphs: the blocks the diff compares."""
    return frozenset(block_key(text) for _, _, text in _blocks(doc))


def shown_keys(doc: Document) -> frozenset[str]:
    """The keys of every block the page shows: its sections' and what its scraper read
    around them (`Document.shown`)."""
    return section_keys(doc) | {block_key(text) for text in doc.shown}


def shown_column(keys: frozenset[str]) -> str:
    """`keys` as `pages.shown` holds them."""
    return " ".join(sorted(keys))


def stored_keys(shown: str | None, document: Callable[[], str]) -> frozenset[str]:
    """What a page showed when last read, from its `pages.shown`; for a page read before
    that was kept, its latest version's blocks (`document` reads its JSON)."""
    if shown is not None:
        return frozenset(shown.split())
    return section_keys(Document.from_json(document()))


def host_of(url: str) -> str:
    """The site a page is on: its host and port."""
    return urlsplit(url).netloc.lower()


def repeated_on_others(own: frozenset[str], others: Iterable[frozenset[str]]) -> Repeated:
    """For the blocks of one page: on how many of the other pages each shows, for those
    on at least `MIN_OTHER_PAGES`."""
    counts = dict.fromkeys(own, 0)
    for keys in others:
        for key in own & keys:
            counts[key] += 1
    return {key: count for key, count in counts.items() if count >= MIN_OTHER_PAGES}


def drop_repeated(doc: Document, repeated: Repeated) -> Document:
    """`doc` without its runs of repeated blocks; a section they emptied goes with them."""
    if not repeated:
        return doc
    gone = _in_runs(doc, repeated)
    if not gone:
        return doc
    sections = []
    for index, section in enumerate(doc.sections):
        kept = tuple(p for i, p in enumerate(section.paragraphs) if (index, i) not in gone)
        emptied = not kept and (bool(section.paragraphs) or (index, -1) in gone)
        if not emptied:
            sections.append(replace(section, paragraphs=kept))
    return replace(doc, sections=tuple(sections))


def _in_runs(doc: Document, repeated: Repeated) -> set[tuple[int, int]]:
    """(section, paragraph) of each block in a run of at least `MIN_RUN` repeated ones;
    paragraph -1 is the section's heading."""
    gone: set[tuple[int, int]] = set()
    run: list[tuple[int, int]] = []
    for where, is_heading, text in [*_blocks(doc), ((-1, -1), False, "")]:
        if text and block_key(text) in repeated and (is_heading or not _names_a_contact(text)):
            run.append(where)
            continue
        if len(run) >= MIN_RUN:
            gone.update(run)
        run = []
    return gone


def _blocks(doc: Document) -> Iterator[tuple[tuple[int, int], bool, str]]:
    """((section, paragraph), is it a heading, text) in reading order."""
    for index, section in enumerate(doc.sections):
        if section.path:
            yield (index, -1), True, section.path[-1]
        for position, paragraph in enumerate(section.paragraphs):
            yield (index, position), False, paragraph


def _names_a_contact(text: str) -> bool:
    return bool(parse_contacts([text], ""))


class SiteBlocks:
    """What every active page of a host shows, read from the store once a run, and only
    for a host one of whose pages changed (most runs change nothing); a page read anew
    in the run counts with what it shows now (`note`), and a run notes every page it
    reads in a wave before it compares any, so that a line the site adds to its
    template on every page at once is known as template on the first page compared
    too."""

    def __init__(
        self,
        pages: Callable[[], Iterable[tuple[int, str, str | None]]],
        document: Callable[[int], str],
    ) -> None:
        # (page id, url, the keys of what it showed when last read, if stored) of the
        # active pages with a stored version; page id -> its latest document JSON
        self._pages = pages
        self._document = document
        self._hosts: dict[str, list[tuple[int, str | None]]] | None = None
        self._shown: dict[str, dict[int, frozenset[str]]] = {}

    def note(self, page_id: int, url: str, shown: frozenset[str]) -> None:
        """The page shows these blocks now (`shown_keys`): they count with those it
        showed before."""
        known = self._host(host_of(url))
        known[page_id] = known.get(page_id, frozenset()) | shown

    def repeated(
        self, page_id: int, url: str, doc: Document, previous: Document | None = None
    ) -> Repeated:
        """The blocks of `doc` and of its `previous` version that other pages of its host
        show."""
        known = self._host(host_of(url))
        own = section_keys(doc)
        if previous is not None:
            own |= section_keys(previous)
        return repeated_on_others(own, (k for i, k in known.items() if i != page_id))

    def _host(self, host: str) -> dict[int, frozenset[str]]:
        if self._hosts is None:
            self._hosts = {}
            for page_id, url, shown in self._pages():
                self._hosts.setdefault(host_of(url), []).append((page_id, shown))
        if host not in self._shown:
            pages = self._hosts.get(host, [])
            read = len(pages) >= MIN_OTHER_PAGES  # with this page, enough to repeat a block
            self._shown[host] = {
                i: stored_keys(shown, partial(self._document, i)) for i, shown in pages if read
            }
        return self._shown[host]
