"""Serving the database in Datasette: read-only, with the project's metadata and plugin.

`sotewatch browse` calls `readiness` (is the schema current, is search up to date:
it only reads), then runs the command `browse_command_args` returns; `sotewatch
index` is what migrates and indexes. Tests use `make_app` with
Datasette's in-process client. Both serve the one public database and nothing else:
subscribers live in a separate private database, and a database that holds a
private table is refused outright.

Read-only, not immutable: a cron run may write while Datasette serves. Datasette
opens a mutable file with `?mode=ro`; the plugin adds `PRAGMA query_only` to every
connection, including the write connection Datasette would open for a plugin or a
writable canned query, so nothing served can change the file.
"""

from __future__ import annotations

import sqlite3
import sys
from pathlib import Path
from typing import Any

import yaml

from sotewatch.pipeline.config import DATA_DIR
from sotewatch.pipeline.errors import ConfigError
from sotewatch.pipeline.storage.migrations import MIGRATIONS
from sotewatch.pipeline.storage.search import pending

DATASETTE_DIR = DATA_DIR / "datasette"
METADATA = DATASETTE_DIR / "metadata.yml"
PLUGINS_DIR = DATASETTE_DIR / "plugins"
TEMPLATES_DIR = DATASETTE_DIR / "templates"

# Table names that must never reach a public server (they belong in the private db).
# tests/test_browse_safety.py checks every table the private state database has is here.
PRIVATE_TABLES = frozenset(
    {"subscribers", "subscriptions", "digests", "deliveries", "outbox", "secrets", "smtp", "tokens"}
)

SETTINGS: dict[str, Any] = {
    "truncate_cells_html": 300,  # snapshot texts and documents stay readable in tables
    "sql_time_limit_ms": 3000,  # FTS over every version takes a moment on a big db
    "facet_time_limit_ms": 500,
    "allow_download": False,  # the .db file itself is not offered
    "default_page_size": 50,
}


def _setting_value(value: Any) -> str:
    if isinstance(value, bool):
        return "on" if value else "off"
    return str(value)


def check_servable(db_path: Path | str) -> None:
    """Refuse a missing file, one holding private tables, or one that is not sotewatch's,
    before anything is served or migrated; the file is opened read-only to look."""
    path = Path(db_path)
    if not path.is_file():
        raise ConfigError(f"{path}: no such database (run `sotewatch demo` or `sotewatch run`)")
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        names = {r[0] for r in conn.execute("select name from sqlite_master where type='table'")}
    finally:
        conn.close()
    private = sorted(names & PRIVATE_TABLES)
    if private:
        raise ConfigError(
            f"{path}: refusing to serve a database with private tables ({', '.join(private)}); "
            "subscribers and deliveries belong in the private state database"
        )
    if "_migrations" not in names:  # not ours: never add sotewatch's schema to it
        raise ConfigError(
            f"{path}: not a sotewatch database (no _migrations table); refusing to serve "
            "or migrate it (point --db at the database `sotewatch run` writes)"
        )


def readiness(db_path: Path | str) -> list[str]:
    """Warnings to show before serving (a search index behind the runs); ConfigError for
    a database that cannot be served, or whose schema is behind this sotewatch's.

    Reads only: browse never migrates or indexes (`sotewatch index` does both), so
    serving cannot change the file, nor take the write lock a cron run needs."""
    check_servable(db_path)
    conn = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
    try:
        done = {row[0] for row in conn.execute("select name from _migrations")}
        behind = [name for name, _ in MIGRATIONS if name not in done]
        if behind:
            raise ConfigError(
                f"{db_path}: the database's schema is behind this sotewatch "
                f"(pending migrations: {', '.join(behind)}); browse does not "
                "change the database: run `sotewatch index` first (it migrates, then indexes)"
            )
        waiting = pending(conn)
    finally:
        conn.close()
    if not (waiting.snapshots or waiting.changes):
        return []
    return [
        f"warning: {db_path}: the search index is behind: {waiting.snapshots} page "
        f"versions and {waiting.changes} changes are not searchable yet; run "
        "`sotewatch index` (browse serves read-only and does not index)"
    ]


def browse_command_args(
    db_path: Path | str, port: int = 8001, host: str = "127.0.0.1"
) -> list[str]:
    """The full command line that serves `db_path` read-only with metadata, plugin, templates."""
    args = [
        sys.executable,
        "-m",
        "datasette",
        "serve",
        str(db_path),
        "--metadata",
        str(METADATA),
        "--plugins-dir",
        str(PLUGINS_DIR),
        "--template-dir",
        str(TEMPLATES_DIR),
        "--host",
        host,
        "--port",
        str(port),
    ]
    for name, value in SETTINGS.items():
        args += ["--setting", name, _setting_value(value)]
    return args


def make_app(db_path: Path | str) -> Any:
    """The same Datasette as `browse_command_args` serves, for the in-process client."""
    from datasette.app import Datasette

    check_servable(db_path)
    return Datasette(
        [str(db_path)],
        metadata=yaml.safe_load(METADATA.read_text(encoding="utf-8")),
        plugins_dir=str(PLUGINS_DIR),
        template_dir=str(TEMPLATES_DIR),
        settings=SETTINGS,
    )
