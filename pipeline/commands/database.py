"""Commands over the stored history: `changes`, `index`, `browse`, `status`, `prune`."""

from __future__ import annotations

import os
from datetime import datetime

import click

from sotewatch.pipeline.commands.clitypes import ConfigNumber
from sotewatch.pipeline.commands.common import say
from sotewatch.pipeline.errors import ConfigError
from sotewatch.pipeline.runs.lock import run_lock


@click.command()
@click.option(
    "--since",
    type=click.DateTime(formats=["%Y-%m-%d", "%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"]),
    help="Only changes detected on or after this date (UTC).",
)
@click.pass_context
def changes(ctx: click.Context, since: datetime | None) -> None:
    """Print the stored changes grouped as the digest groups them (county, network,
    national), in the digest's plain-text form."""
    from sotewatch.pipeline.runs.runner import changes_text

    db = ctx.obj["db"]
    if not db.exists():
        raise ConfigError(f"no database at {db}")
    click.echo(changes_text(db, since))


@click.command()
@click.pass_context
def index(ctx: click.Context) -> None:
    """Bring full-text search up to date with what the runs stored (run it after `run`).

    Indexes each new version and change with its words' base forms, so that
    searching "Lappi" finds "Lapissa". Incremental: only what is new is read. Applies
    any pending schema migration first (`browse` only reads, and asks for this)."""
    from sotewatch.pipeline.runs.runner import index_search
    from sotewatch.pipeline.storage.store import Store

    db = ctx.obj["db"]
    if not db.exists():
        raise ConfigError(f"no database at {db}")
    with run_lock(db):
        store = Store.open(db)
        try:
            click.echo(index_search(store))
        finally:
            store.close()


@click.command()
@click.option("--port", type=click.IntRange(1, 65535), default=8001, show_default=True)
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option(
    "--setting",
    "settings",
    type=(str, str),
    multiple=True,
    metavar="NAME VALUE",
    help="A Datasette setting, e.g. --setting base_url /sotewatch/ behind a proxy.",
)
@click.pass_context
def browse(ctx: click.Context, port: int, host: str, settings: tuple[tuple[str, str], ...]) -> None:
    """Serve the database read-only in Datasette, with the project's metadata and plugin.

    Opens the change log, every version of every page, full-text search and the
    activity chart at http://HOST:PORT/."""

    from sotewatch.pipeline.browsing.browse import browse_command_args, readiness

    db = ctx.obj["db"]
    if not db.exists():
        raise ConfigError(f"no database at {db}: run `sotewatch run` or `sotewatch demo` first")
    for warning in readiness(db):  # reads only: `sotewatch index` migrates and indexes
        say(warning, err=True, level="warning", event="browse_not_ready")
    args = browse_command_args(db, port=port, host=host)
    for name, value in settings:  # after the project's own: Datasette keeps the last
        args += ["--setting", name, value]
    click.echo(f"Datasette on http://{host}:{port}/ (Ctrl-C stops it)", err=True)
    os.execv(args[0], args)


@click.command()
@click.pass_context
def status(ctx: click.Context) -> None:
    """Last runs, per-source health, counts of pages, snapshots and undelivered changes."""
    from sotewatch.pipeline.ops.status import format_status, status_report

    db = ctx.obj["db"]
    if not db.exists():
        raise ConfigError(f"no database at {db}")
    click.echo(format_status(status_report(db)))


@click.command()
@click.option(
    "--keep-days", type=ConfigNumber("keep_days", whole=True, minimum=0), default=90,
    show_default=True, help="Keep every version.",
)  # fmt: skip
@click.option(
    "--then",
    type=click.Choice(["weekly", "monthly"]),
    default="weekly",
    show_default=True,
    help="Older versions: keep one per week or month.",
)
@click.pass_context
def prune(ctx: click.Context, keep_days: int, then: str) -> None:
    """Thin out old versions (never a page's latest, nor what an undelivered change
    needs), drop orphaned bodies, and compact the file only when it is worth it."""
    from sotewatch.pipeline.storage.prune import prune as prune_database

    click.echo(prune_database(ctx.obj["db"], keep_days=keep_days, then=then).text())
