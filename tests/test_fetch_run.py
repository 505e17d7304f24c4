"""Faults through the whole run: the error is recorded, the last good snapshot stays, no change.

One watched URL (`/watched`) answers a good article on the first run; before the
second run the fault server makes it answer with a fault. After the second run:
its `fetches` row names the fault, the page's latest snapshot is still the first
one, and the run made no change (no "content removed" for a page that only broke).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from pathlib import Path

import pytest
import stamina
from faultserver import FaultServer, fault_server

from sotewatch.pipeline.config import Settings, Source, SourcesConfig
from sotewatch.pipeline.runs import run
from sotewatch.pipeline.runs.run import RunReport, run_sources
from sotewatch.pipeline.runs.runner import prepare_store
from sotewatch.pipeline.storage.store import Store
from sotewatch.pipeline.tagging.tag import Tagger
from sotewatch.pipeline.tagging.taxonomy import Taxonomy, load_taxonomy
from sotewatch.scrapers.generic import GenericScraper

__all__ = ["fault_server"]

SETTINGS = Settings(
    per_host_delay=0.0,
    connect_timeout=1.0,
    read_timeout=0.3,
    retries=1,
    max_bytes=1_000_000,
    run_budget=60.0,
)

# fault route -> (outcome recorded in `fetches`, words its error must contain)
FAULTS = {
    "timeout": ("/slow?seconds=2", "error", "timed out (read timeout)"),
    "connection-reset": ("/reset", "error", "after 2 attempts"),
    "server-error": ("/flaky/x?fail=99&status=500", "error", "HTTP 500"),
    "too-many-requests": ("/flaky/x?fail=99&status=429", "error", "HTTP 429"),
    "redirect-loop": ("/loop/a", "error", "redirect loop"),
    "redirect-to-file": ("/redirect?to=file:///etc/passwd", "error", "file://"),
    "redirect-to-ftp": ("/redirect?to=ftp://127.0.0.1/x", "error", "ftp://"),
    "30-mb-body": ("/big?mb=30", "error", "body too large"),
    "gzip-bomb": ("/bomb?mb=20", "error", "body too large"),
    "empty-200": ("/empty", "", ""),  # an error or a soft failure: the analyser decides
    "maintenance-page": ("/maintenance", "soft_failure", "maintenance page"),
    "collapsed-content": ("/page/lyhyt", "soft_failure", "shrank to"),
    "robots-disallow": ("/article/verkostot", "blocked", "robots.txt disallows"),
}


@dataclasses.dataclass
class Watch:
    server: FaultServer
    store: Store
    config: SourcesConfig
    tagger: Tagger

    def run(self, settings: Settings = SETTINGS) -> RunReport:
        return run_sources(self.store, self.config, self.tagger, settings=settings, force=True)

    def snapshots(self) -> list[int]:
        return [r[0] for r in self.store.db.execute("select id from snapshots order by id")]

    def changes(self, run_id: int) -> int:
        sql = "select count(*) from changes where run_id = ?"
        return self.store.db.execute(sql, [run_id]).fetchone()[0]

    def fetch_rows(self, run_id: int) -> list[dict]:
        sql = "select * from fetches where run_id = ? order by id"
        return [dict(row) for row in self.store.db.query(sql, [run_id])]


@pytest.fixture(scope="module")
def taxonomy() -> Taxonomy:
    return load_taxonomy()


@pytest.fixture
def watch(fault_server: FaultServer, tmp_path: Path, taxonomy: Taxonomy) -> Iterator[Watch]:
    """One watched URL in a fresh database. Retries happen without their waits here
    (stamina's test mode); tests/test_fetch.py runs them with real, short waits.
    Language and lemmas are not under test: a forced language and words as their own
    lemmas spare each test process simplemma's dictionary load (10-20 s)."""
    store = prepare_store(tmp_path / "watch.db", taxonomy)
    url = fault_server.url("/watched")
    source = Source(id="watched", url=url, family="generic", language="fi")
    config = SourcesConfig(tmp_path / "sources.toml", SETTINGS, (source,))
    with stamina.set_testing(True, attempts=SETTINGS.retries + 1):
        yield Watch(fault_server, store, config, Tagger(taxonomy, lemmatiser=_as_is))
    store.close()


def _as_is(word: str, lang: str) -> str:
    return word


@pytest.mark.parametrize("fault", sorted(FAULTS))
def test_a_fault_keeps_the_last_snapshot_and_makes_no_change(watch: Watch, fault: str) -> None:
    route, outcome, says = FAULTS[fault]
    watch.server.serve_as("/watched", "/article/verkostot")
    first = watch.run()
    assert first.failed == 0
    before = watch.snapshots()
    assert len(before) == 1

    watch.server.serve_as("/watched", route)
    if fault == "robots-disallow":
        watch.server.robots_txt = "User-agent: *\nDisallow: /watched\n"
    second = watch.run()

    rows = watch.fetch_rows(second.run_id)
    assert len(rows) == 1
    row = rows[0]
    if outcome:
        assert row["outcome"] == outcome
    else:
        assert row["outcome"] in ("error", "soft_failure")
    assert says in (row["error"] or "")
    assert watch.snapshots() == before
    assert watch.changes(second.run_id) == 0
    assert second.failed == 1


def test_one_page_in_three_encodings_is_one_version(watch: Watch) -> None:
    """The same words served as UTF-8, Latin-1 and with a lying header: never a change."""
    for case in ("utf8-latin1-text", "latin1", "latin1-said-utf8", "latin1-no-declaration"):
        watch.server.serve_as("/watched", f"/charset/{case}")
        report = watch.run()
        assert report.failed == 0, report.errors
        assert watch.changes(report.run_id) == 0, case
    assert len(watch.snapshots()) == 1


def test_a_page_rebuilt_with_a_new_footer_is_not_extracted_again(
    watch: Watch, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Its tree without chrome is as its latest version was read from (pipeline/runs/inputkey.py):
    the 200 is an unchanged check, the page's title and validators are kept up to date."""
    watch.server.serve_as("/watched", "/rebuilt/verkostot?build=1")
    watch.run()
    before = watch.snapshots()
    monkeypatch.setattr(GenericScraper, "document", _not_to_be_extracted)
    watch.server.serve_as("/watched", "/rebuilt/verkostot?build=2")
    again = watch.run()
    assert again.failed == 0 and again.fetched == 1 and again.changes == 0
    assert watch.snapshots() == before
    checks = "select unchanged from source_checks where run_id = ?"
    assert watch.store.db.execute(checks, [again.run_id]).fetchall() == [(1,)]
    (title,) = watch.store.db.execute("select title from pages").fetchone()
    assert title == "Verkostot (verkostot)"  # kept, though not read again
    monkeypatch.undo()
    watch.server.serve_as("/watched", "/rebuilt/verkostot?build=3&edit=Alueviestintäverkosto")
    edited = watch.run()
    assert edited.changes == 1 and len(watch.snapshots()) == len(before) + 1


def _not_to_be_extracted(*args: object) -> None:
    raise AssertionError("the page was extracted again")


def _not_to_be_digested() -> None:
    raise AssertionError("the code was digested")


def test_an_unchanged_page_is_a_304_and_stores_nothing(
    watch: Watch, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Nor does it digest the code's modules: that key is recorded with a new version."""
    watch.server.serve_as("/watched", "/page/ennallaan")
    watch.run()
    before = watch.snapshots()
    monkeypatch.setattr(run, "code_key", _not_to_be_digested)
    again = watch.run()
    assert watch.fetch_rows(again.run_id) == []  # a 304 is counted, not stored row by row
    checks = watch.store.db.execute(
        "select not_modified, unchanged from source_checks where run_id = ?", [again.run_id]
    ).fetchall()
    assert checks == [(1, 0)]
    assert again.not_modified == 1
    assert watch.snapshots() == before
