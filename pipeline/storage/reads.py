"""What the database holds, read back: pages, their latest versions, bodies, and when
each source was last reached. `Store` (pipeline/storage/store.py) adds the writes."""

from __future__ import annotations

import sqlite3
from dataclasses import fields
from pathlib import Path

import sqlite_utils

from sotewatch.pipeline.document.models import Document, Link
from sotewatch.pipeline.storage import bodies
from sotewatch.pipeline.storage.rows import PageRow, SnapshotRow

# When a finished run last reached each source: its last fetch that did not fail, or its
# last check (a killed run does not count: the source is still due, and its pages are
# still the baseline). Whole-table passes grouped by source, not a subquery per source:
# a URL list of 1,000 sources is read in a few scans.
LAST_REACHED = """
select source_id, max(at) as at from (
  select f.source_id, max(f.fetched_at) as at from fetches f join runs r on r.id = f.run_id
   where r.finished is not null and f.outcome != 'error' group by f.source_id
  union all
  select c.source_id, max(c.checked_at) from source_checks c join runs r on r.id = c.run_id
   where r.finished is not null group by c.source_id)
group by source_id"""


# A page row without `shown` (a few KB a page, read only for a changed page's site).
_PAGE_COLUMNS = ", ".join(field.name for field in fields(PageRow))


class Reads:
    """The queries of `Store` that write nothing."""

    conn: sqlite3.Connection
    db: sqlite_utils.Database

    def _page_row(self, source_id: str, url: str) -> PageRow | None:
        rows = list(
            self.db.query("select * from pages where source_id = ? and url = ?", [source_id, url])
        )
        return PageRow.from_row(rows[0]) if rows else None

    def last_checked(self, source_id: str) -> str | None:
        """When a finished run last reached the source (`LAST_REACHED`)."""
        return self.last_checked_all().get(source_id)

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

    def last_checked_all(self) -> dict[str, str]:
        """`last_checked` of every source reached by a finished run, in one pass."""
        rows = self.conn.execute(LAST_REACHED)
        return {source_id: at for source_id, at in rows if at is not None}

    def active_pages(self) -> dict[str, list[PageRow]]:
        """The active pages of every source, in id order."""
        pages: dict[str, list[PageRow]] = {}
        sql = f"select {_PAGE_COLUMNS} from pages where status = 'active' order by id"
        for row in self.db.query(sql):
            pages.setdefault(row["source_id"], []).append(PageRow.from_row(row))
        return pages

    def shown_pages(self) -> list[tuple[int, str, str | None]]:
        """(id, url, the keys of what it showed when last read) of every active page."""
        sql = "select id, url, shown from pages where status = 'active'"
        return [tuple(row) for row in self.conn.execute(sql)]

    def tracked_urls(self) -> set[str]:
        return {url for (url,) in self.conn.execute("select url from pages")}

    def latest_versions(self) -> dict[int, tuple[int, str, str | None]]:
        """page id -> (id, doc_hash, code_key) of its latest snapshot, for every page in
        one query: a run compares each fetched page with it, and reads the JSON only if
        it differs (and its stored body, if other code extracted it)."""
        sql = """select s.page_id, s.id, s.doc_hash, s.code_key from snapshots s
                 join (select max(id) as id from snapshots group by page_id) m on m.id = s.id"""
        return {
            page_id: (snapshot_id, digest, code)
            for page_id, snapshot_id, digest, code in self.conn.execute(sql)
        }

    def snapshot_body(self, snapshot_id: int) -> tuple[str, bytes, str] | None:
        """(final URL, raw body, content type) the version was extracted from; None when
        its body is no longer stored (pruned)."""
        row = self.conn.execute(
            """select coalesce(f.url, p.url), s.body_hash, b.content_type
               from snapshots s join pages p on p.id = s.page_id
               left join fetches f on f.id = s.fetch_id
               left join bodies b on b.hash = s.body_hash
               where s.id = ?""",
            [snapshot_id],
        ).fetchone()
        if row is None or row[1] is None or row[2] is None:
            return None
        url, digest, content_type = row
        try:
            return url, self.body(digest), content_type
        except (KeyError, ValueError):  # its key body is gone: as good as pruned
            return None

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
