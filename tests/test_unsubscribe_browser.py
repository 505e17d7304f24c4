"""Unsubscribing end to end: a real mail, a real `browse` server, a real browser.

A reader gets a digest from a real local SMTP server (aiosmtpd), opens the link in
it in headless chromium, sees a page with one button, clicks it, and the next send
skips them. A mail provider's one-click POST works without any browser; a forged or
altered link changes nothing. Set SOTEWATCH_KEEP_SCREENSHOTS=DIR to keep the pages.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
import sqlite_utils
from browser import browser_marks, keep
from bs4 import BeautifulSoup
from cdp import browser_page
from digest_fixtures import SmtpSink, add_changes, cases, make_main_db, names, smtp_server
from test_datasette_browser import _wait_until_up, free_port

from sotewatch.pipeline.browsing.browse import browse_command_args
from sotewatch.pipeline.delivery import preferences, unsubscribe
from sotewatch.pipeline.delivery.deliver import deliver_due, state_path_for
from sotewatch.pipeline.delivery.mail import MailSettings, SMTPMailer, SMTPSettings
from sotewatch.pipeline.delivery.subscribers import load_subscribers

pytestmark = browser_marks
SECRET = "an-end-to-end-secret-0123456789"
MONDAY = datetime(2026, 11, 23, 7, 0, tzinfo=UTC)
TUESDAY = datetime(2026, 11, 24, 7, 0, tzinfo=UTC)
SUBSCRIBERS = """\
[[subscriber]]
id = "lappi"
name = "Aino Mäkelä"
email = "aino@example.org"
regions = ["lappi"]

[[subscriber]]
id = "kaikki"
email = "kaikki@example.org"
regions = "*"
networks = "*"
"""


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """The main database (private one beside it), served as `sotewatch browse` serves it."""
    db_path = tmp_path / "sotewatch.db"
    make_main_db(db_path, cases()["change"][:3]).conn.close()
    (tmp_path / "subscribers.toml").write_text(SUBSCRIBERS, encoding="utf-8")
    port = free_port()
    log_path = tmp_path / "datasette.log"
    with log_path.open("wb") as log:
        server = subprocess.Popen(
            browse_command_args(db_path, port=port),
            stdout=log,
            stderr=subprocess.STDOUT,
            env=os.environ | {"SOTEWATCH_UNSUBSCRIBE_SECRET": SECRET},
        )
        base = f"http://127.0.0.1:{port}"
        try:
            _wait_until_up(base, server, log_path)
            yield base, db_path
        finally:
            server.terminate()
            server.wait(timeout=30)


def send(base: str, db_path: Path, sink_port: int, now: datetime):
    settings = MailSettings.from_env(
        {
            "SOTEWATCH_MAIL_FROM": "sotewatch@example.org",
            "SOTEWATCH_UNSUBSCRIBE": f"{base}/-/sotewatch/unsubscribe/{{token}}",
            "SOTEWATCH_UNSUBSCRIBE_SECRET": SECRET,
        }
    )
    db = sqlite_utils.Database(db_path)
    try:
        return deliver_due(
            db, state_path_for(db_path), load_subscribers(db_path.parent / "subscribers.toml"),
            SMTPMailer(SMTPSettings("127.0.0.1", sink_port, tls="none")), now=now,
            names=names(), settings=settings,
        )  # fmt: skip
    finally:
        db.conn.close()


def link_in(sink: SmtpSink, address: str) -> str:
    """The unsubscribe link a reader sees at the foot of their latest digest."""
    html = sink.to(address)[-1].message.get_body(("html",)).get_content()
    links = BeautifulSoup(html, "html.parser").find_all("a", href=True)
    return next(a["href"] for a in links if "/-/sotewatch/unsubscribe/" in a["href"])


def test_a_reader_clicks_the_link_in_their_mail_confirms_and_gets_no_more(served, tmp_path):
    base, db_path = served
    sink = SmtpSink()
    with smtp_server(sink) as smtp:
        send(base, db_path, smtp.port, MONDAY)
        link = link_in(sink, "aino@example.org")
        with browser_page(tmp_path) as page:
            page.open(link)
            assert page.evaluate("document.querySelectorAll('form button').length") == 1
            assert page.evaluate("document.querySelector('h1').innerText") == (
                "Peru sotewatch-tilaus?"
            )
            keep(page.screenshot(tmp_path / "unsubscribe-confirm.png"))
            assert unsubscribe.optouts(state_path_for(db_path)) == {}  # opening is not leaving
            page.click("#sw-confirm")
            assert page.evaluate("document.querySelector('h1').innerText") == "Tilaus on peruttu"
            keep(page.screenshot(tmp_path / "unsubscribe-done.png"))
        assert unsubscribe.optouts(state_path_for(db_path))["lappi"].how == "page"

        add_changes(sqlite_utils.Database(db_path), cases()["change"][3:])  # news for everyone
        report = send(base, db_path, smtp.port, TUESDAY)
    assert ("lappi", "unsubscribed") in [(o.subscriber_id, o.reason) for o in report.skipped]
    assert [o.subscriber_id for o in report.sent] == ["kaikki"]
    assert len(sink.to("aino@example.org")) == 1
    assert len(sink.to("kaikki@example.org")) == 2


def test_a_mail_providers_one_click_post_needs_no_browser(served):
    base, db_path = served
    sink = SmtpSink()
    with smtp_server(sink) as smtp:
        send(base, db_path, smtp.port, MONDAY)
    header = sink.to("kaikki@example.org")[0].message["List-Unsubscribe"]
    assert sink.to("kaikki@example.org")[0].message["List-Unsubscribe-Post"] == (
        "List-Unsubscribe=One-Click"
    )
    answer = httpx.post(
        header.strip("<>"),
        content=b"List-Unsubscribe=One-Click",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert answer.status_code == 200
    left = unsubscribe.optouts(state_path_for(db_path))
    assert list(left) == ["kaikki"] and left["kaikki"].how == "one-click"


def test_a_forged_or_altered_link_is_refused_by_the_server(served):
    base, db_path = served
    good = unsubscribe.sign(SECRET, "lappi")
    forged = [
        unsubscribe.sign("not-the-servers-secret-at-all", "lappi"),
        good[:-2] + ("xx" if not good.endswith("xx") else "yy"),
        "lappi",
    ]
    for token in forged:
        url = f"{base}/-/sotewatch/unsubscribe/{token}"
        answer = httpx.post(url, content=b"List-Unsubscribe=One-Click")
        assert answer.status_code == 400, token
        assert httpx.get(url).status_code == 400
    assert unsubscribe.optouts(state_path_for(db_path)) == {}


def test_a_reader_changes_what_they_get_instead_of_leaving(served, tmp_path):
    base, db_path = served
    sink = SmtpSink()
    with smtp_server(sink) as smtp:
        send(base, db_path, smtp.port, MONDAY)
        with browser_page(tmp_path) as page:
            page.open(link_in(sink, "aino@example.org"))
            page.click("#sw-preferences-link")
            page.click("input[name=region][value=pirkanmaa]", navigates=False)
            page.click("input[name=frequency][value=daily]", navigates=False)
            page.click("#sw-save")
            assert page.evaluate("document.querySelector('#sw-saved') !== null")
            keep(page.screenshot(tmp_path / "preferences-saved.png"))
        pirkanmaa = cases()["change"][2] | {"after": "Pirkanmaan järjestöt mukana."}
        add_changes(sqlite_utils.Database(db_path), [*cases()["change"][3:], pirkanmaa])
        report = send(base, db_path, smtp.port, TUESDAY)
    assert unsubscribe.optouts(state_path_for(db_path)) == {}  # changed, not gone
    assert "lappi" in [o.subscriber_id for o in report.sent]
    chosen = preferences.load_preferences(state_path_for(db_path))["lappi"]
    assert (chosen.regions, chosen.frequency) == (frozenset({"pirkanmaa"}), "daily")
    # without the choice: "1 muutos: Valtakunnalliset ja muut" (nothing about Lappi came)
    assert (
        sink.to("aino@example.org")[-1].message["Subject"]
        == "Pirkanmaa: uusi sivu (Pirkanmaan järjestöt mukaan valmisteluun) ja 1 muu muutos"
    )
