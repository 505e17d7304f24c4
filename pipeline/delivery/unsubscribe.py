"""A reader leaves on their own: signed unsubscribe tokens and the opt-outs they record.

Every digest carries a personal link, `SOTEWATCH_UNSUBSCRIBE` with "{token}" replaced
by an HMAC-signed token of the subscriber id (itsdangerous, keyed with
`SOTEWATCH_UNSUBSCRIBE_SECRET`): the id alone is guessable, a signature is not.
`browse` answers the link (pipeline/browsing/unsubscribe_routes.py): a GET shows a page with
one button, a POST (the button, or a mail provider's RFC 8058 one-click POST)
records the opt-out here, in the private state database, and the next send skips
the reader. `sotewatch resubscribe ID` undoes one.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import sqlite_utils
from itsdangerous import BadSignature, URLSafeSerializer

from sotewatch.pipeline.errors import ConfigError

SECRET_VARIABLE = "SOTEWATCH_UNSUBSCRIBE_SECRET"
_SALT = "sotewatch-unsubscribe"  # a token signed for unsubscribing is good for nothing else
_MIN_SECRET = 16


class BadToken(ValueError):
    """An unsubscribe token that this server did not sign (forged, altered or cut)."""


def secret_from_env(env: Mapping[str, str]) -> str:
    """The signing secret, or a ConfigError saying which variable to set."""
    secret = env.get(SECRET_VARIABLE, "")
    if len(secret) < _MIN_SECRET:
        problem = "is not set" if not secret else f"is shorter than {_MIN_SECRET} characters"
        raise ConfigError(
            f"{SECRET_VARIABLE} {problem}: unsubscribe links ({{token}} in "
            "SOTEWATCH_UNSUBSCRIBE) are signed with it (e.g. `openssl rand -hex 32`)"
        )
    return secret


def sign(secret: str, subscriber_id: str) -> str:
    """The URL-safe token that names this subscriber and proves we issued it."""
    return URLSafeSerializer(secret, salt=_SALT).dumps(subscriber_id)


def verify(secret: str, token: str) -> str:
    """The subscriber id a token was signed for; BadToken for anything else."""
    try:
        value = URLSafeSerializer(secret, salt=_SALT).loads(token)
    except BadSignature as exc:
        raise BadToken("this unsubscribe link is not valid") from exc
    if not isinstance(value, str) or not value:
        raise BadToken("this unsubscribe link is not valid")
    return value


@dataclass(frozen=True)
class OptOut:
    subscriber_id: str
    at: str
    how: str  # "page" (the confirmation button) or "one-click" (a mail provider's POST)


def _db(state_path: Path | str) -> sqlite_utils.Database:
    conn = sqlite3.connect(str(state_path), timeout=30)
    db = sqlite_utils.Database(conn)
    db.table("optouts").create(
        {"subscriber_id": str, "at": str, "how": str}, pk="subscriber_id", if_not_exists=True
    )
    return db


def record_optout(
    state_path: Path | str, subscriber_id: str, how: str, now: datetime | None = None
) -> OptOut:
    """Record (once) that this reader left; a second click keeps the first time."""
    at = (now or datetime.now(UTC)).isoformat(timespec="seconds")
    db = _db(state_path)
    try:
        with db.conn:
            db.table("optouts").insert(
                {"subscriber_id": subscriber_id, "at": at, "how": how}, ignore=True
            )
        row = db.table("optouts").get(subscriber_id)
    finally:
        db.conn.close()
    return OptOut(row["subscriber_id"], row["at"], row["how"])


def optouts(state_path: Path | str) -> dict[str, OptOut]:
    """Every opt-out in force, by subscriber id (none without a state database)."""
    if not Path(state_path).exists():
        return {}
    db = _db(state_path)
    try:
        return {r["subscriber_id"]: OptOut(**r) for r in db.table("optouts").rows}
    finally:
        db.conn.close()


def undo_optout(state_path: Path | str, subscriber_id: str) -> bool:
    """The operator takes a reader back; False when they had not opted out."""
    if not Path(state_path).exists():
        return False
    db = _db(state_path)
    try:
        with db.conn:
            deleted = db.execute(
                "delete from optouts where subscriber_id = ?", [subscriber_id]
            ).rowcount
    finally:
        db.conn.close()
    return deleted > 0
