"""The `sotewatch` command: parses arguments, calls the library, maps errors to exit codes.

Nothing else in the project prints; this module and the subcommands it holds
(pipeline/commands/, by concern) are the one boundary.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import click

from sotewatch.pipeline.commands import database, readers, watching
from sotewatch.pipeline.commands.common import DEFAULT_DB, say
from sotewatch.pipeline.errors import EXIT_STORAGE, SotewatchError

EXIT_CODES = """\b
Exit codes:
  0  success
  1  a page newly failed, or reached failing_after (the rest was done and stored)
  2  configuration or usage error (the message names file and line)
  3  another run is in progress on this database
  4  a digest could not be delivered (it is retried on the next run)
  5  a database could not be written (disk full, I/O error): the run stopped"""


class SotewatchGroup(click.Group):
    """Turns our exceptions into a one-line message and their exit code."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except SotewatchError as exc:
            say(f"sotewatch: {exc}", err=True, level="error", event="error",
                 exit_code=exc.exit_code)  # fmt: skip
            ctx.exit(exc.exit_code)
        except (sqlite3.Error, OSError) as exc:  # a full disk in any command: exit 5
            from sotewatch.pipeline.storage.storagefail import storage_failure

            failure = storage_failure(exc)
            if failure is None:
                raise
            where = ctx.obj["db"] if ctx.obj else ""
            say(f"sotewatch: {where}: {failure}", err=True, level="error", event="error",
                exit_code=EXIT_STORAGE)  # fmt: skip
            ctx.exit(EXIT_STORAGE)


@click.group(cls=SotewatchGroup, epilog=EXIT_CODES)
@click.option(
    "--db",
    "db_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=DEFAULT_DB,
    show_default=True,
    envvar="SOTEWATCH_DB",
    help="The SQLite database of snapshots and changes.",
)
@click.option("--log-format", type=click.Choice(["text", "json"]), default="text")
@click.option("-v", "--verbose", is_flag=True, help="Log every page.")
@click.version_option(package_name="sotewatch")
@click.pass_context
def cli(ctx: click.Context, db_path: Path, log_format: str, verbose: bool) -> None:
    """Follow what changes on the web pages of the sote reform and tell each reader
    what concerns their county and network."""
    from sotewatch.pipeline.ops import logs

    logs.configure(log_format, verbose)
    ctx.obj = {"db": db_path}


@cli.command()
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("out"),
    show_default=True,
    help="Where the digest, feeds and archive are written.",
)
@click.pass_context
def demo(ctx: click.Context, out: Path) -> None:
    """Run the bundled sample site's two editions through the whole pipeline.

    Serves data/sample_site on 127.0.0.1, runs edition 1 then edition 2 into a
    fresh database (OUT/demo.db unless --db is given), writes the digest as HTML,
    text and .eml into OUT and prints a summary."""
    from sotewatch.pipeline.demo.demo import run_demo

    db = ctx.obj["db"] if ctx.obj["db"] != DEFAULT_DB else out / "demo.db"
    summary = run_demo(out, db)
    click.echo(summary.text())


for command in (
    watching.run, watching.check, watching.sources_command, watching.scrapers,
    watching.preview, watching.eval_tagger,
    database.changes, database.index, database.browse, database.status, database.prune,
    readers.subscribers, readers.resubscribe, readers.digest, readers.send,
):  # fmt: skip
    cli.add_command(command)


def main() -> None:
    """The `sotewatch` script."""
    cli(prog_name="sotewatch")
