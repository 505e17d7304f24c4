"""What a run writes to its log when it is not on a terminal (cron mails all of it)."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator

import pytest

from sotewatch.pipeline.fetching.fetched import FetchRequest, FetchResult, Outcome
from sotewatch.pipeline.ops import logs


@pytest.fixture(autouse=True)
def restore_logger() -> Iterator[None]:
    logger = logging.getLogger("sotewatch")
    handlers, level, propagate = logger.handlers[:], logger.level, logger.propagate
    yield
    logger.handlers[:], logger.level, logger.propagate = handlers, level, propagate


def fetched(outcome: Outcome, status: int | None, path: str) -> FetchResult:
    url = f"http://127.0.0.1:9{path}"
    return FetchResult(FetchRequest(url, "s"), url, outcome, status)


def logged_pages(capsys: pytest.CaptureFixture[str], *, verbose: bool) -> list[str]:
    logs.configure("json", verbose)
    tick, close = logs.progress_hook()
    tick(fetched(Outcome.OK, 200, "/uusi"))
    tick(fetched(Outcome.NOT_MODIFIED, 304, "/sama"))
    tick(fetched(Outcome.ERROR, 500, "/rikki"))
    tick(fetched(Outcome.GONE, 404, "/poistettu"))
    tick(fetched(Outcome.BLOCKED, None, "/kielletty"))
    close()
    return [json.loads(line)["message"] for line in capsys.readouterr().err.splitlines()]


def test_a_quiet_run_logs_only_the_pages_that_went_wrong(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert logged_pages(capsys, verbose=False) == [
        "error 500 http://127.0.0.1:9/rikki",
        "gone 404 http://127.0.0.1:9/poistettu",
        "blocked - http://127.0.0.1:9/kielletty",
    ]


def test_verbose_logs_every_page(capsys: pytest.CaptureFixture[str]) -> None:
    assert logged_pages(capsys, verbose=True) == [
        "ok 200 http://127.0.0.1:9/uusi",
        "not_modified 304 http://127.0.0.1:9/sama",
        "error 500 http://127.0.0.1:9/rikki",
        "gone 404 http://127.0.0.1:9/poistettu",
        "blocked - http://127.0.0.1:9/kielletty",
    ]
