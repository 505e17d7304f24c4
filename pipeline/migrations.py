"""Schema changes, as numbered migrations applied in order and recorded in `_migrations`.

Never edit a released migration: add a new one. The first one is the schema of the
first release; `tests/test_store.py` upgrades a database made by it alone.
"""

from __future__ import annotations

from collections.abc import Callable

import sqlite_utils

Migration = Callable[[sqlite_utils.Database], None]


def m001_initial(db: sqlite_utils.Database) -> None:
    """The tables a reader of Datasette meets: sources, pages, fetches, snapshots, changes."""
    db["sources"].create(
        {
            "id": str,
            "name": str,
            "family": str,
            "url": str,
            "regions": str,
            "networks": str,
            "schedule": str,
        },
        pk="id",
    )
    db["regions"].create(
        {"slug": str, "name_fi": str, "name_sv": str, "brands": str, "kind": str}, pk="slug"
    )
    db["networks"].create({"slug": str, "name": str, "aliases": str}, pk="slug")
    db["runs"].create(
        {
            "id": int,
            "started": str,
            "finished": str,
            "status": str,
            "fetched": int,
            "not_modified": int,
            "failed": int,
            "changes": int,
            "exit_code": int,
        },
        pk="id",
    )
    db["pages"].create(
        {
            "id": int,
            "source_id": str,
            "url": str,
            "title": str,
            "family": str,
            "first_seen": str,
            "last_seen": str,
            "status": str,  # active | removed
            "missing_count": int,  # consecutive definite 404/410
            "failures": int,  # consecutive failed fetches of any kind
            "etag": str,
            "last_modified": str,
            "discovered_from": int,
        },
        pk="id",
        foreign_keys=[("source_id", "sources", "id")],
    )
    db["pages"].create_index(["source_id", "url"], unique=True)
    db["bodies"].create(
        {"hash": str, "content_type": str, "size": int, "compression": str, "data": bytes},
        pk="hash",
    )
    db["fetches"].create(
        {
            "id": int,
            "run_id": int,
            "page_id": int,
            "source_id": str,
            "url": str,
            "fetched_at": str,
            "status_code": int,
            "outcome": str,  # ok | unchanged | not_modified | gone | error | soft_failure | blocked
            "bytes": int,
            "elapsed_ms": float,
            "attempts": int,
            "error": str,
            "body_hash": str,
        },
        pk="id",
        foreign_keys=[
            ("run_id", "runs", "id"),
            ("page_id", "pages", "id"),
            ("source_id", "sources", "id"),
        ],
    )
    db["fetches"].create_index(["page_id", "id"])
    db["snapshots"].create(
        {
            "id": int,
            "page_id": int,
            "fetch_id": int,
            "taken_at": str,
            "doc_hash": str,
            "title": str,
            "language": str,
            "text": str,
            "document": str,
            "body_hash": str,
        },
        pk="id",
        foreign_keys=[
            ("page_id", "pages", "id"),
            ("fetch_id", "fetches", "id"),
            ("body_hash", "bodies", "hash"),
        ],
    )
    db["snapshots"].create_index(["page_id", "id"])
    db["changes"].create(
        {
            "id": int,
            "run_id": int,
            "page_id": int,
            "snapshot_id": int,
            "previous_snapshot_id": int,
            "detected_at": str,
            "kind": str,
            "section": str,
            "before": str,
            "after": str,
            "summary": str,
            "regions": str,  # JSON array of region slugs
            "networks": str,  # JSON array of network slugs
        },
        pk="id",
        foreign_keys=[
            ("run_id", "runs", "id"),
            ("page_id", "pages", "id"),
            ("snapshot_id", "snapshots", "id"),
            ("previous_snapshot_id", "snapshots", "id"),
        ],
    )
    db["changes"].create_index(["page_id", "id"])
    db["changes"].create_index(["detected_at"])
    db["change_regions"].create(
        {"change_id": int, "region": str},
        pk=("change_id", "region"),
        foreign_keys=[("change_id", "changes", "id"), ("region", "regions", "slug")],
    )
    db["change_networks"].create(
        {"change_id": int, "network": str},
        pk=("change_id", "network"),
        foreign_keys=[("change_id", "changes", "id"), ("network", "networks", "slug")],
    )


MIGRATIONS: list[tuple[str, Migration]] = [
    ("001_initial", m001_initial),
]


def migrate(db: sqlite_utils.Database) -> list[str]:
    """Apply every migration not yet recorded; returns the names applied."""
    if "_migrations" not in db.table_names():
        db["_migrations"].create({"name": str, "applied_at": str}, pk="name")
    done = {row["name"] for row in db["_migrations"].rows}
    applied = []
    for name, migration in MIGRATIONS:
        if name in done:
            continue
        with db.conn:
            migration(db)
            db["_migrations"].insert(
                {"name": name, "applied_at": db.execute("select datetime('now')").fetchone()[0]}
            )
        applied.append(name)
    return applied
