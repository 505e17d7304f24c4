"""A compact fetch log: a row in `fetches` only when something happened.

A fetch that found the page unchanged (or got 304 Not Modified) says nothing a
reader needs row by row; recording it as a `fetches` row costs ~150 bytes per
page per run, which is ~150 KB for an unchanged run over 1,000 pages and ~50 MB
a year. Instead each (run, source) gets one `source_checks` row counting its
trivial outcomes, updated in place inside each page's transaction (so a killed
run's counts are exact too), and `fetches` keeps the rows that matter: new
versions (a snapshot points at them), failures, 404/410, blocked.

Proposed for pipeline/run.py: call `FetchLog.record(**row)` where it now calls
`Store.record_fetch(**row)`, and let `due_sources` use `last_checked`. The table
comes from `m003_fetch_log`, to be appended to pipeline.migrations.MIGRATIONS.
"""

from __future__ import annotations

from typing import Any

import sqlite_utils

from pipeline.store import Store, utcnow

TRIVIAL = frozenset({"unchanged", "not_modified"})


def m003_fetch_log(db: sqlite_utils.Database) -> None:
    """One row per source per run: when it was checked and how many pages said nothing new."""
    db["source_checks"].create(
        {
            "run_id": int,
            "source_id": str,
            "checked_at": str,
            "unchanged": int,
            "not_modified": int,
        },
        pk=("run_id", "source_id"),
        foreign_keys=[("run_id", "runs", "id"), ("source_id", "sources", "id")],
        if_not_exists=True,
    )


class FetchLog:
    """Drop-in for `Store.record_fetch` inside a page transaction."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def record(self, **row: Any) -> int | None:
        """The fetch row's id, or None when the outcome was only counted."""
        if row.get("outcome") not in TRIVIAL:
            return self.store.record_fetch(**row)
        column = "unchanged" if row["outcome"] == "unchanged" else "not_modified"
        self.store.db.execute(
            f"""insert into source_checks (run_id, source_id, checked_at, unchanged, not_modified)
                values (:run, :source, :at, :u, :n)
                on conflict (run_id, source_id) do update set
                    checked_at = :at, {column} = {column} + 1""",
            {
                "run": row["run_id"],
                "source": row["source_id"],
                "at": utcnow(),
                "u": int(column == "unchanged"),
                "n": int(column == "not_modified"),
            },
        )
        return None


def last_checked(db: sqlite_utils.Database, source_id: str) -> str | None:
    """When the source was last fetched without error: what `due_sources` needs."""
    row = db.execute(
        """select max(at) from (
              select max(checked_at) as at from source_checks where source_id = :s
              union all
              select max(fetched_at) from fetches where source_id = :s and outcome != 'error')""",
        {"s": source_id},
    ).fetchone()
    return row[0] if row else None
