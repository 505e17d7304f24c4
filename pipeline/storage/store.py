"""The SQLite database: every fetch, every distinct version of a page, every change.

A run writes its pages in batched transactions (`Store.transaction`) so that a run
killed at any moment leaves either all of a page's rows or none of them. Raw bodies are
content-addressed and compressed, stored once however many fetches share them.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from collections.abc import Sequence
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

import sqlite_utils

from sotewatch.pipeline.config import Source, SourcesConfig
from sotewatch.pipeline.document.models import Change, Document
from sotewatch.pipeline.storage import bodies
from sotewatch.pipeline.storage.connection import (
    PAGE_SIZE,
    WAL_CHECKPOINT_BYTES,
    open_connection,
    open_db,
)
from sotewatch.pipeline.storage.reads import Reads
from sotewatch.pipeline.storage.rows import PageRow, SnapshotRow, doc_hash, utcnow
from sotewatch.pipeline.storage.transaction import immediate

# Where they were defined before the module was split; callers import them from here.
__all__ = [
    "PAGE_SIZE",
    "WAL_CHECKPOINT_BYTES",
    "PageRow",
    "SnapshotRow",
    "Store",
    "doc_hash",
    "open_connection",
    "open_db",
    "utcnow",
]


class Store(Reads):
    """The library's one door to the database; the CLI and the run go through it. The
    queries that only read are in `Reads` (pipeline/storage/reads.py)."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn
        self.db = sqlite_utils.Database(conn)  # for everything but a run's per-page writes

    @classmethod
    def open(cls, path: Path | str) -> Store:
        return cls(open_connection(path))

    def close(self) -> None:
        self.conn.close()

    def transaction(self) -> AbstractContextManager[None]:
        """All writes inside commit together or not at all."""
        return immediate(self.conn)

    # -- configuration mirrored into tables Datasette shows ---------------------------
    def sync_sources(self, config: SourcesConfig) -> None:
        rows = [
            {
                "id": s.id,
                "name": s.label,
                "family": s.family,
                "url": s.url,
                "regions": json.dumps(list(s.regions)),
                "networks": json.dumps(list(s.networks)),
                "schedule": s.schedule,
            }
            for s in config.sources
        ]
        with self.transaction():
            self._upsert("sources", rows, "id")

    def sync_taxonomy(self, regions: Sequence[dict], networks: Sequence[dict]) -> None:
        with self.transaction():
            self._upsert("regions", regions, "slug")
            self._upsert("networks", networks, "slug")

    def _upsert(self, table: str, rows: Sequence[dict[str, Any]], pk: str) -> None:
        if rows:
            self.db.table(table).upsert_all(rows, pk=pk)

    # -- runs -------------------------------------------------------------------------
    def start_run(self) -> int:
        with self.transaction():
            return self._insert("runs", {"started": utcnow(), "status": "running"})

    def finish_run(self, run_id: int, **stats: Any) -> None:
        with self.transaction():
            self.db.table("runs").update(run_id, {"finished": utcnow(), **stats})

    # -- pages ------------------------------------------------------------------------
    def page(self, source: Source, url: str, family: str, discovered_from: int | None) -> PageRow:
        """The page row for (source, url), created on first sight."""
        found = self._page_row(source.id, url)
        if found:
            return found
        with self.transaction():
            return self.page_row_or_insert(source, url, family, discovered_from)

    def update_page(self, page_id: int, **values: Any) -> None:
        """Set these columns of the page, in one statement."""
        self._update("pages", page_id, values)

    def _update(self, table: str, row_id: int, values: dict[str, Any]) -> None:
        """Plain SQL, as `_insert`, for a write a run makes for every page."""
        if values:
            assignments = ", ".join(f"{column} = :{column}" for column in values)
            self.conn.execute(
                f"update {table} set {assignments} where id = :id", {**values, "id": row_id}
            )

    # -- fetches, bodies, snapshots, changes (call inside transaction) -------------------
    def record_fetch(self, **row: Any) -> int:
        """A fetch that did something: a new version, a failure, a 404, a block."""
        return self._insert("fetches", {"fetched_at": utcnow(), **row})

    def _insert(self, table: str, row: dict[str, Any]) -> int:
        """One row into a table the migrations made; its rowid. Plain SQL because a run
        writes rows for every page, and sqlite-utils' `insert` and `update` read the
        table's schema again for each one (about 20 and 70 times the cost)."""
        columns = ", ".join(row)
        values = ", ".join(f":{column}" for column in row)
        sql = f"insert into {table} ({columns}) values ({values})"
        return int(self.conn.execute(sql, row).lastrowid or 0)

    def count_check(self, run_id: int, source_id: str, page_id: int, outcome: str) -> None:
        """A fetch that found nothing new ("unchanged" or "not_modified"): counted per run
        and source, and noted on the page in place, so an unchanged run barely grows the
        file (migration 003 says why)."""
        self.count_checks(run_id, [(source_id, page_id, outcome)])

    def count_checks(self, run_id: int, checks: Sequence[tuple[str, int, str]]) -> None:
        """`count_check` for many (source_id, page_id, outcome) at once: one upsert a
        source and one statement for the pages, however many 304s a batch holds."""
        now = utcnow()
        counts: dict[str, list[int]] = {}
        for source_id, _page, outcome in checks:
            tally = counts.setdefault(source_id, [0, 0])
            tally[outcome != "unchanged"] += 1
        self.conn.executemany(
            """insert into source_checks (run_id, source_id, checked_at, unchanged, not_modified)
               values (?, ?, ?, ?, ?)
               on conflict (run_id, source_id) do update
               set checked_at = excluded.checked_at,
                   unchanged = unchanged + excluded.unchanged,
                   not_modified = not_modified + excluded.not_modified""",
            [(run_id, source, now, u, n) for source, (u, n) in counts.items()],
        )
        self.conn.executemany(
            "update pages set last_checked = ?, last_status = ? where id = ?",
            [(now, 200 if outcome == "unchanged" else 304, page) for _s, page, outcome in checks],
        )

    def store_body(self, content: bytes, content_type: str, page_id: int | None = None) -> str:
        """Store a raw body once by its SHA-256; with `page_id`, compressed against the
        page's earlier version (pipeline/storage/bodies.py says why)."""
        digest = hashlib.sha256(content).hexdigest()
        if not self.conn.execute("select 1 from bodies where hash = ?", [digest]).fetchone():
            key = self._key_body(page_id) if page_id is not None else None
            self._insert_body(digest, bodies.pack(content, key), content_type, len(content))
        return digest

    def _insert_body(
        self, digest: str, packed: bodies.Packed, content_type: str, size: int
    ) -> None:
        self.conn.execute(
            """insert into bodies (hash, content_type, size, compression, data, base)
               values (?, ?, ?, ?, ?, ?) on conflict (hash) do nothing""",
            [digest, content_type, size, packed.compression, packed.data, packed.base],
        )

    def _key_body(self, page_id: int) -> tuple[str, bytes] | None:
        """The key body of the page's latest stored version: the dictionary for the next."""
        row = self.conn.execute(
            """select coalesce(b.base, b.hash)
               from snapshots s join bodies b on b.hash = s.body_hash
               where s.page_id = ? order by s.id desc limit 1""",
            [page_id],
        ).fetchone()
        return (row[0], self.body(row[0])) if row else None

    def add_snapshot(
        self, page_id: int, fetch_id: int, doc: Document, digest: str, body_hash: str | None
    ) -> int:
        return self.add_version(
            page_id,
            fetch_id,
            title=doc.title,
            language=doc.language,
            document_json=doc.to_json(),
            digest=digest,
            body_hash=body_hash,
        )

    def add_changes(
        self,
        run_id: int,
        page_id: int,
        snapshot_id: int | None,
        previous_snapshot_id: int | None,
        changes: Sequence[Change],
    ) -> list[int]:
        ids = []
        now = utcnow()
        for change in changes:
            change_id = self._insert(
                "changes",
                {
                    "run_id": run_id,
                    "page_id": page_id,
                    "snapshot_id": snapshot_id,
                    "previous_snapshot_id": previous_snapshot_id,
                    "detected_at": now,
                    "kind": str(change.kind),
                    "section": change.section,
                    "before": change.before,
                    "after": change.after,
                    "summary": change.summary,
                    "regions": json.dumps(list(change.regions)),
                    "networks": json.dumps(list(change.networks)),
                },
            )
            ids.append(change_id)
            self.conn.executemany(
                "insert into change_regions (change_id, region) values (?, ?)",
                [(change_id, r) for r in change.regions],
            )
            self.conn.executemany(
                "insert into change_networks (change_id, network) values (?, ?)",
                [(change_id, n) for n in change.networks],
            )
        return ids

    # -- prepared writes for the run (one statement instead of one per page) -----------

    def add_pages(self, new: Sequence[tuple[Source, str, str]]) -> list[PageRow]:
        """`page` for many (source, url, family) at once, in one transaction."""
        with self.transaction():
            rows = [self.page_row_or_insert(source, url, family) for source, url, family in new]
        return rows

    def page_row_or_insert(
        self, source: Source, url: str, family: str, discovered_from: int | None = None
    ) -> PageRow:
        """`page` inside the caller's transaction: one statement when the page is new."""
        inserted = self.conn.execute(
            """insert into pages (source_id, url, family, first_seen, status, missing_count,
                                  failures, discovered_from)
               values (?, ?, ?, ?, 'active', 0, 0, ?)
               on conflict (source_id, url) do nothing
               returning *""",
            [source.id, url, family, utcnow(), discovered_from],
        )
        columns = [d[0] for d in inserted.description]
        row = inserted.fetchone()
        if row is not None:
            return PageRow.from_row(dict(zip(columns, row, strict=True)))
        found = self._page_row(source.id, url)
        assert found is not None
        return found

    def add_version(
        self,
        page_id: int,
        fetch_id: int,
        *,
        title: str,
        language: str,
        document_json: str,
        digest: str,
        body_hash: str | None,
        code_key: str | None = None,
    ) -> int:
        """`add_snapshot` from a document already serialised (as the run has it);
        `code_key`: the code that extracted it (pipeline/runs/inputkey.py)."""
        cursor = self.conn.execute(
            """insert into snapshots (page_id, fetch_id, taken_at, doc_hash, title, language,
                                      document, body_hash, code_key)
               values (?, ?, ?, ?, ?, ?, ?, ?, ?)""",
            [
                page_id,
                fetch_id,
                utcnow(),
                digest,
                title,
                language,
                document_json,
                body_hash,
                code_key,
            ],
        )
        return int(cursor.lastrowid or 0)

    def confirm_code(self, snapshot_id: int, code_key: str) -> None:
        """The running code reads the page as this version says: later runs compare
        with it as they would with a version this code stored."""
        self._update("snapshots", snapshot_id, {"code_key": code_key})
