"""What the CLI commands do, composed from the library: load config, lock, run, index, send."""

from __future__ import annotations

import json
import logging
import os
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from sotewatch.pipeline.config import DEFAULT_SOURCES, SourcesConfig, load_sources
from sotewatch.pipeline.delivery.mailsetup import (
    default_subscribers,
    mail_warnings,
    subscribers_to_send,
)
from sotewatch.pipeline.errors import EXIT_SOURCES_FAILED
from sotewatch.pipeline.runs.lock import run_lock
from sotewatch.pipeline.runs.run import RunReport, run_sources
from sotewatch.pipeline.runs.sourcestate import SourceState, alarming_failures, read_states
from sotewatch.pipeline.storage.store import Store
from sotewatch.pipeline.tagging.tag import Tagger
from sotewatch.pipeline.tagging.taxonomy import Taxonomy, load_taxonomy
from sotewatch.scrapers import REGISTRY

if TYPE_CHECKING:  # sotewatch.pipeline.delivery.deliver (mail, rendering) is imported only to send
    from sotewatch.pipeline.delivery.deliver import DeliveryReport

log = logging.getLogger("sotewatch")


@dataclass(frozen=True)
class RunRequest:
    db: Path
    sources: Path | None = None
    force: bool = False
    only: tuple[str, ...] = ()
    send: bool = True
    per_host_delay: float | None = None
    per_host_limit: int | None = None
    site: str | None = None  # replaces {site} in a sources file (the demo's local server)
    subscribers: Path | None = None  # None: subscribers.toml beside the database, if any


def load_config(sources: Path | None, taxonomy: Taxonomy, site: str | None = None) -> SourcesConfig:
    """Sources checked against the taxonomy's slugs and the known scraper families
    (by name: no family module is imported to check a name)."""
    return load_sources(
        sources or DEFAULT_SOURCES,
        site=site,
        regions={r.slug for r in taxonomy.regions},
        networks={n.slug for n in taxonomy.networks},
        families=set(REGISTRY),
    )


def taxonomy_rows(taxonomy: Taxonomy) -> tuple[list[dict], list[dict]]:
    """The taxonomy as the `regions` and `networks` tables Datasette shows."""
    regions = [
        {
            "slug": r.slug,
            "name_fi": r.name_fi,
            "name_sv": r.name_sv,
            "brands": json.dumps(list(getattr(r, "brands", ())), ensure_ascii=False),
            "kind": getattr(r, "kind", "county"),
        }
        for r in taxonomy.regions
    ]
    networks = [
        {
            "slug": n.slug,
            "name": n.name,
            "aliases": json.dumps(list(getattr(n, "aliases", ())), ensure_ascii=False),
        }
        for n in taxonomy.networks
    ]
    return regions, networks


def prepare_store(db: Path, taxonomy: Taxonomy) -> Store:
    store = Store.open(db)
    store.sync_taxonomy(*taxonomy_rows(taxonomy))
    return store


@dataclass
class RunOutcome:
    report: RunReport
    delivery: DeliveryReport | None = None  # None when nothing was to be sent
    states: list[SourceState] = field(default_factory=list)  # each source after the run
    alarms: list[str] = field(default_factory=list)  # pages newly failing or now failing_after
    failing_after: int = 3


def run_command(request: RunRequest) -> RunOutcome:
    """`sotewatch run`: fetch what is due, store, diff, tag, index; send the due digests."""
    taxonomy = load_taxonomy()
    config = load_config(request.sources, taxonomy, request.site)
    if request.only:
        config = config.only(list(request.only))
    # before any fetch: a run that cannot send to anyone says so at once
    subscribers = None
    if request.send:
        subscribers = subscribers_to_send(
            request.subscribers, default_subscribers(request.db), os.environ
        )
    settings = config.settings
    if request.per_host_delay is not None:
        settings = replace(settings, per_host_delay=request.per_host_delay)
    if request.per_host_limit is not None:
        settings = replace(settings, per_host_limit=request.per_host_limit)
    with run_lock(request.db):
        store = prepare_store(request.db, taxonomy)
        try:
            from sotewatch.pipeline.ops.logs import progress_hook

            tick, close = progress_hook()
            tagger = Tagger(taxonomy)
            try:
                report = run_sources(
                    store,
                    config,
                    tagger,
                    settings=settings,
                    force=request.force or bool(request.only),
                    progress=tick,
                )
            finally:
                close()
            states = read_states(store.conn, config.sources)
            failed_urls = [url for _, url, _ in report.errors]
            alarms = alarming_failures(store.conn, failed_urls, settings.failing_after)
            # the exit code the CLI gives, for `status` (a page still down is not news)
            store.finish_run(report.run_id, exit_code=EXIT_SOURCES_FAILED if alarms else 0)
        finally:
            store.close()
        delivery = _send(request, subscribers) if request.send else None
    return RunOutcome(report, delivery, states, alarms, settings.failing_after)


def _send(request: RunRequest, subscribers: Path | None) -> DeliveryReport | None:
    """The due digests, after the run's data is stored (so a failed send loses nothing)."""
    from sotewatch.pipeline.delivery.send import send_due

    if subscribers is None:
        log.info(
            "no subscribers file at %s, no mail set up: nothing to send",
            default_subscribers(request.db),
        )
        return None
    return send_due(request.db, subscribers)


def index_search(store: Store) -> str:
    """`sotewatch index`: add what the runs stored to the full-text search index.

    Kept out of `sotewatch run` on purpose: lemmatising Finnish loads a dictionary,
    which the fetch-and-diff run itself never needs."""
    from sotewatch.pipeline.storage.search import index_new

    stats = index_new(store.db)
    return f"indexed {stats.snapshots} versions and {stats.changes} changes"


def check_config(
    sources: Path | None, subscribers_path: Path | None = None, db: Path = Path("sotewatch.db")
) -> list[str]:
    """`sotewatch check`: every config file loads; returns lines describing them, and
    warnings about mail that would go out with links no reader can open."""
    taxonomy = load_taxonomy()
    config = load_config(sources, taxonomy)
    lines = [
        f"taxonomy: {len(taxonomy.regions)} regions, {len(taxonomy.networks)} networks",
        f"{config.path}: {len(config.sources)} sources",
    ]
    for s in config.sources:
        lines.append(f"  {s.id:32} {s.family:9} {s.schedule:6} {s.url}")
    subscribers = subscribers_to_send(subscribers_path, default_subscribers(db), os.environ)
    if subscribers is not None:
        from sotewatch.pipeline.delivery.channels import load_channels
        from sotewatch.pipeline.delivery.subscribers import load_subscribers

        subs = load_subscribers(subscribers, taxonomy=taxonomy)
        lines.append(f"{subscribers}: {len(subs)} subscribers")
        channels = load_channels(subscribers, subs, taxonomy=taxonomy)  # Apprise URLs too
        if channels:
            lines.append(f"{subscribers}: {len(channels)} Apprise channels")
    else:
        lines.append(f"no subscribers file at {default_subscribers(db)}: `run` will send nothing")
    return lines + mail_warnings(os.environ)


def source_states(db: Path, sources: Path | None) -> tuple[list[SourceState], int]:
    """`sotewatch sources`: each configured source's state (none checked without a
    database), and the `failing_after` its health is judged by."""
    import sqlite3

    config = load_config(sources, load_taxonomy())
    failing_after = config.settings.failing_after
    if not db.exists():
        return read_states(None, config.sources), failing_after
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        return read_states(conn, config.sources), failing_after
    finally:
        conn.close()


def changes_text(db: Path, since: datetime | None) -> str:
    """`sotewatch changes`: the stored changes as the all-changes digest's text."""
    from sotewatch.pipeline.digests.digest import Names, load_changes
    from sotewatch.pipeline.digests.render import render_overview
    from sotewatch.pipeline.storage.store import open_db

    main = open_db(db)
    try:
        records = load_changes(main)
    finally:
        main.conn.close()
    if since is not None:
        start = since.strftime("%Y-%m-%dT%H:%M")
        records = [r for r in records if r.detected_at >= start]
    if not records:
        return "no changes" + (f" since {since:%Y-%m-%d %H:%M}" if since else "")
    return render_overview(records, Names.load()).text
