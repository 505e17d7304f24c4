"""The rows a run reads back, and the stamps and hashes every row carries."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from sotewatch.pipeline.document.models import Document, content_hash

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
