"""Commands that watch the pages: `run` (the cron entry), `check`, `sources`,
`scrapers`, `preview`, and `eval-tagger` for the tagger's accuracy."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

import click

from sotewatch.pipeline.commands.clitypes import ConfigNumber
from sotewatch.pipeline.commands.common import echo_delivery, say, sources_option
from sotewatch.pipeline.errors import EXIT_SOURCES_FAILED

if TYPE_CHECKING:
    from sotewatch.pipeline.runs.runner import RunOutcome


@click.command()
@sources_option
@click.option("--force", is_flag=True, help="Fetch every source, due or not.")
@click.option("--only", multiple=True, metavar="SOURCE", help="Fetch only this source id.")
@click.option("--no-send", is_flag=True, help="Do everything but send digests.")
@click.option(
    "--subscribers",
    "subscribers_path",
    type=click.Path(dir_okay=False, path_type=Path),
    envvar="SOTEWATCH_SUBSCRIBERS",
    help="Subscribers file. [default: subscribers.toml beside the database, if it exists]",
)
@click.option(
    "--per-host-delay", type=ConfigNumber("per_host_delay"), metavar="SECONDS",
    help="Override config.",
)  # fmt: skip
@click.option(
    "--per-host-limit", type=ConfigNumber("per_host_limit", whole=True), metavar="N",
    help="Override config.",
)  # fmt: skip
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
        echo_delivery(outcome.delivery)
        outcome.delivery.raise_for_failures()
    if outcome.alarms:  # a page newly down, or down `failing_after` runs: cron should know
        ctx.exit(EXIT_SOURCES_FAILED)


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
    say(line, event="run_summary", **summary_fields(report, states))
    for changed in changed_lines(report):
        say(changed, event="page_changed")
    # each failed page was logged as it failed (source, URL, error), in either format
    for down in down_lines(outcome.states, outcome.failing_after):
        say(down, level="warning", event="source_down")


@click.command()
@sources_option
@click.option(
    "--subscribers",
    "subscribers_path",
    type=click.Path(dir_okay=False, path_type=Path),
    envvar="SOTEWATCH_SUBSCRIBERS",
    help="Subscribers file. [default: subscribers.toml beside the database, if it exists]",
)
@click.pass_context
def check(ctx: click.Context, sources_path: Path | None, subscribers_path: Path | None) -> None:
    """Validate the config files (sources, taxonomy, subscribers) and list the sources."""
    from sotewatch.pipeline.runs.runner import check_config

    lines = check_config(sources_path, subscribers_path, db=ctx.obj["db"])  # ConfigError: exit 2
    click.echo("\n".join(lines))


@click.command("sources")
@sources_option
@click.pass_context
def sources_command(ctx: click.Context, sources_path: Path | None) -> None:
    """List each source with its schedule, last check, next due time and health."""
    from datetime import UTC, datetime

    from sotewatch.pipeline.ops.runsummary import sources_table
    from sotewatch.pipeline.runs.runner import source_states

    states, failing_after = source_states(ctx.obj["db"], sources_path)
    click.echo("\n".join(sources_table(states, datetime.now(UTC), failing_after)))


@click.command()
def scrapers() -> None:
    """List the scraper families, one line each."""
    from sotewatch.scrapers import REGISTRY, _load_families

    _load_families()
    for name in sorted(REGISTRY):
        doc = (REGISTRY[name].__doc__ or "").strip().splitlines()
        click.echo(f"{name:10} {doc[0] if doc else ''}")


@click.command()
@click.argument("target", metavar="URL|FILE")
@sources_option
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


@click.command("eval-tagger")
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
