"""What the commands share: the default paths, the --sources and --subscribers options,
and the operator's lines (printed, or JSON log lines under --log-format json)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

if TYPE_CHECKING:
    from sotewatch.pipeline.delivery.deliver import DeliveryReport

F = TypeVar("F", bound=Callable[..., Any])  # a command function, decorated
DEFAULT_DB = Path("sotewatch.db")


def sources_option(func: F) -> F:
    return click.option(
        "--sources",
        "sources_path",
        type=click.Path(dir_okay=False, path_type=Path),
        default=None,
        help="sources.toml, or a text file with one URL per line. [default: data/sources.toml]",
    )(func)


def say(message: str, *, err: bool = False, level: str = "info", **fields: object) -> None:
    """A line for the operator: printed, or under --log-format json one JSON log line
    (so a log shipper reads every line the same way)."""
    from sotewatch.pipeline.ops import logs

    if logs.json_mode():
        log = logging.getLogger("sotewatch.cli")
        log.log(logging.getLevelName(level.upper()), message, extra=fields)
    else:
        click.echo(message, err=err)


def echo_delivery(report: DeliveryReport) -> None:
    say(
        f"digests: {len(report.sent)} sent, {len(report.skipped)} not due or empty, "
        f"{len(report.failed)} failed",
        event="delivery", sent=len(report.sent), failed=len(report.failed),
    )  # fmt: skip


def subscribers_option(func: F) -> F:
    return click.option(
        "--subscribers",
        "path",
        type=click.Path(dir_okay=False, path_type=Path),
        envvar="SOTEWATCH_SUBSCRIBERS",
        callback=_beside_the_database,
        help="The subscribers file (addresses stay out of the served database). "
        "[default: subscribers.toml beside the database]",
    )(func)


def _beside_the_database(ctx: click.Context, _param: click.Parameter, value: Path | None) -> Path:
    from sotewatch.pipeline.delivery.mailsetup import default_subscribers

    return value if value is not None else default_subscribers(ctx.obj["db"])
