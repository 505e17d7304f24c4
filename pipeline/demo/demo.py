"""`sotewatch demo`: the whole pipeline on the bundled sample site, on loopback only.

Edition 1 is the baseline, edition 2 the news: the digest shows what changed
between them. The database is fresh every time so the demo is repeatable.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from sotewatch.pipeline.config import DATA_DIR
from sotewatch.pipeline.demo.sample_site import SampleSite, sample_sources_path
from sotewatch.pipeline.runs.run import RunReport, run_sources
from sotewatch.pipeline.runs.runner import load_config, prepare_store
from sotewatch.pipeline.storage.store import Store
from sotewatch.pipeline.tagging.tag import Tagger
from sotewatch.pipeline.tagging.taxonomy import load_taxonomy

SAMPLE_SUBSCRIBERS = DATA_DIR / "sample_site" / "subscribers.toml"


@dataclass
class DemoSummary:
    db: Path
    out: Path
    pages: int = 0
    snapshots: int = 0
    changes: int = 0
    by_kind: Counter[str] = field(default_factory=Counter)
    by_region: Counter[str] = field(default_factory=Counter)
    by_network: Counter[str] = field(default_factory=Counter)
    national: int = 0
    files: list[Path] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)

    def text(self) -> str:
        lines = [
            f"sotewatch demo: {self.pages} pages, {self.snapshots} snapshots, "
            f"{self.changes} changes between edition 1 and edition 2",
            "",
            "Changes by kind:",
            *(f"  {k:20} {n}" for k, n in sorted(self.by_kind.items())),
            "Changes by region:",
            *(f"  {k:20} {n}" for k, n in sorted(self.by_region.items())),
            "Changes by network:",
            *(f"  {k:30} {n}" for k, n in sorted(self.by_network.items())),
            f"National / other: {self.national}",
        ]
        if self.failed:
            lines += ["", "Failed:", *(f"  {f}" for f in self.failed)]
        lines += ["", "Written:", *(f"  {p}" for p in self.files)]
        lines += ["", "Browse the snapshots and changes:", f"  sotewatch --db {self.db} browse"]
        return "\n".join(lines)


def fresh_database(db: Path) -> None:
    for suffix in ("", "-wal", "-shm", ".lock"):
        db.with_name(db.name + suffix).unlink(missing_ok=True)
    private = db.with_name(db.stem + "-private.db")
    for suffix in ("", "-wal", "-shm"):
        private.with_name(private.name + suffix).unlink(missing_ok=True)


def run_editions(db: Path) -> tuple[Store, list[RunReport]]:
    """Serve the sample site and run both editions into `db`."""
    taxonomy = load_taxonomy()
    tagger = Tagger(taxonomy)
    store = prepare_store(db, taxonomy)
    reports = []
    with SampleSite(edition=1) as site:
        config = load_config(sample_sources_path(), taxonomy, site=site.base_url)
        for edition in (1, 2):
            site.edition = edition
            reports.append(run_sources(store, config, tagger, force=True))
    return store, reports


def run_demo(out: Path, db: Path) -> DemoSummary:
    out.mkdir(parents=True, exist_ok=True)
    fresh_database(db)
    store, reports = run_editions(db)
    try:
        from sotewatch.pipeline.runs.runner import index_search

        index_search(store)
        summary = summarise(store, db, out, reports[-1].run_id)
        summary.failed = [f"[{s}] {u}: {e}" for r in reports for s, u, e in r.errors]
        summary.files = write_digests(store, db, out)
    finally:
        store.close()
    return summary


def summarise(store: Store, db: Path, out: Path, run_id: int) -> DemoSummary:
    summary = DemoSummary(db=db, out=out)
    summary.pages = store.db["pages"].count
    summary.snapshots = store.db["snapshots"].count
    for row in store.db["changes"].rows_where("run_id = ?", [run_id]):
        summary.changes += 1
        summary.by_kind[row["kind"]] += 1
        regions, networks = json.loads(row["regions"]), json.loads(row["networks"])
        summary.by_region.update(regions)
        summary.by_network.update(networks)
        if not regions and not networks:
            summary.national += 1
    return summary


def write_digests(store: Store, db: Path, out: Path) -> list[Path]:
    """The overall digest, one per sample subscriber, the feeds and the archive."""
    from sotewatch.pipeline.delivery.send import write_demo_outputs

    return write_demo_outputs(store.db, db, out, SAMPLE_SUBSCRIBERS)
