"""From a fetched page to the Document and Changes worth storing: pure, no I/O.

Kept apart from `sotewatch.pipeline.runs.run` (which does the fetching and the writing) so the
CPU-bound part can be tested on bytes alone.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from functools import cached_property
from typing import TYPE_CHECKING

from sotewatch.pipeline.changes.diff import diff_documents
from sotewatch.pipeline.changes.noise import apply_noise
from sotewatch.pipeline.changes.repeated import Repeated, drop_repeated, shown_keys
from sotewatch.pipeline.changes.softfail import soft_failure
from sotewatch.pipeline.config import Source
from sotewatch.pipeline.document.models import Change, Document, Link, content_hash
from sotewatch.pipeline.errors import ExtractionError
from sotewatch.pipeline.runs.inputkey import input_key
from sotewatch.pipeline.runs.reread import BodyReader, Upgrade, baseline
from sotewatch.pipeline.tagging.tag import Tagger, Tags
from sotewatch.scrapers import Page, ScraperOptions, get_scraper
from sotewatch.scrapers._reader import reader_for
from sotewatch.scrapers.base import Reading

if TYPE_CHECKING:
    from sotewatch.pipeline.fetching.fetched import FetchResult


def scraper_options(source: Source) -> ScraperOptions:
    return ScraperOptions(
        include=source.include,
        exclude=source.exclude,
        language=source.language,
        url_include=source.url_include,
        url_exclude=source.url_exclude,
        max_items=source.max_items,
    )


def family_for(page: Page, family: str) -> str:
    """A PDF is read as a PDF whatever family the source names; a page family's answer
    that is a feed or a sitemap is read as one (scrapers/_reader.py)."""
    return reader_for(page, family)


@dataclass(frozen=True)
class SourceReading:
    """A page read by its family's scraper as far as its input key (pipeline/runs/inputkey.py);
    `document()` extracts on, with the source's noise rules."""

    page: Page
    source: Source
    reading: Reading

    @cached_property
    def key(self) -> str:
        return input_key(self.reading, self.source.ignore)

    def document(self) -> Document:
        with _scraper_errors(self.page, self.source):
            doc = self.reading.document()
        return apply_noise(doc, self.source.ignore)


def read(page: Page, family: str, source: Source) -> SourceReading:
    scraper = get_scraper(family_for(page, family), scraper_options(source))
    with _scraper_errors(page, source):
        return SourceReading(page, source, scraper.read(page))


@contextmanager
def _scraper_errors(page: Page, source: Source) -> Iterator[None]:
    """A scraper bug must cost one page, not the run."""
    try:
        yield
    except Exception as exc:
        raise ExtractionError(
            f"{type(exc).__name__}: {exc}", source=source.id, url=page.url
        ) from exc


def tag_all(
    changes: list[Change], language: str, source: Source, tagger: Tagger
) -> tuple[Change, ...]:
    defaults = Tags(frozenset(source.regions), frozenset(source.networks))
    return tuple(tagger.tag_change(c, lang=language, defaults=defaults) for c in changes)


# -- one page as a unit of work ------------------------------------------------------------


@dataclass(frozen=True)
class Task:
    """Everything `extract` and `compare` need.

    The previous version comes as its id and hash: most re-fetched pages extract to the
    same document, and only one that does not needs the previous JSON, which `extract`
    then reads. `previous_input`: the input key the latest version was read from (or
    last confirmed by): a page read to the same key is that version, and is not
    extracted. `previous_by_other_code`: the latest version was extracted by other code
    (an upgrade): it is read again from its stored body before comparing
    (pipeline/runs/reread.py)."""

    fetched: Page | FetchResult
    family: str
    source: Source
    announce_new: bool
    previous_hash: str | None = None
    previous_id: int | None = None  # the snapshot `read_previous` reads, when needed
    previous_input: str | None = None
    previous_by_other_code: bool = False
    site: SiteLookup | None = None  # the blocks repeated on the site's other pages

    @cached_property
    def page(self) -> Page:
        fetched = self.fetched
        return fetched if isinstance(fetched, Page) else fetched.page()

    def previous_document(self, read_previous: PreviousReader | None) -> Document | None:
        if self.previous_id is None or read_previous is None:
            return None
        text = read_previous(self.previous_id)
        return Document.from_json(text) if text else None


PreviousReader = Callable[[int], str]  # snapshot id -> its stored document JSON
SiteLookup = Callable[[Document, Document | None], Repeated]  # (new, previous) -> repeated


@dataclass(frozen=True)
class Finding:
    """What storing a page needs.

    `failure` set: store only the fetch (`failure_kind` is "error" or "soft_failure").
    `unchanged`: the document hashes as the previous version; nothing but the check is
    stored, so the document's JSON and text are not kept; `same_input` too: the page
    was read to its latest version's input key, and not extracted (no title, no links).
    Otherwise a new version. `input_key`: what this page was read to, kept with the page
    for the next run, unless it failed. `upgrade`: set when the latest version was
    extracted by other code (pipeline/runs/reread.py). `pending`: a new version not yet
    compared with its baseline (`extract`), until `compare` is called."""

    failure: str | None = None
    failure_kind: str = "error"
    unchanged: bool = False
    same_input: bool = False
    input_key: str = ""
    title: str = ""
    digest: str = ""
    document_json: str = ""
    language: str = ""
    discovered: tuple[Link, ...] = ()
    changes: tuple[Change, ...] = ()
    content_type: str = ""  # of a new version's body, with the charset it was decoded with
    thin: bool = False  # the page was read whole: its main content was not found
    upgrade: Upgrade | None = None
    pending: Pending | None = None
    shown: frozenset[str] | None = None  # the keys of what the page shows, when read


@dataclass(frozen=True)
class Pending:
    """A new version and what it is compared with, between `extract` and `compare`."""

    document: Document
    baseline: Document | None


def prepare(
    task: Task,
    tagger: Tagger,
    read_previous: PreviousReader | None = None,
    read_body: BodyReader | None = None,
) -> Finding:
    """`extract` and `compare` at once, for a page compared on its own."""
    return compare(task, extract(task, read_previous, read_body), tagger)


def extract(
    task: Task, read_previous: PreviousReader | None = None, read_body: BodyReader | None = None
) -> Finding:
    """The page's Document and what storing it needs (hash, JSON), with the changes
    still `pending`: a run reads every page of a wave before it compares any, so that a
    block the site changed on all its pages at once is known as its template
    (pipeline/changes/repeated.py). Never raises: one page's bug, wherever it is
    (scraper, soft-failure check), must cost that page only. `read_previous` reads the
    previous version when the task carries only its id; `read_body` its stored body,
    when other code extracted it."""
    try:
        return _extract(task, read_previous, read_body)
    except Exception as exc:
        return _failed(exc)


def compare(task: Task, found: Finding, tagger: Tagger) -> Finding:
    """`found` with its pending changes found and tagged; never raises, as `extract`."""
    if found.pending is None:
        return found
    try:
        changes = _compare(task, found.pending.baseline, found.pending.document, tagger)
    except Exception as exc:
        return _failed(exc)
    upgrade = found.upgrade
    if upgrade is Upgrade.SAME and changes:
        upgrade = Upgrade.CHANGED
    return replace(found, changes=changes, upgrade=upgrade, pending=None)


def _failed(exc: Exception) -> Finding:
    return Finding(failure=f"analysis failed: {type(exc).__name__}: {exc}")


def _extract(
    task: Task, read_previous: PreviousReader | None, read_body: BodyReader | None
) -> Finding:
    try:
        reading = read(task.page, task.family, task.source)
        key = reading.key
        if task.previous_hash is not None and key == task.previous_input:
            # The Document of the latest version, which passed the soft-failure check
            # when it was stored.
            return Finding(
                unchanged=True, same_input=True, digest=task.previous_hash, input_key=key
            )
        doc = reading.document()
    except ExtractionError as exc:
        return Finding(failure=str(exc))
    document_json = doc.to_json()
    digest = content_hash(document_json)
    if digest == task.previous_hash:
        return _unchanged(task, doc, key)
    previous, upgrade = _baseline(task, read_previous, read_body)
    reason = soft_failure(doc, previous)
    if reason:
        return Finding(failure=f"soft failure: {reason}", failure_kind="soft_failure")
    # After a reset there is nothing this code read to compare with: the new version
    # is the baseline.
    compared = upgrade is not Upgrade.RESET and (previous is not None or task.announce_new)
    return Finding(
        title=doc.title,
        digest=digest,
        document_json=document_json,
        language=doc.language,
        discovered=doc.discovered,
        content_type=task.page.content_type,
        input_key=key,
        thin=doc.extraction == "thin",
        upgrade=upgrade,
        pending=Pending(doc, previous) if compared else None,
        shown=shown_keys(doc),
    )


def _unchanged(task: Task, doc: Document, key: str) -> Finding:
    """A document that hashes as the previous version: its own length is the one to
    compare with, so the soft-failure check needs no parse of the previous JSON."""
    reason = soft_failure(doc, None)
    if reason:
        return Finding(failure=f"soft failure: {reason}", failure_kind="soft_failure")
    return Finding(
        unchanged=True,
        title=doc.title,
        digest=task.previous_hash or "",
        discovered=doc.discovered,
        input_key=key,
        thin=doc.extraction == "thin",
        upgrade=Upgrade.SAME if task.previous_by_other_code else None,
        shown=shown_keys(doc),
    )


def _compare(
    task: Task, previous: Document | None, doc: Document, tagger: Tagger
) -> tuple[Change, ...]:
    title = doc.title or (previous.title if previous else "")
    seen = doc  # what the diff compares: the site's template left out of both versions
    if task.site is not None:
        repeated = task.site(doc, previous)
        seen = drop_repeated(doc, repeated)
        previous = drop_repeated(previous, repeated) if previous is not None else None
    found = diff_documents(previous, seen, page_url=task.page.url, page_title=title)
    if previous is not None and previous.extraction != doc.extraction:
        found = []  # read whole, or no longer: the switch is ours, not the page's
    return tag_all(found, doc.language, task.source, tagger)


def _baseline(
    task: Task, read_previous: PreviousReader | None, read_body: BodyReader | None
) -> tuple[Document | None, Upgrade | None]:
    """What the new Document is compared with: the latest version as stored, or, when
    other code extracted it, as the running code reads its stored body (SAME until
    the comparison finds an edit; RESET without a body to read)."""
    if not task.previous_by_other_code or task.previous_id is None:
        return task.previous_document(read_previous), None
    if read_body is None:
        return None, Upgrade.RESET
    found = read_again(task.previous_id, task.family, task.source, read_body)
    return found, (Upgrade.SAME if found is not None else Upgrade.RESET)


def read_again(
    snapshot_id: int, family: str, source: Source, read_body: BodyReader
) -> Document | None:
    """The version as the running code reads its stored body (None without one)."""
    return baseline(snapshot_id, family, source, read_body, _read_document)


def _read_document(page: Page, family: str, source: Source) -> Document:
    return read(page, family, source).document()
