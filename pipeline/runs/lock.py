"""One run at a time per database.

An advisory `flock` on `<db>.lock`: the kernel drops it when the holder dies, so a
lock left by a killed run is simply taken over; the file records who held it last
so the message for a second run can say which process is running.
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sotewatch.pipeline.errors import RunLockedError


def lock_path(db_path: Path) -> Path:
    """`<db>.lock` beside the real file: every alias (symlink, `..` path) of one
    database shares one lock, so two runs through two names cannot overlap."""
    real = Path(os.path.realpath(db_path))
    return real.with_name(real.name + ".lock")


@contextmanager
def run_lock(db_path: Path) -> Iterator[None]:
    """Hold the database's run lock, or raise RunLockedError at once."""
    path = lock_path(db_path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 64, 0).decode(errors="replace").strip() or "unknown"
            raise RunLockedError(
                f"another sotewatch run (pid {holder}) is working on {db_path}; exiting"
            ) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        yield
    finally:
        os.close(fd)
