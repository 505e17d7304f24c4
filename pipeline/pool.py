"""Forked worker processes fed over sockets by the run's own thread, with no thread between.

Why not `ProcessPoolExecutor`: it hands work over through two threads of its own, which
take the GIL whenever the run's event loop lets go of it for a socket call, and the
event loop then waits milliseconds to get it back; on a run of 1,000 pages that cost
more than the fetching. Here the run's thread writes the tasks and reads the results
itself, never blocking except when it asks for a result that is not there yet.

Workers are forked from the run itself ("fork"), or from the run's fork server
("forkserver", pipeline/forkserver.py): a fork of the run made as it starts, which
imports the modules named by `prestart` once, on another core, while the run does the
rest of its start-up; each worker forked from it has them already. A worker forked
from the server also inherits no thread, event loop or open database of the run's.

Each worker has one socket pair. Both ways a message is a length-prefixed pickle: a list
of tasks in, the list of their results out, in order. A worker that dies (a segfault in
a parser, the OOM killer) shows as the end of its socket; the batches it held fail with
`WorkerDied` and the worker is replaced.

A worker asked of the fork server is started by a thread of its own: the server answers
only once it has imported its modules (about 0.15 s), which the run spends fetching,
its tasks waiting in the worker's socket meanwhile. The thread does nothing else.
"""

from __future__ import annotations

import pickle
import select
import socket
import struct
import threading
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from pipeline import forkserver

_FRAME = struct.Struct("!Q")  # the length of the pickle that follows
_READ = 1 << 20
# Asked of the kernel for each socket's send buffer (it caps the size at
# net.core.wmem_max, 208 KB by default, and doubles it): about a batch of tasks.
_BUFFER = 1 << 20


class WorkerDied(Exception):
    """The worker holding a batch exited before answering it."""


@dataclass(eq=False)
class Batch:
    """Tasks handed to one worker; `results` is set once it has answered."""

    tasks: Sequence[Any]
    worker: _Worker
    results: list[Any] | None = None


@dataclass(eq=False)
class _Worker:
    starting: _Start  # the process, once started
    sock: socket.socket
    outgoing: bytearray = field(default_factory=bytearray)
    incoming: bytearray = field(default_factory=bytearray)
    batches: deque[Batch] = field(default_factory=deque)  # sent, not yet answered
    dead: bool = False
    answered: bool = False  # a batch at least

    @property
    def process(self) -> Any:  # a Process (started), None if it could not start
        """The worker's process, waiting for it to have started."""
        return self.starting.process()

    def send(self, batch: Batch) -> None:
        payload = pickle.dumps(list(batch.tasks), protocol=pickle.HIGHEST_PROTOCOL)
        self.outgoing += _FRAME.pack(len(payload))
        self.outgoing += payload
        self.batches.append(batch)
        self.pump()

    def pump(self) -> None:
        """Write what the socket takes and read what has arrived, without blocking."""
        if self.dead:
            return
        try:
            while self.outgoing:
                sent = self.sock.send(self.outgoing)
                del self.outgoing[:sent]
        except BlockingIOError:
            pass
        except OSError:
            self._died()
            return
        try:
            while True:
                data = self.sock.recv(_READ)
                if not data:
                    self._died()
                    return
                self.incoming += data
        except BlockingIOError:
            pass
        except OSError:
            self._died()
            return
        self._take_answers()

    def wait(self) -> None:
        """Wait for the worker to exit, told by its socket's closing; kill it if it does not."""
        process = self.process
        if process is None:
            return
        process.join(timeout=10)
        if process.is_alive():
            process.kill()
            process.join()

    def _take_answers(self) -> None:
        while len(self.incoming) >= _FRAME.size:
            (size,) = _FRAME.unpack_from(self.incoming)
            end = _FRAME.size + size
            if len(self.incoming) < end:
                return
            results = pickle.loads(memoryview(self.incoming)[_FRAME.size : end])
            del self.incoming[:end]
            self.batches.popleft().results = results
            self.answered = True

    def _died(self) -> None:
        self.dead = True
        if self.process is not None:
            self.process.join(timeout=10)

    def obituary(self) -> str:
        process = self.process
        if process is None:
            return f"worker could not start: {self.starting.error}"
        return f"worker {process.pid} exited ({process.exitcode})"


class _Start:
    """A worker's process being started, in a thread of its own when `background`.

    The run's end of the worker's socket is usable at once; the worker's end stays open
    here until the process has it, so the socket cannot end (which means a dead worker)
    before it even started. A process that fails to start closes it: the worker is dead.
    """

    def __init__(self, process: Any, theirs: socket.socket, *, background: bool) -> None:
        self._process = process
        self._theirs = theirs
        self.error: Exception | None = None
        self._thread: threading.Thread | None = None
        if background:
            self._thread = threading.Thread(target=self._start, daemon=True)
            self._thread.start()
        else:
            self._start()
            if self.error is not None:
                raise self.error

    def process(self) -> Any:
        if self._thread is not None:
            self._thread.join()
        return None if self.error is not None else self._process

    def _start(self) -> None:
        try:
            self._process.start()
        except Exception as exc:  # told by `process()`: the worker is dead
            self.error = exc
        finally:
            self._theirs.close()


class Pool:
    """`workers` forked processes, each running `serve(initializer, initargs, work)`.

    With `start_method="forkserver"`, `work`, `initializer` and `initargs` are pickled
    for each worker: functions of importable modules, arguments that pickle cheaply."""

    def __init__(
        self,
        workers: int,
        work: Callable[[list[Any]], list[Any]],
        initializer: Callable[..., None],
        initargs: tuple[Any, ...],
        *,
        start_method: str = "fork",
        lease: forkserver.Lease | None = None,
    ) -> None:
        """`lease`: the fork server to fork from (start_method="forkserver"); by default
        the prestarted one, else one forked now (pipeline/forkserver.py)."""
        self._start = (work, initializer, initargs)
        self._lease: forkserver.Lease | None = None
        if start_method == "forkserver":
            self._lease = lease or forkserver.lease()
        else:
            import multiprocessing

            self._context = multiprocessing.get_context(start_method)
        self._workers: list[_Worker] = []
        for _ in range(max(1, workers)):
            self._workers.append(self._spawn())

    def submit(self, tasks: Sequence[Any]) -> Batch:
        """Hand `tasks` to the least busy worker (a dead one is replaced first)."""
        self._workers = [w if not w.dead else self._replace(w) for w in self._workers]
        worker = min(self._workers, key=lambda w: len(w.batches))
        batch = Batch(tasks, worker)
        worker.send(batch)
        return batch

    @property
    def idle(self) -> bool:
        """Whether a worker holds no batch: one to hand the next pages to at once."""
        return any(not worker.dead and not worker.batches for worker in self._workers)

    @property
    def answered(self) -> bool:
        """Whether a worker has answered yet: until then, the workers are starting."""
        return any(worker.answered for worker in self._workers)

    def poll(self) -> None:
        """Move data both ways for every worker; cheap, and never blocks."""
        for worker in self._workers:
            if worker.batches or worker.outgoing:
                worker.pump()

    def result(self, batch: Batch) -> list[Any]:
        """The batch's results, waiting for them; `WorkerDied` if its worker died.

        While it waits, every worker is fed and read, not only the batch's: a worker
        left with half a batch in the run's buffer, or with an answer the run does not
        read, would stand idle until the run came back to it."""
        while batch.results is None and not batch.worker.dead:
            busy = [w for w in self._workers if not w.dead and (w.batches or w.outgoing)]
            select.select(
                [w.sock for w in busy if w.batches], [w.sock for w in busy if w.outgoing], []
            )
            for worker in busy:
                worker.pump()
        if batch.results is None:
            raise WorkerDied(batch.worker.obituary())
        return batch.results

    def close(self) -> None:
        """Every worker told first, then waited for: they exit side by side."""
        for worker in self._workers:
            worker.sock.close()
        for worker in self._workers:
            worker.wait()
        self._workers = []
        if self._lease is not None:
            self._lease.server.close()
            self._lease = None

    def _spawn(self) -> _Worker:
        work, initializer, initargs = self._start
        ours, theirs = socket.socketpair()
        for end in (ours, theirs):  # a whole batch either way, without waiting for a read
            end.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, _BUFFER)
        ours.setblocking(False)
        if self._lease is not None:
            # The server's answer is not waited for: it may still be importing.
            process: Any = forkserver.Process(
                _serve, ([], work, initializer, initargs), sock=theirs, server=self._lease.server
            )
            return _Worker(_Start(process, theirs, background=True), ours)
        # A fork of the run copies the run's end of every worker's socket; the child
        # closes them, or a worker would never see its socket end when the run closes it.
        not_its_own = [ours, *(w.sock for w in self._workers if not w.dead)]
        process = self._context.Process(
            target=_serve, args=(theirs, not_its_own, work, initializer, initargs), daemon=True
        )
        return _Worker(_Start(process, theirs, background=False), ours)

    def _replace(self, dead: _Worker) -> _Worker:
        dead.sock.close()
        return self._spawn()


def _serve(
    sock: socket.socket,
    not_its_own: list[socket.socket],
    work: Callable[[list[Any]], list[Any]],
    initializer: Callable[..., None],
    initargs: tuple[Any, ...],
) -> None:
    """A worker's life: answer each batch in order until the run closes its socket."""
    for inherited in not_its_own:
        inherited.close()
    initializer(*initargs)
    while True:
        header = _receive(sock, _FRAME.size)
        if header is None:
            return
        (size,) = _FRAME.unpack(header)
        payload = _receive(sock, size)
        if payload is None:
            return
        tasks = pickle.loads(payload)
        results = work(tasks)
        try:
            answer = pickle.dumps(results, protocol=pickle.HIGHEST_PROTOCOL)
        except Exception as exc:  # a result that will not pickle: the batch's failure
            answer = pickle.dumps([f"{type(exc).__name__}: {exc}"] * len(tasks))
        try:
            sock.sendall(_FRAME.pack(len(answer)) + answer)
        except (BrokenPipeError, ConnectionResetError):
            return  # the run has gone (or closed the pool) without waiting for it


def _receive(sock: socket.socket, size: int) -> bytes | None:
    """Exactly `size` bytes, or None at the end of the socket (a run that closes it with
    an answer unread resets it: the same end)."""
    parts = bytearray()
    while len(parts) < size:
        try:
            data = sock.recv(min(_READ, size - len(parts)))
        except ConnectionResetError:
            return None
        if not data:
            return None
        parts += data
    return bytes(parts)
