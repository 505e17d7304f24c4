"""`sotewatch preview`: one page exactly as the diff will see it, and what was dropped.

An operator tuning a new source reads here which text the Document keeps (title,
sections, contacts, links), which was dropped as chrome or noise and by which rule,
and whether the extraction is thin; then writes `include`, `exclude` or `ignore`.
The Document is the one a run stores: the source's family and options, its noise rules.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass, replace
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

from sotewatch.pipeline.changes.noise import apply_noise
from sotewatch.pipeline.changes.repeated import (
    Repeated,
    block_key,
    drop_repeated,
    host_of,
    repeated_on_others,
    section_keys,
    stored_keys,
)
from sotewatch.pipeline.config import DEFAULT_SOURCES, Settings, Source, load_sources
from sotewatch.pipeline.document.models import THIN_NOTE, Document
from sotewatch.pipeline.errors import ConfigError, FetchError
from sotewatch.pipeline.fetching.decode import decode_text, sniff_type
from sotewatch.pipeline.runs.analyse import family_for, scraper_options
from sotewatch.scrapers import Page, get_scraper
from sotewatch.scrapers._text import clean, is_chrome_line

if TYPE_CHECKING:
    from sotewatch.scrapers._tree import Element

_SHOWN = 160  # characters of a dropped text shown


@dataclass(frozen=True)
class Dropped:
    """A text left out of the Document, and the rule that left it out."""

    rule: str
    text: str


@dataclass(frozen=True)
class Preview:
    document: Document
    dropped: tuple[Dropped, ...]

    def to_json(self) -> str:
        data = {
            "document": json.loads(self.document.to_json()),
            "thin": self.document.extraction == "thin",
            "dropped": [asdict(d) for d in self.dropped],
        }
        return json.dumps(data, ensure_ascii=False, indent=2)

    def render(self) -> str:
        """The page for a terminal: what the diff sees, then what it does not."""
        return "\n".join(_lines(self))


def preview_page(page: Page, source: Source, others: Iterable[frozenset[str]] = ()) -> Preview:
    """The Document the diff would see for `page`, and the texts left out of it;
    `others`: what the site's other pages show (`stored_site_pages`)."""
    family = family_for(page, source.family)
    scraper = get_scraper(family, scraper_options(source))
    raw = scraper.parse(page)
    document = apply_noise(raw, source.ignore)
    dropped: list[Dropped] = []
    if family in _HTML_FAMILIES:
        dropped += _chrome_and_not_content(page, raw, source)
    dropped += _noise(raw, document)
    repeated = repeated_on_others(section_keys(document), others)
    seen = drop_repeated(document, repeated)
    dropped += _repeated(document, seen, repeated)
    return Preview(seen, tuple(dropped))


_HTML_FAMILIES = ("generic", "ministry", "ngo", "county")


def _chrome_and_not_content(page: Page, raw: Document, source: Source) -> list[Dropped]:
    """The chrome the scraper strips, by rule; then the blocks left after it that the
    Document does not hold. The page is parsed and stripped once for both."""
    from sotewatch.scrapers import _html
    from sotewatch.scrapers._tree import first

    found: list[Dropped] = []

    def report(rule: str, element: Element) -> None:
        if getattr(element, "tag", "") in ("script", "style"):
            return  # code, not text a reader saw
        words = clean(" ".join(element.itertext()))
        if words:
            found.append(Dropped(f"chrome: {rule}", _short(words)))

    root = _html.parse(page.content, page.text, page.content_type)
    _html.strip_chrome(root, _exclude(source), report)
    body = first(root, "body")
    kept = {raw.title, *(p for s in raw.sections for p in (*s.path, *s.paragraphs))}
    for block in _html.blocks(root if body is None else body):
        if block.text in kept:
            continue
        rule = "chrome line" if is_chrome_line(block.text) else "not main content"
        found.append(Dropped(rule, _short(block.text)))
    return found


def _exclude(source: Source) -> tuple[str, ...]:
    """The family's chrome selectors, then the source's: as the scraper drops them."""
    return (*getattr(get_scraper(source.family), "exclude", ()), *source.exclude)


def _noise(raw: Document, document: Document) -> list[Dropped]:
    """Paragraphs the noise rules changed (a date, a counter) or emptied."""
    after = {p for s in document.sections for p in s.paragraphs}
    out = []
    for section in raw.sections:
        for paragraph in section.paragraphs:
            if paragraph not in after:
                out.append(Dropped("noise rule", _short(paragraph)))
    return out


def _repeated(document: Document, seen: Document, repeated: Repeated) -> list[Dropped]:
    """Paragraphs left out as the site's template (pipeline/changes/repeated.py)."""
    after = {p for s in seen.sections for p in s.paragraphs}
    return [
        Dropped(f"repeated on {repeated[block_key(p)] + 1} pages of this site", _short(p))
        for s in document.sections
        for p in s.paragraphs
        if p not in after and block_key(p) in repeated
    ]


def stored_site_pages(db: Path | None, url: str) -> list[frozenset[str]]:
    """What each other active page of `url`'s host in the database at `db` showed when
    last read (read only; none when there is no database), as `SiteBlocks` reads it."""
    if db is None or not db.is_file():
        return []
    sql = """select p.url, p.shown, s.document from pages p join snapshots s on s.id =
             (select max(id) from snapshots where page_id = p.id) where p.status = 'active'"""
    with sqlite3.connect(f"{db.resolve().as_uri()}?mode=ro", uri=True) as conn:
        rows = conn.execute(sql).fetchall()
    host = host_of(url)
    return [
        stored_keys(shown, partial(str, doc))  # the JSON is at hand already
        for other, shown, doc in rows
        if other != url and host_of(other) == host
    ]


def _short(text: str) -> str:
    return text if len(text) <= _SHOWN else text[: _SHOWN - 1] + "…"


def _lines(preview: Preview) -> Iterator[str]:
    doc = preview.document
    yield f"{doc.title or '(no title)'}"
    yield f"{doc.url}  language {doc.language}  kind {doc.kind}"
    if doc.extraction == "thin":
        yield f"! {THIN_NOTE}"
    for section in doc.sections:
        yield ""
        yield f"## {section.heading or '(before the first heading)'}"
        for paragraph in section.paragraphs:
            yield f"  {paragraph}"
    if doc.contacts:
        yield "\ncontacts:"
        for c in doc.contacts:
            yield "  " + ", ".join(
                x for x in (c.name, c.title, c.organisation, c.phone, c.email) if x
            )
    if doc.links:
        yield "\nlinks:"
        for link in doc.links:
            yield f"  [{link.kind}] {link.text or '-'} <{link.url}>"
    yield f"\ndropped ({len(preview.dropped)}):"
    for item in preview.dropped:
        yield f"  [{item.rule}] {item.text}"


# -- where the page comes from -------------------------------------------------------------


def preview_target(
    target: str,
    sources_path: Path | None,
    source_id: str | None,
    family: str | None,
    include: tuple[str, ...],
    exclude: tuple[str, ...],
    ignore: tuple[str, ...],
    as_url: str | None,
    db: Path | None = None,
) -> Preview:
    """`sotewatch preview`: the source (configured, or ad hoc) and the page, previewed.
    Options given on the command line come on top of the configured source's; the
    database `db` holds the site's other pages, whose template the diff leaves out."""
    from sotewatch.pipeline.changes.noise import compile_patterns

    settings, source = _source(sources_path, source_id, target)
    compile_patterns(ignore, source="--ignore")  # a bad pattern is a usage error
    source = replace(
        source,
        family=family or source.family,
        include=(*include, *source.include),
        exclude=(*source.exclude, *exclude),
        ignore=(*source.ignore, *ignore),
    )
    if target.startswith(("http://", "https://")):
        page = page_from_url(target, settings)
    else:
        path = Path(target)
        if not path.is_file():
            raise ConfigError(f"{target}: no such file (give a saved page or an http(s) URL)")
        page = page_from_file(path, as_url or (source.url if source_id else None))
    return preview_page(page, source, stored_site_pages(db, page.url))


def _source(
    sources_path: Path | None, source_id: str | None, target: str
) -> tuple[Settings, Source]:
    if source_id is None:
        return Settings(), Source(id="preview", url=target)
    config = load_sources(sources_path or DEFAULT_SOURCES).only([source_id])
    return config.settings, config.sources[0]


def page_from_file(path: Path, url: str | None = None) -> Page:
    """A saved page, read as if fetched from `url` (default: its file: address)."""
    content = path.read_bytes()
    mime = sniff_type(content)
    text, used = decode_text(content, mime, None)
    content_type = f"{mime}; charset={used}" if used else mime
    return Page(url or path.resolve().as_uri(), content, content_type, text)


def page_from_url(url: str, settings: Settings) -> Page:
    """The page as a run would fetch it (same client, politeness and limits)."""
    from sotewatch.pipeline.fetching.fetch import Fetcher
    from sotewatch.pipeline.fetching.fetched import FetchRequest, Outcome

    async def fetch() -> Page:
        async with Fetcher(settings) as fetcher:
            result = await fetcher.fetch(FetchRequest(url=url, source_id="preview"))
        if result.outcome is Outcome.ERROR or not result.content:
            raise FetchError(result.error or f"HTTP {result.status}", url=url)
        return result.page()

    return asyncio.run(fetch())
