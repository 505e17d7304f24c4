"""Schema changes, as numbered migrations applied in order and recorded in `_migrations`.

Never edit a released migration: add a new one (in `migration_steps`) and list it
here. The first one is the schema of the first release; `tests/test_migrations.py`
upgrades a database made by it alone.

A new database gets the schema every migration together makes in one script, with
each recorded as applied: the script is made once a process, by running the
migrations on a database in memory (`fresh_schema`), since running them one by one
through sqlite-utils for every new database is slow (tests make hundreds).
"""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from functools import cache

from sotewatch.pipeline.storage.migration_steps import (
    Migration,
    m001_initial,
    m002_search,
    m003_fetch_log,
    m004_compact,
    m005_offers_links,
    m006_input_hash,
    m007_compact_json,
    m008_code_key,
    m009_shown,
)
from sotewatch.pipeline.storage.transaction import immediate

MIGRATIONS: list[tuple[str, Migration]] = [
    ("001_initial", m001_initial),
    ("002_search", m002_search),
    ("003_fetch_log", m003_fetch_log),
    ("004_compact", m004_compact),
    ("005_offers_links", m005_offers_links),
    ("006_input_hash", m006_input_hash),
    ("007_compact_json", m007_compact_json),
    ("008_code_key", m008_code_key),
    ("009_shown", m009_shown),
]


def migrate(conn: sqlite3.Connection, *, fresh_from_script: bool = True) -> list[str]:
    """Apply every migration not yet recorded; returns the names applied. An empty
    database first gets the schema they make in one script (`fresh_schema`), unless
    told otherwise."""
    made = create_from_script(conn) if fresh_from_script and _is_empty(conn) else []
    try:
        done = {row[0] for row in conn.execute("select name from _migrations")}
    except sqlite3.OperationalError:  # no such table: a new database
        done = set()
    due = [(name, migration) for name, migration in MIGRATIONS if name not in done]
    if not due:
        return made
    import sqlite_utils

    db = sqlite_utils.Database(conn)
    if "_migrations" not in db.table_names():
        db.table("_migrations").create({"name": str, "applied_at": str}, pk="name")
    applied = made
    for name, migration in due:
        # DDL is transactional in SQLite: a migration killed half-way leaves nothing.
        with immediate(db):
            migration(db)
            db.table("_migrations").insert(
                {"name": name, "applied_at": db.execute("select datetime('now')").fetchone()[0]}
            )
        applied.append(name)
    return applied


def _is_empty(conn: sqlite3.Connection) -> bool:
    return conn.execute("select count(*) from sqlite_master").fetchone()[0] == 0


_MADE_BY = "-- made by the migrations: "


def create_from_script(conn: sqlite3.Connection) -> list[str]:
    """The schema in one transaction, the migrations that made it recorded as applied
    (its first line names them: a later one, not in it yet, then runs as usual)."""
    header, _, body = fresh_schema().partition("\n")
    names = header.removeprefix(_MADE_BY).split(", ")
    now = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S")
    with immediate(conn):
        for statement in body.split(";\n\n"):
            if statement.strip():
                conn.execute(statement)
        conn.executemany(
            "insert into _migrations (name, applied_at) values (?, ?)", [(n, now) for n in names]
        )
    return names


@cache
def fresh_schema() -> str:
    """The script that makes what every migration together makes (`schema_script`),
    made by running them on a database in memory."""
    conn = sqlite3.connect(":memory:", isolation_level=None)
    try:
        migrate(conn, fresh_from_script=False)
        return schema_script(conn)
    finally:
        conn.close()


def schema_script(conn: sqlite3.Connection) -> str:
    """The schema of a database as a script that makes it: tables, then indexes, views
    and triggers, each as SQLite keeps it. Not the tables SQLite makes itself: its own
    (sqlite_*) and those of full-text indexes, made with their virtual table."""
    rows = conn.execute(
        "select type, name, sql from sqlite_master where sql is not null order by rowid"
    ).fetchall()
    virtual = [name for _, name, sql in rows if sql.upper().startswith("CREATE VIRTUAL TABLE")]
    order = {"table": 0, "index": 1, "view": 2, "trigger": 3}
    kept = [
        (order[kind], sql)
        for kind, name, sql in rows
        if not name.startswith("sqlite_")
        and not any(name.startswith(f"{v}_") and kind != "index" for v in virtual)
    ]
    made_by = ", ".join(
        row[0] for row in conn.execute("select name from _migrations order by name")
    )
    statements = "".join(f"{sql};\n\n" for _, sql in sorted(kept, key=lambda item: item[0]))
    return f"{_MADE_BY}{made_by}\n{statements}"
