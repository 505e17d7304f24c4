"""Session ids a server writes into its links (a fetcher never keeps a cookie from one
run to the next) are not part of the link: otherwise every run would find every link,
attachment and listed item new, and store a new version of a page that did not change."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlite_utils
from click.testing import CliRunner
from localsite import serving

from sotewatch.pipeline.cli import cli
from sotewatch.scrapers._html import absolute, is_attachment

BASE = "https://stm.fi/fi/sote-uudistus"


@pytest.mark.parametrize(
    ("href", "url"),
    [
        ("/documents/raportti.pdf;jsessionid=A1B2C3", "https://stm.fi/documents/raportti.pdf"),
        ("/fi/a;JSESSIONID=a1b2?p_p_id=x", "https://stm.fi/fi/a?p_p_id=x"),
        ("/fi/a?p_p_id=x&p_auth=Xy12Ab", "https://stm.fi/fi/a?p_p_id=x"),
        ("/uutiset?PHPSESSID=9f8e7d&sivu=2", "https://stm.fi/uutiset?sivu=2"),
        ("/a.asp?ASPSESSIONIDQQGGQGPG=ABCDEF&id=5", "https://stm.fi/a.asp?id=5"),
        ("/a.cfm?id=5&CFID=123&CFTOKEN=456", "https://stm.fi/a.cfm?id=5"),
        ("/a?sid=0123456789abcdef0123456789abcdef&id=5", "https://stm.fi/a?id=5"),
        # what only looks like one stays: a short "sid" is an id, other parameters are
        ("/a?sid=12", "https://stm.fi/a?sid=12"),
        ("/haku?q=sote&sivu=2", "https://stm.fi/haku?q=sote&sivu=2"),
        ("/a;version=2", "https://stm.fi/a;version=2"),
    ],
)
def test_a_links_session_id_is_not_part_of_it(href: str, url: str) -> None:
    assert absolute(BASE, href) == url


def test_a_pdf_behind_a_session_id_is_an_attachment() -> None:
    assert is_attachment(absolute(BASE, "/documents/raportti.pdf;jsessionid=A1B2C3"))


def page(session: str) -> bytes:
    return f"""<html lang="fi"><head><title>Rahoitus</title></head><body><main>
<h1>Rahoitus</h1><p>Ministeriö julkaisi laskelmat hyvinvointialueiden rahoituksesta
vuodelle 2027. Laskelmat perustuvat syksyn budjettiriiheen.</p>
<p>Katso <a href="/fi/laskelmat;jsessionid={session}">laskelmat</a> ja
<a href="/fi/tilaa?p_p_lifecycle=1&amp;p_auth={session[:8]}">tilaa tiedotteet</a>.</p>
</main></body></html>""".encode()


def test_a_page_whose_links_carry_a_new_session_each_run_is_one_version(tmp_path: Path) -> None:
    db, urls = tmp_path / "watch.db", tmp_path / "urls.txt"
    served: dict[str, bytes] = {}
    with serving(served) as base:
        urls.write_text(f"{base}/rahoitus\n")
        for session in ("A1B2C3D4E5F6", "0F9E8D7C6B5A", "99AA88BB77CC"):
            served["/rahoitus"] = page(session)
            command = ["--db", str(db), "run", "--sources", str(urls), "--no-send", "--force",
                       "--per-host-delay", "0"]  # fmt: skip
            result = CliRunner().invoke(cli, command)
            assert result.exit_code == 0, result.output
    stored = sqlite_utils.Database(db)
    assert stored["snapshots"].count == 1
    assert stored["changes"].count == 0
