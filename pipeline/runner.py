"""What the CLI commands do, composed from the library: load config, lock, run, index, send."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

from pipeline.config import DATA_DIR, DEFAULT_SOURCES, SourcesConfig, load_sources
from pipeline.lock import run_lock
from pipeline.run import RunReport, run_sources
from pipeline.store import Store
from pipeline.tag import Tagger
from pipeline.taxonomy import Taxonomy, load_taxonomy
from scrapers import REGISTRY

if TYPE_CHECKING:  # pipeline.deliver (mail, rendering) is imported only to send
    from pipeline.deliver import DeliveryReport

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
    subscribers: Path | None = None  # None: data/subscribers.toml if it exists


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


DEFAULT_SUBSCRIBERS = DATA_DIR / "subscribers.toml"


@dataclass
class RunOutcome:
    report: RunReport
    delivery: DeliveryReport | None = None  # None when nothing was to be sent


def run_command(request: RunRequest) -> RunOutcome:
    """`sotewatch run`: fetch what is due, store, diff, tag, index; send the due digests."""
    taxonomy = load_taxonomy()
    config = load_config(request.sources, taxonomy, request.site)
    if request.only:
        config = config.only(list(request.only))
    settings = config.settings
    if request.per_host_delay is not None:
        settings = replace(settings, per_host_delay=request.per_host_delay)
    if request.per_host_limit is not None:
        settings = replace(settings, per_host_limit=request.per_host_limit)
    with run_lock(request.db):
        store = prepare_store(request.db, taxonomy)
        try:
            from pipeline.logs import progress_hook

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
        finally:
            store.close()
        delivery = _send(request) if request.send else None
    return RunOutcome(report, delivery)


def _send(request: RunRequest) -> DeliveryReport | None:
    """The due digests, after the run's data is stored (so a failed send loses nothing)."""
    from pipeline.deliver import send_due

    path = request.subscribers or DEFAULT_SUBSCRIBERS
    if request.subscribers is None and not path.exists():
        log.info("no subscribers file at %s: nothing to send", path)
        return None
    return send_due(request.db, path)


def index_search(store: Store) -> str:
    """`sotewatch index`: add what the runs stored to the full-text search index.

    Kept out of `sotewatch run` on purpose: lemmatising Finnish loads a dictionary of
    some 400 MB, which the fetch-and-diff run itself never needs."""
    from pipeline.search import index_new

    stats = index_new(store.db)
    return f"indexed {stats.snapshots} versions and {stats.changes} changes"


def check_config(sources: Path | None) -> list[str]:
    """`sotewatch check`: every config file loads; returns lines describing them."""
    taxonomy = load_taxonomy()
    config = load_config(sources, taxonomy)
    lines = [
        f"taxonomy: {len(taxonomy.regions)} regions, {len(taxonomy.networks)} networks",
        f"{config.path}: {len(config.sources)} sources",
    ]
    for s in config.sources:
        lines.append(f"  {s.id:32} {s.family:9} {s.schedule:6} {s.url}")
    subscribers = DEFAULT_SUBSCRIBERS
    if subscribers.exists():
        from pipeline.subscribers import load_subscribers

        subs = load_subscribers(subscribers, taxonomy=taxonomy)
        lines.append(f"{subscribers}: {len(subs)} subscribers")
    return lines
