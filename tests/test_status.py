"""`sotewatch status`: recent runs, each source's health, counts, undelivered changes, size."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from history import History, days_ago, write_deliveries

from sotewatch.pipeline.delivery.deliver import state_path_for
from sotewatch.pipeline.errors import ConfigError
from sotewatch.pipeline.ops.status import (
    delivered_watermark,
    format_status,
    human_bytes,
    status_report,
)
from sotewatch.pipeline.runs.lock import lock_path


@pytest.fixture
def world(tmp_path: Path) -> History:
    """Two sources: `stm` healthy with two pages, `soste` failing its last three fetches."""
    h = History.open(tmp_path / "watch.db")
    stm = h.source("stm", "http://127.0.0.1:9/stm")
    soste = h.source("soste", "http://127.0.0.1:9/soste")
    h.run(days_ago(3))
    front, item = h.page(stm), h.page(stm, "http://127.0.0.1:9/stm/uutinen")
    h.version(front, "Ensimmäinen versio", days_ago(3))
    h.version(item, "Uutinen", days_ago(3))
    h.version(front, "Toinen versio", days_ago(2))
    ok = h.page(soste)
    h.version(ok, "Järjestöjen sivu", days_ago(3))
    for day in (2, 1, 0):
        h.run(days_ago(day))
        h.fetch(ok, "error", days_ago(day), error=f"HTTP 503 day {day}")
        h.store.update_page(ok.id, failures=3 - day)
    h.store.close()
    return h


def test_missing_database_is_a_configuration_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no database"):
        status_report(tmp_path / "nothing.db")


def test_counts_pages_snapshots_and_changes(world: History, tmp_path: Path) -> None:
    report = status_report(tmp_path / "watch.db")
    assert (report.pages, report.removed_pages) == (3, 0)
    assert report.snapshots == 4
    # page_added for each first version, one text_edited for the front page's second
    assert report.changes == 4
    assert report.db_bytes > 0


def test_source_health_shows_last_success_streak_and_last_error(
    world: History, tmp_path: Path
) -> None:
    by_id = {s.id: s for s in status_report(tmp_path / "watch.db").sources}
    stm, soste = by_id["stm"], by_id["soste"]
    assert stm.healthy and stm.pages == 2 and stm.last_error is None
    assert stm.last_success == "2026-05-30T06:00:00Z"
    assert not soste.healthy
    assert soste.consecutive_failures == 3
    assert soste.last_success == "2026-05-29T06:00:00Z"
    assert soste.last_error == "http://127.0.0.1:9/soste: HTTP 503 day 0"


def test_recent_runs_newest_first_and_a_dead_running_run_is_interrupted(
    world: History, tmp_path: Path
) -> None:
    h = History.open(tmp_path / "watch.db")
    h.store.start_run()  # a run that never finished, and no process holds the lock
    h.store.close()
    runs = status_report(tmp_path / "watch.db").runs
    assert [r.id for r in runs] == [5, 4, 3, 2, 1]
    assert runs[0].status == "interrupted"
    assert runs[1].status == "ok"


def test_a_killed_run_shows_what_it_stored(world: History, tmp_path: Path) -> None:
    """A run killed before it wrote its totals is counted from its own rows."""
    h = History.open(tmp_path / "watch.db")
    h.run_id = h.store.start_run()  # never finished
    stm = h.sources[0] if h.sources else h.source("stm", "http://127.0.0.1:9/stm")
    front = h.page(stm)
    h.version(front, "Kolmas versio", days_ago(0))
    h.version(h.page(stm, "http://127.0.0.1:9/stm/uusi"), "Uusi sivu", days_ago(0))
    h.fetch(front, "error", days_ago(0), error="HTTP 500")
    h.store.count_checks(h.run_id, [("stm", front.id, "not_modified")])
    h.store.close()
    killed = status_report(tmp_path / "watch.db").runs[0]
    assert killed.status == "interrupted"
    assert (killed.fetched, killed.not_modified, killed.failed, killed.changes) == (2, 1, 1, 2)
    assert "2 fetched, 1 not modified, 1 failed, 2 changes" in format_status(
        status_report(tmp_path / "watch.db")
    )


def test_the_private_db_of_a_symlinked_name_is_the_real_ones(tmp_path: Path) -> None:
    (tmp_path / "c.db").touch()
    (tmp_path / "alias.db").symlink_to(tmp_path / "c.db")
    assert state_path_for(tmp_path / "alias.db") == tmp_path / "c-private.db"


def test_a_running_run_whose_process_is_alive_shows_as_running(
    world: History, tmp_path: Path
) -> None:
    h = History.open(tmp_path / "watch.db")
    h.store.start_run()
    h.store.close()
    lock_path(tmp_path / "watch.db").write_text(f"{os.getpid()}\n")
    assert status_report(tmp_path / "watch.db").runs[0].status == "running"


def test_undelivered_is_unknown_without_delivery_state(world: History, tmp_path: Path) -> None:
    report = status_report(tmp_path / "watch.db")
    assert report.undelivered is None
    assert "undelivered changes: unknown" in format_status(report)


def test_undelivered_counts_changes_past_the_slowest_subscriber(
    world: History, tmp_path: Path
) -> None:
    db = tmp_path / "watch.db"
    write_deliveries(state_path_for(db), {"aino": 3, "bertil": 1})
    assert delivered_watermark(db) == 1
    report = status_report(db)
    assert report.undelivered == 3
    assert "undelivered changes: 3" in format_status(report)


def test_private_db_sits_next_to_the_public_one() -> None:
    assert state_path_for(Path("/var/lib/sotewatch/sotewatch.db")) == Path(
        "/var/lib/sotewatch/sotewatch-private.db"
    )


def test_format_names_failing_source_and_its_error(world: History, tmp_path: Path) -> None:
    text = format_status(status_report(tmp_path / "watch.db"))
    assert "FAILING x3" in text
    assert "HTTP 503 day 0" in text
    assert "pages: 3 active, 0 removed; snapshots: 4; changes: 4" in text


def test_status_reads_while_a_run_holds_a_write_transaction(world: History, tmp_path: Path) -> None:
    writer = History.open(tmp_path / "watch.db")
    writer.store.db.execute("BEGIN IMMEDIATE")
    writer.store.db.execute("delete from changes")
    try:
        assert status_report(tmp_path / "watch.db").changes == 4
    finally:
        writer.store.db.execute("ROLLBACK")
        writer.store.close()


@pytest.mark.parametrize(
    ("size", "text"), [(0, "0 B"), (1023, "1023 B"), (2048, "2.0 KB"), (5 * 2**20, "5.0 MB")]
)
def test_human_bytes(size: int, text: str) -> None:
    assert human_bytes(size) == text


def test_a_digest_never_delivered_keeps_every_change_undelivered(
    world: History, tmp_path: Path
) -> None:
    from sotewatch.pipeline.delivery.deliver import StateDB

    db = tmp_path / "watch.db"
    write_deliveries(state_path_for(db), {"aino": 4})
    state = StateDB(state_path_for(db))
    row = {"subscriber_id": "bertil", "last_change_id": 4, "message": b"", "changes": 4}
    state.record_digest(row, "2026-06-01T06:00:00Z")  # pending: the SMTP server refused it
    state.close()
    assert status_report(db).undelivered == 4


def test_a_check_that_found_nothing_new_counts_as_a_success(world: History, tmp_path: Path) -> None:
    h = History.open(tmp_path / "watch.db")
    run_id = h.run(days_ago(0))
    soste = h.page(world.sources[1])
    h.store.count_check(run_id, "soste", soste.id, "not_modified")
    h.store.db.execute("update source_checks set checked_at = '2026-06-01T06:00:00Z'")
    h.store.close()
    by_id = {s.id: s for s in status_report(tmp_path / "watch.db").sources}
    assert by_id["soste"].last_success == "2026-06-01T06:00:00Z"
    assert by_id["stm"].last_success == "2026-05-30T06:00:00Z"


def test_status_finds_the_private_db_the_way_send_does() -> None:
    """One function names the private database, so `status` cannot drift from `send`."""
    from sotewatch.pipeline.ops import status

    assert not hasattr(status, "private_db_path")
