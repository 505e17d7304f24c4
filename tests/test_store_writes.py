"""The run's batched writes: checks counted per run and source, pages registered once."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from sotewatch.pipeline.config import Settings, Source, SourcesConfig
from sotewatch.pipeline.document.models import Document, Section
from sotewatch.pipeline.storage.store import PAGE_SIZE, Store, doc_hash

STM = Source(id="stm", url="http://127.0.0.1:9/stm", name="STM")
SOSTE = Source(id="soste", url="http://127.0.0.1:9/soste", name="SOSTE")


@pytest.fixture
def store(tmp_path: Path):
    store = Store.open(tmp_path / "watch.db")
    store.sync_sources(SourcesConfig(Path("sources.toml"), Settings(), (STM, SOSTE)))
    yield store
    store.close()


def checks(store: Store, run_id: int) -> dict[str, tuple[int, int]]:
    rows = store.db.execute(
        "select source_id, unchanged, not_modified from source_checks where run_id = ?", [run_id]
    )
    return {source: (unchanged, not_modified) for source, unchanged, not_modified in rows}


def test_a_batch_of_checks_adds_up_per_source_and_notes_each_page(store: Store) -> None:
    run_id = store.start_run()
    a, b, c = store.add_pages([(STM, "http://x/a", "generic"), (STM, "http://x/b", "generic"),
                               (SOSTE, "http://x/c", "generic")])  # fmt: skip
    with store.transaction():
        store.count_checks(
            run_id,
            [
                ("stm", a.id, "not_modified"),
                ("stm", b.id, "unchanged"),
                ("soste", c.id, "not_modified"),
            ],
        )
    with store.transaction():  # a second batch of the same run adds to the same rows
        store.count_checks(run_id, [("stm", a.id, "not_modified")])
    assert checks(store, run_id) == {"stm": (1, 2), "soste": (0, 1)}
    statuses = dict(store.db.execute("select url, last_status from pages order by url"))
    assert statuses == {"http://x/a": 304, "http://x/b": 200, "http://x/c": 304}


def test_an_empty_batch_writes_nothing(store: Store) -> None:
    run_id = store.start_run()
    with store.transaction():
        store.count_checks(run_id, [])
    assert checks(store, run_id) == {}


def test_a_page_registered_twice_is_one_row(store: Store) -> None:
    first = store.add_pages([(STM, "http://x/a", "generic")])[0]
    again = store.add_pages([(STM, "http://x/a", "listing")])[0]
    assert again == first
    assert again.family == "generic" and again.status == "active" and again.failures == 0
    assert store.db.execute("select count(*) from pages").fetchone() == (1,)


def test_a_version_stored_from_its_json_reads_back_as_text(store: Store) -> None:
    doc = Document(
        url="http://x/a", title="Hyvinvointialueet", sections=(Section(("Pääsy",), ("Ääni",)),)
    )
    page = store.add_pages([(STM, doc.url, "generic")])[0]
    document = doc.to_json()
    with store.transaction():
        fetch_id = store.record_fetch(page_id=page.id, url=doc.url, outcome="ok")
        snapshot_id = store.add_version(
            page.id, fetch_id, title=doc.title, language="fi",
            document_json=document, digest=doc_hash(doc), body_hash=None,
        )  # fmt: skip
    assert store.db.execute(
        "select typeof(document) from snapshots where id = ?", [snapshot_id]
    ).fetchone() == ("text",)
    assert store.latest_snapshot(page.id).document == doc
    text = store.db.execute(
        "select text from snapshot_texts where snapshot_id = ?", [snapshot_id]
    ).fetchone()[0]
    assert text == doc.text


def test_a_new_database_has_pages_of_16_kb_and_an_old_one_keeps_its_own(tmp_path: Path) -> None:
    """Documents of 5-50 KB take a quarter of the pages and writes (pipeline/storage/store.py)."""
    new = Store.open(tmp_path / "new.db")
    assert new.conn.execute("pragma page_size").fetchone()[0] == PAGE_SIZE == 16384
    new.close()
    reopened = Store.open(database_of_4_kb_pages(tmp_path / "old.db"))
    assert reopened.conn.execute("pragma page_size").fetchone()[0] == 4096
    reopened.close()


def test_the_write_ahead_log_is_copied_back_every_4_mb_whatever_the_page_size(
    tmp_path: Path,
) -> None:
    """So that closing the database after a run has at most 4 MB left to copy."""
    new = Store.open(tmp_path / "new.db")
    assert new.conn.execute("pragma wal_autocheckpoint").fetchone()[0] == 256  # 16 KB pages
    new.close()
    reopened = Store.open(database_of_4_kb_pages(tmp_path / "old.db"))
    assert reopened.conn.execute("pragma wal_autocheckpoint").fetchone()[0] == 1024
    reopened.close()


def database_of_4_kb_pages(path: Path) -> Path:
    """A database made before new ones got 16 KB pages."""
    old = sqlite3.connect(path)
    old.execute("pragma page_size = 4096")
    old.execute("create table t (x)")
    old.close()
    return path
