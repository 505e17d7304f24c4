"""The worker pool: batches answered in order, big or many, by workers that can die."""

from __future__ import annotations

import os
import time

import pytest

import pipeline.forkserver
from pipeline.pool import Pool, WorkerDied

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="the pool forks its workers")


def sizes(tasks: list[bytes]) -> list[int]:
    """Stands in for the analysis: what each task was, told back."""
    for task in tasks:
        if task == b"die":
            os._exit(3)
        if task == b"slow":  # still unanswered when the next batch is handed out
            time.sleep(0.2)
    return [len(task) for task in tasks]


def nothing() -> None:
    pass


@pytest.fixture
def pool():
    pool = Pool(2, sizes, nothing, ())
    yield pool
    pool.close()


def test_many_batches_far_bigger_than_a_socket_buffer_come_back_in_order(pool: Pool) -> None:
    """Nothing blocks: the run writes what a worker's socket takes and reads as it goes."""
    batches = [pool.submit([bytes(n * 1000 + k) for k in range(8)]) for n in range(60)]
    for n, batch in enumerate(batches):
        pool.poll()
        assert pool.result(batch) == [n * 1000 + k for k in range(8)]


def test_a_worker_that_dies_fails_its_own_batches_and_is_replaced(pool: Pool) -> None:
    fine = pool.submit([b"a"])
    doomed = pool.submit([b"die"])
    assert pool.result(fine) == [1]
    with pytest.raises(WorkerDied):
        pool.result(doomed)
    again = [pool.submit([b"abc"]) for _ in range(4)]  # spread over both, one new
    assert [pool.result(b) for b in again] == [[3]] * 4


def test_closing_the_pool_ends_every_worker(pool: Pool) -> None:
    batches = [pool.submit([b"slow"]) for _ in range(2)]  # one to each worker
    processes = [b.worker.process for b in batches]
    assert len({p.pid for p in processes}) == 2
    pool.close()
    # They saw their socket end and left: none had to be killed (a negative exit code).
    assert all(p.exitcode is not None and p.exitcode >= 0 for p in processes)


def test_a_pool_from_the_fork_server_takes_tasks_while_its_workers_start() -> None:
    """The fork server answers only once it has imported its modules: the run goes on,
    its tasks waiting in the workers' sockets meanwhile."""
    pool = Pool(2, sizes, nothing, (), start_method="forkserver")
    try:
        batches = [pool.submit([b"ab"] * 3) for _ in range(4)]
        assert [pool.result(batch) for batch in batches] == [[2, 2, 2]] * 4
    finally:
        pool.close()


def test_a_worker_that_could_not_start_is_a_dead_worker(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_process(self: object) -> None:
        raise OSError("no fork server")

    monkeypatch.setattr(pipeline.forkserver.Process, "start", no_process)
    pool = Pool(1, sizes, nothing, (), start_method="forkserver")
    try:
        with pytest.raises(WorkerDied, match="could not start: no fork server"):
            pool.result(pool.submit([b"a"]))
    finally:
        pool.close()
