"""A reader's own choice of counties, networks and schedule, behind their signed token.

The operator's subscribers file says what a reader gets; a reader who chose on the
preferences page (pipeline/browsing/unsubscribe_routes.py) gets what they chose instead. The
choice lives in the private state database, beside the opt-outs, and `send` applies
it (`apply_preferences`) before it builds anyone's digest.
"""

from __future__ import annotations

import dataclasses
import json
import sqlite3
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import sqlite_utils

from sotewatch.pipeline.delivery.subscribers import FREQUENCIES, Follow, Subscriber


@dataclass(frozen=True)
class Preference:
    subscriber_id: str
    regions: frozenset[str]
    networks: frozenset[str]
    frequency: str
    at: str = ""


def _db(state_path: Path | str) -> sqlite_utils.Database:
    db = sqlite_utils.Database(sqlite3.connect(str(state_path), timeout=30))
    db.table("preferences").create(
        {"subscriber_id": str, "regions": str, "networks": str, "frequency": str, "at": str},
        pk="subscriber_id",
        if_not_exists=True,
    )
    return db


def save_preference(state_path: Path | str, preference: Preference) -> None:
    """Replace the reader's choice (one row per reader)."""
    if preference.frequency not in FREQUENCIES:
        raise ValueError(f"frequency {preference.frequency!r} is not daily or weekly")
    row = {
        "subscriber_id": preference.subscriber_id,
        "regions": json.dumps(sorted(preference.regions)),
        "networks": json.dumps(sorted(preference.networks)),
        "frequency": preference.frequency,
        "at": preference.at or datetime.now(UTC).isoformat(timespec="seconds"),
    }
    db = _db(state_path)
    try:
        with db.conn:
            db.table("preferences").upsert(row, pk="subscriber_id")
    finally:
        db.conn.close()


def load_preferences(state_path: Path | str) -> dict[str, Preference]:
    """Every reader's own choice, by subscriber id (none without a state database)."""
    if not Path(state_path).exists():
        return {}
    db = _db(state_path)
    try:
        return {r["subscriber_id"]: _preference(r) for r in db.table("preferences").rows}
    finally:
        db.conn.close()


def _preference(row: dict) -> Preference:
    return Preference(
        row["subscriber_id"],
        frozenset(json.loads(row["regions"])),
        frozenset(json.loads(row["networks"])),
        row["frequency"],
        row["at"],
    )


def apply_preferences(
    subscribers: Sequence[Subscriber], preferences: dict[str, Preference]
) -> tuple[Subscriber, ...]:
    """Each reader as they chose: their counties and networks (national news kept as the
    operator set it) and their schedule; readers who never chose, unchanged."""
    return tuple(as_chosen(s, preferences.get(s.id)) for s in subscribers)


def as_chosen(subscriber: Subscriber, chosen: Preference | None) -> Subscriber:
    """One reader (or one of their channel streams) as they chose; unchanged without a choice."""
    if chosen is None:
        return subscriber
    follow = Follow(chosen.regions, chosen.networks, subscriber.follow.national)
    return dataclasses.replace(subscriber, follow=follow, frequency=chosen.frequency)


def from_form(
    subscriber_id: str,
    form: dict[str, list[str]],
    regions: Iterable[str],
    networks: Iterable[str],
) -> Preference:
    """The preferences page's form, keeping only slugs the taxonomy knows."""
    frequency = (form.get("frequency") or ["weekly"])[-1]
    return Preference(
        subscriber_id,
        frozenset(form.get("region", [])) & frozenset(regions),
        frozenset(form.get("network", [])) & frozenset(networks),
        frequency if frequency in FREQUENCIES else "weekly",
    )
