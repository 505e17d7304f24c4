"""The browsing pages in a real browser: Debian's headless Chromium against a real
`datasette serve` started with exactly the arguments `sotewatch browse` uses.

It opens a change (the page a digest link lands on) and a page's history, checks the
DOM the browser built (the diff's <ins>/<del> are there, the scraped <script> is
text, not an element), and saves screenshots. Set SOTEWATCH_KEEP_SCREENSHOTS=DIR
to keep them for a human eye.
"""

from __future__ import annotations

import socket
import struct
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from browser import browser_marks, chromium, keep
from bs4 import BeautifulSoup
from datasette_history import SCRIPT, HistoryDb, build

from sotewatch.pipeline.browsing.browse import browse_command_args

pytestmark = browser_marks
WINDOW = (1280, 1000)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, HistoryDb]]:
    """A real server on a free loopback port, stopped (only it) when the module ends."""
    tmp = tmp_path_factory.mktemp("browse")
    history = build(tmp)
    port = free_port()
    log = (tmp / "datasette.log").open("wb")
    server = subprocess.Popen(
        browse_command_args(history.path, port=port, host="127.0.0.1"),
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_until_up(base, server, tmp / "datasette.log")
        yield base, history
    finally:
        server.terminate()
        server.wait(timeout=30)
        log.close()


def _wait_until_up(base: str, server: subprocess.Popen, log: Path) -> None:
    for _ in range(300):
        if server.poll() is not None:
            pytest.fail(f"datasette exited: {log.read_text()}")
        try:
            if httpx.get(f"{base}/-/versions.json", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            time.sleep(0.1)
    pytest.fail(f"datasette did not answer: {log.read_text()}")


def screenshot(tmp_path: Path, url: str, name: str) -> Path:
    shot = tmp_path / f"{name}.png"
    chromium(tmp_path, url, WINDOW, f"--screenshot={shot}")
    header = shot.read_bytes()[:24]
    assert header[:8] == b"\x89PNG\r\n\x1a\n"
    assert struct.unpack(">II", header[16:24]) == WINDOW
    assert shot.stat().st_size > 20_000  # a rendered page, not a blank image
    keep(shot)
    return shot


def test_a_digest_link_opens_the_rendered_diff(served, tmp_path):
    base, history = served
    url = f"{base}/-/sotewatch/change/{history.ids['text_change']}"
    dom = BeautifulSoup(chromium(tmp_path, url, WINDOW, "--dump-dom"), "html.parser")
    diff = dom.select_one(".sw-diff")
    assert [d.get_text() for d in diff.select("del")] == ["ja Lapin kunnissa."]
    assert SCRIPT in diff.select_one("ins").get_text()
    assert not [s for s in dom.find_all("script") if "scraped" in s.get_text()]
    screenshot(tmp_path, url, "datasette-change")


def test_a_page_history_in_the_browser(served, tmp_path):
    base, history = served
    url = f"{base}/-/sotewatch/page/{history.ids['networks_page']}"
    dom = BeautifulSoup(chromium(tmp_path, url, WINDOW, "--dump-dom"), "html.parser")
    assert len(dom.select(".sw-version")) == 2
    assert dom.h1.get_text() == "Sote-uudistuksen verkostot"
    screenshot(tmp_path, url, "datasette-page-history")


def test_the_change_log_and_activity_chart_render(served, tmp_path):
    base, _ = served
    dom = BeautifulSoup(
        chromium(tmp_path, f"{base}/-/sotewatch/activity", WINDOW, "--dump-dom"), "html.parser"
    )
    assert len(dom.select("svg rect")) > 0
    screenshot(tmp_path, f"{base}/-/sotewatch/activity", "datasette-activity")
    screenshot(tmp_path, f"{base}/sotewatch/change_log", "datasette-change-log")


@pytest.mark.parametrize(
    ("name", "path", "finnish"),
    [
        ("change", "/-/sotewatch/change/{text_change}", "Ennen → jälkeen"),
        ("page-history", "/-/sotewatch/page/{networks_page}", "ensi kerran nähty"),
        ("snapshot", "/-/sotewatch/snapshot/{second_version}", "Sivun kaikki versiot"),
        ("search", "/-/sotewatch/search?q=Lapissa", "Hae sivuilta ja niiden historiasta"),
        ("activity", "/-/sotewatch/activity?weeks=52", "Muutokset hyvinvointialueittain"),
        ("change-log", "/sotewatch/change_log", "Hyvinvointialueet"),
    ],
)
def test_each_page_in_finnish_on_a_phone(served, tmp_path, name, path, finnish):
    base, history = served
    url = base + path.format(**history.ids)
    dom = BeautifulSoup(chromium(tmp_path, url, (375, 800), "--dump-dom"), "html.parser")
    assert finnish in dom.get_text()
    shot = tmp_path / f"datasette-{name}-phone.png"
    chromium(tmp_path, url, (375, 800), f"--screenshot={shot}")
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 10_000
    keep(shot)
