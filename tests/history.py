"""Builds a database's history by hand, at chosen dates, for the status and prune tests.

Writes through `Store` exactly as a run does (one transaction per page), then sets
the timestamps, because the store stamps rows with the wall clock.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sotewatch.pipeline.config import Settings, Source, SourcesConfig
from sotewatch.pipeline.document.models import Change, ChangeKind, Document, Section
from sotewatch.pipeline.storage.store import PageRow, Store, doc_hash

NOW = datetime(2026, 6, 1, 6, 0, tzinfo=UTC)


def stamp(when: datetime) -> str:
    return when.strftime("%Y-%m-%dT%H:%M:%SZ")


def days_ago(days: float) -> datetime:
    return NOW - timedelta(days=days)


@dataclass
class History:
    """A store plus helpers: `version()` is one page fetched with new content."""

    store: Store
    sources: list[Source] = field(default_factory=list)
    run_id: int = 0

    @classmethod
    def open(cls, path: Path) -> History:
        return cls(Store.open(path))

    def source(self, source_id: str, url: str) -> Source:
        source = Source(id=source_id, url=url, name=source_id.upper())
        self.sources.append(source)
        config = SourcesConfig(Path("sources.toml"), Settings(), tuple(self.sources))
        self.store.sync_sources(config)
        return source

    def page(self, source: Source, url: str | None = None) -> PageRow:
        return self.store.page(source, url or source.url, source.family, None)

    def run(self, when: datetime) -> int:
        self.run_id = self.store.start_run()
        self.store.finish_run(self.run_id, status="ok", fetched=1, changes=0, exit_code=0)
        self._set("runs", "started", self.run_id, when)
        return self.run_id

    def version(
        self, page: PageRow, text: str, when: datetime, *, changes: int = 1, body: bytes = b""
    ) -> int:
        """Fetch `page` showing `text`: a new snapshot, and `changes` changes if it had one."""
        previous = self.store.latest_snapshot(page.id)
        doc = Document(url=page.url, title="Sivu", sections=(Section(("Otsikko",), (text,)),))
        with self.store.transaction():
            body_hash = self.store.store_body(body or text.encode(), "text/html", page.id)
            fetch_id = self.fetch(page, "ok", when, body_hash=body_hash)
            snapshot_id = self.store.add_snapshot(page.id, fetch_id, doc, doc_hash(doc), body_hash)
            made = [
                Change(ChangeKind.TEXT_EDITED, page.url, "Sivu", "Otsikko", "vanha", text)
                for _ in range(changes if previous else 0)
            ]
            added = Change(ChangeKind.PAGE_ADDED, page.url, "Sivu", after=text)
            ids = self.store.add_changes(
                self.run_id or None,  # type: ignore[arg-type]
                page.id,
                snapshot_id,
                previous.id if previous else None,
                made or ([added] if changes and previous is None else []),
            )
        self._set("snapshots", "taken_at", snapshot_id, when)
        for change_id in ids:
            self._set("changes", "detected_at", change_id, when)
        return snapshot_id

    def fetch(
        self,
        page: PageRow,
        outcome: str,
        when: datetime,
        *,
        error: str | None = None,
        body_hash: str | None = None,
    ) -> int:
        fetch_id = self.store.record_fetch(
            run_id=self.run_id or None,
            page_id=page.id,
            source_id=page.source_id,
            url=page.url,
            status_code=200 if error is None else 500,
            outcome=outcome,
            error=error,
            body_hash=body_hash,
        )
        self._set("fetches", "fetched_at", fetch_id, when)
        return fetch_id

    def _set(self, table: str, column: str, row_id: int, when: datetime) -> None:
        sql = f"update {table} set {column} = ? where id = ?"
        self.store.db.execute(sql, [stamp(when), row_id])


def write_deliveries(private_db: Path, sent: dict[str, int]) -> None:
    """A private state db in which each subscriber's last sent digest ended at a change id."""
    from sotewatch.pipeline.delivery.deliver import StateDB

    state = StateDB(private_db)
    for subscriber, last in sent.items():
        row = {
            "subscriber_id": subscriber,
            "period": "2026-05-31",
            "first_change_id": 1,
            "last_change_id": last,
            "changes": last,
            "created": stamp(NOW),
            "subject": "Muutoksia",
            "message_id": f"<{subscriber}@example.org>",
            "message": b"",
        }
        _, delivery_id = state.record_digest(row, stamp(NOW))
        state.finish(delivery_id, "sent", stamp(NOW))
    state.close()
