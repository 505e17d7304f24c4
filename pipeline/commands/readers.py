"""Commands for the readers: `subscribers`, `resubscribe`, `digest`, `send`."""

from __future__ import annotations

import os
from pathlib import Path

import click

from sotewatch.pipeline.commands.common import echo_delivery, subscribers_option
from sotewatch.pipeline.runs.lock import run_lock


@click.command()
@subscribers_option
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


@click.command()
@click.argument("subscriber_id")
@click.pass_context
def resubscribe(ctx: click.Context, subscriber_id: str) -> None:
    """Undo a reader's unsubscribe (with their consent): their next due digest is sent."""
    from sotewatch.pipeline.delivery.deliver import state_path_for
    from sotewatch.pipeline.delivery.unsubscribe import undo_optout

    if not undo_optout(state_path_for(ctx.obj["db"]), subscriber_id):
        raise click.UsageError(f"{subscriber_id!r} has not unsubscribed")
    click.echo(f"{subscriber_id}: subscribed again")


@click.command()
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("out"),
    show_default=True,
)
@subscribers_option
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


@click.command()
@click.option(
    "--dry-run",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    metavar="DIR",
    help="Write .eml files to DIR instead of sending.",
)
@click.option("--force", is_flag=True, help="Ignore schedules (never the exactly-once window).")
@subscribers_option
@click.pass_context
def send(ctx: click.Context, dry_run: Path | None, force: bool, path: Path) -> None:
    """Send each subscriber's due digest exactly once (unsent ones from earlier runs first).

    SMTP settings come from SOTEWATCH_SMTP_HOST, _PORT, _USER, _PASSWORD and _TLS."""
    from sotewatch.pipeline.delivery.send import send_due

    with run_lock(ctx.obj["db"]):
        report = send_due(ctx.obj["db"], path, dry_run=dry_run, force=force)
    echo_delivery(report)
    report.raise_for_failures()
