"""Where pages are analysed: in this process, or in a pool of worker processes.

Analysing a page (extract, noise, soft failure, diff, tag) is pure CPU; the run's event
loop meanwhile has fetching and storing to do. With more than one core, `Analyser` hands
pages to forked workers (pipeline/pool.py) so the two overlap; with one core, or a
handful of pages, it analyses in-process. Either way the answer is `analyse.prepare`'s,
computed by the same function, so pool and in-process runs store identical rows.

Workers are forked from the run's fork server (pipeline/forkserver.py), which imports
the parsers once for all of them (pipeline/warmup.py starts it early, for a run that
will need it), and die with the run: the server exits when the run does, and each
worker with its server (PR_SET_PDEATHSIG), so a run killed with SIGKILL leaves no
orphans. A worker that dies (a segfault in a parser, the OOM killer) is replaced; the
pages it held are re-analysed one at a time, and a page that kills its worker again is
that page's failure, not the run's.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import sys
import time
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass, replace
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

from pipeline.analyse import Finding, PreviousReader, Task, load_analysis, prepare
from pipeline.warmup import PRELOAD_TAGGING, SMALL_WAVE, START_METHOD, can_fork, default_workers

if TYPE_CHECKING:  # imported by `_start_pool`: a run in which no page changed needs no pool
    from pipeline.pool import Batch, Pool
    from pipeline.tag import Tagger

# Pages the run may fetch beyond those the workers have given back (pipeline/run.py also
# bounds the bytes): enough for the run to fetch on at its own pace, the workers
# catching up when it waits, at the end or for a slow host.
LOOK_AHEAD = 128
# While the workers start (their fork server imports the parsers: about 0.15 s, begun
# only when a run's first page needs analysing), the run fetches on rather than wait.
STARTING_LOOK_AHEAD = 512
# The workers yield the CPU to the run: it is the one serial stage (every page is fetched
# and stored by it), while the workers only need to keep up over the whole run. With as
# many workers as cores, at equal priority they would slow it by a third; at nice 10
# the run still waited, now and then, for a worker to give its core back (nice 19: cold
# and changed runs about 3% and 6% faster, median of 4 interleaved runs each). Analysis
# is a cron job's background work: it should yield to anything else on the server too.
WORKER_NICENESS = 19
BATCH = 8  # pages handed to the pool at a time
BATCH_WAIT = 0.2  # seconds a page may wait for its batch to fill
_PR_SET_PDEATHSIG = 1
_ATTEMPTS = 2  # tries of a page whose worker died: the second runs alone

_tagger: Tagger | None = None
_database: Path | None = None  # each worker's, set by `_init_worker`


@dataclass
class Pending:
    """One page handed to the analyser; `result` blocks until its Finding is ready."""

    task: Task
    finding: Finding | None = None  # known: analysed in-process, or its batch answered
    batch: Batch | None = None  # the batch it went with; None while the batch fills
    index: int = 0  # in its batch
    attempts: int = 1

    def done(self) -> bool:
        if self.finding is None and self.batch is not None and self.batch.results is not None:
            self.finding = _as_finding(self.batch.results[self.index])
        return self.finding is not None


class Analyser:
    """`submit` a Task, later `result` it. `workers` <= 1 means in-process."""

    def __init__(
        self,
        tagger: Tagger,
        workers: int | None = None,
        *,
        read_previous: PreviousReader | None = None,
        database: Path | None = None,
        release: Callable[[], AbstractContextManager[object]] | None = None,
    ) -> None:
        """`read_previous` reads a previous version in this process; workers read it from
        `database` themselves (read-only), so the run's process neither reads nor ships
        it. Without `database` (one in memory) the run reads it for them; so too when
        their fork server must be forked from the run with `database` open, which is
        the case if no `release` closes it meanwhile (pipeline/forkserver.py)."""
        self.tagger = tagger
        self.workers = default_workers() if workers is None else max(1, workers)
        self.read_previous = read_previous
        self.database = database
        self.release = release
        self._pool: Pool | None = None
        self._use_pool = False
        self._batch: list[Pending] = []  # submitted, not yet handed to the pool
        self._batch_started = 0.0

    @property
    def depth(self) -> int:
        """Pages worth having in flight: enough to keep every worker busy, and for the
        run to fetch on at its own pace (`LOOK_AHEAD`; `STARTING_LOOK_AHEAD` until a
        worker has answered)."""
        if not self._use_pool:
            return 0
        starting = self._pool is None or not self._pool.answered
        return max(2 * self.workers, STARTING_LOOK_AHEAD if starting else LOOK_AHEAD)

    @property
    def started(self) -> bool:
        """Whether the worker processes have been started."""
        return self._pool is not None

    def plan(self, pages: int) -> None:
        """Choose for the next `pages` pages: a pool only for a wave worth it."""
        self.flush()
        self._use_pool = self.workers > 1 and pages >= SMALL_WAVE and can_fork()
        if self._use_pool and self._pool is None and not self._clean_fork():
            # Its fork server will be forked from this process with the database open:
            # its workers must not open it (pipeline/forkserver.py).
            self.database = None
        if self._use_pool and _prestarted():
            # The run was started expecting many pages to analyse (pipeline/warmup.py):
            # the workers start now, while the first pages are fetched.
            self._started()

    def submit(self, task: Task) -> Pending:
        """Analyse `task` now (in-process) or hand it to the pool with the next batch."""
        if not self._use_pool:
            return Pending(task, prepare(task, self.tagger, self.read_previous))
        if self.database is None and task.previous_id is not None and self.read_previous:
            task = replace(task, previous_json=self.read_previous(task.previous_id))
        pending = Pending(task)
        if not self._batch:
            self._batch_started = time.monotonic()
        self._batch.append(pending)
        # At the start, a worker that has nothing yet gets the first page at once (the
        # first 8 pages of a run took 10-40 ms to come); later batches keep the run's
        # cost per page low. A slow site (a per-host delay) must not hold its pages back
        # for long either.
        if (
            len(self._batch) >= BATCH
            or (self._pool is not None and not self._pool.answered and self._pool.idle)
            or time.monotonic() - self._batch_started > BATCH_WAIT
        ):
            self.flush()
        return pending

    def flush(self) -> None:
        """Hand the batch being filled to the pool: a few pages at a time, so that the
        run's thread pickles and writes once per batch rather than once per page."""
        pending, self._batch = self._batch, []
        if not pending:
            return
        batch = self._started().submit([p.task for p in pending])
        for index, item in enumerate(pending):
            item.batch, item.index = batch, index

    def poll(self) -> None:
        """Let answers in and tasks out, without waiting: call it between fetches."""
        if self._pool is not None:
            self._pool.poll()

    def result(self, pending: Pending) -> Finding:
        """The page's Finding; a dead worker costs a retry, then the page, never the run."""
        from pipeline.pool import WorkerDied

        while not pending.done():
            if pending.batch is None:
                self.flush()
            assert pending.batch is not None and self._pool is not None
            try:
                self._pool.result(pending.batch)
            except WorkerDied:
                if pending.attempts >= _ATTEMPTS:
                    return Finding(failure="analysis failed: the worker process died")
                # Alone this time, and waited for before any other page is retried: a
                # page that kills its worker again is that page's failure only.
                pending.batch, pending.index = self._pool.submit([pending.task]), 0
                pending.attempts += 1
        assert pending.finding is not None
        return pending.finding

    def close(self) -> None:
        if self._pool is not None:
            self._pool.close()
            self._pool = None
        elif "pipeline.forkserver" in sys.modules:
            sys.modules["pipeline.forkserver"].discard()

    def _clean_fork(self) -> bool:
        """Whether the workers' fork server is, or will be, forked with no database open."""
        return START_METHOD == "forkserver" and (_prestarted() or self.release is not None)

    def _started(self) -> Pool:
        if self._pool is None:
            self._pool, self.database = _start_pool(
                self.workers, self.tagger, self.database, self.release
            )
        return self._pool


def _as_finding(answer: Finding | str) -> Finding:
    """A worker answers a Finding, or the reason its batch's answer would not pickle."""
    if isinstance(answer, Finding):
        return answer
    return Finding(failure=f"analysis failed: {answer}")


def _prestarted() -> bool:
    """Whether this run prestarted its workers' fork server, which imports the parsers
    meanwhile (pipeline/warmup.py), asked without importing it into a run that has not."""
    server = sys.modules.get("pipeline.forkserver")
    return server is not None and server.prestarted()


def _start_pool(
    workers: int,
    tagger: Tagger,
    database: Path | None,
    release: Callable[[], AbstractContextManager[object]] | None,
) -> tuple[Pool, Path | None]:
    """Workers forked from the fork server, which has imported the analysis stack: the
    run's own process, busy fetching, never pays for it, and the workers only once.
    With the database they may read (None: the run reads previous versions for them)."""
    from pipeline.pool import Pool

    if START_METHOD != "forkserver":  # copies of the run, its database open
        return Pool(workers, _work, _init_worker, (tagger, None), start_method=START_METHOD), None
    from pipeline import forkserver

    # Unless prestarted (for a new database, without the lexicon), the server is forked
    # for a run over known pages, whose changes will be tagged. The tagger is pickled
    # without its lexicon: a worker takes the one its fork server built
    # (pipeline/prewarm_tagging.py), or builds it at its first change.
    lease = forkserver.lease(PRELOAD_TAGGING, around_fork=release)
    readable = database if lease.clean else None
    pool = Pool(
        workers, _work, _init_worker, (tagger, readable), start_method=START_METHOD, lease=lease
    )
    return pool, readable


def _init_worker(tagger: Tagger, database: Path | None) -> None:
    """Die with the process that forked this worker (the fork server, which exits with
    the run, or the run); leave Ctrl-C to the run, which shuts the pool down; yield the
    CPU to the run (`WORKER_NICENESS`)."""
    import ctypes

    global _tagger, _database
    # Read as the worker starts: a parent that died before this line goes unseen here,
    # but then so has the run (the server exits with it), and the worker's socket ends.
    parent = os.getppid()
    _tagger, _database = tagger, database
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    except (OSError, AttributeError):  # not Linux: orphans exit when their pipe closes
        pass
    else:
        if os.getppid() != parent:  # the parent died before prctl took effect
            os._exit(1)
    os.nice(WORKER_NICENESS)
    load_analysis()


def _work(tasks: list[Task]) -> list[Finding]:
    assert _tagger is not None, "worker not initialised"
    return [prepare(task, _tagger, _read_previous) for task in tasks]


@cache
def _reader() -> sqlite3.Connection:
    """The worker's own read-only connection (never the run's, inherited by the fork)."""
    assert _database is not None, "a pool without a database is handed previous_json"
    return sqlite3.connect(f"file:{_database}?mode=ro", uri=True, timeout=30)


def _read_previous(snapshot_id: int) -> str:
    row = _reader().execute("select document from snapshots where id = ?", [snapshot_id])
    return row.fetchone()[0]
