"""`browse` publishes an Atom feed per county and per network, at stable URLs, listed
from its home page; valid Atom, with entry ids that stay the same across runs.

No Atom validator library is on PyPI (feedvalidator never was), so validity is
checked twice: feedparser reads each feed without complaint, and `atom_problems`
checks the MUSTs of RFC 4287 section 4 that a reader relies on.
"""

from __future__ import annotations

import re
from pathlib import Path

import feedparser
import pytest
import sqlite_utils
from bs4 import BeautifulSoup
from digest_fixtures import add_changes, cases, make_main_db
from lxml import etree

from sotewatch.pipeline.browsing.browse import make_app

ATOM = "{http://www.w3.org/2005/Atom}"
RFC3339 = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$")
IRI = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*:\S+$")


def atom_problems(xml: bytes) -> list[str]:
    """What breaks RFC 4287's MUSTs for atom:feed and atom:entry (section 4.1)."""
    root = etree.fromstring(xml)
    problems = [] if root.tag == f"{ATOM}feed" else [f"root is {root.tag}"]
    entries = root.findall(f"{ATOM}entry")
    problems += _metadata(root, "feed")
    if root.find(f"{ATOM}author") is None and any(e.find(f"{ATOM}author") is None for e in entries):
        problems.append("feed: no atom:author, and an entry without one")
    for number, entry in enumerate(entries, 1):
        problems += _metadata(entry, f"entry {number}")
        if entry.find(f"{ATOM}content") is None and not [
            link
            for link in entry.findall(f"{ATOM}link")
            if link.get("rel", "alternate") == "alternate"
        ]:
            problems.append(f"entry {number}: neither atom:content nor an alternate link")
    ids = [e.findtext(f"{ATOM}id") for e in entries]
    if len(ids) != len(set(ids)):
        problems.append("two entries share an atom:id")
    return problems


def _metadata(element: etree._Element, where: str) -> list[str]:
    problems = []
    for name in ("id", "title", "updated"):
        found = element.findall(f"{ATOM}{name}")
        if len(found) != 1:
            problems.append(f"{where}: {len(found)} atom:{name}, must be exactly 1")
    if not IRI.match(element.findtext(f"{ATOM}id") or ""):
        problems.append(f"{where}: atom:id is not an absolute IRI")
    if not RFC3339.match(element.findtext(f"{ATOM}updated") or ""):
        problems.append(f"{where}: atom:updated is not an RFC 3339 date-time")
    alternates = [
        (link.get("type"), link.get("hreflang"))
        for link in element.findall(f"{ATOM}link")
        if link.get("rel", "alternate") == "alternate"
    ]
    if len(alternates) != len(set(alternates)):
        problems.append(f"{where}: two alternate links with the same type and hreflang")
    for link in element.findall(f"{ATOM}link"):
        if not link.get("href"):
            problems.append(f"{where}: atom:link without href")
    return problems


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    make_main_db(tmp_path / "sotewatch.db", cases()["change"]).conn.close()
    return tmp_path / "sotewatch.db"


async def get_feed(app, path: str):
    response = await app.client.get(path)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/atom+xml")
    return response.content


async def test_the_home_page_leads_to_every_countys_and_networks_feed(db_path: Path) -> None:
    app = make_app(db_path)
    home = BeautifulSoup((await app.client.get("/")).text, "html.parser")
    assert home.find("a", href="/-/sotewatch/feeds") is not None
    page = BeautifulSoup((await app.client.get("/-/sotewatch/feeds")).text, "html.parser")
    hrefs = {a["href"]: a.get_text() for a in page.select("ul.sw-feeds a")}
    assert hrefs["/-/sotewatch/feeds/region-lappi.xml"] == "Lappi"
    assert "/-/sotewatch/feeds/network-viestintaverkosto.xml" in hrefs
    assert len([h for h in hrefs if "/region-" in h]) >= 21
    alternates = page.find_all("link", rel="alternate", type="application/atom+xml")
    assert {link["href"] for link in alternates} == set(hrefs)
    for href in hrefs:  # every listed feed is served
        assert atom_problems(await get_feed(app, href)) == []


async def test_a_county_feed_is_valid_atom_with_only_its_changes(db_path: Path) -> None:
    app = make_app(db_path)
    xml = await get_feed(app, "/-/sotewatch/feeds/region-lappi.xml")
    assert atom_problems(xml) == []
    feed = feedparser.parse(xml)
    assert not feed.bozo, feed.get("bozo_exception")
    assert feed.version == "atom10"
    assert feed.feed.id == "tag:sotewatch,2024:feed/region/lappi"
    assert feed.feed.title == "Muutokset: Lappi"
    assert feed.feed.links[0].href == "http://localhost/-/sotewatch/feeds/region-lappi.xml"
    assert [e.id for e in feed.entries] == [
        "tag:sotewatch,2024:change/2",
        "tag:sotewatch,2024:change/1",
    ]
    related = [link.href for link in feed.entries[0].links if link.rel == "related"]
    assert related == ["http://localhost/-/sotewatch/change/2"]


async def test_entry_ids_stay_the_same_across_runs(db_path: Path) -> None:
    app = make_app(db_path)
    path = "/-/sotewatch/feeds/region-lappi.xml"
    before = [e.id for e in feedparser.parse(await get_feed(app, path)).entries]
    assert before == [e.id for e in feedparser.parse(await get_feed(app, path)).entries]
    add_changes(sqlite_utils.Database(db_path), [cases()["change"][0] | {"after": "Uusi"}])
    after = [e.id for e in feedparser.parse(await get_feed(app, path)).entries]
    assert after == ["tag:sotewatch,2024:change/7", *before]


async def test_a_known_slug_without_changes_has_an_empty_valid_feed(db_path: Path) -> None:
    app = make_app(db_path)
    xml = await get_feed(app, "/-/sotewatch/feeds/region-kymenlaakso.xml")
    assert atom_problems(xml) == []
    assert feedparser.parse(xml).entries == []


@pytest.mark.parametrize(
    "path",
    [
        "/-/sotewatch/feeds/region-atlantis.xml",
        "/-/sotewatch/feeds/county-lappi.xml",
        "/-/sotewatch/feeds/region-Lappi.xml",
        "/-/sotewatch/feeds/region-lappi",
    ],
)
async def test_an_unknown_feed_is_404(db_path: Path, path: str) -> None:
    assert (await make_app(db_path).client.get(path)).status_code == 404


def test_the_checker_finds_what_breaks_atom() -> None:
    broken = b"""<feed xmlns="http://www.w3.org/2005/Atom"><id>x</id><title>t</title>
      <entry><id>tag:a,2024:1</id><updated>yesterday</updated></entry></feed>"""
    assert atom_problems(broken) == [
        "feed: 0 atom:updated, must be exactly 1",
        "feed: atom:id is not an absolute IRI",
        "feed: atom:updated is not an RFC 3339 date-time",
        "feed: no atom:author, and an entry without one",
        "entry 1: 0 atom:title, must be exactly 1",
        "entry 1: atom:updated is not an RFC 3339 date-time",
        "entry 1: neither atom:content nor an alternate link",
    ]
