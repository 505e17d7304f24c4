"""The analysis workers' fork server: a fork of the run, made as it starts, that imports
the analysis stack once and then forks each worker.

multiprocessing's own fork server is a fresh interpreter, and it starts a second one
for its resource tracker (0.03 s of CPU). Each imports site again, and the server the
`sotewatch` script and click, before it can import the parsers; each worker then runs
the script again as its __main__. A fork of the run has all of that already, and the
`sotewatch` script forks it about 30 ms into the run (pipeline/script.py) rather than
after click has parsed the command line. Measured on bench/bench_fetch.py's cold run,
10 interleaved rounds against multiprocessing's server: CPU of all processes 3.79 ->
3.47 s, and the changed run's 2.73 -> 2.31 s (medians). A run that needs its workers
only later forks the server then.

The run and the server talk over one socket pair. To start a worker, the run sends a
pickled (target, args) with two descriptors: the worker's end of its socket, and the
write end of a status pipe. On that pipe the server writes the worker's pid, and later
its exit code, once it has reaped it (multiprocessing's server does the same). The
server exits when its socket ends, which is when the run exits, however it exits.
Workers that should die with it ask for that themselves (pipeline/workers.py sets
PR_SET_PDEATHSIG).

The server keeps nothing of the run's but its memory. It closes every descriptor it
inherited (the run's lock file, say), so a killed run's lock is free at once. It
freezes every object it inherited, so that no collection of the run's garbage can
close a descriptor number it has since reused.

SQLite's state does not survive a fork: a process forked while a database is open
must not open that database again ("locking protocol" errors, and worse: see
sqlite.org/howtocorrupt.html, 2.6). So a run that will analyse many pages forks its
server before it opens its database (`prestart`); any other run forks it when a page
first needs analysing, with its connection closed meanwhile (`lease`'s `around_fork`).
Either way the workers may read the database (`Lease.clean`). Each server serves one
pool and ends with it.
"""

from __future__ import annotations

import contextlib
import fcntl
import gc
import importlib
import os
import pickle
import select
import signal
import socket
import struct
import sys
import threading
import traceback
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any

_LENGTH = struct.Struct("!Q")  # of the pickled request that follows
_NUMBER = struct.Struct("!q")  # a pid, then an exit code, on a worker's status pipe


class ServerGone(OSError):
    """The fork server did not fork a worker: it has exited, or could not prepare it."""


class Server:
    """The run's handle on a fork server it forked."""

    def __init__(self, preload: Sequence[str]) -> None:
        ours, theirs = socket.socketpair()
        for stream in (sys.stdout, sys.stderr):  # or the child would write them again
            stream.flush()
        pid = os.fork()
        if pid == 0:  # never returns
            ours.close()
            _server_main(theirs, tuple(preload))
        theirs.close()
        self.pid = pid
        self.sock = ours
        self.lock = threading.Lock()  # workers are started by threads of their own

    def fork(self, target: Callable[..., Any], args: tuple[Any, ...], sock: socket.socket) -> int:
        """Ask for a worker running target(sock, *args); the read end of its status pipe."""
        request = pickle.dumps((target, args), protocol=pickle.HIGHEST_PROTOCOL)
        status, status_w = os.pipe()
        try:
            with self.lock:
                header = [_LENGTH.pack(len(request))]
                socket.send_fds(self.sock, header, [sock.fileno(), status_w])
                self.sock.sendall(request)
        except OSError as exc:
            os.close(status)
            raise ServerGone(f"the fork server is gone: {exc}") from exc
        finally:
            os.close(status_w)
        return status

    def close(self) -> None:
        """End the server (its socket ends) and reap it; its workers are not waited for."""
        self.sock.close()
        with contextlib.suppress(ChildProcessError):
            os.waitpid(self.pid, 0)


@dataclass(frozen=True)
class Lease:
    """A server for one pool. `clean`: forked while the run had no database open, so the
    pool's workers may open it."""

    server: Server
    clean: bool


_prestarted: Server | None = None


def prestart(preload: Sequence[str]) -> None:
    """Fork the server for the next pool now, before the run opens its database, to
    import `preload` (module names) at once, on another core."""
    global _prestarted
    if _prestarted is None:
        _prestarted = Server(preload)


def discard() -> None:
    """End a prestarted server no pool took: each serves one run."""
    global _prestarted
    if _prestarted is not None:
        _prestarted.close()
        _prestarted = None


def prestarted() -> bool:
    """Whether a server was prestarted for the next pool (pipeline/warmup.py)."""
    return _prestarted is not None


def lease(
    preload: Sequence[str] = (),
    around_fork: Callable[[], AbstractContextManager[object]] | None = None,
) -> Lease:
    """The prestarted server, or one forked now to import `preload`, inside
    `around_fork()` if given: a context in which the caller's databases are closed."""
    global _prestarted
    server, _prestarted = _prestarted, None
    if server is not None:
        return Lease(server, clean=True)
    if around_fork is None:
        return Lease(Server(preload), clean=False)
    with around_fork():
        return Lease(Server(preload), clean=True)


class Process:
    """A worker a server forks: what pipeline/pool.py uses of multiprocessing.Process."""

    def __init__(
        self,
        target: Callable[..., Any],
        args: tuple[Any, ...],
        *,
        sock: socket.socket,
        server: Server,
    ) -> None:
        self._target, self._args, self._sock = target, args, sock
        self._server = server
        self._status: int | None = None
        self.pid: int | None = None
        self.exitcode: int | None = None

    def start(self) -> None:
        """Blocks until the server has forked the worker (it may import modules first)."""
        self._status = self._server.fork(self._target, self._args, self._sock)
        pid = _read_number(self._status)
        if pid is None:
            self._close()
            raise ServerGone("the fork server did not fork the worker (its error is logged)")
        self.pid = pid

    def join(self, timeout: float | None = None) -> None:
        if self._status is None:
            return
        ready, _, _ = select.select([self._status], [], [], timeout)
        if ready:
            code = _read_number(self._status)
            # No code: the server died, and its workers with it.
            self.exitcode = -signal.SIGKILL if code is None else code
            self._close()

    def is_alive(self) -> bool:
        self.join(0)
        return self.pid is not None and self.exitcode is None

    def kill(self) -> None:
        if self.is_alive():
            assert self.pid is not None
            with contextlib.suppress(ProcessLookupError):  # it has just exited
                os.kill(self.pid, signal.SIGKILL)

    def _close(self) -> None:
        if self._status is not None:
            os.close(self._status)
            self._status = None


def _read_number(fd: int) -> int | None:
    data = b""
    while len(data) < _NUMBER.size:
        chunk = os.read(fd, _NUMBER.size - len(data))
        if not chunk:
            return None
        data += chunk
    return _NUMBER.unpack(data)[0]


# -- in the server ----------------------------------------------------------------------


def _server_main(sock: socket.socket, preload: tuple[str, ...]) -> None:
    code = 0
    try:
        gc.freeze()  # before any collection could finalise an object of the run's
        floor = _highest_open_descriptor() + 1
        os.closerange(3, sock.fileno())
        os.closerange(sock.fileno() + 1, os.sysconf("SC_OPEN_MAX"))
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the run's to handle
        for name in preload:
            importlib.import_module(name)
        gc.enable()  # forked while the run had the collector paused (pipeline/heap.py)
        _serve(sock, floor)
    except BaseException:
        traceback.print_exc()
        code = 1
    finally:
        os._exit(code)


def _highest_open_descriptor() -> int:
    try:
        return max(int(name) for name in os.listdir("/dev/fd"))
    except (OSError, ValueError):
        return 255


def _serve(sock: socket.socket, floor: int) -> None:
    """Fork a worker for each request until the run's end of the socket closes.

    A worker's socket is moved to a descriptor number the run never had open (`floor`
    and up). A library can hold numbers it closes in every forked child: libuv (under
    uvloop) closes and remakes its signal pipe there, by number. Had a worker's socket
    been given one of those numbers, the worker would have lost it as it was born."""
    wake_r, wake_w = os.pipe()
    for fd in (wake_r, wake_w):
        os.set_blocking(fd, False)
    signal.set_wakeup_fd(wake_w)
    signal.signal(signal.SIGCHLD, lambda *_: None)
    statuses: dict[int, int] = {}  # worker pid -> the write end of its status pipe
    while True:
        readable, _, _ = select.select([sock, wake_r], [], [])
        if wake_r in readable:
            while _drained(wake_r):
                pass
        if sock in readable:
            request = _receive(sock)
            if request is None:
                return  # the run has gone
            payload, (received_fd, status_fd) = request
            worker_fd = fcntl.fcntl(received_fd, fcntl.F_DUPFD, floor)
            os.close(received_fd)
            try:
                target, args = pickle.loads(payload)  # imports what it needs, here, once
            except Exception:  # that worker's failure (its status pipe ends), not the server's
                traceback.print_exc()
                os.close(worker_fd)
                os.close(status_fd)
                continue
            pid = os.fork()
            if pid == 0:  # never returns
                not_its_own = [sock.fileno(), wake_r, wake_w, *statuses.values()]
                _worker_main(target, args, worker_fd, not_its_own)
            os.close(worker_fd)
            statuses[pid] = status_fd
            _tell(status_fd, pid)
        _reap(statuses)


def _drained(fd: int) -> bool:
    try:
        return bool(os.read(fd, 4096))
    except BlockingIOError:
        return False


def _receive(sock: socket.socket) -> tuple[bytes, list[int]] | None:
    header, fds, _, _ = socket.recv_fds(sock, _LENGTH.size, 2)
    if not header:
        return None
    while len(header) < _LENGTH.size:
        more = sock.recv(_LENGTH.size - len(header))
        if not more:
            return None
        header += more
    (size,) = _LENGTH.unpack(header)
    payload = bytearray()
    while len(payload) < size:
        more = sock.recv(size - len(payload))
        if not more:
            return None
        payload += more
    return bytes(payload), fds


def _reap(statuses: dict[int, int]) -> None:
    while statuses:
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return
        fd = statuses.pop(pid, None)
        if fd is not None:
            _tell(fd, os.waitstatus_to_exitcode(status))
            os.close(fd)


def _tell(fd: int, number: int) -> None:
    with contextlib.suppress(OSError):  # the run no longer listens (gone, or closed it)
        os.write(fd, _NUMBER.pack(number))


def _worker_main(
    target: Callable[..., Any], args: tuple[Any, ...], worker_fd: int, not_its_own: list[int]
) -> None:
    code = 1
    try:
        signal.set_wakeup_fd(-1)
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        for fd in not_its_own:
            os.close(fd)
        target(socket.socket(fileno=worker_fd), *args)
        code = 0
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 1
    except BaseException:
        traceback.print_exc()
    finally:
        for stream in (sys.stdout, sys.stderr):
            stream.flush()
        os._exit(code)
