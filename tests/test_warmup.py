"""The workers' fork server is forked first thing in a run that will analyse many pages.

It imports the parsers once for every worker, on another core, while the run imports
httpx, reads its config and opens its database; a run of 304s never forks it.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

import pipeline.forkserver
from pipeline.store import Store
from pipeline.warmup import (
    PRELOAD_TAGGING,
    SMALL_WAVE,
    many_pages_to_analyse,
    prestart_workers,
)


@pytest.fixture
def prestarted(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, ...]]:
    """What `prestart` was asked to preload, instead of forking a server."""
    calls: list[tuple[str, ...]] = []
    monkeypatch.setattr(
        pipeline.forkserver, "prestart", lambda preload: calls.append(tuple(preload))
    )
    monkeypatch.delenv("SOTEWATCH_WORKERS", raising=False)
    return calls


def database_with_pages(path: Path, pages: int, *, validators: bool) -> Path:
    store = Store.open(path)
    store.conn.execute("insert into sources (id, url) values ('s', 'https://example.org/')")
    for n in range(pages):
        store.conn.execute(
            "insert into pages (source_id, url, status, etag) values ('s', ?, 'active', ?)",
            [f"https://example.org/{n}", '"v1"' if validators else None],
        )
    store.close()
    return path


def test_a_new_database_means_a_first_run_with_every_page_to_analyse(tmp_path: Path) -> None:
    assert many_pages_to_analyse(tmp_path / "new.db")


def test_pages_without_validators_answer_200_every_time(tmp_path: Path) -> None:
    db = database_with_pages(tmp_path / "watch.db", SMALL_WAVE, validators=False)
    assert many_pages_to_analyse(db)


def test_pages_with_validators_will_mostly_answer_304(tmp_path: Path) -> None:
    db = database_with_pages(tmp_path / "watch.db", 3 * SMALL_WAVE, validators=True)
    assert not many_pages_to_analyse(db)


def test_a_few_pages_are_analysed_in_process_and_need_no_server(tmp_path: Path) -> None:
    db = database_with_pages(tmp_path / "watch.db", SMALL_WAVE - 1, validators=False)
    assert not many_pages_to_analyse(db)


def test_a_file_that_is_not_a_sotewatch_database_starts_nothing(tmp_path: Path) -> None:
    db = tmp_path / "other.db"
    db.write_bytes(b"not sqlite at all" * 100)
    assert not many_pages_to_analyse(db)


def test_a_first_run_starts_the_server_with_the_parsers_to_preload(
    tmp_path: Path, prestarted: list[tuple[str, ...]]
) -> None:
    prestart_workers(tmp_path / "new.db", requested=2)
    assert len(prestarted) == 1
    assert {"pipeline.workers", "scrapers.generic", "scrapers.pdf"} <= set(prestarted[0])
    assert "pipeline.prewarm" in prestarted[0]
    assert "pipeline.prewarm_tagging" not in prestarted[0]  # a first run tags nothing


def test_a_run_over_known_pages_has_the_server_build_the_tagging_lexicon(
    tmp_path: Path, prestarted: list[tuple[str, ...]]
) -> None:
    db = database_with_pages(tmp_path / "watch.db", SMALL_WAVE, validators=False)
    prestart_workers(db, requested=2)
    assert prestarted == [PRELOAD_TAGGING]


def test_a_run_over_pages_that_will_mostly_answer_304_forks_no_server(
    tmp_path: Path, prestarted: list[tuple[str, ...]]
) -> None:
    db = database_with_pages(tmp_path / "watch.db", 3 * SMALL_WAVE, validators=True)
    prestart_workers(db, requested=2)
    assert prestarted == []


def test_what_the_server_prepares_its_workers_find_done() -> None:
    """Imported in the fork server, the prewarm modules leave the lexicon, the noise
    rules and the code's digest built: a worker forked from it builds none of them."""
    code = (
        "import pipeline.prewarm, pipeline.prewarm_tagging\n"
        "from pipeline.inputkey import code_digest\n"
        "from pipeline.tag import Tagger, lexicon_of\n"
        "from pipeline.taxonomy import load_taxonomy\n"
        "built = lexicon_of.cache_info().currsize, code_digest.cache_info().currsize\n"
        "lexicon = Tagger(load_taxonomy()).lexicon\n"
        "assert built == (1, 1), built\n"
        "assert lexicon_of.cache_info().hits == 1 and lexicon is lexicon_of(load_taxonomy())\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_one_worker_means_analysis_in_process_and_no_server(
    tmp_path: Path, prestarted: list[tuple[str, ...]]
) -> None:
    prestart_workers(tmp_path / "new.db", requested=1)
    assert prestarted == []


def test_the_worker_count_from_the_environment_is_honoured(
    tmp_path: Path, prestarted: list[tuple[str, ...]], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SOTEWATCH_WORKERS", "1")
    prestart_workers(tmp_path / "new.db", requested=None)
    assert prestarted == []


@pytest.mark.skipif(not hasattr(os, "fork"), reason="the pool forks its workers")
def test_workers_are_forked_from_the_server_not_from_the_run() -> None:
    """A worker's parent is the fork server: the run's process copies nothing of itself
    into its workers (no event loop, no threads, no open database)."""
    from pipeline.forkserver import prestart
    from pipeline.pool import Pool

    prestart(["os"])
    pool = Pool(1, _parent_pid, _nothing, (), start_method="forkserver")
    try:
        (parent,) = pool.result(pool.submit([None]))
    finally:
        pool.close()
    assert parent != os.getpid()


def _parent_pid(tasks: list[None]) -> list[int]:
    return [os.getppid() for _ in tasks]


def _nothing() -> None:
    pass


def test_a_server_the_script_forked_is_not_forked_again(
    tmp_path: Path, prestarted: list[tuple[str, ...]], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(pipeline.forkserver, "prestarted", lambda: True)
    prestart_workers(tmp_path / "new.db", requested=2)
    assert prestarted == []
