"""The `sotewatch` script: for `run`, the workers' fork server is forked before anything
else is imported; then the command line (pipeline/cli.py) takes over.

Forked here, about 30 ms into the process rather than after click has been imported and
has parsed the command line (about 100 ms), the server starts importing the parsers
that much sooner, on a core that is otherwise idle then; and it is a copy of a smaller
process, whose pages the run then copies on write less. This reads only the few options
that decide it (the database, `--workers`) and gives up on anything unusual:
`sotewatch run` forks the server itself if it has not been forked here
(pipeline/warmup.py), so a command line read wrongly here costs time, never a result.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

DEFAULT_DB = Path("sotewatch.db")
_GLOBAL_VALUES = ("--db", "--log-format")  # the group's options that take a value
_GLOBAL_FLAGS = ("-v", "--verbose")


def run_options(argv: Sequence[str], environ: Mapping[str, str]) -> tuple[Path, int | None] | None:
    """(database, --workers) if `argv` is a `sotewatch [options] run [options]` command
    line, read as click will read it; None for any other, or one this cannot be sure of."""
    db = Path(environ["SOTEWATCH_DB"]) if environ.get("SOTEWATCH_DB") else DEFAULT_DB
    index = 0
    while index < len(argv):
        token = argv[index]
        name, has_value, value = token.partition("=")
        if name in _GLOBAL_VALUES:
            if not has_value:
                if index + 1 >= len(argv):
                    return None
                index += 1
                value = argv[index]
            if name == "--db":
                db = Path(value)
        elif token not in _GLOBAL_FLAGS:
            break
        index += 1
    if argv[index : index + 1] != ["run"]:
        return None
    rest = argv[index + 1 :]
    if "--help" in rest:
        return None
    workers: int | None = None
    for position, token in enumerate(rest):
        name, has_value, value = token.partition("=")
        if name != "--workers":
            continue
        if not has_value:
            value = rest[position + 1] if position + 1 < len(rest) else ""
        if not value.isdigit():
            return None  # click will say what is wrong with it
        workers = int(value)
    return db, workers


def main() -> None:
    options = run_options(sys.argv[1:], os.environ)
    if options is not None:
        from pipeline.errors import ConfigError
        from pipeline.warmup import prestart_workers

        with contextlib.suppress(ConfigError):  # a wrong $SOTEWATCH_WORKERS: run says so
            prestart_workers(*options)

    from pipeline.cli import main as command_line

    command_line()
