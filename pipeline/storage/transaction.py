"""One write transaction on a SQLite connection opened in autocommit mode.

`BEGIN IMMEDIATE` takes the write lock at once, so a transaction never fails half-way
on a lock it could not upgrade; everything inside commits together or not at all,
DDL included (migrations rely on that).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlite_utils.db import Table


@contextmanager
def immediate(db: Any) -> Iterator[None]:
    """`db` is a sqlite_utils.Database or a sqlite3.Connection in autocommit mode."""
    db.execute("BEGIN IMMEDIATE")
    try:
        yield
    except BaseException:
        db.execute("ROLLBACK")
        raise
    db.execute("COMMIT")


def inserted_id(table: Table) -> int:
    """The primary key `table.insert(...)` just wrote; sqlite-utils types it Optional."""
    if table.last_pk is None:
        raise RuntimeError(f"no row was inserted into {table.name}")
    return int(table.last_pk)
