"""How many processes analyse a run's pages, and starting their fork server early.

The analysis workers are forked from a fork server (pipeline/forkserver.py), which
imports the parsers (lxml, bs4, pypdf, feedparser, every scraper family) once for all
of them. Forked first thing in `sotewatch run`, before the run imports httpx, reads its
config and opens its database, the server does those imports on another core while
the run does its own start-up, and the first pages fetched find the workers ready.

That is worth a core only for a run that will analyse many pages: a first run, or one
whose pages come without validators (each answers 200 every time). A run of 304s never
starts the server; one in which known pages changed starts it when the first of them
arrives (pipeline/workers.py). Kept apart from pipeline/workers.py, which imports the
analysis stack, so that deciding costs the run nothing.
"""

from __future__ import annotations

import os
import sqlite3
import sys
from contextlib import closing
from pathlib import Path

from pipeline.errors import ConfigError
from scrapers import FAMILIES

SMALL_WAVE = 16  # fewer pages than this are analysed in-process: a pool is not worth it
START_METHOD = "forkserver"
# What the fork server imports for every worker (it has the run's modules already, as a
# fork of it), then what it prepares once for all of them (pipeline/prewarm.py), and,
# for a run whose pages may change, the tagging lexicon (pipeline/prewarm_tagging.py).
PRELOAD = ("pipeline.workers", *FAMILIES.values(), "pipeline.prewarm")
PRELOAD_TAGGING = (*PRELOAD, "pipeline.prewarm_tagging")


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


def many_pages_to_analyse(db: Path) -> bool:
    """A new database, or `SMALL_WAVE` watched pages that have no validators to send."""
    if not db.exists():
        return True
    try:
        with closing(sqlite3.connect(f"file:{db}?mode=ro", uri=True)) as conn:
            (count,) = conn.execute(
                """select count(*) from pages where status = 'active'
                   and etag is null and last_modified is null"""
            ).fetchone()
    except sqlite3.Error:  # not a sotewatch database (yet): the run will say so
        return False
    return count >= SMALL_WAVE


def prestart_workers(db: Path, requested: int | None) -> None:
    """Fork the workers' fork server now if the run will very likely need it, before the
    run opens its database (pipeline/forkserver.py); with the lexicon unless the
    database is new (a first run tags nothing)."""
    server = sys.modules.get("pipeline.forkserver")
    if server is not None and server.prestarted():  # by the script (pipeline/script.py)
        return
    workers = analysis_workers(requested) or default_workers()
    if workers > 1 and can_fork() and many_pages_to_analyse(db):
        from pipeline import forkserver

        forkserver.prestart(PRELOAD_TAGGING if db.exists() else PRELOAD)
