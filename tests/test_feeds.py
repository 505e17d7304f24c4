"""Beyond the mail: Atom feeds per region and network, and a static archive, all valid."""

from __future__ import annotations

from datetime import UTC, datetime
from email import message_from_bytes, policy
from pathlib import Path

import feedparser
import pytest
from bs4 import BeautifulSoup
from digest_fixtures import cases, make_main_db, names

from sotewatch.pipeline.delivery.mail import MailSettings
from sotewatch.pipeline.delivery.send import write_demo_outputs
from sotewatch.pipeline.delivery.subscribers import Follow, Subscriber
from sotewatch.pipeline.digests.digest import load_changes
from sotewatch.pipeline.digests.feeds import feed_xml, write_outputs

NOW = datetime(2026, 11, 23, 7, 0, tzinfo=UTC)
CHANGES = cases()["change"]


@pytest.fixture
def db(tmp_path: Path):
    dated = [
        {**c, "detected_at": "2026-11-16T06:00:00Z" if i < 2 else "2026-11-23T06:00:00Z"}
        for i, c in enumerate(CHANGES)
    ]
    return make_main_db(tmp_path / "sotewatch.db", dated)


@pytest.fixture
def out(tmp_path: Path, db):
    lappi = Follow(frozenset({"lappi"}), frozenset(), national=False)
    readers = [
        Subscriber("lappi", "aino@example.org", "Aino Mäkelä", "fi", lappi),
        Subscriber("kaikki", "k@example.org", "Kaikki", "sv", Follow.everything()),
    ]
    folder = tmp_path / "out"
    paths = write_outputs(
        folder, db, subscribers=readers, names=names(), now=NOW,
        settings=MailSettings(sender="sotewatch@example.org"),
        public_base="https://sotewatch.example.org",
    )  # fmt: skip
    return folder, paths


def test_region_feed_is_valid_atom_with_only_its_changes(out) -> None:
    folder, _ = out
    feed = feedparser.parse((folder / "feeds" / "region-lappi.xml").read_bytes())
    assert not feed.bozo, feed.get("bozo_exception")
    assert feed.version == "atom10"
    assert feed.feed.title == "Muutokset: Lappi"
    assert feed.feed.id == "tag:sotewatch,2024:feed/region/lappi"
    assert feed.feed.links[0].href == "https://sotewatch.example.org/feeds/region-lappi.xml"
    assert [e.id for e in feed.entries] == [
        "tag:sotewatch,2024:change/2",
        "tag:sotewatch,2024:change/1",
    ]  # newest first
    first = feed.entries[1]
    assert first.title == "Yhteyshenkilö vaihtunut: Sote-uudistuksen verkostot"
    assert first.link == "https://stm.fi/sote-uudistuksen-verkostot"
    assert first.updated == "2026-11-16T06:00:00Z"
    content = BeautifulSoup(first.content[0].value, "html.parser")
    assert content.find("del").get_text() == "Helmi Saarela"
    assert content.find("ins").get_text() == "Oskari Mattila"


def test_a_feed_for_every_known_slug_even_empty(out) -> None:
    folder, paths = out
    names_written = sorted(p.name for p in paths.feeds)
    assert names_written == sorted(
        [f"region-{s}.xml" for s in names().regions]
        + [f"network-{s}.xml" for s in names().networks]
    )
    network = feedparser.parse((folder / "feeds" / "network-johtoryhma.xml").read_bytes())
    assert not network.bozo and [e.id for e in network.entries] == ["tag:sotewatch,2024:change/4"]


def test_scraped_markup_in_a_feed_is_text(tmp_path: Path) -> None:
    evil = {**CHANGES[0], "page": "<script>alert(1)</script> & co", "after": "<b>x</b>"}
    db = make_main_db(tmp_path / "x.db", [evil])
    xml = feed_xml("region", "lappi", load_changes(db), names=names(), now=NOW)
    feed = feedparser.parse(xml.encode())
    assert not feed.bozo
    assert feed.entries[0].title == "Yhteyshenkilö vaihtunut: <script>alert(1)</script> & co"
    content = BeautifulSoup(feed.entries[0].content[0].value, "html.parser")
    assert content.find("script") is None and content.find("b") is None
    assert "<b>x</b>" in content.get_text()


def test_archive_has_an_index_and_one_page_per_day(out) -> None:
    folder, paths = out
    index = BeautifulSoup((folder / "archive" / "index.html").read_text(), "html.parser")
    links = [(a["href"], a.get_text()) for a in index.find_all("a")]
    assert links == [("2026-11-23.html", "2026-11-23"), ("2026-11-16.html", "2026-11-16")]
    assert "Pirkanmaa: uusi sivu" in index.get_text()
    assert "ja 3 muuta muutosta" in index.get_text()
    day = BeautifulSoup((folder / "archive" / "2026-11-16.html").read_text(), "html.parser")
    assert {t["id"] for t in day.find_all(id=True) if t["id"].startswith("change-")} == {
        "change-1",
        "change-2",
    }
    assert day.find("a", string="Arkiston etusivu")["href"] == "index.html"
    assert paths.archive[0] == folder / "archive" / "index.html"


def test_archive_reveals_no_reader(out) -> None:
    folder, _ = out
    for page in (folder / "archive").glob("*.html"):
        text = page.read_text()
        assert "aino@example.org" not in text and "Aino" not in text


def test_demo_digest_and_per_reader_files(out) -> None:
    folder, paths = out
    assert [p.name for p in paths.digest] == ["digest.html", "digest.txt", "digest.eml"]
    message = message_from_bytes((folder / "digest.eml").read_bytes(), policy=policy.default)
    assert message["Subject"].endswith(" ja 5 muuta muutosta")
    assert message.get_content_type() == "multipart/alternative"
    lappi = (folder / "subscribers" / "lappi.txt").read_text()
    assert "== Lappi ==" in lappi and "Pirkanmaa" not in lappi
    sv = message_from_bytes(
        (folder / "subscribers" / "kaikki.eml").read_bytes(), policy=policy.default
    )
    assert sv["Subject"].endswith(" och 5 andra ändringar")
    assert sorted(p.name for p in paths.subscribers) == [
        "kaikki.eml", "kaikki.html", "kaikki.txt", "lappi.eml", "lappi.html", "lappi.txt",
    ]  # fmt: skip


def test_demo_outputs_include_a_dry_run_delivery(tmp_path: Path, db) -> None:
    subscribers = tmp_path / "subscribers.toml"
    subscribers.write_text(
        '[[subscriber]]\nid = "lappi"\nemail = "aino@example.org"\nregions = ["lappi"]\n'
        'national = false\n\n[[subscriber]]\nid = "pirkanmaa"\nemail = "p@example.org"\n'
        'regions = ["pirkanmaa"]\nfrequency = "weekly"\nweekday = "friday"\n',
        encoding="utf-8",
    )
    out = tmp_path / "out"
    paths = write_demo_outputs(db, tmp_path / "sotewatch.db", out, subscribers, now=NOW)
    assert paths[:3] == [out / "digest.html", out / "digest.txt", out / "digest.eml"]
    assert out / "archive" / "index.html" in paths and out / "feeds" in paths
    sent = [
        message_from_bytes(p.read_bytes(), policy=policy.default)
        for p in (out / "outbox").glob("*.eml")
    ]
    assert sorted(m["To"].addresses[0].addr_spec for m in sent) == [
        "aino@example.org",
        "p@example.org",
    ]
    assert (tmp_path / "sotewatch-private.db").exists()
