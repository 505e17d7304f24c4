"""A preview records nothing and shows what would be sent.

`send --dry-run DIR` and `digest --out DIR` never change delivery state: the real
`send` afterwards delivers every change the preview showed, with the same sender and
links, because previews read the same environment as sending.
"""

from __future__ import annotations

import re
from email import message_from_bytes, policy
from pathlib import Path

import pytest
from bs4 import BeautifulSoup
from click.testing import CliRunner
from digest_fixtures import SmtpSink, cases, make_main_db, smtp_server
from test_deliver import SUBSCRIBERS, change_ids

from sotewatch.pipeline.cli import cli
from sotewatch.pipeline.delivery.deliver import state_path_for

CHANGES = cases()["change"]
MAIL_ENV = {
    "SOTEWATCH_MAIL_FROM": "digest@example.org",
    "SOTEWATCH_DATASETTE_URL": "https://data.example.org",
}


@pytest.fixture
def site(tmp_path: Path) -> tuple[Path, Path]:
    subscribers = tmp_path / "subscribers.toml"
    subscribers.write_text(SUBSCRIBERS, encoding="utf-8")
    db = tmp_path / "sotewatch.db"
    make_main_db(db, CHANGES).conn.close()
    return db, subscribers


def sotewatch(db: Path, *args: str, env: dict[str, str] | None = None):
    result = CliRunner().invoke(cli, ["--db", str(db), *args], env={**MAIL_ENV, **(env or {})})
    assert result.exit_code == 0, result.output
    return result


def ids_in(emls: list[Path]) -> dict[str, set[int]]:
    """Recipient -> change ids of each .eml file."""
    found = {}
    for path in emls:
        message = message_from_bytes(path.read_bytes(), policy=policy.default)
        html = message.get_body(("html",)).get_content()
        found[message["To"].addresses[0].addr_spec] = _ids(html)
    return found


def _ids(html: str) -> set[int]:
    soup = BeautifulSoup(html, "html.parser")
    return {int(tag["id"].split("-")[1]) for tag in soup.find_all(id=re.compile(r"^change-\d+$"))}


def send_for_real(db: Path, subscribers: Path) -> SmtpSink:
    sink = SmtpSink()
    with smtp_server(sink) as server:
        smtp = {
            "SOTEWATCH_SMTP_HOST": "127.0.0.1",
            "SOTEWATCH_SMTP_PORT": str(server.port),
            "SOTEWATCH_SMTP_TLS": "none",
        }
        sotewatch(db, "send", "--subscribers", str(subscribers), env=smtp)
    return sink


def test_a_dry_run_send_then_a_real_send_delivers_the_same_changes(site, tmp_path) -> None:
    db, subscribers = site
    outbox = tmp_path / "outbox"
    sotewatch(db, "send", "--force", "--dry-run", str(outbox), "--subscribers", str(subscribers))
    previewed = ids_in(sorted(outbox.glob("*.eml")))
    assert len(previewed) == 3

    sink = send_for_real(db, subscribers)

    received = {r.recipients[0]: change_ids(r) for r in sink.received}
    assert received == previewed


def test_a_second_dry_run_shows_the_same_digests_again(site, tmp_path) -> None:
    db, subscribers = site
    for outbox in (tmp_path / "first", tmp_path / "second"):
        sotewatch(db, "send", "--dry-run", str(outbox), "--subscribers", str(subscribers))
    first, second = (ids_in(sorted((tmp_path / d).glob("*.eml"))) for d in ("first", "second"))
    assert first == second and len(first) == 3


def test_digest_out_changes_no_delivery_state_and_uses_the_mail_environment(site, tmp_path) -> None:
    db, subscribers = site
    state = state_path_for(db)
    before = state.read_bytes() if state.exists() else None
    sotewatch(db, "digest", "--out", str(tmp_path / "out"), "--subscribers", str(subscribers))
    assert (state.read_bytes() if state.exists() else None) == before

    eml = sorted((tmp_path / "out" / "subscribers").glob("*.eml"))[0]
    message = message_from_bytes(eml.read_bytes(), policy=policy.default)
    assert message["From"].addresses[0].addr_spec == "digest@example.org"
    html = message.get_body(("html",)).get_content()
    assert "https://data.example.org/-/sotewatch/change/" in html

    sink = send_for_real(db, subscribers)
    assert len(sink.received) == 3
