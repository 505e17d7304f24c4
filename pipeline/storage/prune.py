"""`sotewatch prune`: a retention policy that keeps the database small for years.

Every version younger than `keep_days` is kept; older ones are thinned to one per
page per week (or month): the last version in each period. Whatever the age, a
page's first and latest versions are kept, and so is every version that a change
still needs: one detected within the retention window, or one some subscriber has
not been sent yet (id above the delivery watermark; with no delivery record at
all, every change counts as undelivered and nothing a change references is
deleted).

Changes themselves are never deleted: they are the history. An old, delivered
change whose version was thinned away is *re-pointed* to the nearest kept
versions around it: `previous_snapshot_id` to the last kept version at or before
the old one, `snapshot_id` to the first kept version at or after the old one. Its
own before/after text is unchanged, so the digest archive still reads the same;
only the "whole page at that moment" link becomes "the page a little later".
`snapshot_id` stays NULL only for page_removed, `previous_snapshot_id` only for
page_added, exactly as before.

Old fetch rows are deleted unless a kept version points at them or they are a
page's latest fetch or latest successful one (schedules and `status` read those);
so are old per-run `source_checks` counts, except each source's latest.
Then compressed bodies nothing points at go (a key body once nothing is stored
against it). Compaction runs only when worth it.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import sqlite_utils

from sotewatch.pipeline.errors import ConfigError
from sotewatch.pipeline.ops.status import delivered_watermark
from sotewatch.pipeline.runs.lock import run_lock
from sotewatch.pipeline.storage.store import Store

PERIODS = {"weekly": "%Y-%W", "monthly": "%Y-%m"}
# Compact when free pages exceed this share of the file, or this many bytes.
FREE_SHARE = 0.25
FREE_BYTES = 64 * 2**20


@dataclass(frozen=True)
class PruneReport:
    snapshots_deleted: int
    changes_repointed: int
    fetches_deleted: int
    bodies_deleted: int
    compaction: str  # "none", "incremental_vacuum" or "vacuum"
    free_pages: int  # before compaction
    total_pages: int
    bytes_before: int
    bytes_after: int
    delivered_up_to: int | None

    def text(self) -> str:
        watermark = (
            "no delivery record: every change's versions kept"
            if self.delivered_up_to is None
            else f"delivered up to change {self.delivered_up_to}"
        )
        return (
            f"pruned {self.snapshots_deleted} versions, {self.fetches_deleted} fetch rows, "
            f"{self.bodies_deleted} bodies; re-pointed {self.changes_repointed} old changes "
            f"({watermark})\ncompaction: {self.compaction} ({self.free_pages} of "
            f"{self.total_pages} pages free); size {self.bytes_before} -> {self.bytes_after} bytes"
        )


def prune(
    db_path: Path,
    *,
    keep_days: int = 90,
    then: str = "weekly",
    now: datetime | None = None,
) -> PruneReport:
    """`sotewatch prune`: holds the run lock so no run writes meanwhile (else exit 3)."""
    db_path = Path(db_path)
    if not db_path.exists():
        raise ConfigError(f"no database at {db_path}")
    with run_lock(db_path):
        watermark = delivered_watermark(db_path)
        store = Store.open(db_path)
        try:
            return prune_db(
                store.db,
                keep_days=keep_days,
                then=then,
                now=now or datetime.now(UTC),
                delivered_up_to=watermark,
                path=db_path,
            )
        finally:
            store.close()


def prune_db(
    db: sqlite_utils.Database,
    *,
    keep_days: int,
    then: str,
    now: datetime,
    delivered_up_to: int | None,
    path: Path | None = None,
) -> PruneReport:
    """Thin, delete, compact: the steps of `prune` on an open database."""
    if then not in PERIODS:
        raise ConfigError(f"--then must be one of {', '.join(PERIODS)}, not {then!r}")
    if keep_days < 0:
        raise ConfigError("--keep-days must be 0 or more")
    cutoff = (now - timedelta(days=keep_days)).strftime("%Y-%m-%dT%H:%M:%SZ")
    size_before = _file_size(db, path)
    with _checked_references(db):
        _mark_kept_snapshots(db, cutoff, PERIODS[then], delivered_up_to)
        repointed = _repoint_changes(db)
        snapshots = db.execute("delete from snapshots where id not in _keep").rowcount
        _drop_from_search(db)
        fetches = _delete_fetches(db, cutoff) + _delete_checks(db, cutoff)
        bodies = _delete_orphan_bodies(db)
        db.execute("drop table _keep")
    free, total = _free_pages(db)
    compaction = compact_if_worth_it(db, free, total)
    return PruneReport(
        snapshots_deleted=snapshots,
        changes_repointed=repointed,
        fetches_deleted=fetches,
        bodies_deleted=bodies,
        compaction=compaction,
        free_pages=free,
        total_pages=total,
        bytes_before=size_before,
        bytes_after=_file_size(db, path),
        delivered_up_to=delivered_up_to,
    )


@contextmanager
def _checked_references(db: sqlite_utils.Database) -> Iterator[None]:
    """One transaction whose references are checked once at the end, not row by row.

    With `foreign_keys` on, every deleted fetch or body makes SQLite scan all of
    `snapshots` for rows pointing at it (no index on fetch_id or body_hash): hours on
    a year's database. So enforcement is off inside, and `foreign_key_check` of the
    tables that point at what we delete runs once before COMMIT; any dangling
    reference rolls everything back.
    """
    enforced = db.execute("PRAGMA foreign_keys").fetchone()[0]
    db.execute("PRAGMA foreign_keys = OFF")
    db.execute("BEGIN IMMEDIATE")
    try:
        yield
        for table in ("snapshots", "changes", "fetches"):
            dangling = db.execute(f"PRAGMA foreign_key_check({table})").fetchall()
            if dangling:
                raise RuntimeError(f"prune would leave {table} pointing at deleted rows")
    except BaseException:
        db.execute("ROLLBACK")
        raise
    else:
        db.execute("COMMIT")
    finally:
        db.execute(f"PRAGMA foreign_keys = {'ON' if enforced else 'OFF'}")


def _mark_kept_snapshots(
    db: sqlite_utils.Database, cutoff: str, period: str, delivered_up_to: int | None
) -> None:
    """Fill temp table `_keep` with every snapshot id the policy keeps."""
    needed = "c.detected_at >= :cutoff"
    if delivered_up_to is None:
        needed = "1"
    else:
        needed += " or c.id > :watermark"
    db.execute("create temp table _keep (id integer primary key)")
    db.execute(
        f"""insert or ignore into _keep
            select id from snapshots where taken_at >= :cutoff
            union select max(id) from snapshots group by page_id
            union select min(id) from snapshots group by page_id
            union select max(id) from snapshots group by page_id, strftime('{period}', taken_at)
            union select snapshot_id from changes c
                  where snapshot_id is not null and ({needed})
            union select previous_snapshot_id from changes c
                  where previous_snapshot_id is not null and ({needed})""",
        {"cutoff": cutoff, "watermark": delivered_up_to},
    )


def _repoint_changes(db: sqlite_utils.Database) -> int:
    """Old changes whose versions are going now point at the nearest kept ones."""
    # Written so SQLite walks the (page_id, id) index instead of scanning snapshots.
    after = db.execute(
        """update changes set snapshot_id = (
               select min(s.id) from snapshots s
               where s.page_id = changes.page_id and s.id >= changes.snapshot_id
                 and s.id in _keep)
           where snapshot_id is not null and snapshot_id not in _keep"""
    ).rowcount
    before = db.execute(
        """update changes set previous_snapshot_id = (
               select max(s.id) from snapshots s
               where s.page_id = changes.page_id and s.id <= changes.previous_snapshot_id
                 and s.id in _keep)
           where previous_snapshot_id is not null and previous_snapshot_id not in _keep"""
    ).rowcount
    return after + before


def _drop_from_search(db: sqlite_utils.Database) -> None:
    """The search index must not find versions that are gone (see storage.search)."""
    if "snapshots_fts" in db.table_names():
        db.execute("delete from snapshots_fts where rowid not in (select id from snapshots)")


def _delete_fetches(db: sqlite_utils.Database, cutoff: str) -> int:
    return db.execute(
        """delete from fetches
           where fetched_at < ?
             and id not in (select fetch_id from snapshots where fetch_id is not null)
             and id not in (select max(id) from fetches group by page_id)
             and id not in (select max(id) from fetches where outcome != 'error'
                            group by page_id)""",
        [cutoff],
    ).rowcount


def _delete_checks(db: sqlite_utils.Database, cutoff: str) -> int:
    """Old per-run counts of fetches that found nothing new; each source's latest stays
    (schedules read it: `Store.last_checked`)."""
    if "source_checks" not in db.table_names():
        return 0
    return db.execute(
        """delete from source_checks
           where checked_at < ? and run_id < (select max(run_id) from source_checks newest
                                              where newest.source_id = source_checks.source_id)""",
        [cutoff],
    ).rowcount


def _delete_orphan_bodies(db: sqlite_utils.Database) -> int:
    """Bodies nothing points at. A key body goes only once no body stored against it
    is left, hence a second pass: keys are never stored against another key."""
    sql = """delete from bodies
             where hash not in (select body_hash from snapshots where body_hash is not null)
               and hash not in (select body_hash from fetches where body_hash is not null)
               and hash not in (select base from bodies where base is not null)"""
    return db.execute(sql).rowcount + db.execute(sql).rowcount


def _free_pages(db: sqlite_utils.Database) -> tuple[int, int]:
    free = db.execute("PRAGMA freelist_count").fetchone()[0]
    total = db.execute("PRAGMA page_count").fetchone()[0]
    return int(free), int(total)


def worth_compacting(free: int, total: int, page_size: int) -> bool:
    """Compaction rewrites the file: only when a quarter of it, or 64 MB, is free space."""
    return total > 0 and (free > FREE_SHARE * total or free * page_size > FREE_BYTES)


def compact_if_worth_it(db: sqlite_utils.Database, free: int, total: int) -> str:
    """Give free pages back to the file system, cheaply when the file allows it.

    The first compaction is a VACUUM that also switches the file to incremental
    auto-vacuum; from then on free pages are returned by `incremental_vacuum`,
    which moves only what it must instead of rewriting the whole database.
    """
    page_size = db.execute("PRAGMA page_size").fetchone()[0]
    if not worth_compacting(free, total, page_size):
        return "none"
    if db.execute("PRAGMA auto_vacuum").fetchone()[0] == 2:
        # executescript steps the pragma to the end; execute() frees a single page.
        db.conn.executescript("PRAGMA incremental_vacuum")
        method = "incremental_vacuum"
    else:
        db.execute("PRAGMA auto_vacuum = INCREMENTAL")
        db.execute("VACUUM")
        method = "vacuum"
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return method


def _file_size(db: sqlite_utils.Database, path: Path | None) -> int:
    if path is None:
        page_size = db.execute("PRAGMA page_size").fetchone()[0]
        return int(db.execute("PRAGMA page_count").fetchone()[0]) * int(page_size)
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return path.stat().st_size
