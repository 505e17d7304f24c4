"""How big the database grows in a year of daily runs, and what a run with no change adds.

Simulates 365 daily runs over 1,000 pages (20 sources of 50) with 1% of the pages
changing each day, driving `Store` as `sotewatch.pipeline.runs.run` does (a changed page: fetch
row, compressed body, snapshot and changes from the real `diff_documents` in one
transaction; an unchanged page: `Store.count_check`, a count per run and source),
then indexing for search as `sotewatch index` does after each run. Pages are
synthetic: 10-50 KB of HTML (site chrome with menus and scripts around 1.5-8 KB of
text, like the real pages in shared/seeds) and a Document with sections.

Prints the size after the year, the mean growth per run, the growth of a run in
which nothing changed (mean over several such runs), and where the bytes are. Then
prunes with the default policy (90 days, then weekly), and prints what a VACUUM and
a further option would save, cumulatively, on a copy of the year's database.
The search index is filled by the real `index_new`, with a quick
stand-in for simplemma (made-up words are its slowest case); on a 200-page sample
the stand-in makes the index ~30% bigger than simplemma does, so the FTS figures
err on the large side.
Targets (issue 9): < 100 MB after the year, < 2 KB for an unchanged run.

    .venv/bin/python bench/bench_storage.py [--days 365] [--pages 1000]
"""

from __future__ import annotations

import argparse
import random
import shutil
import sqlite3
import sys
import tempfile
import time
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import sotewatch.pipeline.storage.search
import sotewatch.pipeline.storage.store
from sotewatch.pipeline.changes.diff import diff_documents
from sotewatch.pipeline.config import Settings, Source, SourcesConfig
from sotewatch.pipeline.document.models import Document, Section
from sotewatch.pipeline.storage.prune import prune_db
from sotewatch.pipeline.storage.search import index_new
from sotewatch.pipeline.storage.store import SnapshotRow, Store, doc_hash

SOURCES = 20
QUIET_RUNS = 10
START = datetime(2026, 1, 1, 6, 0, tzinfo=UTC)
TARGET_YEAR = 100 * 2**20
TARGET_QUIET = 2 * 1024
_SYLLABLE_TEXT = (
    "so te hy vin voin ti a lu e val mis te lu ver kos to jär jes tö pal ve lu ke "
    "hit tä mi nen toi meen pa no ra hoi tus hen ki lös tö kun ta yh teis työ"
)
SYLLABLES = tuple(_SYLLABLE_TEXT.split())


def word(rng: random.Random) -> str:
    return "".join(rng.choice(SYLLABLES) for _ in range(rng.randint(2, 5)))


def paragraph(rng: random.Random) -> str:
    words = [word(rng) for _ in range(rng.randint(12, 45))]
    return (" ".join(words) + ".").capitalize()


def make_document(rng: random.Random, url: str) -> Document:
    """1.5-8 KB of text in 2-6 sections."""
    budget = rng.randint(1500, 8000)
    sections, size = [], 0
    while size < budget:
        paras = tuple(paragraph(rng) for _ in range(rng.randint(1, 4)))
        sections.append(Section((word(rng).capitalize(),), paras))
        size += sum(len(p) for p in paras)
    return Document(url=url, title=word(rng).capitalize(), sections=tuple(sections))


def edit(rng: random.Random, doc: Document) -> Document:
    """A day's change: a few words of one paragraph edited, or a paragraph added."""
    sections = list(doc.sections)
    index = rng.randrange(len(sections))
    section = sections[index]
    paras = list(section.paragraphs)
    if rng.random() < 0.3:
        paras.append(paragraph(rng))
    else:
        at = rng.randrange(len(paras))
        words = paras[at].split()
        for _ in range(rng.randint(1, 4)):
            words[rng.randrange(len(words))] = word(rng)
        paras[at] = " ".join(words)
    sections[index] = replace(section, paragraphs=tuple(paras))
    return replace(doc, sections=tuple(sections))


def site_chrome(rng: random.Random, site: int) -> tuple[str, str]:
    """A site's header (menus, inline script) and footer, shared by all its pages."""
    menu = "".join(
        f'<li class="menu-item"><a href="/site{site}/{word(rng)}/{word(rng)}">'
        f"{word(rng).capitalize()} {word(rng)}</a></li>\n"
        for _ in range(rng.randint(60, 160))
    )
    script = "".join(f"var {word(rng)}_{i} = '{word(rng)}';\n" for i in range(rng.randint(40, 120)))
    head = (
        '<!DOCTYPE html><html lang="fi"><head><meta charset="utf-8"><title>{title}</title>'
        f"<script>{script}</script></head><body><nav><ul>{menu}</ul></nav><main>"
    )
    links = "".join(f'<a href="/site{site}/{word(rng)}">{word(rng)}</a> ' for _ in range(80))
    foot = f"</main><footer>{links}</footer></body></html>"
    return head, foot


def render(doc: Document, chrome: tuple[str, str], padding: int, rng: random.Random) -> bytes:
    """The page's HTML: chrome, content, and per-request noise (a token, a counter)."""
    body = "".join(
        f"<h2>{s.path[-1]}</h2>" + "".join(f"<p>{p}</p>" for p in s.paragraphs)
        for s in doc.sections
    )
    filler = f'<aside class="related">{"<span>-</span>" * (padding // 14)}</aside>'
    token = f'<input type="hidden" name="token" value="{rng.getrandbits(128):032x}">'
    return (chrome[0].format(title=doc.title) + body + filler + token + chrome[1]).encode()


@dataclass
class PageSim:
    source: Source
    page_id: int
    doc: Document
    padding: int  # extra HTML so the page's size lands in 10-50 KB
    latest: SnapshotRow | None = None


class Clock:
    """The simulated date: every row the store stamps carries it, so prune sees a year."""

    def __init__(self) -> None:
        self.now = START

    def stamp(self) -> str:
        return self.now.strftime("%Y-%m-%dT%H:%M:%SZ")


CLOCK = Clock()
sotewatch.pipeline.storage.store.utcnow = (
    CLOCK.stamp
)  # the store stamps rows through this module global


def _word_forms(text: str, lang: str) -> list[str]:
    """Stands in for simplemma in the search index: made-up words send it down its
    slowest path, and only the bytes matter here. Long words get a base form that
    differs from the written one, as inflected Finnish words do."""
    return [w[:-2] if len(w) > 6 else w for w in text.lower().split()]


sotewatch.pipeline.storage.search.lemmas = _word_forms


class Simulation:
    """One database and its pages, with today's store or the compact fetch log."""

    def __init__(self, path: Path, pages: int, seed: int) -> None:
        self.rng = random.Random(seed)
        self.store = Store.open(path)
        self.path = path
        self.sources = [
            Source(id=f"source-{i:02d}", url=f"https://site{i % 5}.example/s{i}", name=f"S{i}")
            for i in range(SOURCES)
        ]
        config = SourcesConfig(Path("sources.toml"), Settings(), tuple(self.sources))
        self.store.sync_sources(config)
        self.chrome = [site_chrome(self.rng, i) for i in range(5)]
        self.pages: list[PageSim] = []
        for n in range(pages):
            source = self.sources[n % SOURCES]
            url = f"{source.url}/page-{n}"
            row = self.store.page(source, url, "generic", None)
            doc = make_document(self.rng, url)
            self.pages.append(PageSim(source, row.id, doc, self.rng.randint(0, 30_000)))

    def run(self, changed: set[int]) -> int:
        """One daily run; returns the number of changes stored."""
        run_id = self.store.start_run()
        stored, quiet = 0, []
        for n, page in enumerate(self.pages):
            base = {"run_id": run_id, "page_id": page.page_id, "source_id": page.source.id,
                    "url": page.doc.url, "status_code": 200, "bytes": 30_000,
                    "elapsed_ms": 120.5, "attempts": 1}  # fmt: skip
            previous = page.latest  # what store.latest_snapshot would read: kept in memory
            if previous is not None and n not in changed:
                quiet.append(base)
                continue
            if previous is not None:
                page.doc = edit(self.rng, page.doc)
            stored += self._version(page, base, previous)
        with self.store.transaction():
            self._unchanged(quiet)
        self.store.finish_run(run_id, status="ok", changes=stored, exit_code=0)
        index_new(self.store.db)
        return stored

    def _unchanged(self, rows: list[dict]) -> None:
        """What run.py writes for unchanged pages, in one transaction for speed (the
        same bytes as one transaction per page; only the number of commits differs)."""
        for row in rows:
            self.store.count_check(row["run_id"], row["source_id"], row["page_id"], "unchanged")
        self.store.db.conn.executemany(
            "update pages set failures = 0, last_seen = ? where id = ?",
            [(_now(), row["page_id"]) for row in rows],
        )

    def _version(self, page: PageSim, base: dict, previous) -> int:
        html = render(page.doc, self.chrome[int(page.source.id[-2:]) % 5], page.padding, self.rng)
        changes = diff_documents(
            previous.document if previous else None,
            page.doc,
            page_url=page.doc.url,
            page_title=page.doc.title,
        )
        with self.store.transaction():
            body = self.store.store_body(html, "text/html", page.page_id)
            fetch_id = self.store.record_fetch(**base, outcome="ok", body_hash=body)
            snapshot = self.store.add_snapshot(
                page.page_id, fetch_id, page.doc, doc_hash(page.doc), body
            )
            if previous is not None:
                self.store.add_changes(base["run_id"], page.page_id, snapshot, previous.id, changes)
            self.store.update_page(page.page_id, failures=0, last_seen=_now())
        page.latest = SnapshotRow(snapshot, doc_hash(page.doc), page.doc)
        return len(changes) if previous is not None else 0

    def size(self) -> int:
        self.store.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        return self.path.stat().st_size

    def used_bytes(self) -> int:
        """Bytes in use (file minus free pages): growth without the 4 KB page rounding."""
        db = self.store.db
        page_size = db.execute("PRAGMA page_size").fetchone()[0]
        pages = db.execute("PRAGMA page_count").fetchone()[0]
        free = db.execute("PRAGMA freelist_count").fetchone()[0]
        return (pages - free) * page_size

    def quiet_growth(self, runs: int) -> tuple[float, float]:
        """Mean growth over `runs` runs in which nothing changed: of the file, and of the
        pages in use (the file may absorb a few runs in free pages left by the search
        index's merges; the pages in use say what each run really adds)."""
        file_before, used_before = self.size(), self.used_bytes()
        for _ in range(runs):
            CLOCK.now += timedelta(days=1)
            self.run(set())
        return (self.size() - file_before) / runs, (self.used_bytes() - used_before) / runs


def _now() -> str:
    return CLOCK.stamp()


def year(path: Path, days: int, pages: int, seed: int) -> tuple[Simulation, list[int]]:
    sim = Simulation(path, pages, seed)
    sim.run(set(range(pages)))  # the first run stores every page
    sizes = [sim.size()]
    per_day = max(1, round(pages * 0.01))
    for day in range(1, days):
        CLOCK.now = START + timedelta(days=day)
        sim.run(set(sim.rng.sample(range(pages), per_day)))
        if day % 60 == 0 or day == days - 1:
            sizes.append(sim.size())
            print(f"  day {day:3}: {sizes[-1] / 2**20:6.1f} MB", flush=True)
    return sim, sizes


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--pages", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=9)
    args = parser.parse_args(argv)
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        print(f"{args.days} daily runs, {args.pages} pages, 1% changing a day", flush=True)
        sim, sizes = year(Path(tmp) / "year.db", args.days, args.pages, args.seed)
        year_bytes = sizes[-1]
        growth = (sizes[-1] - sizes[0]) / max(1, args.days - 1)
        breakdown = table_sizes(sim.store.db)
        quiet = sim.quiet_growth(QUIET_RUNS)
        shutil.copy(Path(tmp) / "year.db", Path(tmp) / "before-prune.db")
        pruned = prune_db(sim.store.db, keep_days=90, then="weekly",
                          now=CLOCK.now,
                          delivered_up_to=2**62)  # fmt: skip
        print_figures(year_bytes, growth, quiet, breakdown, pruned)
        sim.store.close()
        what_if(Path(tmp) / "before-prune.db", Path(tmp) / "what-if.db")
        print(f"elapsed {time.perf_counter() - started:.0f} s")
    ok = year_bytes < TARGET_YEAR and max(quiet) < TARGET_QUIET
    return 0 if ok else 1


WHAT_IF = [
    ("VACUUM alone (the free pages a year of runs leaves)", []),
    (
        "raw bodies kept only for each page's latest version (a possible prune option)",
        [
            "update snapshots set body_hash = null"
            " where id not in (select max(id) from snapshots group by page_id)",
            "update fetches set body_hash = null"
            " where body_hash not in (select body_hash from snapshots where body_hash is not null)",
            "delete from bodies where hash not in"
            " (select body_hash from snapshots where body_hash is not null)"
            " and hash not in (select base from bodies where base is not null)",
        ],
    ),
]


def what_if(source: Path, target: Path) -> None:
    """The year's database after each step, cumulatively."""
    shutil.copy(source, target)
    conn = sqlite3.connect(target, isolation_level=None)
    print("what-if, cumulative, on a copy of the year's database:")
    for label, statements in WHAT_IF:
        for sql in statements:
            conn.execute(sql)
        conn.execute("VACUUM")
        print(f"  {label}: {target.stat().st_size / 2**20:.1f} MB")
    conn.close()


def table_sizes(db) -> list[tuple[str, int]]:
    """The biggest tables and indexes, then the columns that hold each version's words."""
    rows = db.execute(
        "select name, sum(pgsize) from dbstat group by name order by 2 desc limit 6"
    ).fetchall()
    columns = db.execute(
        """select sum(length(document)), count(*),
                  (select sum(length(data)) from bodies),
                  (select count(*) from bodies where base is null) from snapshots"""
    ).fetchone()
    versions = columns[1]
    per_version = sum(r[1] for r in rows) / versions / 1024
    rows += [
        ("(snapshots.document", columns[0]),
        (f"bodies.data ({columns[3]} key bodies)", columns[2]),
        (f"versions: {versions}; top tables per version {per_version:.1f} KB)", 0),
    ]  # fmt: skip
    return [(name, int(size or 0)) for name, size in rows]


def print_figures(year_bytes, growth, quiet: tuple[float, float], breakdown, pruned) -> None:
    mb = 2**20
    print(f"\n  size after the year      {year_bytes / mb:8.1f} MB   (target < 100 MB)")
    print(f"  mean growth per run      {growth / 1024:8.1f} KB")
    print(
        f"  growth of a quiet run    {quiet[1] / 1024:8.1f} KB in use, {quiet[0] / 1024:.1f} KB"
        " of file   (target < 2 KB)"
    )
    parts = [f"{n} {s / mb:.1f} MB" if s else n for n, s in breakdown]
    print("  biggest tables/indexes: " + ", ".join(parts))
    print("after `sotewatch prune` (90 days, then weekly; everything delivered):")
    print(
        f"  {pruned.snapshots_deleted} versions and {pruned.fetches_deleted} fetch-log rows "
        f"deleted, compaction {pruned.compaction}, size {pruned.bytes_after / mb:.1f} MB"
    )


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
