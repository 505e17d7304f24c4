"""`sotewatch status`: is the watcher healthy, and how big has it grown?

Read-only over the public database (plus the private delivery state, if any), so
it is safe to call while a run is working: WAL lets it read a consistent view.
"""

from __future__ import annotations

import os
import sqlite3
from dataclasses import dataclass
from pathlib import Path

from sotewatch.pipeline.document.models import THIN_NOTE
from sotewatch.pipeline.errors import ConfigError
from sotewatch.pipeline.runs.lock import lock_path

RECENT_RUNS = 5
SUCCESS_OUTCOMES = ("ok", "unchanged", "not_modified")


@dataclass(frozen=True)
class RunLine:
    id: int
    started: str
    finished: str | None
    status: str  # ok | failed | running | interrupted
    fetched: int
    not_modified: int
    failed: int
    changes: int
    exit_code: int | None


@dataclass(frozen=True)
class SourceHealth:
    id: str
    name: str
    schedule: str
    pages: int
    last_success: str | None
    consecutive_failures: int  # the worst page's streak of failed fetches
    failing_pages: int
    last_error: str | None
    last_error_at: str | None
    thin_pages: tuple[str, ...] = ()  # URLs whose latest version was read whole

    @property
    def healthy(self) -> bool:
        return self.consecutive_failures == 0


@dataclass(frozen=True)
class StatusReport:
    db_path: Path
    runs: tuple[RunLine, ...]
    sources: tuple[SourceHealth, ...]
    pages: int
    removed_pages: int
    snapshots: int
    changes: int
    undelivered: int | None  # None: no delivery state to compare with
    delivered_up_to: int | None
    db_bytes: int
    wal_bytes: int
    # (reader, refusals, last error): addresses the mail server refused for good
    failing_readers: tuple[tuple[str, int, str], ...] = ()


def delivered_watermark(db_path: Path) -> int | None:
    """The highest change id every subscriber has been sent, or None if nothing records it.

    Changes above it are undelivered: some subscriber still needs them. The
    delivery module owns the private state database, so it answers.
    """
    from sotewatch.pipeline.delivery.deliver import delivered_watermark as from_state
    from sotewatch.pipeline.delivery.deliver import state_path_for

    return from_state(state_path_for(db_path))


def status_report(db_path: Path) -> StatusReport:
    """Everything `sotewatch status` shows, gathered in one read transaction."""
    db_path = Path(db_path)
    if not db_path.exists():
        raise ConfigError(f"no database at {db_path}: run `sotewatch run` first")
    watermark = delivered_watermark(db_path)
    from sotewatch.pipeline.delivery.deliver import state_path_for
    from sotewatch.pipeline.delivery.refusals import failing_readers

    failing = tuple(failing_readers(state_path_for(db_path)))
    conn = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
    try:
        conn.execute("begin")
        runs = _runs(conn, _lock_holder_alive(db_path))
        sources = _sources(conn)
        pages = _count(conn, "select count(*) from pages where status = 'active'")
        removed = _count(conn, "select count(*) from pages where status != 'active'")
        snapshots = _count(conn, "select count(*) from snapshots")
        changes = _count(conn, "select count(*) from changes")
        undelivered = None
        if watermark is not None:
            undelivered = _count(conn, "select count(*) from changes where id > ?", [watermark])
    finally:
        conn.close()
    return StatusReport(
        db_path=db_path,
        runs=runs,
        sources=sources,
        pages=pages,
        removed_pages=removed,
        snapshots=snapshots,
        changes=changes,
        undelivered=undelivered,
        delivered_up_to=watermark,
        db_bytes=db_path.stat().st_size,
        wal_bytes=_size(db_path.with_name(db_path.name + "-wal")),
        failing_readers=failing,
    )


def _count(conn: sqlite3.Connection, sql: str, params: list | None = None) -> int:
    return int(conn.execute(sql, params or []).fetchone()[0])


def _size(path: Path) -> int:
    return path.stat().st_size if path.exists() else 0


def _lock_holder_alive(db_path: Path) -> bool:
    """Whether the pid recorded in the run lock file is a live process.

    Status must never take the lock itself: a cron run starting at that moment
    would find it held and exit 3.
    """
    try:
        pid = int(lock_path(db_path).read_text().strip() or 0)
    except (OSError, ValueError):
        return False
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _runs(conn: sqlite3.Connection, holder_alive: bool) -> tuple[RunLine, ...]:
    rows = conn.execute(
        """select id, started, finished, status, fetched, not_modified, failed, changes,
                  exit_code from runs order by id desc limit ?""",
        [RECENT_RUNS],
    ).fetchall()
    lines = []
    for index, row in enumerate(rows):
        status = row[3] or "running"
        # Only the newest run can still be going, and only while a process holds the lock.
        if status == "running" and (index > 0 or not holder_alive):
            status = "interrupted"
        counts = [int(v or 0) for v in row[4:8]]
        if row[2] is None:  # never finished (killed, or going): count what it stored
            counts = _stored_by(conn, row[0])
        fetched, not_modified, failed, changes = counts
        lines.append(
            RunLine(row[0], row[1], row[2], status, fetched, not_modified, failed, changes, row[8])
        )
    return tuple(lines)


def _stored_by(conn: sqlite3.Connection, run_id: int) -> list[int]:
    """[fetched, not modified, failed, changes] as a run's own rows record them, for a
    run that never wrote its totals (a killed run stored hundreds of pages)."""
    ok, failed = conn.execute(
        """select count(*) filter (where outcome = 'ok'),
                  count(*) filter (where outcome not in ('ok', 'gone'))
           from fetches where run_id = ?""",
        [run_id],
    ).fetchone()
    unchanged = not_modified = 0
    if conn.execute("select 1 from sqlite_master where name = 'source_checks'").fetchone():
        unchanged, not_modified = conn.execute(
            """select coalesce(sum(unchanged), 0), coalesce(sum(not_modified), 0)
               from source_checks where run_id = ?""",
            [run_id],
        ).fetchone()
    changes = _count(conn, "select count(*) from changes where run_id = ?", [run_id])
    return [int(ok) + int(unchanged), int(not_modified), int(failed), changes]


def _sources(conn: sqlite3.Connection) -> tuple[SourceHealth, ...]:
    marks = ",".join("?" * len(SUCCESS_OUTCOMES))
    # Since migration 003, fetches that found nothing new are counted per run and
    # source in `source_checks` instead of stored as rows: both say "reached it".
    checked = "null"
    if conn.execute("select 1 from sqlite_master where name = 'source_checks'").fetchone():
        checked = "(select max(checked_at) from source_checks c where c.source_id = s.id)"
    rows = conn.execute(
        f"""select s.id, s.name, s.schedule,
              (select count(*) from pages p where p.source_id = s.id and p.status = 'active'),
              max(coalesce((select max(fetched_at) from fetches f
                 where f.source_id = s.id and f.outcome in ({marks})), ''),
                  coalesce({checked}, '')),
              (select coalesce(max(failures), 0) from pages p
                 where p.source_id = s.id and p.status = 'active'),
              (select count(*) from pages p
                 where p.source_id = s.id and p.status = 'active' and p.failures > 0)
            from sources s order by s.id""",
        list(SUCCESS_OUTCOMES),
    ).fetchall()
    return tuple(_health(conn, row) for row in rows)


def _health(conn: sqlite3.Connection, row: tuple) -> SourceHealth:
    error = conn.execute(
        """select error, fetched_at, url from fetches
           where source_id = ? and error is not null order by id desc limit 1""",
        [row[0]],
    ).fetchone()
    return SourceHealth(
        id=row[0],
        name=row[1] or row[0],
        schedule=row[2] or "",
        pages=row[3],
        last_success=row[4] or None,
        consecutive_failures=int(row[5]),
        failing_pages=int(row[6]),
        last_error=f"{error[2]}: {error[0]}" if error else None,
        last_error_at=error[1] if error else None,
        thin_pages=thin_pages(conn, row[0]),
    )


def thin_pages(conn: sqlite3.Connection, source_id: str) -> tuple[str, ...]:
    """The source's active pages whose latest version is a thin extraction."""
    rows = conn.execute(
        """select p.url from pages p
             join snapshots s on s.id = (select max(id) from snapshots where page_id = p.id)
           where p.source_id = ? and p.status = 'active'
             and json_extract(s.document, '$.extraction') = 'thin'
           order by p.url""",
        [source_id],
    ).fetchall()
    return tuple(url for (url,) in rows)


def human_bytes(n: int) -> str:
    size = float(n)
    for unit in ("B", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{n} B"  # pragma: no cover


def format_status(report: StatusReport) -> str:
    """The report as the plain text an operator reads in a terminal or a cron mail."""
    lines = [f"database: {report.db_path} ({human_bytes(report.db_bytes)}"]
    if report.wal_bytes:
        lines[0] += f" + {human_bytes(report.wal_bytes)} WAL"
    lines[0] += ")"
    undelivered = "unknown (no delivery state yet)"
    if report.undelivered is not None:
        undelivered = str(report.undelivered)
    lines.append(
        f"pages: {report.pages} active, {report.removed_pages} removed; "
        f"snapshots: {report.snapshots}; changes: {report.changes}; "
        f"undelivered changes: {undelivered}"
    )
    for reader, refusals, error in report.failing_readers:
        lines.append(f"reader {reader} FAILING: refused for good {refusals} times, not retried")
        lines.append(f"  last error: {error}")
    lines.append("")
    lines.append("recent runs:" if report.runs else "recent runs: none yet")
    for run in report.runs:
        lines.append(
            f"  #{run.id} {run.started} {run.status:11} {run.fetched} fetched, "
            f"{run.not_modified} not modified, {run.failed} failed, {run.changes} changes"
        )
    lines.append("")
    lines.append("sources:" if report.sources else "sources: none yet")
    for s in report.sources:
        state = "ok" if s.healthy else f"FAILING x{s.consecutive_failures}"
        lines.append(
            f"  {s.id:28} {state:12} {s.pages:4} pages  last success: {s.last_success or 'never'}"
        )
        if s.failing_pages:
            lines.append(f"  {'':28} {s.failing_pages} page(s) failing")
        if s.last_error:
            lines.append(f"  {'':28} last error {s.last_error_at}: {s.last_error}")
        for url in s.thin_pages:
            lines.append(f"  {'':28} {url}: {THIN_NOTE}")
    return "\n".join(lines)
