"""`sotewatch send`, the end of `sotewatch run` and the demo's outputs: the digests due,
delivered through `delivery.deliver`'s exactly-once path."""

from __future__ import annotations

import os
import sqlite3
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import sqlite_utils

from sotewatch.pipeline.delivery.deliver import DeliveryReport, deliver_due, state_path_for
from sotewatch.pipeline.delivery.mail import Mailer, MailSettings
from sotewatch.pipeline.delivery.subscribers import Subscriber
from sotewatch.pipeline.digests.health import source_health
from sotewatch.pipeline.digests.render import DEFAULT_DATASETTE, Names


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

    taxonomy = load_taxonomy()
    subscribers = load_subscribers(subscribers_path, taxonomy=taxonomy)
    channels = load_channels(subscribers_path, subscribers, taxonomy=taxonomy)
    settings = MailSettings.from_env()
    if dry_run or not subscribers:  # channels alone need no SMTP server
        mailer: Mailer = DryRunMailer(dry_run or Path("."))
    else:
        mailer = SMTPMailer(SMTPSettings.from_env())
    now = now or datetime.now(UTC)
    base = os.environ.get("SOTEWATCH_DATASETTE_URL", DEFAULT_DATASETTE)
    main_db = open_db(db_path)
    try:
        with _state_for(db_path, dry_run=dry_run is not None) as state:
            report = deliver_due(
                main_db, state, subscribers, mailer, now=now, datasette_base=base,
                health=source_health(main_db), force=force, settings=settings,
            )  # fmt: skip
            if channels:  # Teams, Slack, webhooks...: pipeline/delivery/channels.py
                notifier = DryRunNotifier(dry_run) if dry_run else AppriseNotifier()
                more = deliver_channels(
                    main_db, state, channels, notifier, now=now, datasette_base=base,
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
