"""Digests beyond e-mail: Teams, Slack, Matrix, webhooks..., through Apprise URLs.

In subscribers.toml a reader may add `apprise = ["msteams://…"]` (their digest goes
there too), and a `[[channel]]` entry is a reader without an address:

    [[channel]]
    id = "lappi-teams"
    apprise = ["msteams://TOKEN_A/TOKEN_B/TOKEN_C/"]
    regions = ["lappi"]            # and language, networks, national, frequency, weekday

Each URL is its own delivery stream in the private state database, with the mail's
exactly-once bookkeeping (pipeline/delivery/deliver.py): the digest is recorded before it is
sent, re-sent byte for byte until a send succeeds, and only then does the window
move on. Stream ids cannot clash with reader ids, which allow neither ":" nor "#":
"channel:lappi-teams", "channel:lappi-teams#2", "lappi#apprise".

The URLs hold the services' secrets: they stay in the subscribers file, and errors
and logs show them as Apprise prints them with privacy on.
"""

from __future__ import annotations

import dataclasses
import json
import re
import tomllib
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol

import sqlite_utils

from sotewatch.pipeline.delivery.preferences import as_chosen, load_preferences
from sotewatch.pipeline.delivery.statedb import StateDB
from sotewatch.pipeline.delivery.streams import (
    DeliveryReport,
    Outcome,
    Stream,
    iso,
    period_label,
    take_turn,
)
from sotewatch.pipeline.delivery.subscribers import Subscriber, parse_subscriber
from sotewatch.pipeline.delivery.unsubscribe import optouts
from sotewatch.pipeline.digests.channel_digest import render_markdown
from sotewatch.pipeline.digests.digest import (
    ChangeRecord,
    Names,
    build_digest,
    load_changes,
    newest_change_id,
)
from sotewatch.pipeline.digests.render import DEFAULT_DATASETTE
from sotewatch.pipeline.errors import ConfigError, DeliveryError


@dataclass(frozen=True)
class Channel:
    stream: Subscriber  # the stream's id, and what it follows, in which language, how often
    url: str  # one Apprise URL
    owner: str = ""  # the reader whose unsubscribe also stops this stream ("" for [[channel]])
    label: str = ""  # the URL as it may be shown: secrets masked


class Notifier(Protocol):
    """Posts one digest to one Apprise URL; raises DeliveryError when it could not."""

    def send(self, channel: Channel, title: str, body: str) -> None: ...


def load_channels(
    path: Path, subscribers: Sequence[Subscriber] = (), *, taxonomy: Any = None
) -> tuple[Channel, ...]:
    """Every Apprise stream of a subscribers file: readers' `apprise` lists, then [[channel]]s."""
    text = path.read_text(encoding="utf-8")
    raw = tomllib.loads(text)
    result: list[Channel] = []
    for index, entry in enumerate(raw.get("subscriber", [])):
        if "apprise" in entry and index < len(subscribers):
            reader = subscribers[index]  # load_subscribers keeps the file's order
            where = f"{path}:{reader.line}"
            urls = _urls(entry["apprise"], where)
            result += _streams(reader, f"{reader.id}#apprise", urls, reader.id, where)
    known = _known(taxonomy)
    lines = _entry_lines(text)
    seen: set[str] = set()
    for index, entry in enumerate(raw.get("channel", [])):
        line = lines[index] if index < len(lines) else 0
        where = f"{path}:{line}"
        if not isinstance(entry, dict) or "id" not in entry:
            raise ConfigError(f"{where}: [[channel]] needs an 'id'")
        urls = _urls(entry.get("apprise"), where)
        fields = {k: v for k, v in entry.items() if k != "apprise"}
        stream = parse_subscriber(fields | {"email": "channel@localhost"}, where=where, known=known)
        stream = dataclasses.replace(stream, email="", line=line)
        if stream.id in seen:
            raise ConfigError(f"{where}: channel id {stream.id!r} is used twice")
        seen.add(stream.id)
        result += _streams(stream, f"channel:{stream.id}", urls, "", where)
    return tuple(result)


def describe_channels(channels: Sequence[Channel]) -> list[str]:
    """`sotewatch subscribers`: one line per Apprise stream, its URL masked."""
    return [f"{c.label:63} {c.stream.language}  {c.stream.follows_label}" for c in channels]


def _streams(
    follows: Subscriber, stream_id: str, urls: list[str], owner: str, where: str
) -> list[Channel]:
    streams = []
    for number, url in enumerate(urls, start=1):
        ident = stream_id if number == 1 else f"{stream_id}#{number}"
        stream = dataclasses.replace(follows, id=ident)
        streams.append(Channel(stream, url, owner, f"{ident} ({_masked(url, where)})"))
    return streams


def _urls(value: Any, where: str) -> list[str]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not value or not all(isinstance(v, str) for v in value):
        raise ConfigError(f"{where}: 'apprise' must be a list of Apprise URLs")
    for url in value:
        _masked(url, where)
    return value


def _masked(url: str, where: str) -> str:
    """The URL as Apprise shows it with secrets hidden; ConfigError if Apprise cannot use it."""
    apprise = _apprise()
    plugin = apprise.Apprise.instantiate(url)
    if plugin is None:
        scheme = url.split("://", 1)[0] if "://" in url else url[:12]
        raise ConfigError(
            f"{where}: {scheme!r}…: not an Apprise URL (see Apprise's list of services)"
        )
    return str(plugin.url(privacy=True))


def _known(taxonomy: Any) -> tuple[set[str] | None, set[str] | None]:
    if taxonomy is None:
        return None, None
    return {r.slug for r in taxonomy.regions}, {n.slug for n in taxonomy.networks}


def _entry_lines(text: str) -> list[int]:
    return [n for n, line in enumerate(text.splitlines(), 1) if line.strip() == "[[channel]]"]


def _apprise() -> Any:
    """Apprise and its plugins, loaded on first use (only runs with channels pay for it).

    Its e-mail plugin imports the stdlib's imghdr, deprecated in Python 3.11-3.12:
    that warning is Apprise's business, not our readers' or our tests'."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "'imghdr' is deprecated", DeprecationWarning)
        import apprise
        from apprise.manager_plugins import NotificationManager

        NotificationManager().load_modules()  # the plugins load here, not on first use
    return apprise


# -- sending -----------------------------------------------------------------------


class AppriseNotifier:
    """Sends through Apprise as Markdown; its own warnings become the error's reason."""

    def send(self, channel: Channel, title: str, body: str) -> None:
        apprise = _apprise()
        target = apprise.Apprise()
        if not target.add(channel.url):
            raise DeliveryError(f"{channel.label}: Apprise cannot use this URL")
        with apprise.LogCapture(level=apprise.logging.WARNING) as captured:
            ok = target.notify(body=body, title=title, body_format=apprise.NotifyFormat.MARKDOWN)
        if not ok:
            said = " ".join(captured.getvalue().split())[-300:]
            raise DeliveryError(f"{channel.label}: not delivered" + (f": {said}" if said else ""))


class DryRunNotifier:
    """`send --dry-run DIR`: each channel digest as DIR/<stream>-<period>.md."""

    def __init__(self, out_dir: Path) -> None:
        self.out_dir = out_dir
        self.written: list[Path] = []

    def send(self, channel: Channel, title: str, body: str) -> None:
        self.out_dir.mkdir(parents=True, exist_ok=True)
        stem = re.sub(r"[^A-Za-z0-9._-]+", "_", channel.stream.id)
        path = self.out_dir / f"{stem}-{len(self.written) + 1}.md"
        path.write_text(f"# {title}\n\n{body}", encoding="utf-8")
        self.written.append(path)


@dataclass(frozen=True)
class _Run:
    state: StateDB
    notifier: Notifier
    names: Names
    now: datetime
    datasette_base: str
    changes: Sequence[ChangeRecord]
    until_id: int


def deliver_channels(
    main_db: sqlite_utils.Database,
    state_db_path: Path | str,
    channels: Sequence[Channel],
    notifier: Notifier,
    *,
    now: datetime,
    datasette_base: str = DEFAULT_DATASETTE,
    names: Any = None,
    force: bool = False,
) -> DeliveryReport:
    """Every due channel digest, and every unsent one again; one failure stops no other."""
    state = StateDB(state_db_path)
    left = optouts(state_db_path)
    until_id = newest_change_id(main_db)
    starts = [(state.last_sent(c.stream.id) or (0, None))[0] for c in channels]
    run = _Run(
        state, notifier, Names.of(names), now, datasette_base,
        load_changes(main_db, min(starts, default=0), until_id), until_id,
    )  # fmt: skip
    report = DeliveryReport()
    chosen = load_preferences(state_db_path)  # a reader's own choice covers their channels too
    try:
        for channel in channels:
            if channel.owner and channel.owner in left:
                report.skipped.append(Outcome(channel.stream.id, reason="unsubscribed"))
                continue
            stream = as_chosen(channel.stream, chosen.get(channel.owner) if channel.owner else None)
            _turn(run, dataclasses.replace(channel, stream=stream), force, report)
    finally:
        state.close()
    return report


def _turn(run: _Run, channel: Channel, force: bool, report: DeliveryReport) -> None:
    stream = Stream(
        channel.stream,
        build=lambda after_id: _build(run, channel.stream, after_id),
        empty_row=lambda after_id: _row(channel.stream, after_id, run) | {"message": None},
        send=lambda message, delivery_id, outcome, reason: _send(
            run, channel, message, delivery_id, outcome, report, reason
        ),
    )
    take_turn(run.state, stream, now=run.now, until_id=run.until_id, force=force, report=report)


def _build(run: _Run, stream: Subscriber, after_id: int) -> tuple[dict[str, Any], bytes] | None:
    """The Markdown digest of (after_id, until_id] as stored and sent; None if empty."""
    records = [r for r in run.changes if after_id < r.id <= run.until_id]
    digest = build_digest(records, stream.follow, stream.language, run.names)
    if digest.empty:
        return None
    row = _row(stream, after_id, run)
    title, body = render_markdown(
        digest, run.names, datasette_base=run.datasette_base, period=row["period"]
    )
    message = json.dumps({"title": title, "body": body}, ensure_ascii=False).encode("utf-8")
    return row | {"changes": digest.count, "subject": title, "message": message}, message


def _row(stream: Subscriber, after_id: int, run: _Run) -> dict[str, Any]:
    period = period_label(stream, run.now)
    return {
        "subscriber_id": stream.id,
        "period": period,
        "first_change_id": after_id + 1,
        "last_change_id": run.until_id,
        "changes": 0,
        "created": iso(run.now),
        "subject": "",
        "message_id": f"{stream.id}/{period}/{after_id + 1}-{run.until_id}",
    }


def _send(
    run: _Run,
    channel: Channel,
    message: bytes,
    delivery_id: int,
    outcome: Outcome,
    report: DeliveryReport,
    reason: str,
) -> None:
    stored = json.loads(message)
    try:
        run.notifier.send(channel, stored["title"], stored["body"])
    except DeliveryError as exc:
        run.state.finish(delivery_id, "failed", iso(run.now), str(exc))
        report.failed.append(dataclasses.replace(outcome, reason=str(exc)))
        return
    run.state.finish(delivery_id, "sent", iso(run.now))
    report.sent.append(dataclasses.replace(outcome, reason=reason))
