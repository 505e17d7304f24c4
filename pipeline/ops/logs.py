"""Log lines for cron (plain or JSON) and a progress bar for people at a terminal."""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Callable
from typing import Any

# Fetch outcomes (pipeline/fetching/fetched.py) that are a page's normal life, not news.
QUIET_OUTCOMES = frozenset({"ok", "not_modified"})
# Libraries whose log lines belong in ours (stamina logs each retry it schedules).
LIBRARY_LOGGERS = ("stamina",)
# What every LogRecord has; anything else on a record was given as `extra=`.
_STANDARD = frozenset(logging.LogRecord("", 0, "", 0, "", None, None).__dict__) | {
    "message",
    "asctime",
}
_format = "text"


class JsonFormatter(logging.Formatter):
    """One JSON object a line, for log shippers."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S%z"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key, value in record.__dict__.items():
            if key not in _STANDARD and key not in entry:
                entry[key] = value
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


class TextFormatter(logging.Formatter):
    """Time, level, message, then any `extra=` fields as key=value (stamina's retries
    say what they retry only there)."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        extra = [f"{k}={v}" for k, v in record.__dict__.items() if k not in _STANDARD]
        return " ".join([line, *extra]) if extra else line


def configure(fmt: str = "text", verbose: bool = False) -> None:
    global _format
    _format = fmt
    handler = logging.StreamHandler(sys.stderr)
    if fmt == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(TextFormatter())
    root = logging.getLogger("sotewatch")
    root.handlers[:] = [handler]
    root.setLevel(logging.DEBUG if verbose else logging.INFO)
    root.propagate = False
    for name in LIBRARY_LOGGERS:  # else Python's last-resort handler prints them plain
        library = logging.getLogger(name)
        library.handlers[:] = [handler]
        library.propagate = False


def json_mode() -> bool:
    """True under `--log-format json`: then the CLI logs what it would print, as JSON."""
    return _format == "json"


def progress_hook(total: int | None = None) -> tuple[Callable[[Any], None], Callable[[], None]]:
    """A per-page callback and a closer: a tqdm bar on a terminal, log lines otherwise.

    Cron mails whatever a job writes, so a page fetched or confirmed unchanged is
    logged only with --verbose (DEBUG); a page that failed, is gone or is blocked is
    logged always. One line for each of a run's thousand pages was also 1-2% of the
    run's CPU (py-spy on bench/bench_fetch.py's cold run)."""
    log = logging.getLogger("sotewatch.fetch")
    if sys.stderr.isatty():
        from tqdm import tqdm

        bar = tqdm(total=total, unit="page", desc="fetch", leave=False)

        def tick(result: Any) -> None:
            bar.update(1)

        return tick, bar.close

    def line(result: Any) -> None:
        level = logging.DEBUG if result.outcome.value in QUIET_OUTCOMES else logging.INFO
        if log.isEnabledFor(level):
            log.log(level, "%s %s %s", result.outcome.value, result.status or "-", result.url)

    return line, lambda: None
