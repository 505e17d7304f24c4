"""`sotewatch prune`: the retention policy, what it must never delete, and when it compacts."""

from __future__ import annotations

import sqlite3
from collections import defaultdict
from datetime import datetime
from pathlib import Path

import pytest
from history import NOW, History, days_ago, write_deliveries

from sotewatch.pipeline.delivery.deliver import state_path_for
from sotewatch.pipeline.errors import ConfigError, RunLockedError
from sotewatch.pipeline.runs.lock import run_lock
from sotewatch.pipeline.storage.prune import prune, prune_db, worth_compacting

KEEP_DAYS = 90


def daily_page(h: History, name: str, days: range) -> list[int]:
    """A page that changed every day in `days` (days ago, oldest first): its snapshot ids."""
    source = h.source(name, f"http://127.0.0.1:9/{name}")
    page = h.page(source)
    ids = []
    for day in days:
        h.run(days_ago(day))
        ids.append(h.version(page, f"{name} versio {day}", days_ago(day)))
    return ids


def snapshots(h: History) -> dict[int, str]:
    return dict(h.store.db.execute("select id, taken_at from snapshots").fetchall())


def run_prune(h: History, *, delivered_up_to: int | None, then: str = "weekly"):
    return prune_db(
        h.store.db, keep_days=KEEP_DAYS, then=then, now=NOW, delivered_up_to=delivered_up_to
    )


def max_change(h: History) -> int:
    return h.store.db.execute("select max(id) from changes").fetchone()[0]


def assert_references_intact(h: History) -> None:
    """Every change still points at versions of its own page, older before newer."""
    db = h.store.db
    assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert db.execute("PRAGMA foreign_key_check").fetchall() == []
    rows = db.execute(
        """select c.kind, c.page_id, s.page_id, p.page_id, c.previous_snapshot_id, c.snapshot_id
           from changes c left join snapshots s on s.id = c.snapshot_id
           left join snapshots p on p.id = c.previous_snapshot_id"""
    ).fetchall()
    for kind, page, snap_page, prev_page, prev_id, snap_id in rows:
        assert snap_page == page
        if kind == "page_added":
            assert prev_id is None
        else:
            assert prev_page == page and prev_id < snap_id


@pytest.fixture
def h(tmp_path: Path) -> History:
    history = History.open(tmp_path / "watch.db")
    yield history
    history.store.close()


def test_recent_versions_are_all_kept(h: History) -> None:
    ids = daily_page(h, "stm", range(KEEP_DAYS - 1, -1, -1))
    report = run_prune(h, delivered_up_to=max_change(h))
    assert report.snapshots_deleted == 0
    assert sorted(snapshots(h)) == ids


@pytest.mark.parametrize(("then", "period"), [("weekly", "%Y-%W"), ("monthly", "%Y-%m")])
def test_older_versions_thin_to_the_last_one_of_each_period(
    h: History, then: str, period: str
) -> None:
    daily_page(h, "stm", range(300, -1, -1))
    before = snapshots(h)
    report = run_prune(h, delivered_up_to=max_change(h), then=then)
    after = snapshots(h)
    cutoff = days_ago(KEEP_DAYS).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert {i for i, t in before.items() if t >= cutoff} <= set(after)
    last_of_period: dict[str, int] = {}
    for snapshot_id, taken in sorted(before.items()):
        key = datetime.strptime(taken, "%Y-%m-%dT%H:%M:%SZ").strftime(period)
        last_of_period[key] = snapshot_id
    first = min(before)
    # the version the first change inside the window was compared with
    compared = max(i for i, t in before.items() if t < cutoff)
    old_kept = {i for i, t in after.items() if t < cutoff}
    expected = {i for i in last_of_period.values() if before[i] < cutoff} | {first, compared}
    assert old_kept == expected
    assert report.snapshots_deleted == len(before) - len(after) > 0
    assert_references_intact(h)


def test_a_pages_latest_version_is_kept_however_old(h: History) -> None:
    ids = daily_page(h, "stm", range(400, 390, -1))
    run_prune(h, delivered_up_to=max_change(h))
    assert ids[-1] in snapshots(h)
    assert ids[0] in snapshots(h)


def test_versions_of_undelivered_changes_are_kept(h: History) -> None:
    ids = daily_page(h, "stm", range(300, 200, -1))
    watermark = h.store.db.execute(
        "select max(id) from changes where snapshot_id <= ?", [ids[49]]
    ).fetchone()[0]
    run_prune(h, delivered_up_to=watermark)
    kept = snapshots(h)
    assert set(ids[49:]) <= set(kept)  # the undelivered changes' previous and new versions
    assert len(set(ids[:49]) & set(kept)) < 49 // 7 + 3  # delivered ones were thinned
    assert_references_intact(h)


def test_without_any_delivery_record_no_version_a_change_needs_is_deleted(h: History) -> None:
    ids = daily_page(h, "stm", range(300, 200, -1))
    report = run_prune(h, delivered_up_to=None)
    assert report.snapshots_deleted == 0
    assert sorted(snapshots(h)) == ids


def test_versions_without_changes_are_thinned_even_when_nothing_was_delivered(
    h: History,
) -> None:
    source = h.source("stm", "http://127.0.0.1:9/stm")
    page = h.page(source)
    for day in range(200, 150, -1):  # versions that differ only in what the diff ignores
        h.version(page, f"sama {day}", days_ago(day), changes=0)
    report = run_prune(h, delivered_up_to=None)
    assert report.snapshots_deleted > 30
    assert_references_intact(h)


def test_old_delivered_changes_are_repointed_never_deleted(h: History) -> None:
    daily_page(h, "stm", range(300, -1, -1))
    changes_before = h.store.db.execute(
        "select id, kind, before, after from changes order by id"
    ).fetchall()
    report = run_prune(h, delivered_up_to=max_change(h))
    changes_after = h.store.db.execute(
        "select id, kind, before, after from changes order by id"
    ).fetchall()
    assert changes_after == changes_before
    assert report.changes_repointed > 0
    assert_references_intact(h)


def test_old_fetch_rows_go_but_each_pages_latest_stays(h: History) -> None:
    source = h.source("stm", "http://127.0.0.1:9/stm")
    page = h.page(source)
    h.version(page, "alku", days_ago(300))
    for day in range(299, 100, -1):
        h.fetch(page, "unchanged", days_ago(day))
    h.fetch(page, "error", days_ago(100), error="HTTP 500")
    report = run_prune(h, delivered_up_to=max_change(h))
    outcomes = h.store.db.execute("select outcome, fetched_at from fetches order by id").fetchall()
    assert [o for o, _ in outcomes] == ["ok", "unchanged", "error"]
    assert outcomes[1][1] == days_ago(101).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert report.fetches_deleted == 198


def test_bodies_go_only_when_nothing_points_at_them(h: History) -> None:
    source = h.source("stm", "http://127.0.0.1:9/stm")
    page = h.page(source)
    shared = b"<html>sama runko</html>"
    for day in range(300, 200, -1):
        body = shared if day % 2 else f"<html>{day}</html>".encode()
        h.version(page, f"versio {day}", days_ago(day), body=body)
    run_prune(h, delivered_up_to=max_change(h))
    db = h.store.db
    referenced = {r[0] for r in db.execute("select body_hash from snapshots")}
    stored = {r[0] for r in db.execute("select hash from bodies")}
    assert stored == referenced
    assert len(stored) < 50


def test_compacts_only_when_a_quarter_is_free(tmp_path: Path) -> None:
    db_path = tmp_path / "watch.db"
    h = History.open(db_path)
    daily_page(h, "small", range(95, -1, -1))
    h.store.close()
    assert prune(db_path, keep_days=KEEP_DAYS, now=NOW).compaction == "none"

    h = History.open(db_path)
    page = h.page(h.source("big", "http://127.0.0.1:9/big"))
    for day in range(300, 100, -1):
        h.version(page, f"versio {day} " + "x" * 20_000, days_ago(day), changes=0)
    h.store.close()
    report = prune(db_path, keep_days=KEEP_DAYS, now=NOW)
    assert report.compaction == "vacuum"
    assert report.bytes_after < report.bytes_before / 2

    h = History.open(db_path)
    page = h.page(h.source("big2", "http://127.0.0.1:9/big2"))
    for day in range(300, 100, -1):
        h.version(page, f"versio {day} " + "y" * 20_000, days_ago(day), changes=0)
    h.store.close()
    second = prune(db_path, keep_days=KEEP_DAYS, now=NOW)
    assert second.compaction == "incremental_vacuum"
    assert second.bytes_after < second.bytes_before / 2
    conn = sqlite3.connect(db_path)
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    conn.close()


@pytest.mark.parametrize(
    ("free", "total", "worth"),
    [
        pytest.param(0, 1000, False, id="nothing-free"),
        pytest.param(250, 1000, False, id="exactly-a-quarter"),
        pytest.param(251, 1000, True, id="over-a-quarter"),
        pytest.param(20_000, 1_000_000, True, id="over-64MB-of-a-big-file"),
        pytest.param(10_000, 1_000_000, False, id="40MB-of-a-4GB-file"),
    ],
)
def test_worth_compacting(free: int, total: int, worth: bool) -> None:
    assert worth_compacting(free, total, 4096) is worth


def test_prune_waits_for_no_one_while_a_run_holds_the_lock(h: History, tmp_path: Path) -> None:
    with run_lock(tmp_path / "watch.db"), pytest.raises(RunLockedError):
        prune(tmp_path / "watch.db", now=NOW)


def test_prune_reads_the_delivery_watermark_from_the_private_db(tmp_path: Path) -> None:
    db_path = tmp_path / "watch.db"
    h = History.open(db_path)
    ids = daily_page(h, "stm", range(300, 200, -1))
    h.store.close()
    write_deliveries(state_path_for(db_path), {"aino": 10**9})
    report = prune(db_path, now=NOW)
    assert report.delivered_up_to == 10**9
    assert report.snapshots_deleted > 0
    assert "delivered up to change" in report.text()
    conn = sqlite3.connect(db_path)
    kept = {r[0] for r in conn.execute("select id from snapshots")}
    conn.close()
    assert ids[-1] in kept and ids[0] in kept


@pytest.mark.parametrize(
    ("options", "message"),
    [({"then": "daily"}, "--then"), ({"keep_days": -1}, "--keep-days")],
    ids=["unknown-period", "negative-days"],
)
def test_bad_options_are_configuration_errors(h: History, options: dict, message: str) -> None:
    args = {"keep_days": KEEP_DAYS, "then": "weekly", **options}
    with pytest.raises(ConfigError, match=message):
        prune_db(h.store.db, now=NOW, delivered_up_to=None, **args)


def test_weekly_keeps_at_most_one_old_version_per_week_per_page(h: History) -> None:
    daily_page(h, "a", range(200, 100, -1))
    daily_page(h, "b", range(200, 100, -1))
    run_prune(h, delivered_up_to=max_change(h))
    per_week: dict[tuple[int, str], int] = defaultdict(int)
    rows = h.store.db.execute("select page_id, taken_at from snapshots").fetchall()
    for page_id, taken in rows:
        per_week[(page_id, datetime.fromisoformat(taken).strftime("%Y-%W"))] += 1
    assert max(per_week.values()) <= 2  # the last of the week, plus the page's first ever
    assert sum(per_week.values()) < 2 * (100 // 7 + 4)


def test_search_keeps_each_pages_latest_version_through_a_prune(h: History) -> None:
    from sotewatch.pipeline.storage.search import index_new

    ids = daily_page(h, "stm", range(300, 200, -1))
    index_new(h.store.db)
    report = run_prune(h, delivered_up_to=max_change(h))
    assert report.snapshots_deleted > 0
    indexed = {r[0] for r in h.store.db.execute("select rowid from snapshots_fts")}
    assert indexed == {ids[-1]}


def test_a_key_body_stays_while_a_kept_body_is_stored_against_it(h: History) -> None:
    source = h.source("stm", "http://127.0.0.1:9/stm")
    page = h.page(source)
    chrome = b"<nav>" + b"".join(b"<a href=/%d>valikko %d</a>" % (i, i) for i in range(300))
    for day in range(300, 200, -1):
        h.version(page, f"versio {day}", days_ago(day), body=chrome + b"<p>%d</p>" % day)
    db = h.store.db
    first_key = db.execute("select hash from bodies where base is null order by rowid").fetchone()
    run_prune(h, delivered_up_to=max_change(h))
    kept = {r[0] for r in db.execute("select body_hash from snapshots")}
    keys = {r[0] for r in db.execute("select base from bodies where base is not null")}
    assert first_key[0] in keys, "the page's later versions are stored against its first"
    assert {r[0] for r in db.execute("select hash from bodies")} == kept | keys
    for digest in kept:
        assert h.store.body(digest).startswith(chrome)


def test_a_prune_that_would_leave_a_dangling_reference_changes_nothing(
    h: History, monkeypatch: pytest.MonkeyPatch
) -> None:
    import sotewatch.pipeline.storage.prune

    ids = daily_page(h, "stm", range(300, 200, -1))
    monkeypatch.setattr(
        sotewatch.pipeline.storage.prune, "_repoint_changes", lambda db: 0
    )  # a bug, simulated
    with pytest.raises(RuntimeError, match="changes pointing at deleted rows"):
        run_prune(h, delivered_up_to=max_change(h))
    assert sorted(snapshots(h)) == ids
    assert h.store.db.execute("PRAGMA foreign_keys").fetchone()[0] == 1


def test_old_counts_of_quiet_checks_go_but_each_sources_latest_stays(h: History) -> None:
    source = h.source("stm", "http://127.0.0.1:9/stm")
    page = h.page(source)
    h.version(page, "alku", days_ago(300))
    for day in range(299, 0, -1):
        run_id = h.run(days_ago(day))
        h.store.count_check(run_id, "stm", page.id, "unchanged")
        h.store.db.execute(
            "update source_checks set checked_at = ? where run_id = ?",
            [days_ago(day).strftime("%Y-%m-%dT%H:%M:%SZ"), run_id],
        )
    before = h.store.last_checked("stm")
    run_prune(h, delivered_up_to=max_change(h))
    rows = h.store.db.execute("select count(*), min(checked_at) from source_checks").fetchone()
    assert rows == (KEEP_DAYS, days_ago(KEEP_DAYS).strftime("%Y-%m-%dT%H:%M:%SZ"))
    assert h.store.last_checked("stm") == before
