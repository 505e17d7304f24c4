"""The workers' fork server: a fork of the run that forks each worker and tells the run
its pid and exit code (pipeline/forkserver.py)."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from pipeline import forkserver

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="the server forks")

ROOT = Path(__file__).resolve().parent.parent


def answer_then_exit(sock: socket.socket, code: int) -> None:
    """Stands in for a worker: says who it is and who forked it, waits, exits."""
    sock.sendall(json.dumps([os.getpid(), os.getppid()]).encode() + b"\n")
    sock.recv(1)  # until the test lets it go (or closes its end)
    os._exit(code)


@pytest.fixture
def worker_socket() -> Iterator[tuple[socket.socket, socket.socket]]:
    ours, theirs = socket.socketpair()
    yield ours, theirs
    ours.close()
    theirs.close()


@pytest.fixture
def server() -> Iterator[forkserver.Server]:
    server = forkserver.Server(["json"])
    yield server
    server.close()


def started(code: int, theirs: socket.socket, server: forkserver.Server) -> forkserver.Process:
    process = forkserver.Process(answer_then_exit, (code,), sock=theirs, server=server)
    process.start()
    theirs.close()  # the worker has its own copy now
    return process


def test_a_worker_is_forked_by_the_server_and_its_pid_and_exit_code_reach_the_run(
    worker_socket: tuple[socket.socket, socket.socket], server: forkserver.Server
) -> None:
    ours, theirs = worker_socket
    process = started(3, theirs, server)
    pid, parent = json.loads(ours.makefile().readline())
    assert process.pid == pid
    assert parent == server.pid  # the server's child, not the run's
    assert process.is_alive()
    ours.sendall(b"x")
    process.join(timeout=10)
    assert process.exitcode == 3
    assert not process.is_alive()


def test_a_killed_worker_reports_its_signal(
    worker_socket: tuple[socket.socket, socket.socket], server: forkserver.Server
) -> None:
    ours, theirs = worker_socket
    process = started(0, theirs, server)
    ours.makefile().readline()
    process.kill()
    process.join(timeout=10)
    assert process.exitcode == -signal.SIGKILL


# A run that holds its database's lock when it starts the server, then says which
# files the server has open.
HOLDS_THE_LOCK = """
import json, os, sys, time
from pathlib import Path
from pipeline import forkserver
from pipeline.lock import run_lock
db = Path(sys.argv[1])
with run_lock(db):
    pid = forkserver.Server(["os"]).pid
    time.sleep(0.2)  # the server has closed what it inherited by now, or never will
    fds = os.listdir(f"/proc/{pid}/fd")
    print(json.dumps([os.path.realpath(f"/proc/{pid}/fd/{fd}") for fd in fds]))
"""


@pytest.mark.skipif(not Path("/proc/self/fd").exists(), reason="reads /proc")
def test_the_server_keeps_no_file_of_the_run_open(tmp_path: Path) -> None:
    """A killed run's lock must be free at once, not when its server notices it is gone."""
    db = tmp_path / "watch.db"
    opened = subprocess.run(
        [sys.executable, "-c", HOLDS_THE_LOCK, str(db)],
        capture_output=True, text=True, check=True, cwd=ROOT,
    )  # fmt: skip
    files = json.loads(opened.stdout)
    assert not [f for f in files if f.startswith(str(tmp_path))]
    assert len(files) <= 6  # stdin, stdout, stderr, its socket, its wake-up pipe


# A run forks its server late, from inside its event loop, when a page first needs
# analysing. libuv (under uvloop) then holds its signal pipe at the numbers a worker's
# socket is received at in the server, and closes them by number in every forked child.
AFTER_UVLOOP = """
import asyncio, os, socket, sys
import uvloop
held = [os.open(os.devnull, os.O_RDONLY) for _ in range(3)]  # libuv's pipe above them
uvloop.run(asyncio.sleep(0))
for fd in held:
    os.close(fd)
from pipeline import forkserver
from tests.test_forkserver import answer_then_exit
server = forkserver.Server(["os"])
ours, theirs = socket.socketpair()
process = forkserver.Process(answer_then_exit, (0,), sock=theirs, server=server)
process.start()
theirs.close()
ours.settimeout(10)
print(ours.makefile().readline().strip())
"""


def test_a_worker_keeps_its_socket_when_the_run_had_started_uvloop() -> None:
    pytest.importorskip("uvloop")
    answer = subprocess.run(
        [sys.executable, "-c", AFTER_UVLOOP], capture_output=True, text=True, cwd=ROOT
    )
    assert answer.returncode == 0, answer.stderr[-2000:]
    pid, parent = json.loads(answer.stdout)
    assert pid != parent
