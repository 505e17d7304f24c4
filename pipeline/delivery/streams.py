"""One delivery stream's turn, exactly once: shared by a reader's mail and a chat channel.

A stream is a reader's mail, or one Apprise URL. Its digests and their deliveries are
rows of the private state database (delivery/statedb.py); `take_turn` is the order in
which they are read and written, which is what makes a killed or failed send lose
nothing and repeat nothing the server did not lose.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sotewatch.pipeline.delivery.statedb import StateDB
from sotewatch.pipeline.delivery.subscribers import Subscriber
from sotewatch.pipeline.errors import DeliveryError


def due(subscriber: Subscriber, last_sent_at: datetime | None, now: datetime) -> bool:
    """Daily: once per calendar day. Weekly: once since the latest `weekday` (today included).

    Dates are taken in `now`'s time zone, so a cron run at 07:00 Helsinki time
    counts as that Helsinki day. A reader never sent anything is due at once.
    """
    if last_sent_at is None:
        return True
    now, last_sent_at = aware(now), aware(last_sent_at)
    last_day = last_sent_at.astimezone(now.tzinfo).date()
    today = now.date()
    if subscriber.frequency == "weekly":
        slot = today - timedelta(days=(today.weekday() - subscriber.weekday) % 7)
        return last_day < slot
    return last_day < today


def period_label(subscriber: Subscriber, now: datetime) -> str:
    if subscriber.frequency == "weekly":
        year, week, _ = now.isocalendar()
        return f"{year}-W{week:02d}"
    return now.date().isoformat()


@dataclass(frozen=True)
class Outcome:
    subscriber_id: str
    digest_id: int | None = None
    changes: int = 0
    subject: str = ""
    reason: str = ""  # why skipped or failed; "retry" for a re-sent digest


@dataclass
class DeliveryReport:
    sent: list[Outcome] = field(default_factory=list)
    skipped: list[Outcome] = field(default_factory=list)
    failed: list[Outcome] = field(default_factory=list)

    def raise_for_failures(self) -> None:
        """For the CLI: any failure is exit 4, after every subscriber had their turn."""
        if self.failed:
            detail = "; ".join(f"{o.subscriber_id}: {o.reason}" for o in self.failed)
            raise DeliveryError(f"{len(self.failed)} digest(s) not delivered: {detail}")


@dataclass(frozen=True)
class Stream:
    """What differs between a reader's mail and a chat channel in `take_turn`."""

    schedule: Subscriber  # the stream's id, and when it is due
    build: Callable[[int], tuple[dict[str, Any], bytes] | None]  # after id -> (row, message)
    empty_row: Callable[[int], dict[str, Any]]  # after id -> the row of an empty window
    send: Callable[[bytes, int, Outcome, str], None]  # message, delivery id, outcome, reason


def take_turn(
    state: StateDB,
    stream: Stream,
    *,
    now: datetime,
    until_id: int,
    force: bool,
    report: DeliveryReport,
) -> None:
    """One stream's turn, exactly once: an unsent digest goes again, byte for byte,
    before anything new; a stream not due waits; a window with nothing for it is
    recorded as empty, so it is not looked at again; a new digest is recorded before
    it is sent (`send` marks it sent only when the server took it)."""
    stream_id, at = stream.schedule.id, iso(now)
    pending = state.unsent(stream_id)
    if pending is not None:
        delivery_id = state.start_attempt(pending, at)
        outcome = Outcome(stream_id, pending["id"], pending["changes"], pending["subject"])
        stream.send(pending["message"], delivery_id, outcome, "retry")
        return
    last = state.last_sent(stream_id)
    if not force and not due(stream.schedule, last[1] if last else None, now):
        report.skipped.append(Outcome(stream_id, reason="not due"))
        return
    after_id = last[0] if last else 0
    built = stream.build(after_id)
    if built is None:
        if until_id > after_id:
            state.record_nothing(stream.empty_row(after_id), at)
        report.skipped.append(Outcome(stream_id, reason="no changes"))
        return
    row, message = built
    digest_id, delivery_id = state.record_digest(row, at)
    stream.send(
        message, delivery_id, Outcome(stream_id, digest_id, row["changes"], row["subject"]), ""
    )


def aware(moment: datetime) -> datetime:
    """A naive time is taken as UTC, so stored and given times always compare."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def iso(moment: datetime) -> str:
    return aware(moment).isoformat(timespec="seconds")
