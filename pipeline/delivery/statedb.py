"""The private state database (`<main>-private.db`): digests built and every delivery
attempt, each step committed (the exactly-once protocol is in `delivery.deliver`)."""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Iterator
from contextlib import AbstractContextManager
from datetime import datetime
from pathlib import Path
from typing import Any

import sqlite_utils

from sotewatch.pipeline.delivery.refusals import DONE, refused_for_good
from sotewatch.pipeline.storage.transaction import immediate, inserted_id


class Unrecorded(Exception):
    """The server accepted a message whose "sent" could not be committed."""


class StateDB:
    """The private tables; every method is one committed step."""

    def __init__(self, path: Path | str) -> None:
        conn = sqlite3.connect(str(path), timeout=30, isolation_level=None)
        self.db = sqlite_utils.Database(conn)
        self.db.execute("PRAGMA journal_mode=WAL")
        self._create()

    def _create(self) -> None:
        self.db.table("digests").create(
            {
                "id": int,
                "subscriber_id": str,
                "period": str,
                "first_change_id": int,
                "last_change_id": int,
                "changes": int,
                "created": str,
                "subject": str,
                "message_id": str,
                "message": bytes,
            },
            pk="id",
            if_not_exists=True,
        )
        self.db.table("deliveries").create(
            {
                "id": int,
                "digest_id": int,
                "subscriber_id": str,
                "attempt": int,
                "status": str,  # pending | sent | failed | empty (nothing to send)
                "error": str,
                "at": str,
            },
            pk="id",
            foreign_keys=[("digest_id", "digests", "id")],
            if_not_exists=True,
        )
        self.db.table("deliveries").create_index(["digest_id"], if_not_exists=True)
        self.db.table("digests").create_index(["subscriber_id", "id"], if_not_exists=True)

    def transaction(self) -> AbstractContextManager[None]:
        return immediate(self.db)

    def close(self) -> None:
        self.db.conn.close()

    def unsent(self, subscriber_id: str) -> dict[str, Any] | None:
        """The digest built for this reader that no attempt has delivered yet."""
        rows = self.db.query(
            f"""select * from digests d where subscriber_id = ? and not exists
               (select 1 from deliveries where digest_id = d.id and status in {DONE})
               order by id limit 1""",
            [subscriber_id],
        )
        return next(iter(rows), None)

    def last_sent(self, subscriber_id: str) -> tuple[int, datetime] | None:
        """(last_change_id, when it was sent) of the reader's newest delivered digest."""
        row = self.db.execute(
            f"""select d.last_change_id, max(x.at) from digests d
               join deliveries x on x.digest_id = d.id and x.status in {DONE}
               where d.subscriber_id = ? group by d.id order by d.id desc limit 1""",
            [subscriber_id],
        ).fetchone()
        return (int(row[0]), datetime.fromisoformat(row[1])) if row else None

    def record_digest(self, row: dict[str, Any], at: str) -> tuple[int, int]:
        """The digest and its first (pending) delivery, committed before any byte is sent."""
        with self.transaction():
            digest_id = inserted_id(self.db.table("digests").insert(row))
            delivery_id = self._attempt(digest_id, row["subscriber_id"], 1, at)
        return digest_id, delivery_id

    def record_nothing(self, row: dict[str, Any], at: str) -> None:
        """A window with nothing for this reader: closed like a sent digest, so their
        next digest starts after it and the delivery watermark moves on (no mail)."""
        with self.transaction():
            digest_id = inserted_id(self.db.table("digests").insert(row))
            self.db.table("deliveries").insert(
                {"digest_id": digest_id, "subscriber_id": row["subscriber_id"], "attempt": 1,
                 "status": "empty", "error": "", "at": at}
            )  # fmt: skip

    def start_attempt(self, digest: dict[str, Any], at: str) -> int:
        """A new attempt for an unsent digest; earlier pending ones were interrupted."""
        with self.transaction():
            self.db.execute(
                """update deliveries set status = 'failed',
                   error = 'interrupted: the run ended before the result was recorded'
                   where digest_id = ? and status = 'pending'""",
                [digest["id"]],
            )
            attempts = self.db.execute(
                "select coalesce(max(attempt), 0) from deliveries where digest_id = ?",
                [digest["id"]],
            ).fetchone()[0]
            return self._attempt(digest["id"], digest["subscriber_id"], attempts + 1, at)

    def _attempt(self, digest_id: int, subscriber_id: str, attempt: int, at: str) -> int:
        row = {"digest_id": digest_id, "subscriber_id": subscriber_id, "attempt": attempt}
        table = self.db.table("deliveries").insert(
            {**row, "status": "pending", "error": "", "at": at}
        )
        return inserted_id(table)

    @contextlib.contextmanager
    def sending(self, delivery_id: int, at: str) -> Iterator[None]:
        """The attempt marked "sent" before the message goes, committed once the block
        (the SMTP conversation) ends without error, rolled back if it raises."""
        self.db.execute("BEGIN IMMEDIATE")
        try:
            self.db.execute(
                "update deliveries set status = 'sent', error = '', at = ? where id = ?",
                [at, delivery_id],
            )
            yield
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        try:
            self._commit()
        except sqlite3.Error as exc:
            with contextlib.suppress(sqlite3.Error):
                self.db.execute("ROLLBACK")
            raise Unrecorded(str(exc)) from exc

    def _commit(self) -> None:
        self.db.execute("COMMIT")

    def refusals(self, digest_id: int, address: str) -> list[str]:
        """The errors of the digest's latest attempts that `address` refused for good,
        newest first, up to the first attempt that ended otherwise."""
        rows = self.db.execute(
            "select status, error from deliveries where digest_id = ? order by attempt desc",
            [digest_id],
        ).fetchall()
        found = []
        for status, error in rows:
            if status == "pending":
                continue  # the attempt under way
            if status != "failed" or not refused_for_good(error, address):
                break
            found.append(error)
        return found

    def finish(self, delivery_id: int, status: str, at: str, error: str = "") -> None:
        with self.transaction():
            self.db.table("deliveries").update(
                delivery_id, {"status": status, "error": error, "at": at}
            )
