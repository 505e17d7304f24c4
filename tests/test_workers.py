"""Analysis in worker processes: the same rows as in-process, and one page's crash is its own.

A run hands each fetched page to `pipeline.workers.Analyser`: with one worker it analyses
in the run's process, with more in a pool of forked processes. Whichever, a run over the
sample site's two editions must store the same versions and the same changes in the same
order, and a page whose analysis raises, or kills its worker, must become that page's
failure while every other page is stored.
"""

from __future__ import annotations

import dataclasses
import os
import pickle
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

import pipeline.forkserver
import pipeline.pool
import pipeline.run
import pipeline.workers
from pipeline.analyse import Finding, PreviousReader, Task, prepare
from pipeline.config import Settings, Source, SourcesConfig
from pipeline.fetched import FetchRequest, FetchResult, Outcome
from pipeline.run import RunReport, run_sources
from pipeline.runner import load_config, prepare_store
from pipeline.sample_site import SampleSite, sample_sources_path
from pipeline.store import Store
from pipeline.tag import Tagger
from pipeline.taxonomy import Taxonomy, load_taxonomy
from pipeline.warmup import PRELOAD, analysis_workers
from pipeline.workers import Analyser
from scrapers import Page

FAST = Settings(per_host_delay=0.0, retries=0, run_budget=60.0)
ARTICLE = (
    "<html><head><title>Verkostot</title></head><body><main><h1>Verkostot</h1>"
    "<p>Pirkanmaan hyvinvointialue valmistelee yhteistyötä viestintäverkostossa.</p>"
    "</main></body></html>"
)


@pytest.fixture(scope="module")
def taxonomy() -> Taxonomy:
    return load_taxonomy()


def _as_is(word: str, lang: str) -> str:
    return word


def tagger_for(taxonomy: Taxonomy) -> Tagger:
    """Words as their own lemmas: the lemmatiser is not under test, and loading it is slow."""
    return Tagger(taxonomy, lemmatiser=_as_is)


@pytest.fixture
def always_pool(monkeypatch: pytest.MonkeyPatch) -> None:
    """The sample site is small; make every wave big enough for the pool."""
    monkeypatch.setattr(pipeline.workers, "SMALL_WAVE", 1)


def stored(store: Store) -> tuple[list, list]:
    versions = store.db.execute(
        """select p.url, s.doc_hash, s.title, s.language, s.document
           from snapshots s join pages p on p.id = s.page_id order by s.id"""
    ).fetchall()
    changes = store.db.execute(
        """select p.url, c.kind, c.section, c.before, c.after, c.summary, c.regions, c.networks
           from changes c join pages p on p.id = c.page_id order by c.id"""
    ).fetchall()
    return versions, changes


def test_pool_and_in_process_store_the_same_versions_and_changes(
    tmp_path: Path, taxonomy: Taxonomy, always_pool: None
) -> None:
    """Both runs read the same server, so absolute URLs in the documents agree."""
    tagger = tagger_for(taxonomy)
    stores = {n: prepare_store(tmp_path / f"workers-{n}.db", taxonomy) for n in (1, 2)}
    reports: dict[int, list[RunReport]] = {1: [], 2: []}
    try:
        with SampleSite(edition=1) as site:
            config = load_config(sample_sources_path(), taxonomy, site=site.base_url)
            settings = dataclasses.replace(config.settings, per_host_delay=0.0)
            for edition in (1, 2):
                site.edition = edition
                for workers, store in stores.items():
                    report = run_sources(
                        store, config, tagger, settings=settings, force=True, workers=workers
                    )
                    reports[workers].append(report)
        versions, changes = stored(stores[1])
        assert len(changes) > 10, "edition 2 of the sample site changes pages"
        # Pages are stored in the order they were fetched, which the network decides;
        # what each page holds must not depend on where it was analysed.
        pooled_versions, pooled_changes = stored(stores[2])
        assert sorted(pooled_versions) == sorted(versions)
        assert sorted(pooled_changes) == sorted(changes)
        summary = [
            [(r.fetched, r.failed, r.changes, r.new_pages) for r in reports[n]] for n in (1, 2)
        ]
        assert summary[0] == summary[1]
    finally:
        for store in stores.values():
            store.close()


def test_the_run_fetches_further_ahead_while_the_workers_start(taxonomy: Taxonomy) -> None:
    """Until a worker answers, the run is not held back by workers still starting."""
    analyser = Analyser(tagger_for(taxonomy), workers=2)
    try:
        analyser.plan(pipeline.workers.SMALL_WAVE)
        assert analyser.depth == pipeline.workers.STARTING_LOOK_AHEAD
        found = analyser.result(analyser.submit(page_task("/verkostot")))
        assert found.title == "Verkostot"
        assert analyser.depth == pipeline.workers.LOOK_AHEAD
    finally:
        analyser.close()


def test_workers_get_their_first_page_at_once_and_later_pages_in_batches(
    taxonomy: Taxonomy, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(pipeline.forkserver, "prestarted", lambda: True)  # starts as planned
    monkeypatch.setattr(pipeline.workers, "BATCH_WAIT", 600)  # batches wait to be full
    analyser = Analyser(tagger_for(taxonomy), workers=2)
    try:
        analyser.plan(pipeline.workers.SMALL_WAVE)
        first, second, third = (analyser.submit(page_task(f"/sivu-{n}")) for n in range(3))
        assert first.batch is not None and second.batch is not None  # one to each worker
        assert first.batch.worker is not second.batch.worker
        assert third.batch is None  # both busy: it waits for a batch to fill
        assert analyser.result(first).title
        later = analyser.submit(page_task("/sivu-3"))
        assert later.batch is None  # a worker has answered: pages go in batches again
        assert [analyser.result(p).title for p in (second, third, later)]
    finally:
        analyser.close()


def test_a_run_begun_for_many_pages_starts_its_workers_as_it_plans_them(
    taxonomy: Taxonomy, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The run started the fork server (a new database: pipeline/warmup.py), so its
    workers start while the first pages are fetched, not when the first batch is full."""
    monkeypatch.setattr(pipeline.forkserver, "prestarted", lambda: True)
    analyser = Analyser(tagger_for(taxonomy), workers=2)
    try:
        analyser.plan(pipeline.workers.SMALL_WAVE)
        assert analyser.started
    finally:
        analyser.close()


def test_a_run_over_known_pages_starts_no_worker_before_a_page_needs_one(
    taxonomy: Taxonomy, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A run of 304s never pays for the workers."""
    monkeypatch.setattr(pipeline.forkserver, "prestarted", lambda: False)
    analyser = Analyser(tagger_for(taxonomy), workers=2)
    try:
        analyser.plan(pipeline.workers.SMALL_WAVE)
        assert not analyser.started
        analyser.result(analyser.submit(page_task("/verkostot")))
        assert analyser.started
    finally:
        analyser.close()


def page_task(path: str, body: str = ARTICLE) -> Task:
    url = f"http://127.0.0.1:9{path}"
    page = Page(url, body.encode(), "text/html; charset=utf-8", body, 200)
    source = Source(id="s", url=url, language="fi")
    return Task(fetched=page, family="generic", source=source, announce_new=True)


def test_a_pool_finds_what_in_process_analysis_finds(taxonomy: Taxonomy) -> None:
    tasks = [
        page_task(f"/sivu-{n}", ARTICLE.replace("Pirkanmaan", f"Pirkanmaan {n}")) for n in range(6)
    ]
    tagger = tagger_for(taxonomy)
    expected = [prepare(task, tagger) for task in tasks]
    pool = Analyser(tagger, workers=2)
    pool.plan(len(tasks) + pipeline.workers.SMALL_WAVE)
    try:
        pending = [pool.submit(task) for task in tasks]
        assert [pool.result(p) for p in pending] == expected
    finally:
        pool.close()
    assert expected[0].changes and expected[0].changes[0].kind == "page_added"


def test_a_worker_takes_a_fetched_page_without_importing_the_http_client() -> None:
    """A run hands its workers undecoded FetchResults; unpickling one in a worker that has
    what the fork server preloads must not import httpx (0.1 s of CPU per worker)."""
    fetched = FetchResult(
        request=FetchRequest(url="http://127.0.0.1:9/sivu", source_id="s"),
        url="http://127.0.0.1:9/sivu",
        outcome=Outcome.OK,
        status=200,
        content=ARTICLE.encode(),
        mime="text/html",
        header_charset="utf-8",
    )
    task = dataclasses.replace(page_task("/sivu"), fetched=fetched)
    worker = f"""
import importlib, pickle, sys
for module in {PRELOAD!r}:
    importlib.import_module(module)
task = pickle.loads(sys.stdin.buffer.read())
assert task.page.text, "the page decodes"
print(sorted(m for m in ("httpx", "httpcore", "anyio", "pipeline.fetch") if m in sys.modules))
"""
    answer = subprocess.run(
        [sys.executable, "-c", worker],
        input=pickle.dumps(task),
        capture_output=True,
        check=True,
        cwd=Path(__file__).parent.parent,
    )
    assert answer.stdout.decode().strip() == "[]"


def _crash_on_broken(task: Task, tagger: Tagger, read_previous: PreviousReader | None) -> Finding:
    """Stands in for `prepare` in forked workers: one page kills its process."""
    if task.page.url.endswith("/rikki"):
        os._exit(13)
    if task.page.url.endswith("/virhe"):
        raise RuntimeError("a bug in one page's analysis")
    return prepare(task, tagger, read_previous)


@pytest.fixture
def forked_workers(monkeypatch: pytest.MonkeyPatch) -> None:
    """Workers forked from the test itself, not from the fork server (which imported the
    modules before the test ran): a stand-in set here then reaches them."""
    monkeypatch.setattr(pipeline.workers, "START_METHOD", "fork")


@pytest.fixture
def crashing_prepare(monkeypatch: pytest.MonkeyPatch, forked_workers: None) -> None:
    monkeypatch.setattr(pipeline.workers, "prepare", _crash_on_broken)


def test_a_worker_that_dies_costs_its_page_and_no_other(
    taxonomy: Taxonomy, crashing_prepare: None
) -> None:
    tasks = [page_task(p) for p in ("/a", "/b", "/rikki", "/c", "/d", "/e")]
    pool = Analyser(tagger_for(taxonomy), workers=2)
    pool.plan(100)
    try:
        findings = [pool.result(p) for p in [pool.submit(t) for t in tasks]]
    finally:
        pool.close()
    failures = {
        t.page.url.rsplit("/", 1)[1]: f.failure for t, f in zip(tasks, findings, strict=True)
    }
    assert failures.pop("rikki") == "analysis failed: the worker process died"
    assert set(failures.values()) == {None}


@pytest.mark.parametrize("workers", [1, 2], ids=["in-process", "pool"])
def test_an_exception_in_analysis_is_that_pages_failure(
    taxonomy: Taxonomy, workers: int, monkeypatch: pytest.MonkeyPatch, forked_workers: None
) -> None:
    def broken_diff(*args: object, **kwargs: object) -> list:
        raise RuntimeError("a bug in the diff")

    monkeypatch.setattr("pipeline.analyse.diff_documents", broken_diff)
    pool = Analyser(tagger_for(taxonomy), workers=workers)
    pool.plan(100)
    try:
        finding = pool.result(pool.submit(page_task("/a")))
    finally:
        pool.close()
    assert finding.failure == "analysis failed: RuntimeError: a bug in the diff"


@pytest.fixture
def site() -> Iterator[SampleSite]:
    with SampleSite(edition=1) as s:
        yield s


def test_a_page_whose_worker_dies_is_recorded_as_failed_and_the_run_goes_on(
    tmp_path: Path,
    taxonomy: Taxonomy,
    site: SampleSite,
    crashing_prepare: None,
    always_pool: None,
) -> None:
    store = prepare_store(tmp_path / "watch.db", taxonomy)
    good = [Source(id=f"s{n}", url=f"{site.base_url}/stm/verkostot?n={n}") for n in range(3)]
    broken = Source(id="broken", url=f"{site.base_url}/stm/verkostot?x=/rikki")
    config = SourcesConfig(tmp_path / "sources.toml", FAST, (*good, broken))
    try:
        report = run_sources(store, config, tagger_for(taxonomy), force=True, workers=2)
        assert report.errors == [("broken", broken.url, "analysis failed: the worker process died")]
        assert report.new_pages == 3
        outcomes = store.db.execute("select outcome from fetches where source_id = 'broken'")
        assert [row[0] for row in outcomes] == ["error"]
    finally:
        store.close()


@pytest.mark.parametrize(
    ("requested", "environment", "expected"),
    [(3, "", 3), (None, "", None), (None, "2", 2), (1, "4", 1)],
    ids=["flag", "default-cores", "environment", "flag-beats-environment"],
)
def test_the_number_of_workers_comes_from_the_request_then_the_environment(
    monkeypatch: pytest.MonkeyPatch, requested: int | None, environment: str, expected: int | None
) -> None:
    monkeypatch.setenv("SOTEWATCH_WORKERS", environment)
    assert analysis_workers(requested) == expected


def test_a_wrong_worker_count_in_the_environment_is_a_config_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from pipeline.errors import ConfigError

    monkeypatch.setenv("SOTEWATCH_WORKERS", "many")
    with pytest.raises(ConfigError, match="SOTEWATCH_WORKERS"):
        analysis_workers(None)


ORPHAN_CHECK = """
import sys, time
from pipeline.taxonomy import load_taxonomy
from pipeline.tag import Tagger
from pipeline.workers import Analyser
pool = Analyser(Tagger(load_taxonomy()), workers=2)
pool.plan(100)
workers = pool._started()
for batch in [workers.submit([]) for _ in range(2)]:  # one each: both are up
    workers.result(batch)
print(" ".join(str(w.process.pid) for w in workers._workers), flush=True)
time.sleep(60)
"""


def test_workers_die_with_a_run_killed_by_sigkill() -> None:
    """A cron run killed at any moment (tests/test_crash.py) must leave no orphans."""
    import signal
    import subprocess
    import sys
    import time

    with subprocess.Popen(
        [sys.executable, "-c", ORPHAN_CHECK], stdout=subprocess.PIPE, text=True
    ) as run:
        assert run.stdout is not None
        workers = [int(pid) for pid in run.stdout.readline().split()]
        assert len(workers) == 2 and all(_alive(pid) for pid in workers)
        run.send_signal(signal.SIGKILL)
        run.wait(timeout=10)
    for _ in range(500):
        if not any(_alive(pid) for pid in workers):
            break
        time.sleep(0.01)
    assert not any(_alive(pid) for pid in workers)


def _alive(pid: int) -> bool:
    """Not yet reaped counts as dead: a zombie runs nothing."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


@pytest.mark.parametrize(
    ("database", "read_by_the_run"),
    [("file, server forked before it was opened", 0), ("file, closed while the server forks", 0),
     ("file, open as the server forks", 1), ("in memory", 1)],
)  # fmt: skip
def test_a_previous_version_known_by_id_is_read_where_it_is_needed(
    tmp_path: Path, taxonomy: Taxonomy, database: str, read_by_the_run: int
) -> None:
    """A pool's workers read the previous version from the database file themselves. The
    run reads it for them when they have no file to open (a database in memory), or must
    not open it: forked from a process that had it open (pipeline/forkserver.py)."""
    if database.endswith("before it was opened"):
        pipeline.forkserver.prestart(["os"])  # as `sotewatch run` does (pipeline/warmup.py)
    store = prepare_store(tmp_path / "previous.db", taxonomy)
    read: list[int] = []

    def read_previous(snapshot_id: int) -> str:
        read.append(snapshot_id)
        return store.snapshot_document(snapshot_id)

    try:
        first = page_task("/sivu", ARTICLE)
        tagger = tagger_for(taxonomy)
        found = prepare(first, tagger)
        store.sync_sources(SourcesConfig(tmp_path / "sources.toml", Settings(), (first.source,)))
        page = store.add_pages([(first.source, first.page.url, "generic")])[0]
        with store.transaction():
            fetch_id = store.record_fetch(page_id=page.id, url=first.page.url, outcome="ok")
            snapshot_id = store.add_version(
                page.id, fetch_id, title=found.title, language=found.language,
                document_json=found.document_json, digest=found.digest, body_hash=None,
            )  # fmt: skip
        edited = ARTICLE.replace("Pirkanmaan", "Satakunnan")
        later = dataclasses.replace(
            page_task("/sivu", edited), previous_id=snapshot_id, previous_hash=found.digest
        )
        expected = prepare(dataclasses.replace(later, previous_json=found.document_json), tagger)
        assert expected.changes and all(c.kind != "page_added" for c in expected.changes)
        pool = Analyser(
            tagger,
            workers=2,
            read_previous=read_previous,
            database=None if database == "in memory" else store.path,
            release=store.released if database.startswith("file, closed") else None,
        )
        pool.plan(pipeline.workers.SMALL_WAVE)
        try:
            assert pool.result(pool.submit(later)) == expected
        finally:
            pool.close()
        assert len(read) == read_by_the_run
    finally:
        store.close()
        pipeline.forkserver.discard()


def test_the_bodies_held_ahead_of_the_workers_are_bounded_in_bytes(
    tmp_path: Path,
    taxonomy: Taxonomy,
    site: SampleSite,
    always_pool: None,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """However few the pages (a handful of big PDFs), past `HELD_BYTES` of bodies the run
    waits for the oldest analysis before it fetches on."""
    monkeypatch.setattr(pipeline.run, "HELD_BYTES", 1)
    monkeypatch.setattr(pipeline.run, "STORE_BYTES", 1)  # a write is due before that
    held_before_append: list[int] = []
    append = pipeline.run._Waiting.append

    def recording_append(self: pipeline.run._Waiting, item: pipeline.run._Fetched) -> None:
        held_before_append.append(self.held)
        append(self, item)

    monkeypatch.setattr(pipeline.run._Waiting, "append", recording_append)
    store = prepare_store(tmp_path / "watch.db", taxonomy)
    sources = tuple(
        Source(id=f"s{n}", url=f"{site.base_url}/stm/verkostot?n={n}") for n in range(6)
    )
    try:
        report = run_sources(
            store, SourcesConfig(tmp_path / "s.toml", FAST, sources), tagger_for(taxonomy),
            force=True, workers=2,
        )  # fmt: skip
    finally:
        store.close()
    assert report.new_pages == 6
    assert held_before_append == [0] * 6  # each page written before the next was taken
