"""The analysis workers' fork server: a fork of the run, made as it starts, that imports
the analysis stack once and then forks each worker.

multiprocessing's own fork server is a fresh interpreter, and it starts a second one
for its resource tracker. Each imports site again, and the server the `sotewatch`
script and click, before it can import the parsers. On a cold run that was about
0.1 s of CPU, on two cores busy with the run's own start-up. A fork of the run has
all of that already. The run forks it before it opens its database or starts a
thread or an event loop; a run that needs its workers only later forks it then.

The run and the server talk over one socket pair. To start a worker, the run sends a
pickled (target, args) with two descriptors: the worker's end of its socket, and the
write end of a status pipe. On that pipe the server writes the worker's pid, and later
its exit code, once it has reaped it (multiprocessing's server does the same). The
server exits when its socket ends, which is when the run exits, however it exits.
Workers that should die with it ask for that themselves (pipeline/workers.py sets
PR_SET_PDEATHSIG).

The server keeps nothing of the run's but its memory. It closes every descriptor it
inherited (the run's database, its lock file), so a killed run's lock is free at once.
It freezes every object it inherited, so that no collection of the run's garbage can
close a descriptor number it has since reused.
"""

from __future__ import annotations

import contextlib
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
from typing import Any

_LENGTH = struct.Struct("!Q")  # of the pickled request that follows
_NUMBER = struct.Struct("!q")  # a pid, then an exit code, on a worker's status pipe


class ServerGone(OSError):
    """The fork server exited before it forked the worker."""


class _Server:
    """The run's handle on its fork server."""

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

    def alive(self) -> bool:
        try:
            pid, _ = os.waitpid(self.pid, os.WNOHANG)
        except ChildProcessError:
            return False
        return pid == 0

    def fork(self, target: Callable[..., Any], args: tuple[Any, ...], sock: socket.socket) -> int:
        """Ask for a worker running target(sock, *args); the read end of its status pipe."""
        payload = pickle.dumps((target, args), protocol=pickle.HIGHEST_PROTOCOL)
        status, status_w = os.pipe()
        try:
            with self.lock:
                header = [_LENGTH.pack(len(payload))]
                socket.send_fds(self.sock, header, [sock.fileno(), status_w])
                self.sock.sendall(payload)
        except OSError as exc:
            os.close(status)
            raise ServerGone(f"the fork server is gone: {exc}") from exc
        finally:
            os.close(status_w)
        return status


_server: _Server | None = None


def start(preload: Sequence[str] = ()) -> None:
    """Fork the server now, to import `preload` (module names), unless it is running."""
    global _server
    if _server is None or not _server.alive():
        _server = _Server(preload)


def started() -> bool:
    """Whether this process has forked a fork server."""
    return _server is not None


class Process:
    """A worker the server forks: what pipeline/pool.py uses of multiprocessing.Process."""

    def __init__(
        self, target: Callable[..., Any], args: tuple[Any, ...], *, sock: socket.socket
    ) -> None:
        self._target, self._args, self._sock = target, args, sock
        self._status: int | None = None
        self.pid: int | None = None
        self.exitcode: int | None = None

    def start(self) -> None:
        """Blocks until the server has forked the worker (it first imports its modules)."""
        start()
        assert _server is not None
        self._status = _server.fork(self._target, self._args, self._sock)
        pid = _read_number(self._status)
        if pid is None:
            self._close()
            raise ServerGone("the fork server exited before it forked the worker")
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
        os.closerange(3, sock.fileno())
        os.closerange(sock.fileno() + 1, os.sysconf("SC_OPEN_MAX"))
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the run's to handle
        for name in preload:
            importlib.import_module(name)
        gc.enable()  # forked while the run had the collector paused (pipeline/heap.py)
        _serve(sock)
    except BaseException:
        traceback.print_exc()
        code = 1
    finally:
        os._exit(code)


def _serve(sock: socket.socket) -> None:
    """Fork a worker for each request until the run's end of the socket closes."""
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
            payload, (worker_fd, status_fd) = request
            pid = os.fork()
            if pid == 0:  # never returns
                _worker_main(
                    payload, worker_fd, [sock.fileno(), wake_r, wake_w, *statuses.values()]
                )
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


def _worker_main(payload: bytes, worker_fd: int, not_its_own: list[int]) -> None:
    code = 1
    try:
        signal.set_wakeup_fd(-1)
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        for fd in not_its_own:
            os.close(fd)
        target, args = pickle.loads(payload)
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
