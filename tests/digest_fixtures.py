"""Builders for the digest tests: the cases table, and a real main database holding them."""

from __future__ import annotations

import json
import re
import tomllib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import sqlite_utils
from aiosmtpd.controller import Controller

from sotewatch.pipeline.digests.digest import Names
from sotewatch.pipeline.storage.store import open_db

CASES = Path(__file__).parent / "data" / "digest_cases.toml"


def cases() -> dict[str, Any]:
    with CASES.open("rb") as handle:
        return tomllib.load(handle)


def names() -> Names:
    raw = cases()["names"]
    return Names(
        regions={slug: tuple(pair) for slug, pair in raw["regions"].items()},
        networks=dict(raw["networks"]),
    )


def page_url(title: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")
    return f"https://stm.fi/{slug}"


def make_main_db(path: Path | str, changes: list[dict[str, Any]]) -> sqlite_utils.Database:
    """A migrated main database with one run and the given changes, in order.

    Each change dict has the keys of a [[change]] in digest_cases.toml; optional
    `url` and `detected_at` override the defaults.
    """
    db = open_db(path)
    db["sources"].insert(
        {"id": "stm", "name": "STM", "family": "ministry", "url": "https://stm.fi/"}
    )
    db["runs"].insert({"id": 1, "started": "2026-11-23T05:00:00Z", "status": "ok"})
    add_changes(db, changes)
    return db


def add_changes(db: sqlite_utils.Database, changes: list[dict[str, Any]]) -> list[int]:
    ids = []
    for change in changes:
        url = change.get("url") or page_url(change["page"])
        page_id = _page(db, url, change["page"])
        fetch = db["fetches"].insert({"page_id": page_id, "source_id": "stm", "url": url})
        snapshot = db["snapshots"].insert(
            {
                "page_id": page_id,
                "fetch_id": fetch.last_pk,
                "title": change["page"],
                "document": "{}",
            }
        )
        row = db["changes"].insert(
            {
                "run_id": 1,
                "page_id": page_id,
                "snapshot_id": snapshot.last_pk,
                "detected_at": change.get("detected_at", "2026-11-23T06:00:00Z"),
                "kind": change["kind"],
                "section": change.get("section", ""),
                "before": change.get("before", ""),
                "after": change.get("after", ""),
                "summary": change.get("summary", ""),
                "regions": json.dumps(change.get("regions", [])),
                "networks": json.dumps(change.get("networks", [])),
            }
        )
        ids.append(int(row.last_pk))
    return ids


def _page(db: sqlite_utils.Database, url: str, title: str) -> int:
    found = db.execute("select id from pages where url = ?", [url]).fetchone()
    if found:
        return int(found[0])
    return int(
        db["pages"]
        .insert({"source_id": "stm", "url": url, "title": title, "status": "active"})
        .last_pk
    )


# -- a real SMTP server on 127.0.0.1 ----------------------------------------------


class _Controller(Controller):
    """aiosmtpd's Controller, bound to port 0: learns its port before the self-check."""

    def _trigger_server(self) -> None:
        assert self.server is not None
        self.port = self.server.sockets[0].getsockname()[1]
        super()._trigger_server()


@dataclass
class Received:
    sender: str
    recipients: list[str]
    data: bytes

    @property
    def message(self) -> EmailMessage:
        return message_from_bytes(self.data, policy=policy.default)  # type: ignore[return-value]


@dataclass
class SmtpSink:
    """Accepts mail (or refuses the listed recipients) and keeps every message received."""

    refuse: set[str] = field(default_factory=set)
    received: list[Received] = field(default_factory=list)
    refuse_code: str = "550 5.1.1 mailbox unavailable"  # a 4xx for a temporary refusal
    refused_count: int = 0

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: N802
        if address in self.refuse:
            self.refused_count += 1
            return self.refuse_code
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # noqa: N802
        self.received.append(
            Received(envelope.mail_from, list(envelope.rcpt_tos), envelope.content)
        )
        return "250 Message accepted for delivery"

    def to(self, address: str) -> list[Received]:
        return [r for r in self.received if address in r.recipients]


@contextmanager
def smtp_server(sink: SmtpSink, **kwargs: Any) -> Iterator[_Controller]:
    controller = _Controller(sink, hostname="127.0.0.1", port=0, **kwargs)
    controller.start()
    try:
        yield controller
    finally:
        controller.stop()
