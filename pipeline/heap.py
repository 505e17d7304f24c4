"""The garbage collector, set for a run: a process that imports a lot, then allocates in
a steady stream of short-lived objects (requests, responses, rows, Documents).

CPython's cyclic collector runs every 700 container allocations, and each full
collection walks every object alive: the modules, httpx's, lxml's, the taxonomy, the
tagging lexicon. Measured with `gc.callbacks` on the 1,000-page runs of
bench/bench_fetch.py, that was 52-68 ms of the run process's CPU (24-37 ms now) and, in
a run whose pages changed, 43-56 ms in each analysis worker (17-18 ms now), whose full
collections also wrote to every object the fork server had given it, copying its
pages. So, as the `gc` docs advise for a process that forks: no collections while
importing, then the objects kept for the whole run frozen out of the collector's sight
(and shared untouched by the workers forked after it), and young collections less
often.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

# Young collections every 10,000 container allocations instead of 700: a page's worth
# of garbage is collected a few pages later rather than several times a page.
YOUNG_THRESHOLD = 10_000


@contextmanager
def paused() -> Iterator[None]:
    """No collections while importing and setting up: almost nothing then is garbage."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if _process_ends_after_command:
            # What set-up kept stays for the process's life. Frozen, it is not walked by
            # the collection that the first allocation after `gc.enable` would start:
            # 4-9 ms of a run's start-up (gc.callbacks), with a core idle meanwhile.
            gc.freeze()
        if was_enabled:
            gc.enable()


def freeze() -> None:
    """Keep every object alive now out of every later collection (for good: a process
    that forks its workers, the fork server, calls it)."""
    gc.freeze()
    gc.set_threshold(YOUNG_THRESHOLD, *gc.get_threshold()[1:])


_process_ends_after_command = False


def process_ends_after_command() -> None:
    """Told by the `sotewatch` script: its process ends with its command, so `frozen`
    need not give the collector back as it found it. Giving it back costs a run 10-20 ms
    at its end: the first collection at the usual threshold walks everything the run
    allocated and kept."""
    global _process_ends_after_command
    _process_ends_after_command = True


@contextmanager
def frozen() -> Iterator[None]:
    """`freeze` for a block (a run), the collector as it was afterwards, unless the
    process ends with it: a caller in-process goes on (the tests call `run` in theirs)."""
    thresholds = gc.get_threshold()
    freeze()
    try:
        yield
    finally:
        if not _process_ends_after_command:
            gc.unfreeze()
            gc.set_threshold(*thresholds)
