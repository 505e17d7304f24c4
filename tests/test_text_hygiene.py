"""No control character from a page survives extraction, so no feed, digest or
Datasette page carries one (a single U+0001 made a whole Atom feed invalid XML)."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import UTC, datetime
from pathlib import Path

import feedparser
import pytest
from digest_fixtures import cases, make_main_db, names

from sotewatch.pipeline.digests.digest import load_changes
from sotewatch.pipeline.digests.feeds import feed_xml
from sotewatch.scrapers import Page, get_scraper
from sotewatch.scrapers._text import clean

CONTROLS = "\x00\x01\x08\x0b\x0e\x1b\x7f\x80\x9f\ufffe\uffff"
EVIL = (
    "<!doctype html><html lang='fi'><head><meta charset='utf-8'>"
    "<title>Verkostot\x01 ja\x1b[31m ryhmät</title></head><body><main>"
    "<h1>Verkostot\x01</h1><h2>Viestintä\x1bverkosto</h2>"
    "<p>Viestintäverkosto\x01 kokoontuu\x7f kuukausittain.\x1b[2J Lisää tietoa\x08 saa.</p>"
    "<p>Erityisasiantuntija Aino\x01 Esimerkki, puh. 0295 000 001, aino.esimerkki@example.fi</p>"
    "<p><a href='/liite.pdf'>Muistio\x1b 3/2026</a></p>"
    "</main></body></html>"
)


def _strings(value: object) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, tuple | list):
        return [s for item in value for s in _strings(item)]
    if hasattr(value, "__dataclass_fields__"):
        return [s for name in value.__dataclass_fields__ for s in _strings(getattr(value, name))]
    return []


@pytest.mark.parametrize("char", list(CONTROLS), ids=lambda c: f"U+{ord(c):04X}")
def test_clean_removes_each_control_character(char: str) -> None:
    assert clean(f"Lappi{char}n hyvinvointialue") == "Lappin hyvinvointialue"


def test_tab_and_newline_stay_whitespace() -> None:
    assert clean("Lapin\thyvinvointialue\n") == "Lapin hyvinvointialue"


def test_a_page_with_control_characters_gives_a_document_without_them() -> None:
    page = Page(url="https://stm.fi/verkostot", content=EVIL.encode(), content_type="text/html")
    document = get_scraper("generic").parse(page)
    found = _strings(document)
    assert "Viestintäverkosto kokoontuu kuukausittain.[2J Lisää tietoa saa." in found
    assert not [s for s in found if any(c in s for c in CONTROLS)]
    assert not [s for s in found if not s.replace("\n", "").isprintable()]


def test_a_feed_built_from_such_a_page_is_valid_xml(tmp_path: Path) -> None:
    page = Page(url="https://stm.fi/verkostot", content=EVIL.encode(), content_type="text/html")
    document = get_scraper("generic").parse(page)
    change = {
        **cases()["change"][0],
        "page": document.title,
        "after": document.sections[-1].paragraphs[0],
    }
    db = make_main_db(tmp_path / "x.db", [change])
    now = datetime(2026, 11, 23, 7, 0, tzinfo=UTC)
    xml = feed_xml("region", "lappi", load_changes(db), names=names(), now=now)
    ET.fromstring(xml.encode())  # strict XML 1.0: raises on a control character
    feed = feedparser.parse(xml.encode())
    assert not feed.bozo, feed.get("bozo_exception")
    assert feed.entries[0].title.endswith(document.title)


def test_a_feed_of_a_change_stored_before_the_cleaning_is_still_valid_xml(
    tmp_path: Path,
) -> None:
    stored = {**cases()["change"][0], "after": "Lappi\x01 ja\x1b Kainuu", "page": "Sivu\x0c"}
    db = make_main_db(tmp_path / "old.db", [stored])
    now = datetime(2026, 11, 23, 7, 0, tzinfo=UTC)
    xml = feed_xml("region", "lappi", load_changes(db), names=names(), now=now)
    ET.fromstring(xml.encode())
    assert "Lappi ja Kainuu" in feedparser.parse(xml.encode()).entries[0].content[0].value
