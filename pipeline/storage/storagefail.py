"""Telling a storage failure (disk full, I/O error, a damaged or read-only file) from a bug.

A full disk used to end a run with a traceback and exit 1 ("some pages failed"),
the run left marked running. Such failures now become a `StorageError` (exit 5)
that names the file and what went wrong, after the run is marked failed where
the database still takes that one small update.
"""

from __future__ import annotations

import errno
import sqlite3
from typing import TYPE_CHECKING

from sotewatch.pipeline.errors import EXIT_STORAGE, StorageError

if TYPE_CHECKING:
    from sotewatch.pipeline.storage.store import Store

# SQLite's primary result codes that mean the file or the disk, not our SQL.
_SQLITE_STORAGE = {
    8: "the database is read-only",  # SQLITE_READONLY
    10: "a disk I/O error",  # SQLITE_IOERR
    11: "the database file is damaged",  # SQLITE_CORRUPT
    13: "the database or the disk is full",  # SQLITE_FULL
    14: "the database file cannot be opened",  # SQLITE_CANTOPEN
    26: "the file is not a database",  # SQLITE_NOTADB
}
_OS_STORAGE = {errno.ENOSPC, errno.EDQUOT, errno.EIO, errno.EROFS}


def storage_failure(exc: BaseException) -> str | None:
    """What storage failure `exc` (or what caused it) is, in words; None for anything else."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, sqlite3.Error):
            code = getattr(seen, "sqlite_errorcode", None)
            if code is not None and code & 0xFF in _SQLITE_STORAGE:
                return f"{_SQLITE_STORAGE[code & 0xFF]} ({seen})"
        if isinstance(seen, OSError) and seen.errno in _OS_STORAGE:
            return f"{seen.strerror or seen} ({seen.filename or 'a file'})"
        seen = seen.__cause__ or seen.__context__
    return None


def stopped_run(store: Store, run_id: int, failure: str) -> StorageError:
    """The error that ends a run stopped by a storage failure, after marking the run
    failed (exit code 5) where the database still takes that one update."""
    marked = ""
    if run_id:
        try:
            store.finish_run(run_id, status="failed", exit_code=EXIT_STORAGE)
        except sqlite3.Error:
            marked = "; it could not even be marked failed (`status` shows it as interrupted)"
    where = store.path or "the database"
    return StorageError(
        f"{where}: {failure}: run {run_id} stopped; what it stored before stays{marked}"
    )
