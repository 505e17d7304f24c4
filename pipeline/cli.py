"""The `sotewatch` command: parses arguments, calls the library, maps errors to exit codes.

Nothing else in the project prints; this module is the one boundary.
"""

from __future__ import annotations

import json
import logging
import os
import sqlite3
import sys
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

import click

from sotewatch.pipeline.config import DATA_DIR
from sotewatch.pipeline.errors import (
    EXIT_CONFIG,
    EXIT_SOURCES_FAILED,
    EXIT_STORAGE,
    ConfigError,
    SotewatchError,
)
from sotewatch.pipeline.runs.lock import run_lock

if TYPE_CHECKING:
    from sotewatch.pipeline.delivery.deliver import DeliveryReport
    from sotewatch.pipeline.runs.runner import RunOutcome

DEFAULT_DB = Path("sotewatch.db")
DEFAULT_SUBSCRIBERS = DATA_DIR / "subscribers.toml"

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

    def invoke(self, ctx: click.Context):  # type: ignore[no-untyped-def]
        try:
            return super().invoke(ctx)
        except SotewatchError as exc:
            _say(f"sotewatch: {exc}", err=True, level="error", event="error",
                 exit_code=exc.exit_code)  # fmt: skip
            ctx.exit(exc.exit_code)
        except (sqlite3.Error, OSError) as exc:  # a full disk in any command: exit 5
            from sotewatch.pipeline.storage.storagefail import storage_failure

            failure = storage_failure(exc)
            if failure is None:
                raise
            click.echo(f"sotewatch: {ctx.obj['db'] if ctx.obj else ''}: {failure}", err=True)
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


def _sources_option(func):  # type: ignore[no-untyped-def]
    return click.option(
        "--sources",
        "sources_path",
        type=click.Path(dir_okay=False, path_type=Path),
        default=None,
        help="sources.toml, or a text file with one URL per line. [default: data/sources.toml]",
    )(func)


@cli.command()
@_sources_option
@click.option("--force", is_flag=True, help="Fetch every source, due or not.")
@click.option("--only", multiple=True, metavar="SOURCE", help="Fetch only this source id.")
@click.option("--no-send", is_flag=True, help="Do everything but send digests.")
@click.option(
    "--subscribers",
    "subscribers_path",
    type=click.Path(dir_okay=False, path_type=Path),
    envvar="SOTEWATCH_SUBSCRIBERS",
    help="Subscribers file. [default: data/subscribers.toml, if it exists]",
)
@click.option("--per-host-delay", type=float, metavar="SECONDS", help="Override config.")
@click.option("--per-host-limit", type=int, metavar="N", help="Override config.")
@click.option(
    "--summary-json",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write what the run did as JSON to this file.",
)
@click.pass_context
def run(
    ctx: click.Context,
    sources_path: Path | None,
    force: bool,
    only: tuple[str, ...],
    no_send: bool,
    subscribers_path: Path | None,
    per_host_delay: float | None,
    per_host_limit: int | None,
    summary_json: Path | None,
) -> None:
    """The cron entry: fetch the due sources, store and diff, send the due digests."""
    from sotewatch.pipeline.runs.runner import RunRequest, run_command

    request = RunRequest(
        db=ctx.obj["db"],
        sources=sources_path,
        force=force,
        only=only,
        send=not no_send,
        subscribers=subscribers_path,
        per_host_delay=per_host_delay,
        per_host_limit=per_host_limit,
    )
    outcome = run_command(request)
    report = outcome.report
    if summary_json:
        summary_json.write_text(json.dumps(report.summary_json(), ensure_ascii=False, indent=2))
    _echo_run(outcome)
    if outcome.delivery is not None:
        _echo_delivery(outcome.delivery)
        outcome.delivery.raise_for_failures()
    if outcome.alarms:  # a page newly down, or down `failing_after` runs: cron should know
        ctx.exit(EXIT_SOURCES_FAILED)


def _say(message: str, *, err: bool = False, level: str = "info", **fields: object) -> None:
    """A line for the operator: printed, or under --log-format json one JSON log line
    (so a log shipper reads every line the same way)."""
    from sotewatch.pipeline.ops import logs

    if logs.json_mode():
        log = logging.getLogger("sotewatch.cli")
        log.log(logging.getLevelName(level.upper()), message, extra=fields)
    else:
        click.echo(message, err=err)


def _echo_run(outcome: RunOutcome) -> None:
    from datetime import UTC, datetime

    from sotewatch.pipeline.ops.runsummary import (
        changed_lines,
        down_lines,
        summary_fields,
        summary_line,
    )

    report, states = outcome.report, outcome.states
    line = summary_line(report, states, datetime.now(UTC))
    _say(line, event="run_summary", **summary_fields(report, states))
    for changed in changed_lines(report):
        _say(changed, event="page_changed")
    # each failed page was logged as it failed (source, URL, error), in either format
    for down in down_lines(outcome.states, outcome.failing_after):
        _say(down, level="warning", event="source_down")


def _echo_delivery(report: DeliveryReport) -> None:
    _say(
        f"digests: {len(report.sent)} sent, {len(report.skipped)} not due or empty, "
        f"{len(report.failed)} failed",
        event="delivery", sent=len(report.sent), failed=len(report.failed),
    )  # fmt: skip


@cli.command()
@_sources_option
@click.option(
    "--subscribers",
    "subscribers_path",
    type=click.Path(dir_okay=False, path_type=Path),
    envvar="SOTEWATCH_SUBSCRIBERS",
    help="Subscribers file. [default: data/subscribers.toml, if it exists]",
)
def check(sources_path: Path | None, subscribers_path: Path | None) -> None:
    """Validate the config files (sources, taxonomy, subscribers) and list the sources."""
    from sotewatch.pipeline.runs.runner import check_config

    try:
        lines = check_config(sources_path, subscribers_path)
    except SotewatchError as exc:
        _say(f"sotewatch: {exc}", err=True, level="error", event="error", exit_code=EXIT_CONFIG)
        sys.exit(EXIT_CONFIG)
    click.echo("\n".join(lines))


@cli.command("sources")
@_sources_option
@click.pass_context
def sources_command(ctx: click.Context, sources_path: Path | None) -> None:
    """List each source with its schedule, last check, next due time and health."""
    from datetime import UTC, datetime

    from sotewatch.pipeline.ops.runsummary import sources_table
    from sotewatch.pipeline.runs.runner import source_states

    states, failing_after = source_states(ctx.obj["db"], sources_path)
    click.echo("\n".join(sources_table(states, datetime.now(UTC), failing_after)))


@cli.command()
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


@cli.command()
def scrapers() -> None:
    """List the scraper families, one line each."""
    from sotewatch.scrapers import REGISTRY, _load_families

    _load_families()
    for name in sorted(REGISTRY):
        doc = (REGISTRY[name].__doc__ or "").strip().splitlines()
        click.echo(f"{name:10} {doc[0] if doc else ''}")


@cli.command()
@click.argument("target", metavar="URL|FILE")
@_sources_option
@click.option("--source", "source_id", metavar="SOURCE", help="Read it as this source does.")
@click.option("--family", help="Scraper family (default: the source's, else generic).")
@click.option("--include", multiple=True, metavar="CSS", help="Main-content selector to try.")
@click.option("--exclude", multiple=True, metavar="CSS", help="Chrome selector to try.")
@click.option("--ignore", multiple=True, metavar="REGEX", help="Noise pattern to try.")
@click.option("--url", "as_url", metavar="URL", help="The address a saved FILE came from.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")
@click.pass_context
def preview(
    ctx: click.Context,
    target: str,
    sources_path: Path | None,
    source_id: str | None,
    family: str | None,
    include: tuple[str, ...],
    exclude: tuple[str, ...],
    ignore: tuple[str, ...],
    as_url: str | None,
    as_json: bool,
) -> None:
    """Show one page exactly as the diff will see it, and what was dropped and why.

    TARGET is a URL (fetched as a run fetches it) or a saved file. Try `--include`,
    `--exclude` and `--ignore` here, then write them into the source's entry. Blocks
    the site repeats on its other pages stored in the database are shown as dropped."""
    from sotewatch.pipeline.ops.preview import preview_target

    shown = preview_target(
        target, sources_path, source_id, family, include, exclude, ignore, as_url, ctx.obj["db"]
    )
    click.echo(shown.to_json() if as_json else shown.render())


@cli.command()
@click.pass_context
def index(ctx: click.Context) -> None:
    """Bring full-text search up to date with what the runs stored (run it after `run`).

    Indexes each new version and change with its words' base forms, so that
    searching "Lappi" finds "Lapissa". Incremental: only what is new is read."""
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


@cli.command()
@click.option("--port", type=int, default=8001, show_default=True)
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

    from sotewatch.pipeline.browsing.browse import browse_command_args, prepare

    db = ctx.obj["db"]
    if not db.exists():
        raise ConfigError(f"no database at {db}: run `sotewatch run` or `sotewatch demo` first")
    prepare(db)
    args = browse_command_args(db, port=port, host=host)
    for name, value in settings:  # after the project's own: Datasette keeps the last
        args += ["--setting", name, value]
    click.echo(f"Datasette on http://{host}:{port}/ (Ctrl-C stops it)", err=True)
    os.execv(args[0], args)


@cli.command()
@click.pass_context
def status(ctx: click.Context) -> None:
    """Last runs, per-source health, counts of pages, snapshots and undelivered changes."""
    from sotewatch.pipeline.ops.status import format_status, status_report

    db = ctx.obj["db"]
    if not db.exists():
        raise ConfigError(f"no database at {db}")
    click.echo(format_status(status_report(db)))


@cli.command()
@click.option("--keep-days", type=int, default=90, show_default=True, help="Keep every version.")
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


@cli.command("eval-tagger")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--predictions",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write {id, regions, networks} lines here.",
)
def eval_tagger(file: Path, predictions: Path | None) -> None:
    """Tag each labelled passage of FILE (JSON Lines) on its own and print precision,
    recall and F1 for regions and networks, with the errors."""
    from sotewatch.pipeline.tagging.evaltagger import evaluate, format_report

    click.echo(format_report(evaluate(file, predictions)))


def _subscribers_option(func):  # type: ignore[no-untyped-def]
    return click.option(
        "--subscribers",
        "path",
        type=click.Path(dir_okay=False, path_type=Path),
        default=DEFAULT_SUBSCRIBERS,
        envvar="SOTEWATCH_SUBSCRIBERS",
        show_default=True,
        help="The subscribers file (addresses stay out of the served database).",
    )(func)


@cli.command()
@_subscribers_option
@click.pass_context
def subscribers(ctx: click.Context, path: Path) -> None:
    """List the subscribers: id, address, language, schedule, what they follow; and
    the readers who unsubscribed."""
    from sotewatch.pipeline.delivery.channels import describe_channels, load_channels
    from sotewatch.pipeline.delivery.subscribers import describe, load_subscribers
    from sotewatch.pipeline.tagging.taxonomy import load_taxonomy

    subs = load_subscribers(path, taxonomy=load_taxonomy())
    lines = [*describe(subs), *describe_channels(load_channels(path, subs))]
    click.echo("\n".join([*lines, *_optout_lines(ctx.obj["db"])]))


def _optout_lines(db_path: Path) -> list[str]:
    """The readers who unsubscribed themselves, for `sotewatch subscribers`."""
    from sotewatch.pipeline.delivery.deliver import state_path_for
    from sotewatch.pipeline.delivery.unsubscribe import optouts

    left = optouts(state_path_for(db_path))
    if not left:
        return []
    rows = [f"  {o.subscriber_id:28} since {o.at} ({o.how})" for o in left.values()]
    return ["", f"unsubscribed ({len(left)}; `sotewatch resubscribe ID` undoes one):", *rows]


@cli.command()
@click.argument("subscriber_id")
@click.pass_context
def resubscribe(ctx: click.Context, subscriber_id: str) -> None:
    """Undo a reader's unsubscribe (with their consent): their next due digest is sent."""
    from sotewatch.pipeline.delivery.deliver import state_path_for
    from sotewatch.pipeline.delivery.unsubscribe import undo_optout

    if not undo_optout(state_path_for(ctx.obj["db"]), subscriber_id):
        raise click.UsageError(f"{subscriber_id!r} has not unsubscribed")
    click.echo(f"{subscriber_id}: subscribed again")


@cli.command()
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("out"),
    show_default=True,
)
@_subscribers_option
@click.pass_context
def digest(ctx: click.Context, out: Path, path: Path) -> None:
    """Write the digest of every stored change (HTML, text, .eml), one digest per
    subscriber, the Atom feeds per region and network, and the archive, into OUT.
    Sends nothing."""

    from sotewatch.pipeline.delivery.mail import MailSettings
    from sotewatch.pipeline.delivery.subscribers import load_subscribers
    from sotewatch.pipeline.digests.feeds import write_outputs
    from sotewatch.pipeline.digests.render import DEFAULT_DATASETTE
    from sotewatch.pipeline.storage.store import open_db
    from sotewatch.pipeline.tagging.taxonomy import load_taxonomy

    taxonomy = load_taxonomy()
    subs = load_subscribers(path, taxonomy=taxonomy) if path.exists() else ()
    db = open_db(ctx.obj["db"])
    try:
        paths = write_outputs(
            out,
            db,
            subscribers=subs,
            datasette_base=os.environ.get("SOTEWATCH_DATASETTE_URL", DEFAULT_DATASETTE),
            settings=MailSettings.from_env(),  # the preview is what `send` would send
        )
    finally:
        db.conn.close()
    click.echo(f"digest written: {', '.join(str(p) for p in paths.digest)}")


@cli.command()
@click.option(
    "--dry-run",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    metavar="DIR",
    help="Write .eml files to DIR instead of sending.",
)
@click.option("--force", is_flag=True, help="Ignore schedules (never the exactly-once window).")
@_subscribers_option
@click.pass_context
def send(ctx: click.Context, dry_run: Path | None, force: bool, path: Path) -> None:
    """Send each subscriber's due digest exactly once (unsent ones from earlier runs first).

    SMTP settings come from SOTEWATCH_SMTP_HOST, _PORT, _USER, _PASSWORD and _TLS."""
    from sotewatch.pipeline.delivery.deliver import send_due

    with run_lock(ctx.obj["db"]):
        report = send_due(ctx.obj["db"], path, dry_run=dry_run, force=force)
    _echo_delivery(report)
    report.raise_for_failures()


def main() -> None:
    """The `sotewatch` script."""
    cli(prog_name="sotewatch")
