"""Each subscriber gets every change that concerns them, exactly once.

The private state database (`<main>-private.db`, never served by Datasette) keeps
`digests` (what was built for whom, the window of change ids it covers, the
finished message bytes) and `deliveries` (every attempt: pending, sent, failed).

    window  = (last SENT digest's last_change_id, newest change id now]
              (a window with nothing for the reader is closed as "empty": no mail,
              but their next window starts after it, and prune may move on)
    build   -> record digest + delivery "pending" (one transaction)
            -> SMTP -> mark "sent" | "failed"
    next run: a digest without a "sent" delivery is re-sent byte for byte (same
              Message-ID), never rebuilt; only then does the window move on.

So a failed or killed run delays a change but never drops it, and never sends
a digest twice, with one window left: if the server accepted a message and the
process died before "sent" was committed, the next run sends the same bytes
again. Its Message-ID is the same, so mail clients and Gmail show it once: the
guarantee is at-most-once *visible*, exactly-once recorded.

"sent" is written before the message goes (uncommitted while the server takes
it), so a full disk is found before a byte is sent; if the commit itself fails
after the server accepted the message, delivery stops with a StorageError that
names the reader and the Message-ID, rather than going on as if nothing happened.

The tables are behind `delivery.statedb.StateDB`; `delivery.send` is the command's side
(settings from the environment, the mailer, channels, the demo's outputs).
"""

from __future__ import annotations

import dataclasses
import os
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import sqlite_utils

from sotewatch.pipeline.delivery.mail import Mailer, MailSettings, build_message
from sotewatch.pipeline.delivery.preferences import apply_preferences, load_preferences
from sotewatch.pipeline.delivery.refusals import DONE, PERMANENT, PERMANENT_TRIES
from sotewatch.pipeline.delivery.statedb import StateDB, Unrecorded
from sotewatch.pipeline.delivery.streams import (
    DeliveryReport,
    Outcome,
    Stream,
    iso,
    period_label,
    take_turn,
)
from sotewatch.pipeline.delivery.subscribers import Subscriber
from sotewatch.pipeline.delivery.unsubscribe import optouts
from sotewatch.pipeline.digests.digest import (
    ChangeRecord,
    Names,
    build_digest,
    load_changes,
    newest_change_id,
)
from sotewatch.pipeline.digests.render import (
    DEFAULT_DATASETTE,
    RenderCache,
    SourceHealth,
    render_digest,
)
from sotewatch.pipeline.errors import DeliveryError, PermanentDeliveryError, StorageError


def state_path_for(main_db: Path | str) -> Path:
    """sotewatch.db -> sotewatch-private.db, beside it (and outside what Datasette serves).

    Found from the real path, so `send` through a symlink uses the same delivery state.
    """
    path = Path(os.path.realpath(main_db))
    return path.with_name(f"{path.stem}-private.db")


@dataclass(frozen=True)
class _Run:
    """What every subscriber's turn in one `deliver_due` call shares."""

    state: StateDB
    mailer: Mailer
    settings: MailSettings
    names: Names
    now: datetime
    datasette_base: str
    health: Sequence[SourceHealth | tuple[str, int, str]]
    changes: Sequence[ChangeRecord]
    until_id: int
    send_empty: bool
    cache: RenderCache


def deliver_due(
    main_db: sqlite_utils.Database,
    state_db_path: Path | str,
    subscribers: Sequence[Subscriber],
    mailer: Mailer,
    *,
    now: datetime,
    datasette_base: str = DEFAULT_DATASETTE,
    health: Sequence[SourceHealth | tuple[str, int, str]] = (),
    force: bool = False,
    send_empty: bool = False,
    names: Any = None,
    settings: MailSettings | None = None,
) -> DeliveryReport:
    """Send every due digest (and re-send every unsent one); one reader's failure
    never stops the others. `force` ignores the schedule, never the window."""
    state = StateDB(state_db_path)
    subscribers = apply_preferences(subscribers, load_preferences(state_db_path))  # readers' own
    until_id = newest_change_id(main_db)
    starts = [_window_start(state, s) for s in subscribers]
    run = _Run(
        state=state,
        mailer=mailer,
        settings=settings or MailSettings.from_env(),
        names=Names.of(names),
        now=now,
        datasette_base=datasette_base,
        health=health,
        changes=load_changes(main_db, min(starts, default=0), until_id),
        until_id=until_id,
        send_empty=send_empty,
        cache=RenderCache(),
    )
    report = DeliveryReport()
    left = optouts(state_db_path)  # readers who unsubscribed get nothing, not even a retry
    try:
        for subscriber in subscribers:
            if subscriber.id in left:
                report.skipped.append(Outcome(subscriber.id, reason="unsubscribed"))
                continue
            try:
                _turn(run, subscriber, force, report)
            except Exception as exc:
                raise _storage_error(exc, state_db_path, subscriber, report) from exc
    finally:
        mailer.close()
        state.close()
    return report


def _storage_error(
    exc: Exception, path: Path | str, subscriber: Subscriber, report: DeliveryReport
) -> Exception:
    """A full disk (or kin) while delivering as a StorageError saying what it means for
    the reader; any other exception as it is."""
    from sotewatch.pipeline.storage.storagefail import storage_failure

    failure = storage_failure(exc)
    if failure is None and isinstance(exc, Unrecorded):
        failure = str(exc)  # whatever kept "sent" from being written, the reader must know
    if failure is None:
        return exc
    done = f" ({len(report.sent)} digest(s) sent and recorded before)" if report.sent else ""
    if isinstance(exc, Unrecorded):
        outcome = report.sent[-1]
        return StorageError(
            f"{path}: {failure}: the mail server ACCEPTED digest {outcome.digest_id} for "
            f"{subscriber.id} but it could not be recorded as sent; free space before the "
            f"next run, which would send it again (same Message-ID){done}"
        )
    return StorageError(
        f"{path}: {failure}: delivery stopped at {subscriber.id}, nothing unrecorded sent{done}"
    )


def _window_start(state: StateDB, subscriber: Subscriber) -> int:
    last = state.last_sent(subscriber.id)
    return last[0] if last else 0


def _turn(run: _Run, subscriber: Subscriber, force: bool, report: DeliveryReport) -> None:
    pending = run.state.unsent(subscriber.id)
    refused = run.state.refusals(pending["id"], subscriber.email) if pending else []
    if pending is not None and len(refused) >= PERMANENT_TRIES:
        reason = f"failing: {subscriber.email} refused for good {len(refused)} times, not retried"
        report.skipped.append(
            Outcome(subscriber.id, pending["id"], reason=f"{reason} ({refused[0]})")
        )
        return
    stream = Stream(
        subscriber,
        build=lambda after_id: _build(run, subscriber, after_id),
        empty_row=lambda after_id: _nothing(subscriber, after_id, run),
        send=lambda message, delivery_id, outcome, reason: _send(
            run, subscriber, message, delivery_id, outcome, report, reason
        ),
    )
    take_turn(run.state, stream, now=run.now, until_id=run.until_id, force=force, report=report)


def _nothing(subscriber: Subscriber, after_id: int, run: _Run) -> dict[str, Any]:
    """The digests row of a window that had nothing for the reader (and the base of
    one that had something: `_build` adds the count, subject and message)."""
    return {
        "subscriber_id": subscriber.id,
        "period": period_label(subscriber, run.now),
        "first_change_id": after_id + 1,
        "last_change_id": run.until_id,
        "changes": 0,
        "created": iso(run.now),
        "subject": "",
        "message_id": "",
        "message": None,
    }


def _build(run: _Run, subscriber: Subscriber, after_id: int) -> tuple[dict, bytes] | None:
    """Render and wrap this reader's digest for (after_id, until_id]; None if nothing to say."""
    records = [r for r in run.changes if after_id < r.id <= run.until_id]
    digest = build_digest(records, subscriber.follow, subscriber.language, run.names)
    if digest.empty and not run.send_empty:
        return None
    header, footer_url = run.settings.unsubscribe_targets(subscriber.id)
    period = period_label(subscriber, run.now)
    rendered = render_digest(
        digest,
        names=run.names,
        datasette_base=run.datasette_base,
        health=run.health,
        subscriber=subscriber,
        unsubscribe=footer_url,
        period=period,
        cache=run.cache,
    )
    msg = build_message(
        subject=rendered.subject,
        html=rendered.html,
        text=rendered.text,
        to_addr=subscriber.email,
        to_name=subscriber.name,
        settings=run.settings,
        date=run.now,
        list_unsubscribe=header,
    )
    message = msg.as_bytes()
    row = _nothing(subscriber, after_id, run) | {
        "changes": digest.count,
        "subject": rendered.subject,
        "message_id": msg.message_id,
        "message": message,
    }
    return row, message


def _send(
    run: _Run,
    subscriber: Subscriber,
    message: bytes,
    delivery_id: int,
    outcome: Outcome,
    report: DeliveryReport,
    reason: str,
) -> None:
    try:
        with run.state.sending(delivery_id, iso(run.now)):
            run.mailer.send(message, run.settings.sender, [subscriber.email])
            report.sent.append(dataclasses.replace(outcome, reason=reason))
    except DeliveryError as exc:
        error = (PERMANENT if isinstance(exc, PermanentDeliveryError) else "") + str(exc)
        run.state.finish(delivery_id, "failed", iso(run.now), error)
        report.failed.append(dataclasses.replace(outcome, reason=error))


def delivered_watermark(state_db_path: Path | str) -> int | None:
    """The highest change id every recorded subscriber has been sent (for status/prune).

    A subscriber with a digest that was never delivered holds it at 0: nothing
    they have not been sent may be pruned. None when there is no state database.
    """
    path = Path(state_db_path)
    if not path.exists():
        return None
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        row = conn.execute(
            f"""select min(sent) from (
                 select d.subscriber_id, coalesce(max(case when x.status in {DONE}
                        then d.last_change_id end), 0) as sent
                 from digests d left join deliveries x on x.digest_id = d.id
                 group by d.subscriber_id)"""
            + _not_left(conn)
        ).fetchone()
    except sqlite3.Error:
        return None
    finally:
        conn.close()
    return int(row[0]) if row and row[0] is not None else None


def _not_left(conn: sqlite3.Connection) -> str:
    """Readers who unsubscribed (and their channel copies, "id#...") hold nothing back."""
    if not conn.execute("select 1 from sqlite_master where name = 'optouts'").fetchone():
        return ""
    return """ where subscriber_id not in (select subscriber_id from optouts)
               and substr(subscriber_id, 1, instr(subscriber_id || '#', '#') - 1)
                   not in (select subscriber_id from optouts)"""
