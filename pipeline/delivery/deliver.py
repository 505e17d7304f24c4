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
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import sqlite_utils

from sotewatch.pipeline.delivery.mail import Mailer, MailSettings, build_message
from sotewatch.pipeline.delivery.preferences import apply_preferences, load_preferences
from sotewatch.pipeline.delivery.refusals import PERMANENT, PERMANENT_TRIES, refused_for_good
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
from sotewatch.pipeline.storage.transaction import immediate, inserted_id

_DONE = "('sent', 'empty')"  # a digest with either delivery status is closed


def state_path_for(main_db: Path | str) -> Path:
    """sotewatch.db -> sotewatch-private.db, beside it (and outside what Datasette serves).

    Found from the real path, so `send` through a symlink uses the same delivery state.
    """
    path = Path(os.path.realpath(main_db))
    return path.with_name(f"{path.stem}-private.db")


def due(subscriber: Subscriber, last_sent_at: datetime | None, now: datetime) -> bool:
    """Daily: once per calendar day. Weekly: once since the latest `weekday` (today included).

    Dates are taken in `now`'s time zone, so a cron run at 07:00 Helsinki time
    counts as that Helsinki day. A reader never sent anything is due at once.
    """
    if last_sent_at is None:
        return True
    now, last_sent_at = _aware(now), _aware(last_sent_at)
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
               (select 1 from deliveries where digest_id = d.id and status in {_DONE})
               order by id limit 1""",
            [subscriber_id],
        )
        return next(iter(rows), None)

    def last_sent(self, subscriber_id: str) -> tuple[int, datetime] | None:
        """(last_change_id, when it was sent) of the reader's newest delivered digest."""
        row = self.db.execute(
            f"""select d.last_change_id, max(x.at) from digests d
               join deliveries x on x.digest_id = d.id and x.status in {_DONE}
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
            raise _Unrecorded(str(exc)) from exc

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


class _Unrecorded(Exception):
    """The server accepted a message whose "sent" could not be committed."""


def _storage_error(
    exc: Exception, path: Path | str, subscriber: Subscriber, report: DeliveryReport
) -> Exception:
    """A full disk (or kin) while delivering as a StorageError saying what it means for
    the reader; any other exception as it is."""
    from sotewatch.pipeline.storage.storagefail import storage_failure

    failure = storage_failure(exc)
    if failure is None and isinstance(exc, _Unrecorded):
        failure = str(exc)  # whatever kept "sent" from being written, the reader must know
    if failure is None:
        return exc
    done = f" ({len(report.sent)} digest(s) sent and recorded before)" if report.sent else ""
    if isinstance(exc, _Unrecorded):
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
    if pending is not None:
        delivery_id = run.state.start_attempt(pending, _iso(run.now))
        outcome = Outcome(subscriber.id, pending["id"], pending["changes"], pending["subject"])
        _send(run, subscriber, pending["message"], delivery_id, outcome, report, "retry")
        return
    last = run.state.last_sent(subscriber.id)
    if not force and not due(subscriber, last[1] if last else None, run.now):
        report.skipped.append(Outcome(subscriber.id, reason="not due"))
        return
    after_id = last[0] if last else 0
    built = _build(run, subscriber, after_id)
    if built is None:
        if run.until_id > after_id:
            run.state.record_nothing(_nothing(subscriber, after_id, run), _iso(run.now))
        report.skipped.append(Outcome(subscriber.id, reason="no changes"))
        return
    row, message = built
    digest_id, delivery_id = run.state.record_digest(row, _iso(run.now))
    outcome = Outcome(subscriber.id, digest_id, row["changes"], row["subject"])
    _send(run, subscriber, message, delivery_id, outcome, report, "")


def _nothing(subscriber: Subscriber, after_id: int, run: _Run) -> dict[str, Any]:
    """The digests row of a window that had nothing for the reader."""
    return {
        "subscriber_id": subscriber.id,
        "period": period_label(subscriber, run.now),
        "first_change_id": after_id + 1,
        "last_change_id": run.until_id,
        "changes": 0,
        "created": _iso(run.now),
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
    row = {
        "subscriber_id": subscriber.id,
        "period": period,
        "first_change_id": after_id + 1,
        "last_change_id": run.until_id,
        "changes": digest.count,
        "created": _iso(run.now),
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
        with run.state.sending(delivery_id, _iso(run.now)):
            run.mailer.send(message, run.settings.sender, [subscriber.email])
            report.sent.append(_with(outcome, reason))
    except DeliveryError as exc:
        error = (PERMANENT if isinstance(exc, PermanentDeliveryError) else "") + str(exc)
        run.state.finish(delivery_id, "failed", _iso(run.now), error)
        report.failed.append(_with(outcome, error))


def _with(outcome: Outcome, reason: str) -> Outcome:
    return Outcome(
        outcome.subscriber_id, outcome.digest_id, outcome.changes, outcome.subject, reason
    )


def _aware(moment: datetime) -> datetime:
    """A naive time is taken as UTC, so stored and given times always compare."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _iso(moment: datetime) -> str:
    return _aware(moment).isoformat(timespec="seconds")


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
            """select min(sent) from (
                 select d.subscriber_id, coalesce(max(case when x.status in ('sent', 'empty')
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


def source_health(main_db: sqlite_utils.Database, failing_after: int = 3) -> list[SourceHealth]:
    """Sources with a page that failed `failing_after` or more fetches in a row, worst
    first, with the latest error: the digest's "source health" note."""
    rows = main_db.execute(
        """select coalesce(s.name, p.source_id), max(p.failures),
                  (select f.error from fetches f where f.source_id = p.source_id
                     and coalesce(f.error, '') != '' order by f.id desc limit 1)
           from pages p left join sources s on s.id = p.source_id
           where p.status = 'active' and p.failures >= ?
           group by p.source_id order by 2 desc, 1""",
        [failing_after],
    ).fetchall()
    failing = [SourceHealth(label, int(failures), error or "") for label, failures, error in rows]
    return failing + thin_health(main_db)


def thin_health(main_db: sqlite_utils.Database) -> list[SourceHealth]:
    """Sources with pages read whole (thin extraction): their changes are all the page's
    text, chrome too, until `include` says where the content is. No failures; the
    pages' URLs as the note's detail (the templates say what it means)."""
    rows = main_db.execute(
        """select coalesce(s.name, p.source_id), group_concat(p.url, ' ')
           from pages p left join sources s on s.id = p.source_id
             join snapshots n on n.id = (select max(id) from snapshots where page_id = p.id)
           where p.status = 'active' and json_extract(n.document, '$.extraction') = 'thin'
           group by p.source_id order by 1"""
    ).fetchall()
    return [SourceHealth(label, 0, urls) for label, urls in rows]


def write_demo_outputs(
    main_db: sqlite_utils.Database,
    db_path: Path,
    out: Path,
    subscribers_path: Path,
    *,
    now: datetime | None = None,
) -> list[Path]:
    """`sotewatch demo`: digest.html/.txt/.eml, one digest per sample subscriber, the
    feeds and the archive (sotewatch.pipeline.digests.feeds.write_outputs), then a dry-run delivery
    through the exactly-once path into OUT/outbox/*.eml. Returns the paths to print."""
    from sotewatch.pipeline.delivery.mail import DryRunMailer
    from sotewatch.pipeline.delivery.subscribers import load_subscribers
    from sotewatch.pipeline.digests.feeds import write_outputs

    now = now or datetime.now(UTC)
    names = Names.load()
    subscribers: tuple[Subscriber, ...] = ()
    if subscribers_path.exists():
        from sotewatch.pipeline.tagging.taxonomy import load_taxonomy

        subscribers = load_subscribers(subscribers_path, taxonomy=load_taxonomy())
    health = source_health(main_db)
    base = os.environ.get("SOTEWATCH_DATASETTE_URL", DEFAULT_DATASETTE)
    paths = write_outputs(
        out, main_db, subscribers=subscribers, names=names, now=now, datasette_base=base,
        health=health,
    )  # fmt: skip
    outbox = out / "outbox"
    report = deliver_due(
        main_db, state_path_for(db_path), subscribers, DryRunMailer(outbox), now=now,
        datasette_base=base, health=health, names=names, settings=MailSettings(),
    )  # fmt: skip
    report.raise_for_failures()
    readers = [p for p in paths.subscribers if p.suffix == ".html"]
    return [*paths.digest, *readers, out / "feeds", paths.archive[0], outbox]


def send_due(
    db_path: Path,
    subscribers_path: Path,
    *,
    dry_run: Path | None = None,
    force: bool = False,
    now: datetime | None = None,
) -> DeliveryReport:
    """`sotewatch send [--dry-run DIR]` and the end of `sotewatch run`: every due digest,
    by SMTP from SOTEWATCH_SMTP_* (or as .eml files in DIR), links to SOTEWATCH_DATASETTE_URL."""
    from sotewatch.pipeline.delivery.channels import (
        AppriseNotifier,
        DryRunNotifier,
        deliver_channels,
        load_channels,
    )
    from sotewatch.pipeline.delivery.mail import DryRunMailer, SMTPMailer, SMTPSettings
    from sotewatch.pipeline.delivery.subscribers import load_subscribers
    from sotewatch.pipeline.storage.store import open_db
    from sotewatch.pipeline.tagging.taxonomy import load_taxonomy

    subscribers = load_subscribers(subscribers_path, taxonomy=load_taxonomy())
    channels = load_channels(subscribers_path, subscribers, taxonomy=load_taxonomy())
    settings = MailSettings.from_env()
    if dry_run or not subscribers:  # channels alone need no SMTP server
        mailer: Mailer = DryRunMailer(dry_run or Path("."))
    else:
        mailer = SMTPMailer(SMTPSettings.from_env())
    main_db = open_db(db_path)
    try:
        with _state_for(db_path, dry_run=dry_run is not None) as state:
            report = deliver_due(
                main_db, state, subscribers, mailer, now=now or datetime.now(UTC),
                datasette_base=os.environ.get("SOTEWATCH_DATASETTE_URL", DEFAULT_DATASETTE),
                health=source_health(main_db), force=force, settings=settings,
            )  # fmt: skip
            if channels:  # Teams, Slack, webhooks...: pipeline/delivery/channels.py
                notifier = DryRunNotifier(dry_run) if dry_run else AppriseNotifier()
                more = deliver_channels(
                    main_db, state, channels, notifier, now=now or datetime.now(UTC),
                    datasette_base=os.environ.get("SOTEWATCH_DATASETTE_URL", DEFAULT_DATASETTE),
                    force=force,
                )  # fmt: skip
                report.sent += more.sent
                report.skipped += more.skipped
                report.failed += more.failed
            return report
    finally:
        main_db.conn.close()


@contextmanager
def _state_for(db_path: Path, *, dry_run: bool) -> Iterator[Path]:
    """The private state database a delivery records into. A dry run gets a throwaway
    copy, so it shows exactly what a real send would (unsent digests included) and
    records nothing: the real send afterwards still delivers every change."""
    state = state_path_for(db_path)
    if not dry_run:
        yield state
        return
    with tempfile.TemporaryDirectory(prefix="sotewatch-dry-run-") as tmp:
        copy = Path(tmp) / state.name
        if state.exists():
            source = sqlite3.connect(f"file:{state}?mode=ro", uri=True)
            target = sqlite3.connect(copy)
            try:
                source.backup(target)
            finally:
                target.close()
                source.close()
        yield copy
