"""Digests in Teams, Slack and webhooks through Apprise, exactly once per period.

Every test posts to a real local receiver through Apprise's json:// URL (a
Teams-style channel): one that answers, one that fails, and one that hangs while
the sending process is killed.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlite_utils
from click.testing import CliRunner
from digest_fixtures import add_changes, cases, make_main_db, names
from webhook import webhook_receiver

from sotewatch.pipeline.cli import cli
from sotewatch.pipeline.delivery import unsubscribe
from sotewatch.pipeline.delivery.channels import AppriseNotifier, deliver_channels, load_channels
from sotewatch.pipeline.delivery.deliver import state_path_for
from sotewatch.pipeline.delivery.preferences import Preference, save_preference
from sotewatch.pipeline.delivery.subscribers import Follow, load_subscribers
from sotewatch.pipeline.digests.channel_digest import escape, render_markdown
from sotewatch.pipeline.digests.digest import build_digest, load_changes
from sotewatch.pipeline.errors import ConfigError

MONDAY = datetime(2026, 11, 23, 7, 0, tzinfo=UTC)
LATER_MONDAY = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)
TUESDAY = datetime(2026, 11, 24, 7, 0, tzinfo=UTC)
REPO = Path(__file__).resolve().parent.parent
BASE = "https://watch.example.org"


def subscribers_file(tmp_path: Path, url: str, extra: str = "") -> Path:
    path = tmp_path / "subscribers.toml"
    path.write_text(
        f"""\
[[subscriber]]
id = "lappi"
email = "aino@example.org"
regions = ["lappi"]
national = false
{extra}
[[channel]]
id = "lappi-teams"
apprise = ["{url}"]
regions = ["lappi"]
national = false
""",
        encoding="utf-8",
    )
    return path


@pytest.fixture
def main_db(tmp_path: Path) -> Path:
    make_main_db(tmp_path / "sotewatch.db", cases()["change"]).conn.close()
    return tmp_path / "sotewatch.db"


def deliver(main_db: Path, path: Path, now: datetime, **kwargs):
    subscribers = load_subscribers(path)
    channels = load_channels(path, subscribers)
    db = sqlite_utils.Database(main_db)
    try:
        return deliver_channels(
            db, state_path_for(main_db), channels, AppriseNotifier(), now=now, names=names(),
            datasette_base=BASE, **kwargs,
        )  # fmt: skip
    finally:
        db.conn.close()


# -- the message ---------------------------------------------------------------------


def test_the_channel_digest_is_markdown_with_links_and_headings() -> None:
    db = make_main_db(":memory:", cases()["change"])
    follow = Follow(frozenset({"lappi"}), frozenset(), national=False)
    digest = build_digest(load_changes(db), follow, "fi", names())
    title, body = render_markdown(digest, names(), datasette_base=BASE, period="2026-11-23")
    assert title == "Lappi: yhteyshenkilö vaihtunut Oskari Mattila ja 1 muu muutos"
    assert body.startswith("**2 muutosta** · 2026-11-23\n")
    assert "### Lappi" in body
    assert f"]({BASE}/-/sotewatch/change/1)" in body
    assert "~~Helmi Saarela~~ **Oskari Mattila**, viestintäasiantuntija, Lapin" in body
    assert "Kainuu **ja Lappi**: Veera Niskanen" in body


@pytest.mark.parametrize(
    ("scraped", "shown"),
    [
        ("[klikkaa](https://evil.example)", r"\[klikkaa\](https://evil.example)"),
        ("**lihava** _vino_ `koodi`", r"\*\*lihava\*\* \_vino\_ \`koodi\`"),
        ("<at>kaikki</at>", r"\<at\>kaikki\</at\>"),
        ("rivi\n# otsikko", "rivi # otsikko"),
    ],
    ids=["link", "emphasis", "mention-tag", "newline-heading"],
)
def test_scraped_text_cannot_make_markup(scraped: str, shown: str) -> None:
    assert escape(scraped) == shown


# -- configuration -------------------------------------------------------------------


def test_channels_and_readers_apprise_urls_become_separate_streams(tmp_path: Path) -> None:
    path = subscribers_file(
        tmp_path,
        "json://127.0.0.1:9/",
        'apprise = ["json://127.0.0.1:9/a", "json://127.0.0.1:9/b"]',
    )
    channels = load_channels(path, load_subscribers(path))
    assert [(c.stream.id, c.owner) for c in channels] == [
        ("lappi#apprise", "lappi"),
        ("lappi#apprise#2", "lappi"),
        ("channel:lappi-teams", ""),
    ]
    assert channels[2].stream.follow.regions == frozenset({"lappi"})
    listed = CliRunner().invoke(cli, ["--db", str(tmp_path / "x.db"), "subscribers",
                                      "--subscribers", str(path)])  # fmt: skip
    assert listed.exit_code == 0, listed.output
    assert "channel:lappi-teams (json://127.0.0.1:9/" in listed.output


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("nosuchservice://x", "'nosuchservice'…: not an Apprise URL"),
        ("", "not an Apprise URL"),
    ],
)
def test_an_unusable_apprise_url_names_the_file_and_line(
    tmp_path: Path, url: str, message: str
) -> None:
    path = subscribers_file(tmp_path, url)
    with pytest.raises(ConfigError, match=rf"subscribers.toml:7: .*{message}"):
        load_channels(path, load_subscribers(path))


def test_secrets_in_a_url_are_masked_where_it_is_shown(tmp_path: Path) -> None:
    path = subscribers_file(tmp_path, "json://user:hunter2secret@127.0.0.1:9/")
    (channel,) = load_channels(path, load_subscribers(path))
    assert "hunter2secret" not in channel.label


# -- delivery ------------------------------------------------------------------------


def test_a_channel_gets_one_digest_per_period_with_its_changes(tmp_path, main_db) -> None:
    with webhook_receiver("ok") as receiver:
        path = subscribers_file(tmp_path, receiver.url())
        first = deliver(main_db, path, MONDAY)
        again = deliver(main_db, path, LATER_MONDAY)
    assert [o.subscriber_id for o in first.sent] == ["channel:lappi-teams"]
    assert [o.reason for o in again.skipped] == ["not due"]
    (message,) = receiver.received
    assert message["title"] == "Lappi: yhteyshenkilö vaihtunut Oskari Mattila ja 1 muu muutos"
    assert "### Lappi" in message["message"]
    assert f"]({BASE}/-/sotewatch/change/2)" in message["message"]


def test_a_failing_receiver_gets_the_same_digest_again_and_loses_nothing(tmp_path, main_db) -> None:
    with webhook_receiver("fail") as receiver:
        path = subscribers_file(tmp_path, receiver.url())
        failed = deliver(main_db, path, MONDAY)
        assert [o.subscriber_id for o in failed.failed] == ["channel:lappi-teams"]
        assert "lappi-teams" in failed.failed[0].reason
        add_changes(sqlite_utils.Database(main_db), [cases()["change"][0] | {"after": "Uusi"}])
        receiver.mode = "ok"
        retried = deliver(main_db, path, TUESDAY)
        later = deliver(main_db, path, TUESDAY.replace(day=25))
    assert [o.subscriber_id for o in later.sent] == ["channel:lappi-teams"]
    assert [o.reason for o in retried.sent] == ["retry"]
    assert len(receiver.attempts) == 3
    assert receiver.received[0] == receiver.attempts[0]  # the very digest that failed
    assert (
        receiver.received[1]["title"] == "Lappi: yhteyshenkilö vaihtunut Uusi"
    )  # the change that came later


def test_an_unsubscribed_readers_channel_copy_stops_too(tmp_path, main_db) -> None:
    with webhook_receiver("ok") as receiver:
        path = subscribers_file(tmp_path, receiver.url(), f'apprise = ["{receiver.url("x=1")}"]')
        unsubscribe.record_optout(state_path_for(main_db), "lappi", "page")
        report = deliver(main_db, path, MONDAY)
    assert [(o.subscriber_id, o.reason) for o in report.skipped] == [
        ("lappi#apprise", "unsubscribed")
    ]
    assert [o.subscriber_id for o in report.sent] == ["channel:lappi-teams"]
    assert len(receiver.received) == 1


def test_a_readers_own_choice_covers_their_channel_copy(tmp_path, main_db) -> None:
    with webhook_receiver("ok") as receiver:
        path = subscribers_file(tmp_path, receiver.url(), f'apprise = ["{receiver.url("x=1")}"]')
        chosen = Preference("lappi", frozenset({"pirkanmaa"}), frozenset(), "daily")
        save_preference(state_path_for(main_db), chosen)
        deliver(main_db, path, MONDAY)
    titles = sorted(m["title"] for m in receiver.received)
    assert titles == [  # the team's copy, the reader's own
        "Lappi: yhteyshenkilö vaihtunut Oskari Mattila ja 1 muu muutos",
        "Pirkanmaa: uusi sivu (Pirkanmaan järjestöt mukaan valmisteluun)",
    ]  # reader's copy, team's


# -- a killed run --------------------------------------------------------------------


def sotewatch_send(main_db: Path, path: Path) -> subprocess.Popen:
    """`sotewatch send` as cron runs it, in its own process."""
    return subprocess.Popen(
        [sys.executable, "-c", "from sotewatch.pipeline.cli import cli; cli()",
         "--db", str(main_db), "send", "--subscribers", str(path)],
        cwd=REPO, env=os.environ | {"SOTEWATCH_DATASETTE_URL": BASE},
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip


def test_a_teams_channel_gets_exactly_one_digest_across_a_run_killed_mid_send(
    tmp_path, main_db
) -> None:
    with webhook_receiver("hang") as receiver:
        path = tmp_path / "channels.toml"  # a channel alone: no SMTP server needed
        both = subscribers_file(tmp_path, receiver.url("rto=300")).read_text()
        path.write_text("[[channel]]" + both.split("[[channel]]")[1])
        child = sotewatch_send(main_db, path)
        try:
            while not receiver.arrived.wait(timeout=0.5):  # until the digest is on the wire
                assert child.poll() is None, child.communicate()
            os.kill(child.pid, signal.SIGKILL)
        finally:
            child.wait()
            child.communicate()
        assert child.returncode == -signal.SIGKILL
        assert receiver.received == []  # it never answered: nothing was delivered
        receiver.mode = "ok"
        receiver.release.set()
        rerun = sotewatch_send(main_db, path)
        out, err = rerun.communicate(timeout=300)
        assert rerun.returncode == 0, err
        third = sotewatch_send(main_db, path)
        third.communicate(timeout=300)
    assert len(receiver.received) == 1  # one digest this period, however many runs
    assert receiver.received[0] == receiver.attempts[0]  # the recorded digest, byte for byte
    assert (
        receiver.received[0]["title"]
        == "Lappi: yhteyshenkilö vaihtunut Oskari Mattila ja 1 muu muutos"
    )
    state = sqlite_utils.Database(state_path_for(main_db))
    rows = list(state.query("select attempt, status, error from deliveries order by id"))
    assert [(r["attempt"], r["status"]) for r in rows] == [(1, "failed"), (2, "sent")]
    assert rows[0]["error"].startswith("interrupted")
