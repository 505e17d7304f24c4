"""Everything the pipeline publishes as files: the demo digest, per-reader digests,
an Atom feed per region and per network, and a static archive of past digests.

The archive is one page per day of changes, built from all changes (not from the
private per-subscriber digests), so publishing the output folder never reveals
who reads what.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import sqlite_utils

from sotewatch.pipeline.delivery.mail import MailSettings, build_message
from sotewatch.pipeline.delivery.subscribers import Follow, Subscriber
from sotewatch.pipeline.digests.digest import ChangeRecord, Names, build_digest, load_changes
from sotewatch.pipeline.digests.render import (
    DEFAULT_DATASETTE,
    RenderCache,
    SourceHealth,
    entry,
    environment,
    http_url,
    inline_css,
    render_digest,
    render_overview,
    subject_line,
    texts,
)

FEED_SIZE = 50
_SAFE = re.compile(r"[^a-z0-9-]+")
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")


@dataclass
class OutputPaths:
    digest: list[Path] = field(default_factory=list)  # digest.html, .txt, .eml
    subscribers: list[Path] = field(default_factory=list)
    feeds: list[Path] = field(default_factory=list)
    archive: list[Path] = field(default_factory=list)  # index.html first


def feed_xml(
    kind: str,
    slug: str,
    records: Sequence[ChangeRecord],
    *,
    names: Names,
    now: datetime,
    datasette_base: str = DEFAULT_DATASETTE,
    public_base: str = "",
    language: str = "fi",
    self_url: str = "",
) -> str:
    """An Atom feed of the newest changes concerning one region or network; `self_url`
    where it is served (browse), else <public_base>/feeds/<kind>-<slug>.xml."""
    t = texts()[language]
    label = names.region(slug, language) if kind == "region" else names.network(slug, language)
    mine = [r for r in records if slug in getattr(r.change, f"{kind}s")][-FEED_SIZE:][::-1]
    env = environment()
    part = env.get_template("_feed_entry.html")
    items = []
    for record in mine:
        e = entry(record, datasette_base)
        items.append({"entry": e, "updated": _rfc3339(record.detected_at, now), "html": ""})
        items[-1]["html"] = part.render(t=t, e=e)
    base = http_url(public_base.rstrip("/"))
    feed = env.get_template("feed.xml").render(
        lang=language,
        t=t,
        feed_id=f"tag:sotewatch,2024:feed/{kind}/{slug}",
        title=t[f"feed_{kind}"].format(name=label),
        updated=items[0]["updated"] if items else _rfc3339("", now),
        self_url=self_url or (f"{base}/feeds/{kind}-{slug}.xml" if base else ""),
        items=items,
    )
    # Extraction removes control characters; a version stored before it did may still
    # hold one, and one would make the whole feed invalid XML.
    return _NOT_XML.sub("", feed)


def write_feeds(
    out_dir: Path,
    records: Sequence[ChangeRecord],
    *,
    names: Names,
    now: datetime,
    datasette_base: str = DEFAULT_DATASETTE,
    public_base: str = "",
) -> list[Path]:
    """out/feeds/region-<slug>.xml and network-<slug>.xml, for every known slug (a reader
    can subscribe before anything happened) and every slug a change carries."""
    folder = out_dir / "feeds"
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for kind in ("region", "network"):
        known = list(names.regions if kind == "region" else names.networks)
        seen = {s for r in records for s in getattr(r.change, f"{kind}s")}
        for slug in known + sorted(seen - set(known)):
            if _SAFE.sub("", slug) != slug:
                continue  # never a file name from an odd slug
            xml = feed_xml(
                kind,
                slug,
                records,
                names=names,
                now=now,
                datasette_base=datasette_base,
                public_base=public_base,
            )
            path = folder / f"{kind}-{slug}.xml"
            path.write_text(xml, encoding="utf-8")
            paths.append(path)
    return paths


def write_archive(
    out_dir: Path,
    records: Sequence[ChangeRecord],
    *,
    names: Names,
    datasette_base: str = DEFAULT_DATASETTE,
    language: str = "fi",
) -> list[Path]:
    """out/archive/<day>.html per day with changes, and index.html (newest first)."""
    folder = out_dir / "archive"
    folder.mkdir(parents=True, exist_ok=True)
    days: dict[str, list[ChangeRecord]] = {}
    for record in records:
        days.setdefault(record.detected_at[:10] or "undated", []).append(record)
    pages, paths, cache = [], [], RenderCache()
    for day in sorted(days, reverse=True):
        digest = build_digest(days[day], Follow.everything(), language, names)
        rendered = render_digest(
            digest,
            names=names,
            datasette_base=datasette_base,
            period=day,
            cache=cache,
            template="archive_digest",
        )
        path = folder / f"{_SAFE.sub('-', day.lower())}.html"
        path.write_text(rendered.html, encoding="utf-8")
        paths.append(path)
        pages.append({"href": path.name, "period": day, "subject": subject_line(digest, names)})
    t = texts()[language]
    html = environment().get_template("archive_index.html").render(lang=language, t=t, pages=pages)
    index = folder / "index.html"
    index.write_text(inline_css(html), encoding="utf-8")
    return [index, *paths]


def write_outputs(
    out_dir: Path,
    main_db: sqlite_utils.Database,
    *,
    changes: Sequence[ChangeRecord] | None = None,
    subscribers: Sequence[Subscriber] = (),
    names: Any = None,
    now: datetime | None = None,
    datasette_base: str = DEFAULT_DATASETTE,
    health: Sequence[SourceHealth | tuple[str, int, str]] = (),
    settings: MailSettings | None = None,
    public_base: str = "",
) -> OutputPaths:
    """What `sotewatch demo` and `sotewatch digest` write: digest.html/.txt/.eml for
    `changes` (default: every stored change), one digest per subscriber under
    subscribers/, the feeds and the archive (both always from every stored change)."""
    names = Names.of(names)
    now = now or datetime.now(UTC)
    settings = settings or MailSettings()
    everything = load_changes(main_db)
    chosen = everything if changes is None else list(changes)
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = OutputPaths()
    overview = render_overview(chosen, names, datasette_base=datasette_base, health=health)
    paths.digest = _write_mail(out_dir / "digest", overview, settings, now, settings.sender, "")
    for subscriber in subscribers:
        digest = build_digest(chosen, subscriber.follow, subscriber.language, names)
        header, url = settings.unsubscribe_targets(subscriber.id)
        rendered = render_digest(
            digest,
            names=names,
            datasette_base=datasette_base,
            health=health,
            subscriber=subscriber,
            unsubscribe=url,
        )
        stem = out_dir / "subscribers" / _SAFE.sub("-", subscriber.id.lower())
        paths.subscribers += _write_mail(
            stem, rendered, settings, now, subscriber.email, subscriber.name, header
        )
    paths.feeds = write_feeds(
        out_dir,
        everything,
        names=names,
        now=now,
        datasette_base=datasette_base,
        public_base=public_base,
    )
    paths.archive = write_archive(out_dir, everything, names=names, datasette_base=datasette_base)
    return paths


def _write_mail(
    stem: Path,
    rendered,
    settings: MailSettings,
    now: datetime,
    to_addr: str,
    to_name: str,
    unsubscribe: str = "",
) -> list[Path]:
    stem.parent.mkdir(parents=True, exist_ok=True)
    message = build_message(
        subject=rendered.subject,
        html=rendered.html,
        text=rendered.text,
        to_addr=to_addr,
        to_name=to_name,
        settings=settings,
        date=now,
        list_unsubscribe=unsubscribe or settings.unsubscribe_targets("all")[0],
    )
    files = [
        (stem.with_suffix(".html"), rendered.html.encode("utf-8")),
        (stem.with_suffix(".txt"), rendered.text.encode("utf-8")),
        (stem.with_suffix(".eml"), message.as_bytes()),
    ]
    for path, data in files:
        path.write_bytes(data)
    return [path for path, _ in files]


def _rfc3339(stamp: str, now: datetime) -> str:
    """A stored ISO time as Atom wants it (always with a zone); `now` when missing."""
    try:
        moment = datetime.fromisoformat(stamp.replace("Z", "+00:00"))
    except ValueError:
        moment = now
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
