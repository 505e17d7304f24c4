"""A reader leaves on their own, with a signed link, and the next send honours it.

The page is the route `browse` serves (Datasette's in-process client here; a real
server and browser in test_unsubscribe_browser.py). It writes only to the private
state database beside the served one.
"""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from email import message_from_bytes, policy
from pathlib import Path

import pytest
import sqlite_utils
from bs4 import BeautifulSoup
from click.testing import CliRunner
from digest_fixtures import SmtpSink, add_changes, cases, make_main_db, names, smtp_server

from sotewatch.pipeline.browsing.browse import make_app
from sotewatch.pipeline.cli import cli
from sotewatch.pipeline.delivery import preferences, unsubscribe
from sotewatch.pipeline.delivery.deliver import (
    StateDB,
    deliver_due,
    delivered_watermark,
    state_path_for,
)
from sotewatch.pipeline.delivery.mail import MailSettings, SMTPMailer, SMTPSettings, build_message
from sotewatch.pipeline.delivery.subscribers import load_subscribers
from sotewatch.pipeline.errors import ConfigError

SECRET = "a-test-secret-of-32-characters!!"
MONDAY = datetime(2026, 11, 23, 7, 0, tzinfo=UTC)
TUESDAY = datetime(2026, 11, 24, 7, 0, tzinfo=UTC)
PAGE = "/-/sotewatch/unsubscribe/"
SUBSCRIBERS = """\
[[subscriber]]
id = "lappi"
email = "aino@example.org"
regions = ["lappi"]

[[subscriber]]
id = "kaikki"
email = "kaikki@example.org"
regions = "*"
networks = "*"
"""


@pytest.fixture
def world(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("SOTEWATCH_UNSUBSCRIBE_SECRET", SECRET)
    (tmp_path / "subscribers.toml").write_text(SUBSCRIBERS, encoding="utf-8")
    db_path = tmp_path / "sotewatch.db"
    db = make_main_db(db_path, cases()["change"])
    db.conn.close()
    return db_path


@pytest.fixture
def sent(world: Path) -> Path:
    """The world after a first send: its private database exists."""
    StateDB(state_path_for(world)).close()
    return world


def settings() -> MailSettings:
    env = {"SOTEWATCH_UNSUBSCRIBE": f"https://watch.example.org{PAGE}{{token}}"}
    return MailSettings.from_env(env | {"SOTEWATCH_UNSUBSCRIBE_SECRET": SECRET})


# -- tokens ----------------------------------------------------------------------


def test_a_token_names_its_reader_and_only_its_signer_accepts_it() -> None:
    token = unsubscribe.sign(SECRET, "lappi")
    assert "lappi" not in token  # not the guessable id in clear
    assert unsubscribe.verify(SECRET, token) == "lappi"
    with pytest.raises(unsubscribe.BadToken):
        unsubscribe.verify("another-secret-of-enough-length", token)


@pytest.mark.parametrize(
    "alter",
    [
        pytest.param(lambda t: t[:-1] + ("A" if t[-1] != "A" else "B"), id="signature-altered"),
        pytest.param(lambda t: unsubscribe.sign(SECRET, "kaikki")[:8] + t[8:], id="id-swapped"),
        pytest.param(lambda t: t.split(".")[0], id="signature-cut"),
        pytest.param(lambda t: "lappi", id="bare-id"),
    ],
)
def test_an_altered_or_forged_token_is_refused(alter) -> None:
    with pytest.raises(unsubscribe.BadToken):
        unsubscribe.verify(SECRET, alter(unsubscribe.sign(SECRET, "lappi")))


def test_token_links_need_the_secret_and_say_which_variable() -> None:
    env = {"SOTEWATCH_UNSUBSCRIBE": "https://watch.example.org/u/{token}"}
    with pytest.raises(ConfigError, match="SOTEWATCH_UNSUBSCRIBE_SECRET is not set"):
        MailSettings.from_env(env)
    with pytest.raises(ConfigError, match="shorter than 16"):
        MailSettings.from_env(env | {"SOTEWATCH_UNSUBSCRIBE_SECRET": "short"})
    with pytest.raises(ConfigError, match="SOTEWATCH_UNSUBSCRIBE_SECRET"):
        MailSettings(unsubscribe=env["SOTEWATCH_UNSUBSCRIBE"]).unsubscribe_targets("lappi")


def test_each_mail_carries_a_personal_signed_one_click_link() -> None:
    header, footer = settings().unsubscribe_targets("lappi")
    assert header == f"<{footer}>"
    token = footer.rsplit("/", 1)[1]
    assert unsubscribe.verify(SECRET, token) == "lappi"
    mail = build_message(
        subject="s", html="<p>h</p>", text="t", to_addr="aino@example.org", to_name="",
        settings=settings(), date=MONDAY, list_unsubscribe=header,
    )  # fmt: skip
    parsed = message_from_bytes(mail.as_bytes(), policy=policy.default)
    assert parsed["List-Unsubscribe"] == header
    assert parsed["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"


# -- the page --------------------------------------------------------------------


def optouts(db_path: Path) -> dict:
    return unsubscribe.optouts(state_path_for(db_path))


async def test_get_only_asks_and_a_one_click_post_records_the_optout(sent: Path) -> None:
    world = sent
    app = make_app(world)
    url = PAGE + unsubscribe.sign(SECRET, "lappi")
    page = await app.client.get(url)
    assert page.status_code == 200
    form = BeautifulSoup(page.text, "html.parser").find("form")
    assert form["method"] == "post" and form["action"] == url
    assert len(form.find_all("button")) == 1
    assert optouts(world) == {}  # a mail scanner following the link unsubscribes nobody
    done = await app.client.post(
        url,
        content=b"List-Unsubscribe=One-Click",
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    assert done.status_code == 200
    assert "Tilaus on peruttu" in done.text
    assert optouts(world)["lappi"].how == "one-click"


@pytest.mark.parametrize("token", ["lappi", "eyJpZCI6ImxhcHBpIn0.forged", "x" * 40])
async def test_a_forged_token_is_refused_and_records_nothing(world: Path, token: str) -> None:
    app = make_app(world)
    for method in (app.client.get, app.client.post):
        page = await method(PAGE + token)
        assert page.status_code == 400
        assert "Linkki ei kelpaa" in page.text
    assert optouts(world) == {}


async def test_without_the_secret_the_page_says_it_is_not_configured(
    world: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("SOTEWATCH_UNSUBSCRIBE_SECRET")
    page = await make_app(world).client.post(PAGE + unsubscribe.sign(SECRET, "lappi"))
    assert page.status_code == 503
    assert optouts(world) == {}


async def test_without_a_private_database_nothing_is_recorded_anywhere(
    world: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Served beside no private database (a published copy), an opt-out would be read by
    no send: the page says it cannot, rather than pretend."""
    url = PAGE + unsubscribe.sign(SECRET, "lappi")
    page = await make_app(world).client.post(url, content=b"List-Unsubscribe=One-Click")
    assert page.status_code == 503
    assert not state_path_for(world).exists()
    live = world.parent / "live-private.db"
    unsubscribe.record_optout(live, "someone-else", "page")
    monkeypatch.setenv("SOTEWATCH_PRIVATE_DB", str(live))
    page = await make_app(world).client.post(url, content=b"List-Unsubscribe=One-Click")
    assert page.status_code == 200
    assert set(unsubscribe.optouts(live)) == {"someone-else", "lappi"}


async def test_the_served_database_stays_unwritten(world: Path) -> None:
    before = world.read_bytes()
    await make_app(world).client.post(PAGE + unsubscribe.sign(SECRET, "lappi"), content=b"")
    assert world.read_bytes() == before
    tables = sqlite3.connect(world).execute("select name from sqlite_master").fetchall()
    assert ("optouts",) not in tables


# -- the next send, and the operator ---------------------------------------------


def send(db_path: Path, port: int, now: datetime):
    db = sqlite3.connect(db_path)
    subscribers = load_subscribers(db_path.parent / "subscribers.toml")
    mailer = SMTPMailer(SMTPSettings("127.0.0.1", port, tls="none"))
    return deliver_due(
        sqlite_utils.Database(db), state_path_for(db_path), subscribers, mailer, now=now,
        names=names(), settings=settings(),
    )  # fmt: skip


def test_the_next_send_skips_a_reader_who_left_until_the_operator_undoes_it(world: Path) -> None:
    sink = SmtpSink()
    with smtp_server(sink) as server:
        first = send(world, server.port, MONDAY)
        assert [o.subscriber_id for o in first.sent] == ["lappi", "kaikki"]
        unsubscribe.record_optout(state_path_for(world), "lappi", "page")
        add_changes(sqlite_utils.Database(world), [cases()["change"][0] | {"after": "Uusi"}])
        second = send(world, server.port, TUESDAY)
        assert [(o.subscriber_id, o.reason) for o in second.skipped][0] == ("lappi", "unsubscribed")
        assert "lappi" not in [o.subscriber_id for o in second.sent]
    assert len(sink.to("aino@example.org")) == 1
    assert len(sink.to("kaikki@example.org")) == 2
    assert delivered_watermark(state_path_for(world)) == 7  # a reader who left holds nothing

    runner = CliRunner()
    args = ["--db", str(world)]
    listed = runner.invoke(
        cli, [*args, "subscribers", "--subscribers", str(world.parent / "subscribers.toml")]
    )
    assert listed.exit_code == 0, listed.output
    assert "unsubscribed (1;" in listed.output and "lappi" in listed.output.split("unsubscribed")[1]
    undone = runner.invoke(cli, [*args, "resubscribe", "lappi"])
    assert undone.exit_code == 0, undone.output
    assert optouts(world) == {}
    again = runner.invoke(cli, [*args, "resubscribe", "lappi"])
    assert again.exit_code == 2 and "has not unsubscribed" in again.output


# -- the stretch: preferences behind the same token ------------------------------

PREFS = "/-/sotewatch/preferences/"


async def test_the_confirmation_page_offers_to_change_instead_of_leaving(sent: Path) -> None:
    token = unsubscribe.sign(SECRET, "lappi")
    page = BeautifulSoup((await make_app(sent).client.get(PAGE + token)).text, "html.parser")
    assert page.find(id="sw-preferences-link")["href"] == PREFS + token


async def test_a_reader_chooses_counties_and_schedule_and_the_next_send_follows(
    sent: Path,
) -> None:
    app = make_app(sent)
    url = PREFS + unsubscribe.sign(SECRET, "lappi")
    form = BeautifulSoup((await app.client.get(url)).text, "html.parser")
    boxes = {i["value"]: i.has_attr("checked") for i in form.select("input[name=region]")}
    assert len(boxes) >= 21 and not any(boxes.values())  # never chose: nothing pre-ticked
    body = "region=pirkanmaa&region=atlantis&network=johtoryhma&frequency=daily"
    saved = await app.client.post(
        url, content=body.encode(), headers={"content-type": "application/x-www-form-urlencoded"}
    )
    page = BeautifulSoup(saved.text, "html.parser")
    assert page.find(id="sw-saved") is not None
    assert [i["value"] for i in page.select("input[name=region][checked]")] == ["pirkanmaa"]
    chosen = preferences.load_preferences(state_path_for(sent))["lappi"]
    assert (chosen.regions, chosen.networks, chosen.frequency) == (
        frozenset({"pirkanmaa"}), frozenset({"johtoryhma"}), "daily",
    )  # fmt: skip

    sink = SmtpSink()
    with smtp_server(sink) as server:
        send(sent, server.port, MONDAY)
    aino = sink.to("aino@example.org")[0].message
    assert (
        aino["Subject"]
        == "Pirkanmaa: uusi sivu (Pirkanmaan järjestöt mukaan valmisteluun) ja 2 muuta muutosta"
    )  # not Lappi any more


async def test_preferences_need_a_valid_token(sent: Path) -> None:
    app = make_app(sent)
    for method in (app.client.get, app.client.post):
        assert (await method(PREFS + "lappi")).status_code == 400
    assert preferences.load_preferences(state_path_for(sent)) == {}
