"""From a fetched page to the Document and Changes worth storing: pure, no I/O.

Kept apart from `pipeline.run` (which does the fetching and the writing) so the
CPU-bound part can be tested on bytes alone and moved to a worker if needed.
"""

from __future__ import annotations

from dataclasses import dataclass

from pipeline.config import Source
from pipeline.diff import diff_documents
from pipeline.errors import ExtractionError
from pipeline.models import Change, Document
from pipeline.noise import apply_noise
from pipeline.softfail import soft_failure
from pipeline.tag import Tagger, Tags
from scrapers import Page, ScraperOptions, get_scraper

PDF_TYPES = ("application/pdf", "application/x-pdf")


@dataclass(frozen=True)
class Analysis:
    """What one fetched page amounts to. `failure` set means: store nothing but the fetch."""

    document: Document | None
    changes: tuple[Change, ...] = ()
    failure: str | None = None


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


def analyse(
    page: Page,
    *,
    family: str,
    source: Source,
    previous: Document | None,
    announce_new: bool,
    tagger: Tagger,
) -> Analysis:
    """Extract, check for a soft failure, diff against the previous version, tag.

    `announce_new` is false for the first ever run of a source: its pages are the
    baseline, not news. A page found later is a "page added" change.
    """
    try:
        doc = extract(page, family, source)
    except ExtractionError as exc:
        return Analysis(None, failure=str(exc))
    reason = soft_failure(doc, previous)
    if reason:
        return Analysis(doc, failure=f"soft failure: {reason}")
    if previous is None and not announce_new:
        return Analysis(doc)
    title = doc.title or (previous.title if previous else "")
    changes = diff_documents(previous, doc, page_url=page.url, page_title=title)
    return Analysis(doc, tag_all(changes, doc.language, source, tagger))


def tag_all(
    changes: list[Change], language: str, source: Source, tagger: Tagger
) -> tuple[Change, ...]:
    defaults = Tags(frozenset(source.regions), frozenset(source.networks))
    return tuple(tagger.tag_change(c, lang=language, defaults=defaults) for c in changes)
