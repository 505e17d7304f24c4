"""Exactly once, never skipped: delivery against a real local SMTP server.

Each reader's window runs from their last *sent* digest; a digest is recorded
before it is sent and re-sent (same bytes, same Message-ID) until it goes out.
"""

from __future__ import annotations

import os
import re
import select
import signal
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from email import message_from_bytes, policy
from pathlib import Path

import pytest
from bs4 import BeautifulSoup
from digest_fixtures import Received, SmtpSink, add_changes, cases, make_main_db, names, smtp_server

from sotewatch.pipeline.delivery.deliver import deliver_due, delivered_watermark, state_path_for
from sotewatch.pipeline.delivery.mail import MailSettings, SMTPMailer, SMTPSettings
from sotewatch.pipeline.delivery.send import send_due
from sotewatch.pipeline.delivery.streams import due
from sotewatch.pipeline.delivery.subscribers import Follow, Subscriber, load_subscribers
from sotewatch.pipeline.digests.health import source_health
from sotewatch.pipeline.digests.render import SourceHealth

MONDAY = datetime(2026, 11, 23, 7, 0, tzinfo=UTC)
CHANGES = cases()["change"]  # 1 lappi+viestinta, 2 kainuu+lappi, 3 pirkanmaa, 4 johtoryhma, ...
SETTINGS = MailSettings(sender="sotewatch@example.org", unsubscribe="https://example.org/u/{id}")
REPO = Path(__file__).resolve().parent.parent

SUBSCRIBERS = """\
[[subscriber]]
id = "lappi"
name = "Aino Mäkelä"
email = "aino@example.org"
regions = ["lappi"]
national = false

[[subscriber]]
id = "viestinta"
name = "Åsa Öhman"
email = "asa@example.org"
language = "sv"
networks = ["viestintaverkosto"]
national = false

[[subscriber]]
id = "kaikki"
name = "Koordinaattori"
email = "kaikki@example.org"
regions = "*"
networks = "*"
"""
EXPECTED = {
    "aino@example.org": {1, 2},
    "asa@example.org": {1},
    "kaikki@example.org": set(range(1, 7)),
}


@pytest.fixture
def world(tmp_path: Path):
    path = tmp_path / "subscribers.toml"
    path.write_text(SUBSCRIBERS, encoding="utf-8")
    db = make_main_db(tmp_path / "sotewatch.db", CHANGES)
    return db, state_path_for(tmp_path / "sotewatch.db"), load_subscribers(path), path


def deliver(world, port: int, now: datetime = MONDAY, **kwargs):
    db, state, subscribers, _ = world
    mailer = SMTPMailer(SMTPSettings("127.0.0.1", port, tls="none"))
    return deliver_due(
        db, state, subscribers, mailer, now=now, names=names(), settings=SETTINGS, **kwargs
    )


def change_ids(received: Received) -> set[int]:
    html = BeautifulSoup(received.message.get_body(("html",)).get_content(), "html.parser")
    return {int(tag["id"].split("-")[1]) for tag in html.find_all(id=re.compile(r"^change-\d+$"))}


def per_reader(sink: SmtpSink) -> dict[str, int]:
    return {address: len(sink.to(address)) for address in EXPECTED}


def test_each_reader_gets_one_message_with_only_their_changes(world) -> None:
    sink = SmtpSink()
    with smtp_server(sink) as server:
        report = deliver(world, server.port)
    assert [o.subscriber_id for o in report.sent] == ["lappi", "viestinta", "kaikki"]
    assert per_reader(sink) == {address: 1 for address in EXPECTED}
    for address, ids in EXPECTED.items():
        assert change_ids(sink.to(address)[0]) == ids
    aino = sink.to("aino@example.org")[0].message
    assert aino["Subject"] == "Lappi: yhteyshenkilö vaihtunut Oskari Mattila ja 1 muu muutos"
    assert aino["To"].addresses[0].display_name == "Aino Mäkelä"
    assert aino.get_content_type() == "multipart/alternative"
    assert [p.get_content_type() for p in aino.iter_parts()] == ["text/plain", "text/html"]
    assert aino["Date"].datetime == MONDAY
    assert aino["List-Unsubscribe"] == "<https://example.org/u/lappi>"
    assert re.fullmatch(r"<[^<>@\s]+@example\.org>", aino["Message-ID"])
    assert "[-Helmi Saarela-]" in aino.get_body(("plain",)).get_content()
    asa = sink.to("asa@example.org")[0].message
    assert asa["Subject"] == "Viestintäverkosto: kontaktperson bytt Oskari Mattila"


def test_nothing_new_means_no_mail_then_only_the_new_change(world) -> None:
    db = world[0]
    sink = SmtpSink()
    with smtp_server(sink) as server:
        deliver(world, server.port)
        quiet = deliver(world, server.port, MONDAY + timedelta(days=1))
        assert {o.reason for o in quiet.skipped} == {"no changes"} and not quiet.sent
        add_changes(
            db, [{**CHANGES[1], "key": "new", "before": "Lappi: Veera", "after": "Lappi: Ilmari"}]
        )
        later = deliver(world, server.port, MONDAY + timedelta(days=1))
    assert [o.subscriber_id for o in later.sent] == ["lappi", "kaikki"]
    assert per_reader(sink) == {
        "aino@example.org": 2,
        "asa@example.org": 1,
        "kaikki@example.org": 2,
    }
    assert change_ids(sink.to("aino@example.org")[1]) == {7}
    assert change_ids(sink.to("kaikki@example.org")[1]) == {7}


def test_send_empty_sends_a_digest_without_changes(world) -> None:
    sink = SmtpSink()
    with smtp_server(sink) as server:
        deliver(world, server.port)
        report = deliver(world, server.port, MONDAY + timedelta(days=1), send_empty=True)
    assert len(report.sent) == 3
    assert sink.to("aino@example.org")[1].message["Subject"] == "Ei muutoksia tällä jaksolla."


def test_weekly_reader_waits_for_their_weekday_unless_forced(world) -> None:
    db, state, _, _ = world
    weekly = Subscriber(
        "w", "w@example.org", follow=Follow.everything(), frequency="weekly", weekday=0
    )
    sink = SmtpSink()

    def run(now: datetime, **kwargs):
        mailer = SMTPMailer(SMTPSettings("127.0.0.1", port, tls="none"))
        return deliver_due(
            db, state, [weekly], mailer, now=now, names=names(), settings=SETTINGS, **kwargs
        )

    with smtp_server(sink) as server:
        port = server.port
        assert len(run(MONDAY).sent) == 1
        add_changes(db, [CHANGES[4]])
        assert [o.reason for o in run(MONDAY + timedelta(days=2)).skipped] == ["not due"]
        assert len(run(MONDAY + timedelta(days=7)).sent) == 1
        add_changes(db, [CHANGES[4]])
        assert len(run(MONDAY + timedelta(days=8), force=True).sent) == 1
    assert [change_ids(r) for r in sink.received] == [set(range(1, 7)), {7}, {8}]


def test_refused_recipient_is_retried_next_run_with_the_same_message(world) -> None:
    db = world[0]
    sink = SmtpSink(refuse={"asa@example.org"})
    with smtp_server(sink) as server:
        first = deliver(world, server.port)
        assert [o.subscriber_id for o in first.failed] == ["viestinta"]
        assert "550" in first.failed[0].reason
        add_changes(db, [CHANGES[0]])  # a new change for her arrives meanwhile
        sink.refuse.clear()
        second = deliver(world, server.port)
        third = deliver(world, server.port, MONDAY + timedelta(days=1))
    assert [(o.subscriber_id, o.reason) for o in second.sent] == [("viestinta", "retry")]
    assert change_ids(sink.to("asa@example.org")[0]) == {1}  # the digest as built, not rebuilt
    assert change_ids(sink.to("asa@example.org")[1]) == {7}  # then the window moves on
    assert {o.subscriber_id for o in third.sent} == {"lappi", "viestinta", "kaikki"}
    assert per_reader(sink) == {
        "aino@example.org": 2,
        "asa@example.org": 2,
        "kaikki@example.org": 2,
    }


def test_unreachable_server_fails_every_reader_and_loses_nothing(world) -> None:
    sink = SmtpSink()
    with smtp_server(sink) as server:
        port = server.port
    down = deliver(world, port)
    assert len(down.failed) == 3
    with pytest.raises(Exception, match="3 digest"):
        down.raise_for_failures()
    with smtp_server(sink) as server:
        deliver(world, server.port)
    assert per_reader(sink) == {address: 1 for address in EXPECTED}
    for address, ids in EXPECTED.items():
        assert change_ids(sink.to(address)[0]) == ids


# -- a sender killed mid-run --------------------------------------------------------

CHILD = r"""
import sys, time
from datetime import datetime
from pathlib import Path
sys.path.insert(0, sys.argv[1])
from digest_fixtures import names
from sotewatch.pipeline.delivery.deliver import deliver_due
from sotewatch.pipeline.delivery.mail import MailSettings, SMTPMailer, SMTPSettings
from sotewatch.pipeline.digests.render import SourceHealth
from sotewatch.pipeline.storage.store import open_db
from sotewatch.pipeline.delivery.subscribers import load_subscribers

class Signalling:
    '''Says where it is, then waits to be killed: "between" two messages, or right
    after the server "accepted" one (before delivery could record it).'''
    def __init__(self, inner, mode):
        self.inner, self.mode, self.count = inner, mode, 0
    def send(self, message, sender, recipients):
        if self.mode == "between" and self.count == 1:
            print("between", flush=True); time.sleep(600)
        self.inner.send(message, sender, recipients)
        self.count += 1
        if self.mode == "accepted":
            print("accepted", flush=True); time.sleep(600)
    def close(self):
        self.inner.close()

main_db, state, port, subscribers, now, mode = sys.argv[2:8]
mailer = Signalling(SMTPMailer(SMTPSettings("127.0.0.1", int(port), tls="none")), mode)
deliver_due(open_db(main_db), state, load_subscribers(Path(subscribers)), mailer,
            now=datetime.fromisoformat(now), names=names(),
            settings=MailSettings(sender="sotewatch@example.org"))
print("finished", flush=True)
"""


def run_and_kill(world, port: int, mode: str) -> None:
    db, state, _, subscribers = world
    main_path = db.execute("pragma database_list").fetchone()[2]
    args = [str(Path(__file__).parent), main_path, str(state), str(port), str(subscribers)]
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, *args, MONDAY.isoformat(), mode],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        ready, _, _ = select.select([child.stdout], [], [], 120)  # a guard, not a measurement
        line = child.stdout.readline() if ready else ""
        assert line == f"{mode}\n", f"child said {line!r}; stderr: {child.stderr.read()}"
        os.kill(child.pid, signal.SIGKILL)
    finally:
        if child.poll() is None:
            child.kill()
        child.wait()
        child.stdout.close()
        child.stderr.close()
    assert child.returncode == -signal.SIGKILL


def test_sender_killed_between_messages_next_run_sends_only_the_rest(world) -> None:
    sink = SmtpSink()
    with smtp_server(sink) as server:
        run_and_kill(world, server.port, "between")
        assert per_reader(sink) == {
            "aino@example.org": 1,
            "asa@example.org": 0,
            "kaikki@example.org": 0,
        }
        report = deliver(world, server.port)
    assert [o.subscriber_id for o in report.sent] == ["viestinta", "kaikki"]
    assert [o.subscriber_id for o in report.skipped] == ["lappi"]  # sent today: not due
    assert per_reader(sink) == {address: 1 for address in EXPECTED}  # no duplicate
    for address, ids in EXPECTED.items():
        assert change_ids(sink.to(address)[0]) == ids  # no loss


def test_killed_after_the_server_accepted_resends_the_same_message_id(world) -> None:
    """The documented window: accepted but not yet recorded. The next run sends the
    same bytes again; the identical Message-ID lets mail clients show it once."""
    sink = SmtpSink()
    with smtp_server(sink) as server:
        run_and_kill(world, server.port, "accepted")
        report = deliver(world, server.port)
    assert [(o.subscriber_id, o.reason) for o in report.sent][0] == ("lappi", "retry")
    first, again = sink.to("aino@example.org")
    assert first.data == again.data
    assert first.message["Message-ID"] == again.message["Message-ID"]
    assert per_reader(sink) == {
        "aino@example.org": 2,
        "asa@example.org": 1,
        "kaikki@example.org": 1,
    }


# -- schedule and state ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("frequency", "weekday", "last", "now", "expected"),
    [
        ("daily", 0, None, "2026-11-23T07:00", True),
        ("daily", 0, "2026-11-23T06:00", "2026-11-23T23:00", False),
        ("daily", 0, "2026-11-22T23:59", "2026-11-23T00:01", True),
        ("weekly", 0, None, "2026-11-25T07:00", True),
        ("weekly", 0, "2026-11-23T07:00", "2026-11-29T07:00", False),
        ("weekly", 0, "2026-11-23T07:00", "2026-11-30T06:00", True),
        ("weekly", 0, "2026-11-20T07:00", "2026-11-25T07:00", True),  # the Monday run was missed
        ("weekly", 4, "2026-11-20T07:00", "2026-11-26T07:00", False),
    ],
    ids=[
        "daily-first",
        "daily-same-day",
        "daily-next-day",
        "weekly-first",
        "weekly-same-week",
        "weekly-next-monday",
        "weekly-catches-up-a-missed-day",
        "weekly-friday-not-yet",
    ],
)
def test_due(frequency: str, weekday: int, last: str | None, now: str, expected: bool) -> None:
    reader = Subscriber("x", "x@example.org", frequency=frequency, weekday=weekday)
    last_sent = datetime.fromisoformat(last).replace(tzinfo=UTC) if last else None
    assert due(reader, last_sent, datetime.fromisoformat(now).replace(tzinfo=UTC)) is expected


def test_state_database_lives_beside_the_main_one() -> None:
    assert state_path_for(Path("/srv/sotewatch.db")) == Path("/srv/sotewatch-private.db")


def test_watermark_is_what_every_reader_has_been_sent(world) -> None:
    state = world[1]
    assert delivered_watermark(state) is None
    sink = SmtpSink(refuse={"asa@example.org"})
    with smtp_server(sink) as server:
        deliver(world, server.port)
        assert delivered_watermark(state) == 0  # her digest is still owed
        sink.refuse.clear()
        deliver(world, server.port)
    assert delivered_watermark(state) == 6


# -- what the CLI calls ------------------------------------------------------------------


def test_send_due_takes_its_settings_from_the_environment(world, tmp_path, monkeypatch) -> None:
    db, _, _, subscribers = world
    db_path = Path(db.execute("pragma database_list").fetchone()[2])
    monkeypatch.setenv("SOTEWATCH_MAIL_FROM", "digest@example.org")
    monkeypatch.setenv("SOTEWATCH_DATASETTE_URL", "https://data.example.org")
    monkeypatch.delenv("SOTEWATCH_UNSUBSCRIBE", raising=False)
    outbox = tmp_path / "outbox"
    report = send_due(db_path, subscribers, dry_run=outbox, now=MONDAY)
    assert len(report.sent) == 3 and len(list(outbox.glob("*.eml"))) == 3
    first = message_from_bytes(sorted(outbox.glob("*.eml"))[0].read_bytes(), policy=policy.default)
    assert first["From"].addresses[0].addr_spec == "digest@example.org"
    assert (
        "https://data.example.org/-/sotewatch/change/1" in first.get_body(("html",)).get_content()
    )
    add_changes(db, [CHANGES[0]])
    sink = SmtpSink()
    with smtp_server(sink) as server:
        monkeypatch.setenv("SOTEWATCH_SMTP_HOST", "127.0.0.1")
        monkeypatch.setenv("SOTEWATCH_SMTP_PORT", str(server.port))
        monkeypatch.setenv("SOTEWATCH_SMTP_TLS", "none")
        later = send_due(db_path, subscribers, now=MONDAY + timedelta(days=1))
    assert [o.subscriber_id for o in later.sent] == ["lappi", "viestinta", "kaikki"]
    # the dry run recorded nothing: each reader gets everything, change 7 included
    assert {r.recipients[0]: change_ids(r) for r in sink.received} == {
        address: ids | {7} for address, ids in EXPECTED.items()
    }


def test_source_health_lists_sources_failing_in_a_row(world) -> None:
    db = world[0]
    assert source_health(db) == []
    page = db.execute("select id from pages order by id limit 1").fetchone()[0]
    db["pages"].update(page, {"failures": 4})
    db["fetches"].insert(
        {"page_id": page, "source_id": "stm", "outcome": "error", "error": "HTTP 503"}
    )
    assert source_health(db) == [SourceHealth("STM", 4, "HTTP 503")]
    assert source_health(db, failing_after=5) == []


def test_a_reader_with_nothing_to_read_gets_no_mail_but_moves_the_watermark_on(world) -> None:
    db, state = world[0], world[1]
    sink = SmtpSink()
    with smtp_server(sink) as server:
        deliver(world, server.port)
        add_changes(db, [{**CHANGES[2], "key": "pirkanmaa-only"}])
        report = deliver(world, server.port, MONDAY + timedelta(days=1))
    assert [o.subscriber_id for o in report.sent] == ["kaikki"]
    assert {o.subscriber_id for o in report.skipped} == {"lappi", "viestinta"}
    assert per_reader(sink) == {
        "aino@example.org": 1,
        "asa@example.org": 1,
        "kaikki@example.org": 2,
    }
    assert delivered_watermark(state) == 7


def test_an_address_refused_for_good_is_tried_three_times_then_shown_failing(
    world, tmp_path: Path
) -> None:
    from sotewatch.pipeline.delivery.refusals import PERMANENT_TRIES
    from sotewatch.pipeline.ops.status import format_status, status_report

    sink = SmtpSink(refuse={"asa@example.org"})  # 550 5.1.1 mailbox unavailable
    with smtp_server(sink) as server:
        tries = [deliver(world, server.port, MONDAY + timedelta(days=d)) for d in range(5)]
    failed = [[o.subscriber_id for o in t.failed] for t in tries]
    assert failed == [["viestinta"]] * PERMANENT_TRIES + [[]] * (5 - PERMANENT_TRIES)
    assert "permanent: recipient refused" in tries[0].failed[0].reason
    later = {o.subscriber_id: o.reason for o in tries[-1].skipped}
    assert later["viestinta"].startswith("failing: asa@example.org refused for good 3 times")
    assert sink.refused_count == PERMANENT_TRIES
    status = format_status(status_report(tmp_path / "sotewatch.db"))
    assert "reader viestinta FAILING: refused for good 3 times, not retried" in status


def test_a_temporary_refusal_is_retried_every_run(world) -> None:
    sink = SmtpSink(refuse={"asa@example.org"}, refuse_code="450 4.2.1 try again later")
    with smtp_server(sink) as server:
        tries = [deliver(world, server.port, MONDAY + timedelta(days=d)) for d in range(4)]
    assert [[o.subscriber_id for o in t.failed] for t in tries] == [["viestinta"]] * 4
