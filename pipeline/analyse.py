"""From a fetched page to the Document and Changes worth storing: pure, no I/O.

Kept apart from `pipeline.run` (which does the fetching and the writing) so the
CPU-bound part can be tested on bytes alone and moved to a worker if needed.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from pipeline import bodies
from pipeline.config import Source
from pipeline.diff import diff_documents
from pipeline.errors import ExtractionError
from pipeline.models import Change, Document, Link
from pipeline.noise import apply_noise
from pipeline.softfail import soft_failure
from pipeline.tag import Tagger, Tags
from scrapers import Page, ScraperOptions, get_scraper

PDF_TYPES = ("application/pdf", "application/x-pdf")


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
    """A PDF is read as a PDF whatever family the source names."""
    if page.content_type.split(";")[0].strip().lower() in PDF_TYPES:
        return "pdf"
    return family


def extract(page: Page, family: str, source: Source) -> Document:
    scraper = get_scraper(family_for(page, family), scraper_options(source))
    try:
        doc = scraper.parse(page)
    except Exception as exc:  # a scraper bug must cost one page, not the run
        raise ExtractionError(
            f"{type(exc).__name__}: {exc}", source=source.id, url=page.url
        ) from exc
    return apply_noise(doc, source.ignore)


def tag_all(
    changes: list[Change], language: str, source: Source, tagger: Tagger
) -> tuple[Change, ...]:
    defaults = Tags(frozenset(source.regions), frozenset(source.networks))
    return tuple(tagger.tag_change(c, lang=language, defaults=defaults) for c in changes)


# -- one page as a unit of work: what a worker process gets and gives back -----------------


@dataclass(frozen=True)
class Task:
    """Everything `prepare` needs, picklable: the previous version travels as its stored
    JSON so that only the process doing the work parses it."""

    page: Page
    family: str
    source: Source
    announce_new: bool
    previous_json: str | None = None
    previous_hash: str | None = None


@dataclass(frozen=True)
class Finding:
    """What storing a page needs, computed where the page was analysed.

    `failure` set: store only the fetch (`failure_kind` is "error" or "soft_failure").
    `unchanged`: the document hashes as the previous version; nothing but the check is
    stored, so the document's JSON and text are not sent back. Otherwise a new version."""

    failure: str | None = None
    failure_kind: str = "error"
    unchanged: bool = False
    title: str = ""
    digest: str = ""
    document_json: str = ""
    language: str = ""
    discovered: tuple[Link, ...] = ()
    changes: tuple[Change, ...] = ()
    body_hash: str = ""  # sha256 of the raw body, as `Store.store_body` keys it
    body_data: bytes = b""  # the raw body compressed with zstd, ready to store


def prepare(task: Task, tagger: Tagger) -> Finding:
    """`analyse` plus what storing needs (hash, JSON, text); never raises, because one
    page's bug, wherever it is (scraper, diff, tagger), must cost that page only."""
    try:
        return _prepare(task, tagger)
    except Exception as exc:
        return Finding(failure=f"analysis failed: {type(exc).__name__}: {exc}")


def _prepare(task: Task, tagger: Tagger) -> Finding:
    try:
        doc = extract(task.page, task.family, task.source)
    except ExtractionError as exc:
        return Finding(failure=str(exc))
    document_json = doc.to_json()
    digest = _digest(document_json)
    if digest is not None and digest == task.previous_hash:
        # The document the previous version is: its own length is the one to compare
        # with, so the check needs no parse of the previous JSON.
        reason = soft_failure(doc, None)
        if reason:
            return Finding(failure=f"soft failure: {reason}", failure_kind="soft_failure")
        return Finding(unchanged=True, title=doc.title, digest=digest, discovered=doc.discovered)
    previous = Document.from_json(task.previous_json) if task.previous_json else None
    reason = soft_failure(doc, previous)
    if reason:
        return Finding(failure=f"soft failure: {reason}", failure_kind="soft_failure")
    if digest is None:  # raises, as the hash of a text that cannot be UTF-8 always did
        digest = hashlib.sha256(document_json.encode("utf-8")).hexdigest()
    changes: tuple[Change, ...] = ()
    if previous is not None or task.announce_new:
        title = doc.title or (previous.title if previous else "")
        found = diff_documents(previous, doc, page_url=task.page.url, page_title=title)
        changes = tag_all(found, doc.language, task.source, tagger)
    return Finding(
        title=doc.title,
        digest=digest,
        document_json=document_json,
        language=doc.language,
        discovered=doc.discovered,
        changes=changes,
        body_hash=hashlib.sha256(task.page.content).hexdigest(),
        # A first version is compressed here; a later one against the page's key body,
        # which only the run can read (pipeline/bodies.py).
        body_data=bodies.pack(task.page.content).data if previous is None else b"",
    )


def _digest(document_json: str) -> str | None:
    """sha256 of the JSON (= store.doc_hash); None for text UTF-8 cannot encode."""
    try:
        return hashlib.sha256(document_json.encode("utf-8")).hexdigest()
    except UnicodeEncodeError:
        return None
