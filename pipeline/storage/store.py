"""The SQLite database: every fetch, every distinct version of a page, every change.

A run writes its pages in batched transactions (`Store.transaction`) so that a run
killed at any moment leaves either all of a page's rows or none of them. Raw bodies are
content-addressed and compressed, stored once however many fetches share them.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import time
from collections.abc import Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlite_utils

from sotewatch.pipeline.config import Source, SourcesConfig
from sotewatch.pipeline.document.models import Change, Document, Link, content_hash
from sotewatch.pipeline.storage import bodies
from sotewatch.pipeline.storage.migrations import migrate
from sotewatch.pipeline.storage.transaction import immediate, inserted_id

_stamp: tuple[int, str] = (-1, "")  # the last second stamped, and its stamp


def utcnow() -> str:
    """Now, to the second, as every row stamps it: formatted once a second (a run
    stamps each page's rows several times, and most pages within the same second)."""
    global _stamp
    second = int(time.time())
    if second != _stamp[0]:
        _stamp = (second, time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(second)))
    return _stamp[1]


def doc_hash(doc: Document) -> str:
    """Identity of what a page says: two fetches with the same hash are one version."""
    return content_hash(doc.to_json())


# Bytes per database page, for a new database. A version's document is 5-50 KB of JSON:
# with 16 KB pages a run writes a quarter of the pages (and WAL frames) it wrote with
# SQLite's 4 KB, and stores a first run of 1,000 pages in half the CPU (75 ms, not 150);
# a year's database (bench/bench_storage.py) is 85 MB instead of 77.
PAGE_SIZE = 16384
# The write-ahead log is copied into the database once it holds this much (SQLite's
# default is 1,000 pages: 16 MB with 16 KB pages). What is left is copied as the run
# closes the database, one core busy and the other idle: after a first run of 1,000
# pages that took 26 ms, with 4 MB 3 ms, and the run's CPU is the same.
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


@dataclass(frozen=True)
class PageRow:
    id: int
    source_id: str
    url: str
    family: str
    status: str
    missing_count: int
    failures: int
    etag: str | None
    last_modified: str | None
    offers_links: bool = False  # its latest version offers items or attachments to watch
    input_hash: str | None = (
        None  # what its latest version was read from (pipeline/runs/inputkey.py)
    )

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> PageRow:
        return cls(
            id=row["id"],
            source_id=row["source_id"],
            url=row["url"],
            family=row["family"],
            status=row["status"],
            missing_count=row["missing_count"] or 0,
            failures=row["failures"] or 0,
            etag=row["etag"],
            last_modified=row["last_modified"],
            offers_links=bool(row.get("offers_links")),
            input_hash=row.get("input_hash"),
        )


@dataclass(frozen=True)
class SnapshotRow:
    id: int
    doc_hash: str
    document: Document


class Store:
    """The library's one door to the database; the CLI and the run go through it."""

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
            return inserted_id(
                self.db.table("runs").insert({"started": utcnow(), "status": "running"})
            )

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

    def _page_row(self, source_id: str, url: str) -> PageRow | None:
        rows = list(
            self.db.query("select * from pages where source_id = ? and url = ?", [source_id, url])
        )
        return PageRow.from_row(rows[0]) if rows else None

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

    def last_checked(self, source_id: str) -> str | None:
        """When a finished run last reached the source (a killed run does not count:
        the source is still due, and its pages are still the baseline)."""
        sql = """select max(at) from (
                   select max(f.fetched_at) as at from fetches f join runs r on r.id = f.run_id
                   where f.source_id = :s and r.finished is not null and f.outcome != 'error'
                   union all
                   select max(c.checked_at) from source_checks c join runs r on r.id = c.run_id
                   where c.source_id = :s and r.finished is not null)"""
        row = self.conn.execute(sql, {"s": source_id}).fetchone()
        return row[0] if row else None

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

    def body(self, digest: str) -> bytes:
        row = self.conn.execute(
            "select data, compression, base from bodies where hash = ?", [digest]
        ).fetchone()
        if row is None:
            raise KeyError(digest)
        data, compression, base = row
        return bodies.unpack(data, compression, self.body(base) if base else None)

    def latest_snapshot(self, page_id: int) -> SnapshotRow | None:
        row = self.latest_version(page_id)
        if row is None:
            return None
        return SnapshotRow(id=row[0], doc_hash=row[1], document=Document.from_json(row[2]))

    def offered_links(self, page_id: int) -> list[Link]:
        """The items and attachments the page's latest version offers to watch, read in
        SQL so that a 304 costs no Document parse."""
        latest = self.conn.execute(
            "select id from snapshots where page_id = ? order by id desc limit 1", [page_id]
        ).fetchone()
        if latest is None:
            return []
        sql = """select json_extract(value, '$.url'), json_extract(value, '$.text'),
                        json_extract(value, '$.kind')
                 from snapshots, json_each(snapshots.document, '$.links')
                 where snapshots.id = ?
                   and json_extract(value, '$.kind') in ('item', 'attachment')"""
        rows = self.conn.execute(sql, [latest[0]])
        return [Link(url, text or "", kind) for url, text, kind in rows]

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

    # -- bulk reads and prepared writes for the run (one query instead of one per source) --
    def last_checked_all(self) -> dict[str, str]:
        """`last_checked` of every source reached by a finished run, in one pass."""
        sql = """select source_id, max(at) from (
                   select f.source_id, max(f.fetched_at) as at
                   from fetches f join runs r on r.id = f.run_id
                   where r.finished is not null and f.outcome != 'error' group by f.source_id
                   union all
                   select c.source_id, max(c.checked_at)
                   from source_checks c join runs r on r.id = c.run_id
                   where r.finished is not null group by c.source_id)
                 group by source_id"""
        return {source_id: at for source_id, at in self.conn.execute(sql) if at is not None}

    def active_pages(self) -> dict[str, list[PageRow]]:
        """The active pages of every source, in id order."""
        pages: dict[str, list[PageRow]] = {}
        for row in self.db.query("select * from pages where status = 'active' order by id"):
            pages.setdefault(row["source_id"], []).append(PageRow.from_row(row))
        return pages

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

    def tracked_urls(self) -> set[str]:
        return {url for (url,) in self.conn.execute("select url from pages")}

    def latest_versions(self) -> dict[int, tuple[int, str]]:
        """page id -> (id, doc_hash) of its latest snapshot, for every page in one query:
        a run compares each fetched page with it, and reads the JSON only if it differs."""
        sql = """select s.page_id, s.id, s.doc_hash from snapshots s
                 join (select max(id) as id from snapshots group by page_id) m on m.id = s.id"""
        return {
            page_id: (snapshot_id, digest)
            for page_id, snapshot_id, digest in self.conn.execute(sql)
        }

    def snapshot_document(self, snapshot_id: int) -> str:
        """A version's stored document JSON."""
        row = self.conn.execute("select document from snapshots where id = ?", [snapshot_id])
        return row.fetchone()[0]

    @property
    def path(self) -> Path | None:
        """The database file (named in storage errors), None for one in memory."""
        for _seq, name, file in self.conn.execute("pragma database_list"):
            if name == "main":
                return Path(file) if file else None
        return None

    def latest_version(self, page_id: int) -> tuple[int, str, str] | None:
        """(id, doc_hash, document JSON) of the page's latest snapshot (a run reads
        every page's id and hash at once with `latest_versions`)."""
        return self.conn.execute(
            "select id, doc_hash, document from snapshots"
            " where page_id = ? order by id desc limit 1",
            [page_id],
        ).fetchone()

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
    ) -> int:
        """`add_snapshot` from a document already serialised (as the run has it)."""
        cursor = self.conn.execute(
            """insert into snapshots
               (page_id, fetch_id, taken_at, doc_hash, title, language, document, body_hash)
               values (?, ?, ?, ?, ?, ?, ?, ?)""",
            [page_id, fetch_id, utcnow(), digest, title, language, document_json, body_hash],
        )
        return int(cursor.lastrowid or 0)
