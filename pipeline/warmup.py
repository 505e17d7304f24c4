"""How many processes analyse a run's pages, and starting their fork server early.

The analysis workers are forked from multiprocessing's fork server, which imports the
parsers (lxml, bs4, pypdf, feedparser, every scraper family) once for all of them.
Started first thing in `sotewatch run`, before the run imports httpx, reads its config
and opens its database, the server does those imports on another core while the run
does its own start-up, and the first pages fetched find the workers ready.

It is started for any run of many pages (a new database, or `SMALL_WAVE` watched
pages): whether they will answer 200 (a first run, a site redesigned overnight) or 304
is known only once they are fetched, and by then the server would be late. A run in
which every page answers 304 then spends the server's imports (about 0.3 s of CPU) on
a core its start-up leaves idle anyway; a run of a few pages analyses them in-process
and never starts it. Kept apart from pipeline/workers.py, which imports the analysis
stack, so that deciding costs the run nothing.
"""

from __future__ import annotations

import os
import sqlite3
from contextlib import closing
from pathlib import Path

from pipeline.errors import ConfigError
from scrapers import FAMILIES

SMALL_WAVE = 16  # fewer pages than this are analysed in-process: a pool is not worth it
START_METHOD = "forkserver"
# What the fork server imports for every worker. pipeline.cli too: the `sotewatch`
# script is each worker's __main__, which multiprocessing imports again in the worker.
PRELOAD = ("pipeline.cli", "pipeline.workers", *FAMILIES.values())


def analysis_workers(requested: int | None) -> int | None:
    """The run's analysis processes: asked for, else $SOTEWATCH_WORKERS, else None (cores)."""
    if requested is not None:
        return requested
    value = os.environ.get("SOTEWATCH_WORKERS", "").strip()
    if not value:
        return None
    if not value.isdigit() or int(value) < 1:
        raise ConfigError(f"SOTEWATCH_WORKERS must be a whole number >= 1, not {value!r}")
    return int(value)


def default_workers() -> int:
    return os.cpu_count() or 1


def can_fork() -> bool:
    """Whether this platform can fork (POSIX), asked without importing multiprocessing."""
    return hasattr(os, "fork")


def many_pages(db: Path) -> bool:
    """A new database (a first run, of pages not known yet), or `SMALL_WAVE` watched."""
    if not db.exists():
        return True
    try:
        with closing(sqlite3.connect(f"file:{db}?mode=ro", uri=True)) as conn:
            (count,) = conn.execute("select count(*) from pages where status = 'active'").fetchone()
    except sqlite3.Error:  # not a sotewatch database (yet): the run will say so
        return False
    return count >= SMALL_WAVE


def prestart_workers(db: Path, requested: int | None) -> None:
    """Start the workers' fork server now if the run may well need it."""
    workers = analysis_workers(requested) or default_workers()
    if workers > 1 and can_fork() and many_pages(db):
        from pipeline.pool import prestart

        prestart(PRELOAD)
