"""The kill test: real `sotewatch run` processes SIGKILLed at random moments.

Two lanes run side by side, each with its own database and sample site. A lane
runs edition 1 of the sample site and then edition 2; in each edition it first
starts runs and kills them at seeded random moments (a quarter anywhere in the
run, the rest while pages are being fetched and written), checking the database
after every kill, then lets one run complete. Requests are spaced out
(`--per-host-delay`) so the writing phase is long enough for kills to land in it.

After each kill the database must pass `PRAGMA integrity_check` and
`foreign_key_check`, hold no snapshot without its fetch (of the same page), no
change without its snapshots (only page_removed lacks a new version, only
page_added an old one), no snapshot without its body, and no half-written
delivery in the private state database. At the end, each lane's changes must be
exactly those of a run that was never killed: the same multiset of
(page path, kind, section, before, after), so nothing is lost or reported twice.
"""

from __future__ import annotations

import random
import re
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from sotewatch.pipeline.demo.sample_site import SampleSite, sample_sources_text

ROOT = Path(__file__).resolve().parent.parent
SEED = 9
LANES = 2
KILLS = {1: 4, 2: 7}  # per lane and edition: 2 x 11 = 22 kills
PER_HOST_DELAY = "0.15"
RUN_TIMEOUT = 120
PAGE_LINE = re.compile(r" (?:DEBUG|INFO) (?:ok|not_modified|gone|error|blocked) ")


@dataclass
class Timing:
    """A clean run: seconds from its start to its first page, and after its last page."""

    first_page: float
    pages: int
    tail: float  # from the last page's log line to the end of the process


@dataclass
class Lane:
    name: str
    workdir: Path
    rng: random.Random
    kills: int = 0
    written_at_kill: list[tuple[str, int]] = field(default_factory=list)

    @property
    def db(self) -> Path:
        return self.workdir / "watch.db"


def sotewatch_run(db: Path, sources: Path, log: Path) -> subprocess.Popen:
    command = [
        sys.executable,
        "-c",
        "from sotewatch.pipeline.cli import main; main()",
        "--db",
        str(db),
    ]
    command += ["--verbose", "run", "--sources", str(sources), "--force", "--no-send"]
    command += ["--per-host-delay", PER_HOST_DELAY]
    with log.open("w") as stderr:  # the child keeps its own copy of the descriptor
        return subprocess.Popen(command, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=stderr)


def complete_run(db: Path, sources: Path, log: Path) -> Timing:
    """Run to the end, noting when pages were logged."""
    started = time.monotonic()
    process = sotewatch_run(db, sources, log)
    first, last = None, 0.0
    while process.poll() is None:
        pages = pages_logged(log)
        now = time.monotonic() - started
        if pages and first is None:
            first = now
        if pages:
            last = now
        time.sleep(0.01)
        assert now < RUN_TIMEOUT, "a complete run hung"
    end = time.monotonic() - started
    assert process.returncode == 0, log.read_text()[-3000:]
    return Timing(first_page=first or end, pages=pages_logged(log), tail=end - last)


def pages_logged(log: Path) -> int:
    """Pages the run has finished: each is logged after its transaction committed."""
    return len(PAGE_LINE.findall(log.read_text(errors="replace")))


def killed_run(lane: Lane, sources: Path, timing: Timing) -> None:
    """Start a run, SIGKILL it at a random moment, then check the database.

    A fifth of the kills land anywhere in the start-up (config, lock, migrations,
    mirroring sources); most land between two pages, after a random number of
    them were written, and some after the last page (closing the run, indexing).
    Counting logged pages rather than seconds keeps the spread on a loaded machine.
    """
    runs_before = count(lane.db, "select count(*) from runs")
    log = lane.workdir / f"kill-{lane.kills}.log"
    process = sotewatch_run(lane.db, sources, log)
    roll = lane.rng.random()
    if roll < 0.2:
        moment = ("start-up", lane.rng.uniform(0, timing.first_page), 0)
    elif roll < 0.85:
        moment = ("pages", lane.rng.uniform(0, 2 * float(PER_HOST_DELAY)),
                  lane.rng.randint(1, timing.pages - 1))  # fmt: skip
    else:
        moment = ("closing", lane.rng.uniform(0, timing.tail), timing.pages)
    phase, delay, after_pages = moment
    started = time.monotonic()
    while process.poll() is None and pages_logged(log) < after_pages:
        time.sleep(0.005)
        assert time.monotonic() - started < RUN_TIMEOUT, "a run hung"
    try:
        process.wait(timeout=delay)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=30)
        lane.kills += 1
        written = count(lane.db, PAGES_WRITTEN, [runs_before, runs_before])
        lane.written_at_kill.append((phase, written))
    assert_consistent(lane.db)


def count(db: Path, sql: str, params: list | None = None) -> int:
    if not db.exists():
        return 0
    conn = sqlite3.connect(db)
    try:
        return int(conn.execute(sql, params or []).fetchone()[0])
    except sqlite3.OperationalError:  # killed before the schema was made
        return 0
    finally:
        conn.close()


PAGES_WRITTEN = """select (select count(*) from fetches where run_id > ?)
    + (select coalesce(sum(unchanged + not_modified), 0) from source_checks where run_id > ?)"""
BROKEN = {
    "snapshot without its fetch": """select s.id from snapshots s
        left join fetches f on f.id = s.fetch_id
        where f.id is null or f.page_id != s.page_id""",
    "snapshot without its body": """select s.id from snapshots s
        left join bodies b on b.hash = s.body_hash
        where s.body_hash is not null and b.hash is null""",
    "change without its new version": """select c.id from changes c
        left join snapshots s on s.id = c.snapshot_id
        where (c.kind != 'page_removed' and c.snapshot_id is null)
           or (c.snapshot_id is not null and (s.id is null or s.page_id != c.page_id))""",
    "change without its old version": """select c.id from changes c
        left join snapshots s on s.id = c.previous_snapshot_id
        where (c.kind != 'page_added' and c.previous_snapshot_id is null)
           or (c.previous_snapshot_id is not null
               and (s.id is null or s.page_id != c.page_id))""",
    "new version not newer than the old": """select id from changes
        where snapshot_id is not null and previous_snapshot_id is not null
          and snapshot_id <= previous_snapshot_id""",
}
HALF_DELIVERED = {
    "delivery of a digest that does not exist": """select x.id from deliveries x
        left join digests d on d.id = x.digest_id where d.id is null""",
    "digest without its message": """select id from digests
        where message is null or length(message) = 0""",
    "delivery in an unknown state": """select id from deliveries
        where status not in ('pending', 'sent', 'failed', 'empty')""",
}


def assert_consistent(db: Path) -> None:
    if not db.exists():
        return
    conn = sqlite3.connect(db)
    try:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        tables = {r[0] for r in conn.execute("select name from sqlite_master")}
        if "changes" in tables:
            assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
            for problem, sql in BROKEN.items():
                assert conn.execute(sql).fetchall() == [], problem
    finally:
        conn.close()
    private = db.with_name(f"{db.stem}-private.db")
    if private.exists():
        conn = sqlite3.connect(private)
        try:
            assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
            for problem, sql in HALF_DELIVERED.items():
                assert conn.execute(sql).fetchall() == [], problem
        finally:
            conn.close()


def changes_of(db: Path) -> Counter:
    conn = sqlite3.connect(db)
    try:
        rows = conn.execute(
            """select p.url, c.kind, c.section, c.before, c.after
               from changes c join pages p on p.id = c.page_id"""
        ).fetchall()
    finally:
        conn.close()
    return Counter((urlsplit(url).path, *rest) for url, *rest in rows)


def sources_for(site: SampleSite, workdir: Path) -> Path:
    path = workdir / "sources.toml"
    path.write_text(sample_sources_text(site.base_url), encoding="utf-8")
    return path


def reference(workdir: Path) -> tuple[Counter, dict[int, Timing]]:
    """A run per edition that nobody kills: the changes the lanes must end up with."""
    workdir.mkdir()
    timings = {}
    with SampleSite(edition=1) as site:
        sources = sources_for(site, workdir)
        for edition in (1, 2):
            site.edition = edition
            log = workdir / f"edition-{edition}.log"
            timings[edition] = complete_run(workdir / "watch.db", sources, log)
    return changes_of(workdir / "watch.db"), timings


def run_lane(lane: Lane, timings: dict[int, Timing]) -> Counter:
    lane.workdir.mkdir()
    with SampleSite(edition=1) as site:
        sources = sources_for(site, lane.workdir)
        for edition in (1, 2):
            site.edition = edition
            target, attempts = lane.kills + KILLS[edition], 0
            while lane.kills < target and attempts < 3 * KILLS[edition]:
                killed_run(lane, sources, timings[edition])  # a run may finish first
                attempts += 1
            complete_run(lane.db, sources, lane.workdir / f"complete-{edition}.log")
            assert_consistent(lane.db)
    return changes_of(lane.db)


def test_runs_killed_at_random_moments_lose_nothing_and_repeat_nothing(tmp_path: Path) -> None:
    expected, timings = reference(tmp_path / "reference")
    assert sum(expected.values()) > 10, "the sample site's second edition must change pages"
    rng = random.Random(SEED)
    lanes = [
        Lane(f"lane-{n}", tmp_path / f"lane-{n}", random.Random(rng.random())) for n in range(LANES)
    ]
    with ThreadPoolExecutor(max_workers=LANES) as pool:
        results = list(pool.map(lambda lane: run_lane(lane, timings), lanes))
    for lane, found in zip(lanes, results, strict=True):
        assert found == expected, (
            f"{lane.name}: missing {expected - found}, extra {found - expected}"
        )
    kills = sum(lane.kills for lane in lanes)
    written = sorted(n for lane in lanes for n in lane.written_at_kill)
    print(f"\n{kills} kills; (phase, pages the killed run had written): {written}")
    assert kills >= 20


def test_a_source_a_killed_run_only_began_is_still_due_on_the_next_cron_run(
    tmp_path: Path,
) -> None:
    from history import NOW, History, days_ago

    from sotewatch.pipeline.runs.run import due_sources

    h = History.open(tmp_path / "watch.db")
    source = h.source("stm", "http://127.0.0.1:9/stm")
    front, item = h.page(source), h.page(source, "http://127.0.0.1:9/stm/uutinen")
    h.run(days_ago(1))
    h.fetch(front, "unchanged", days_ago(1))
    h.fetch(item, "unchanged", days_ago(1))
    h.run_id = h.store.start_run()  # killed: never finished, the item never fetched
    h.fetch(front, "unchanged", days_ago(1 / 24))
    try:
        assert due_sources(h.store, h.sources, now=NOW) == [source]
    finally:
        h.store.close()


def test_items_of_a_listing_stored_by_a_killed_run_are_found_while_it_answers_304(
    tmp_path: Path,
) -> None:
    db = tmp_path / "watch.db"
    item = "/valtioneuvosto/tiedote-2022-alueviestintaverkosto"
    with SampleSite(edition=1) as site:
        sources = sources_for(site, tmp_path)
        complete_run(db, sources, tmp_path / "edition-1.log")
        site.edition = 2
        complete_run(db, sources, tmp_path / "edition-2.log")
        assert (item, "page_added") in {(p, k) for p, k, *_ in changes_of(db)}
        forget_page(db, site.base_url + item)  # as if killed before registering it
        complete_run(db, sources, tmp_path / "after-kill.log")
        assert (
            f"not_modified 304 {site.base_url}/valtioneuvosto/tiedotteet"
            in (tmp_path / "after-kill.log").read_text()
        )
    assert (item, "page_added") in {(p, k) for p, k, *_ in changes_of(db)}


def forget_page(db: Path, url: str) -> None:
    """Remove every trace of a page, leaving the listing that offers it as stored."""
    conn = sqlite3.connect(db)
    with conn:
        (page_id,) = conn.execute("select id from pages where url = ?", [url]).fetchone()
        for table in ("change_regions", "change_networks"):
            conn.execute(
                f"delete from {table} where change_id in"
                " (select id from changes where page_id = ?)",
                [page_id],
            )
        for table in ("changes", "snapshots", "fetches"):
            conn.execute(f"delete from {table} where page_id = ?", [page_id])
        conn.execute("delete from pages where id = ?", [page_id])
    conn.close()
