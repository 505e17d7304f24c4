"""Opening the database: WAL mode, explicit transactions, migrated on open."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import sqlite_utils

from sotewatch.pipeline.storage.migrations import migrate

# Bytes per database page, for a new database. A version's document is 5-50 KB of JSON:
# with 16 KB pages a run writes a quarter of the pages (and WAL frames) it would with
# SQLite's 4 KB, for a slightly larger file (bench/bench_storage.py measures both).
PAGE_SIZE = 16384
# The write-ahead log is copied into the database once it holds this much (SQLite's
# default is 1,000 pages: 16 MB with 16 KB pages). What is left is copied as the run
# closes the database, one core busy and the other idle: a smaller log leaves less
# for that moment, for the same CPU over the run.
WAL_CHECKPOINT_BYTES = 4 * 1024 * 1024


def open_connection(path: Path | str) -> sqlite3.Connection:
    """Open (creating and migrating) the database in WAL mode, in autocommit mode:
    transactions are explicit (pipeline/storage/transaction.py)."""
    if str(path) != ":memory:":
        Path(path).parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(str(path), timeout=30, isolation_level=None)
    if str(path) != ":memory:":
        conn.execute(f"PRAGMA page_size={PAGE_SIZE}")  # a new database's; an old one keeps its
        conn.execute("PRAGMA journal_mode=WAL")
        (page_size,) = conn.execute("PRAGMA page_size").fetchone()
        conn.execute(f"PRAGMA wal_autocheckpoint={max(1, WAL_CHECKPOINT_BYTES // page_size)}")
    conn.execute("PRAGMA synchronous=NORMAL")
    conn.execute("PRAGMA foreign_keys=ON")
    conn.execute("PRAGMA recursive_triggers=ON")  # as sqlite-utils sets it
    migrate(conn)
    return conn


def open_db(path: Path | str) -> sqlite_utils.Database:
    """`open_connection` with sqlite-utils over it."""
    return sqlite_utils.Database(open_connection(path))
