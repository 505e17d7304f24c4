"""One run: fetch the due sources, store what is new, record what changed.

Every page is isolated: whatever goes wrong with one is recorded in `fetches`
and counted, and the run goes on. Pages are analysed in the run's own process and
written in batched transactions, each holding all the rows of its pages, so a run
killed at any moment leaves no half-stored page.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from functools import cached_property, partial

from sotewatch.pipeline.changes.diff import diff_documents
from sotewatch.pipeline.changes.repeated import SiteBlocks, shown_column
from sotewatch.pipeline.config import Settings, Source, SourcesConfig
from sotewatch.pipeline.document.models import THIN_NOTE, Link
from sotewatch.pipeline.fetching.fetch import Fetcher
from sotewatch.pipeline.fetching.fetched import FetchRequest, FetchResult, Outcome
from sotewatch.pipeline.runs.analyse import Finding, Task, compare, extract, read_again, tag_all
from sotewatch.pipeline.runs.inputkey import code_key
from sotewatch.pipeline.runs.report import RunReport
from sotewatch.pipeline.storage.storagefail import stopped_run, storage_failure
from sotewatch.pipeline.storage.store import PageRow, Store, utcnow
from sotewatch.pipeline.tagging.tag import Tagger

log = logging.getLogger("sotewatch.run")

MAX_DISCOVERY_WAVES = 3
STORE_BATCH = 64  # pages written per transaction
STORE_WAIT = 0.1  # seconds a fetched page may wait for its batch


@dataclass(frozen=True)
class _Job:
    source: Source
    page: PageRow
    announce_new: bool


@dataclass
class _Fetched:
    """A fetched page, analysed if it answered 200, waiting for its batch's transaction."""

    job: _Job
    result: FetchResult
    found: Finding | None = None  # set for a 200
    previous_id: int | None = None
    task: Task | None = None  # set for a 200


ProgressHook = Callable[[FetchResult], None]


class Run:
    """Fetches a set of sources through one Fetcher and writes the results to a Store.

    Each page is analysed as it arrives, in this process, and pages are stored in the
    order they were fetched, `STORE_BATCH` to a transaction (a commit costs more than
    a 304); a slow site's pages are written as they come (`STORE_WAIT`).
    """

    def __init__(
        self,
        store: Store,
        config: SourcesConfig,
        tagger: Tagger,
        *,
        settings: Settings | None = None,
        progress: ProgressHook | None = None,
    ) -> None:
        self.store = store
        self.config = config
        self.settings = settings or config.settings
        self.tagger = tagger
        self.progress = progress
        # page -> its latest (snapshot, hash, code key)
        self._latest: dict[int, tuple[int, str, str | None]] = {}
        self.report = RunReport(run_id=0)
        self._checks: list[tuple[str, int, str]] = []  # (source, page, outcome) to count
        self._site = SiteBlocks(self._stored_pages, self._latest_document)

    @cached_property
    def _code(self) -> str:
        """The running code, recorded with each version stored; digested on the first 200
        or 404, as a run of 304s never needs it."""
        return code_key()

    async def execute(self, sources: Sequence[Source]) -> RunReport:
        self.report = RunReport(run_id=self.store.start_run())
        jobs = self._first_jobs(sources)
        origins = {source.id: source.url for source in self.config.sources}
        async with Fetcher(self.settings, origins=origins) as fetcher:
            for _wave in range(MAX_DISCOVERY_WAVES + 1):
                if not jobs:
                    break
                discovered = await self._wave(fetcher, jobs)
                jobs = self._register_discovered(discovered)
        if upgraded := self.report.upgrade.line():
            log.log(self.report.upgrade.level(), "%s", upgraded)
        return self.report

    def _first_jobs(self, sources: Sequence[Source]) -> list[_Job]:
        """Every active page of the sources, read in one query rather than one a source."""
        active = self.store.active_pages()
        # The first run of a source sets the baseline; from then on new pages are news.
        checked = self.store.last_checked_all()
        missing = [s for s in sources if all(p.url != s.url for p in active.get(s.id, ()))]
        starts = self.store.add_pages([(s, s.url, s.family) for s in missing])  # new or removed
        start_of = {source.id: page for source, page in zip(missing, starts, strict=True)}
        jobs = []
        for source in sources:
            pages = active.get(source.id, [])
            if source.id in start_of:
                pages = [start_of[source.id], *pages]
            jobs += [_Job(source, page, source.id in checked) for page in pages]
        return jobs

    async def _wave(self, fetcher: Fetcher, jobs: list[_Job]) -> list[tuple[_Job, list[Link]]]:
        by_key = {job.page.id: job for job in jobs}
        self._latest = self.store.latest_versions()
        requests = [
            FetchRequest(
                url=job.page.url,
                source_id=job.source.id,
                etag=job.page.etag,
                last_modified=job.page.last_modified,
                key=job.page.id,
            )
            for job in jobs
        ]
        discovered: list[tuple[_Job, list[Link]]] = []
        batch: list[_Fetched] = []
        new_versions: list[_Fetched] = []  # compared once the wave's pages are all read
        since = time.monotonic()
        async for result in fetcher.fetch_all(requests):
            item = self._received(by_key[result.request.key], result)  # type: ignore[index]
            if item.found is not None and item.found.pending is not None:
                new_versions.append(item)
                continue
            if not batch:
                since = time.monotonic()
            batch.append(item)
            if len(batch) >= STORE_BATCH or time.monotonic() - since >= STORE_WAIT:
                self._write(batch, discovered)
                batch = []
        batch += [self._compared(item) for item in new_versions]
        if batch:
            self._write(batch, discovered)
        return discovered

    def _received(self, job: _Job, result: FetchResult) -> _Fetched:
        """A 200 is read at once; a new version's page is noted as what its site says
        now, and compared with its baseline when the wave's pages are all read."""
        if result.outcome != Outcome.OK:
            return _Fetched(job, result)
        previous_id, previous_hash, previous_code = self._latest.get(job.page.id, (None,) * 3)
        task = Task(
            fetched=result,
            family=job.page.family,
            source=job.source,
            announce_new=job.announce_new and job.page.url != job.source.url,
            previous_hash=previous_hash,
            previous_id=previous_id,
            previous_input=job.page.input_hash,
            previous_by_other_code=previous_id is not None and previous_code != self._code,
            site=partial(self._site.repeated, job.page.id, job.page.url),
        )
        found = extract(task, self.store.snapshot_document, self.store.snapshot_body)
        if found.shown is not None:
            self._site.note(job.page.id, job.page.url, found.shown)
        return _Fetched(job, result, found, previous_id, task)

    def _compared(self, item: _Fetched) -> _Fetched:
        assert item.found is not None and item.task is not None
        return replace(item, found=compare(item.task, item.found, self.tagger))

    def _stored_pages(self) -> list[tuple[int, str, str | None]]:
        """(id, url, shown) of the active pages with a stored version (for `SiteBlocks`)."""
        return [row for row in self.store.shown_pages() if row[0] in self._latest]

    def _latest_document(self, page_id: int) -> str:
        return self.store.snapshot_document(self._latest[page_id][0])

    def _write(self, batch: list[_Fetched], discovered: list[tuple[_Job, list[Link]]]) -> None:
        with self.store.transaction():
            for item in batch:
                links = self._handle(item)
                if links:
                    discovered.append((item.job, links))
            self.store.count_checks(self.report.run_id, self._checks)
            self._checks.clear()
        if self.progress:
            for item in batch:
                self.progress(item.result)

    # -- one page -------------------------------------------------------------------
    def _handle(self, item: _Fetched) -> list[Link]:
        """Record one fetch result; returns the links the page offers to watch."""
        job, result, found = item.job, item.result, item.found
        base = {
            "run_id": self.report.run_id,
            "page_id": job.page.id,
            "source_id": job.source.id,
            "url": result.url,
            "status_code": result.status,
            "bytes": result.bytes,
            "elapsed_ms": round(result.elapsed_ms, 1),
            "attempts": result.attempts,
        }
        if found is not None:
            return self._handle_ok(item, found, base)
        if result.outcome == Outcome.NOT_MODIFIED:
            self.report.not_modified += 1
            self._count_check(job, "not_modified")
            # A run killed after storing this version may not have registered its
            # items yet: what the unchanged page offers is offered again.
            if job.page.offers_links:
                return self.store.offered_links(job.page.id)
            return []
        elif result.outcome == Outcome.GONE:
            self._handle_gone(job, base)
        else:
            self._fail(job, base, result.outcome.value, result.error or "failed")
        return []

    def _handle_ok(self, item: _Fetched, found: Finding, base: dict) -> list[Link]:
        job, result = item.job, item.result
        self.report.fetched += 1
        if found.failure:
            self._fail(job, base, found.failure_kind, found.failure)
            return []
        if found.thin:
            log.warning("%s %s: %s", job.source.id, job.page.url, THIN_NOTE)
        if found.upgrade is not None:
            self.report.upgrade.add(found.upgrade)
        if found.unchanged:
            self._count_check(job, "unchanged")
            if found.upgrade is not None and item.previous_id is not None:
                self.store.confirm_code(item.previous_id, self._code)
        else:
            self._store_version(item, found, base)
        page = {
            "status": "active",  # a removed start page that answers again is back
            "failures": 0,
            "missing_count": 0,
            "last_seen": utcnow(),
            "etag": result.etag,
            "last_modified": result.last_modified,
            "input_hash": found.input_key or None,
        }
        if found.same_input:  # not extracted: its latest version's title and links stand
            self.store.update_page(job.page.id, **page)
            return self.store.offered_links(job.page.id) if job.page.offers_links else []
        page |= {"title": found.title, "offers_links": int(bool(found.discovered))}
        if found.shown is not None:
            page["shown"] = shown_column(found.shown)
        self.store.update_page(job.page.id, **page)
        return list(found.discovered)

    def _store_version(self, item: _Fetched, found: Finding, base: dict) -> None:
        job, result = item.job, item.result
        body = self.store.store_body(result.content, found.content_type, job.page.id)
        fetch_id = self.store.record_fetch(**base, outcome="ok", body_hash=body)
        snapshot_id = self.store.add_version(
            job.page.id,
            fetch_id,
            title=found.title,
            language=found.language,
            document_json=found.document_json,
            digest=found.digest,
            body_hash=body,
            code_key=self._code,
        )
        if found.changes:
            self.store.add_changes(
                self.report.run_id, job.page.id, snapshot_id, item.previous_id, found.changes
            )
            self.report.changes += len(found.changes)
            if item.previous_id is not None:
                self.report.changed[job.page.url] = len(found.changes)
        if item.previous_id is None:
            self.report.new_pages += 1

    def _count_check(self, job: _Job, outcome: str) -> None:
        self._checks.append((job.source.id, job.page.id, outcome))  # written with the batch
        if job.page.failures or job.page.missing_count:
            self.store.update_page(job.page.id, failures=0, missing_count=0)

    def _handle_gone(self, job: _Job, base: dict) -> None:
        previous = self.store.latest_snapshot(job.page.id)
        if previous is None:  # never seen: a wrong URL, not a removal
            self._fail(job, base, "gone", "HTTP 404/410 for a page never seen: check the URL")
            return
        missing = job.page.missing_count + 1
        self.store.record_fetch(**base, outcome="gone", error="HTTP 404/410: page is gone")
        if missing < self.settings.removed_after:
            self.store.update_page(job.page.id, missing_count=missing)
            return
        doc = previous.document
        if self._latest.get(job.page.id, (0, "", None))[2] != self._code:  # upgraded since
            body = self.store.snapshot_body
            doc = read_again(previous.id, job.page.family, job.source, body) or doc
        changes = diff_documents(doc, None, page_url=job.page.url, page_title=doc.title)
        tagged = tag_all(changes, doc.language, job.source, self.tagger)
        self.store.add_changes(self.report.run_id, job.page.id, None, previous.id, tagged)
        self.store.update_page(job.page.id, missing_count=missing, status="removed")
        self.report.changed[job.page.url] = len(tagged)
        self.report.changes += len(tagged)

    def _fail(self, job: _Job, base: dict, outcome: str, error: str) -> None:
        self.report.failed += 1
        self.report.errors.append((job.source.id, job.page.url, error))
        self.store.record_fetch(**base, outcome=outcome, error=error)
        self.store.update_page(job.page.id, failures=job.page.failures + 1)
        log.warning("%s %s: %s", job.source.id, job.page.url, error)

    # -- discovery --------------------------------------------------------------------
    def _register_discovered(self, discovered: list[tuple[_Job, list[Link]]]) -> list[_Job]:
        """New pages found this wave, in source order so the result is deterministic."""
        order = {s.id: i for i, s in enumerate(self.config.sources)}
        discovered.sort(key=lambda item: (order.get(item[0].source.id, 0), item[0].page.id))
        jobs: list[_Job] = []
        tracked = self.store.tracked_urls() if discovered else set()
        for parent, links in discovered:
            source = parent.source
            for link in _filtered(source, links):
                if link.url in tracked:
                    continue
                tracked.add(link.url)
                family = "pdf" if link.kind == "attachment" else source.item_family
                page = self.store.page(source, link.url, family, parent.page.id)
                jobs.append(replace(parent, page=page))
        return jobs


def _filtered(source: Source, links: list[Link]) -> list[Link]:
    kept: dict[str, Link] = {}
    for link in links:
        if source.url_include and not any(re.search(p, link.url) for p in source.url_include):
            continue
        if any(re.search(p, link.url) for p in source.url_exclude):
            continue
        kept.setdefault(link.url, link)
    return list(kept.values())[: source.max_items]


def due_sources(
    store: Store, sources: Sequence[Source], *, now: datetime, force: bool = False
) -> list[Source]:
    """Sources whose schedule says they should be fetched now (a failing one: when its
    backoff says so; sotewatch.pipeline.runs.sourcestate)."""
    if force:
        return list(sources)
    from sotewatch.pipeline.runs.sourcestate import due_now, read_states

    return due_now(read_states(store.conn, sources), now)


def run_sources(
    store: Store,
    config: SourcesConfig,
    tagger: Tagger,
    *,
    settings: Settings | None = None,
    force: bool = False,
    now: datetime | None = None,
    progress: ProgressHook | None = None,
) -> RunReport:
    """The synchronous entry the CLI and the demo call."""
    now = now or datetime.now(UTC)
    store.sync_sources(config)
    sources = due_sources(store, config.sources, now=now, force=force)
    run = Run(store, config, tagger, settings=settings, progress=progress)
    try:
        report = asyncio.run(run.execute(sources))
        due = {s.id for s in sources}
        report.skipped_sources = [s.id for s in config.sources if s.id not in due]
        exit_code = 1 if report.failed else 0
        store.finish_run(
            report.run_id,
            status="failed" if report.failed else "ok",
            fetched=report.fetched,
            not_modified=report.not_modified,
            failed=report.failed,
            changes=report.changes,
            exit_code=exit_code,
        )
    except Exception as exc:
        failure = storage_failure(exc)  # disk full and kin: exit 5, the run marked failed
        if failure is None:
            raise
        raise stopped_run(store, run.report.run_id, failure) from exc
    return report
