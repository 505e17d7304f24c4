"""Upgrading: a database made by the first release opens with today's code, keeps its
history, and every command works on it. Migrations run automatically on open."""

from __future__ import annotations

import hashlib
import json
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlite_utils

from sotewatch.pipeline.document.models import Document, Link, Section
from sotewatch.pipeline.ops.status import status_report
from sotewatch.pipeline.storage.migrations import MIGRATIONS, m001_initial, migrate
from sotewatch.pipeline.storage.prune import prune
from sotewatch.pipeline.storage.store import Store, doc_hash

SCHEMA_001 = Path(__file__).parent / "data" / "schema_001.sql"
OLD_DOC = Document(
    url="https://stm.fi/verkostot",
    title="Verkostot",
    sections=(Section(("Viestintäverkosto",), ("Verkosto kokoontuu kuukausittain.",)),),
)


def old_json(doc: Document) -> str:
    """A document as releases before migration 007 stored it (json.dumps' default
    separators), and its hash then."""
    return json.dumps(json.loads(doc.to_json()), ensure_ascii=False, sort_keys=True)


def old_hash(doc: Document) -> str:
    return hashlib.sha256(old_json(doc).encode("utf-8")).hexdigest()


def first_release_db(path: Path) -> None:
    """A database exactly as release 1 left it: schema 001 and one page's history."""
    conn = sqlite3.connect(path)
    with conn:
        conn.executescript(SCHEMA_001.read_text(encoding="utf-8"))
        conn.execute("create table _migrations (name TEXT PRIMARY KEY, applied_at TEXT)")
        conn.execute("insert into _migrations values ('001_initial', '2026-01-05 06:00:00')")
        conn.execute(
            "insert into sources (id, name, family, url, schedule) values"
            " ('stm-verkostot', 'STM', 'ministry', 'https://stm.fi/verkostot', '1d')"
        )
        conn.execute("insert into regions (slug, name_fi) values ('lappi', 'Lappi')")
        conn.execute(
            "insert into runs (id, started, finished, status, exit_code) values"
            " (1, '2026-01-05T06:00:00Z', '2026-01-05T06:01:00Z', 'ok', 0)"
        )
        conn.execute(
            "insert into pages (id, source_id, url, family, status, missing_count, failures)"
            " values (1, 'stm-verkostot', 'https://stm.fi/verkostot', 'ministry', 'active', 0, 0)"
        )
        conn.execute(
            "insert into fetches (id, run_id, page_id, source_id, url, fetched_at, status_code,"
            " outcome) values (1, 1, 1, 'stm-verkostot', 'https://stm.fi/verkostot',"
            " '2026-01-05T06:00:30Z', 200, 'ok')"
        )
        conn.execute(
            "insert into snapshots (id, page_id, fetch_id, taken_at, doc_hash, title, language,"
            " text, document) values (1, 1, 1, '2026-01-05T06:00:30Z', ?, ?, 'fi', ?, ?)",
            [old_hash(OLD_DOC), OLD_DOC.title, OLD_DOC.text, old_json(OLD_DOC)],
        )
        conn.execute(
            "insert into changes (id, run_id, page_id, snapshot_id, detected_at, kind, after,"
            " regions, networks) values (1, 1, 1, 1, '2026-01-05T06:00:30Z', 'page_added',"
            " 'Verkosto kokoontuu', '[\"lappi\"]', '[]')"
        )
        conn.execute("insert into change_regions values (1, 'lappi')")
    conn.close()


def test_migration_001_still_makes_the_frozen_first_release_schema() -> None:
    db = sqlite_utils.Database(sqlite3.connect(":memory:"))
    m001_initial(db)
    made = [r[0] for r in db.execute("select sql from sqlite_master where sql is not null")]
    frozen = sqlite_utils.Database(sqlite3.connect(":memory:"))
    frozen.conn.executescript(SCHEMA_001.read_text(encoding="utf-8"))
    kept = [r[0] for r in frozen.execute("select sql from sqlite_master where sql is not null")]
    assert made == kept


def test_opening_a_first_release_database_applies_every_later_migration(tmp_path: Path) -> None:
    path = tmp_path / "sotewatch.db"
    first_release_db(path)
    store = Store.open(path)
    try:
        applied = [r["name"] for r in store.db["_migrations"].rows]
        assert applied == [name for name, _ in MIGRATIONS]
        assert store.db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert store.db.execute("PRAGMA foreign_key_check").fetchall() == []
        assert store.db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    finally:
        store.close()


def test_stored_documents_are_rewritten_as_the_code_writes_them_with_their_hash(
    tmp_path: Path,
) -> None:
    """Migration 007: the same page fetched again hashes as its stored version."""
    path = tmp_path / "sotewatch.db"
    first_release_db(path)
    assert old_json(OLD_DOC) != OLD_DOC.to_json()
    store = Store.open(path)
    try:
        stored = store.latest_version(1)
    finally:
        store.close()
    assert stored == (1, doc_hash(OLD_DOC), OLD_DOC.to_json())


def test_the_old_history_is_intact_and_the_new_code_builds_on_it(tmp_path: Path) -> None:
    path = tmp_path / "sotewatch.db"
    first_release_db(path)
    store = Store.open(path)
    try:
        assert store.latest_snapshot(1).document == OLD_DOC
        newer = Document(url=OLD_DOC.url, title="Verkostot", sections=())
        run_id = store.start_run()
        with store.transaction():
            fetch_id = store.record_fetch(
                run_id=run_id,
                page_id=1,
                source_id="stm-verkostot",
                url=OLD_DOC.url,
                status_code=200,
                outcome="ok",
            )
            store.add_snapshot(1, fetch_id, newer, doc_hash(newer), None)
        assert store.latest_snapshot(1).document == newer
    finally:
        store.close()


def test_status_search_and_prune_work_on_an_upgraded_database(tmp_path: Path) -> None:
    from sotewatch.pipeline.storage.search import index_new

    path = tmp_path / "sotewatch.db"
    first_release_db(path)
    store = Store.open(path)
    stats = index_new(store.db)
    store.close()
    assert (stats.snapshots, stats.changes) == (1, 1)
    report = status_report(path)
    assert (report.pages, report.snapshots, report.changes) == (1, 1, 1)
    assert report.runs[0].status == "ok"
    pruned = prune(path, now=datetime(2027, 1, 1, tzinfo=UTC))
    assert pruned.snapshots_deleted == 0  # a page's only version is also its latest


def test_opening_twice_applies_nothing_the_second_time(tmp_path: Path) -> None:
    from sotewatch.pipeline.storage.migrations import migrate

    path = tmp_path / "sotewatch.db"
    first_release_db(path)
    Store.open(path).close()
    store = Store.open(path)
    try:
        assert migrate(store.conn) == []
    finally:
        store.close()


def test_a_migration_that_dies_half_way_leaves_nothing_behind(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from sotewatch.pipeline.storage import migrations

    def dies_half_way(db: sqlite_utils.Database) -> None:
        db["half_made"].create({"id": int}, pk="id")
        raise KeyboardInterrupt  # what SIGINT does; SIGKILL stops at the same point

    monkeypatch.setattr(migrations, "MIGRATIONS", [*MIGRATIONS, ("999_dies", dies_half_way)])
    path = tmp_path / "sotewatch.db"
    with pytest.raises(KeyboardInterrupt):
        Store.open(path)
    conn = sqlite3.connect(path)
    tables = {r[0] for r in conn.execute("select name from sqlite_master")}
    conn.close()
    assert "half_made" not in tables


def test_an_upgraded_listing_still_offers_its_items_on_a_304(tmp_path: Path) -> None:
    """Migration 005 marks the pages whose latest version offers items to watch, so a 304
    of such a page re-offers them without reading every other page's document."""
    path = tmp_path / "sotewatch.db"
    first_release_db(path)
    listing = Document(
        url="https://stm.fi/uutiset",
        title="Uutiset",
        links=(Link("https://stm.fi/uutiset/1", "Uutinen", "item"),),
    )
    conn = sqlite3.connect(path)
    with conn:
        conn.execute(
            "insert into pages (id, source_id, url, family, status, missing_count, failures)"
            " values (2, 'stm-verkostot', 'https://stm.fi/uutiset', 'listing', 'active', 0, 0)"
        )
        conn.execute(
            "insert into snapshots (id, page_id, fetch_id, taken_at, doc_hash, title, language,"
            " text, document) values (2, 2, 1, '2026-01-05T06:00:40Z', ?, ?, 'fi', '', ?)",
            [old_hash(listing), listing.title, old_json(listing)],
        )
    conn.close()
    store = Store.open(path)
    try:
        offers = {row.url: row.offers_links for row in store.active_pages()["stm-verkostot"]}
        assert offers == {"https://stm.fi/verkostot": False, "https://stm.fi/uutiset": True}
        assert store.offered_links(2) == [Link("https://stm.fi/uutiset/1", "Uutinen", "item")]
    finally:
        store.close()


def test_a_new_database_is_made_by_one_script_as_the_migrations_would_make_it() -> None:
    by_script = sqlite3.connect(":memory:", isolation_level=None)
    by_migrations = sqlite3.connect(":memory:", isolation_level=None)
    assert migrate(by_script) == [name for name, _ in MIGRATIONS]
    migrate(by_migrations, fresh_from_script=False)
    schema = "select type, name, tbl_name, sql from sqlite_master order by name"
    applied = "select name from _migrations order by name"
    assert by_script.execute(schema).fetchall() == by_migrations.execute(schema).fetchall()
    assert by_script.execute(applied).fetchall() == by_migrations.execute(applied).fetchall()
    assert migrate(by_script) == []


def test_a_database_stored_before_007_reports_nothing_new_on_the_same_pages(
    tmp_path: Path,
) -> None:
    """The sample site stored, its documents then written back as releases before 007
    wrote them (and 007 unrecorded): opened again, fetched again (200s, every page read
    afresh as after any upgrade), the same pages are neither a new version nor a change."""
    import dataclasses

    from sotewatch.pipeline.demo.sample_site import SampleSite, sample_sources_path
    from sotewatch.pipeline.runs.run import run_sources
    from sotewatch.pipeline.runs.runner import load_config, prepare_store
    from sotewatch.pipeline.tagging.tag import Tagger
    from sotewatch.pipeline.tagging.taxonomy import load_taxonomy

    taxonomy, path = load_taxonomy(), tmp_path / "sotewatch.db"
    tagger = Tagger(taxonomy)
    with SampleSite(edition=1) as site:
        config = load_config(sample_sources_path(), taxonomy, site=site.base_url)
        settings = dataclasses.replace(config.settings, per_host_delay=0.0)
        store = prepare_store(path, taxonomy)
        run_sources(store, config, tagger, settings=settings, force=True)
        store.close()
        as_before_007(path)
        store = prepare_store(path, taxonomy)
        try:
            versions = store.conn.execute("select count(*) from snapshots").fetchone()
            report = run_sources(store, config, tagger, settings=settings, force=True)
            assert (report.failed, report.fetched) == (0, versions[0])
            assert (report.changes, report.changed, report.new_pages) == (0, {}, 0)
            assert store.conn.execute("select count(*) from snapshots").fetchone() == versions
        finally:
            store.close()


def as_before_007(path: Path) -> None:
    """Stored documents and hashes in the old form; every page fetched (200) and read
    afresh next time, as a new release's code digest makes it."""
    conn = sqlite3.connect(path)
    with conn:
        for snapshot_id, document in conn.execute("select id, document from snapshots"):
            doc = Document.from_json(document)
            conn.execute(
                "update snapshots set document = ?, doc_hash = ? where id = ?",
                [old_json(doc), old_hash(doc), snapshot_id],
            )
        conn.execute("update pages set etag = null, last_modified = null, input_hash = null")
        conn.execute("delete from _migrations where name = '007_compact_json'")
    conn.close()
