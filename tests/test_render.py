"""The rendered digest: escaped, linked only to http(s), inlined, readable in fi/sv/en."""

from __future__ import annotations

import pytest
from bs4 import BeautifulSoup
from digest_fixtures import cases, names
from jinja2 import UndefinedError

from sotewatch.pipeline.delivery.subscribers import Follow, Subscriber
from sotewatch.pipeline.digests.digest import ChangeRecord, build_digest
from sotewatch.pipeline.digests.render import (
    diff_text,
    environment,
    render_digest,
    render_overview,
    short_diff,
)
from sotewatch.pipeline.document.models import Change, ChangeKind


def record(
    cid: int,
    *,
    title: str = "Sote-uudistuksen verkostot",
    url: str = "https://stm.fi/verkostot",
    kind: ChangeKind = ChangeKind.CONTACT_REPLACED,
    before: str = "Yhteyshenkilö Helmi Saarela, viestintäasiantuntija",
    after: str = "Yhteyshenkilö Oskari Mattila, viestintäasiantuntija",
    regions: tuple[str, ...] = ("lappi",),
    networks: tuple[str, ...] = (),
    summary: str = "",
) -> ChangeRecord:
    section = "Verkostot / Viestintäverkosto"
    change = Change(kind, url, title, section, before, after, summary, regions, networks)
    return ChangeRecord(cid, "2026-11-23T06:00:00Z", url, title, cid + 10, cid + 9, "stm", change)


def render(records, *, language="fi", follow=None, **kwargs):
    digest = build_digest(records, follow or Follow.everything(), language, names())
    return render_digest(digest, names=names(), **kwargs)


def soup(html: str) -> BeautifulSoup:
    return BeautifulSoup(html, "html.parser")


def test_each_change_shows_title_kind_section_diff_and_both_links() -> None:
    html = soup(render([record(7)], datasette_base="http://datasette.local:9000/").html)
    change = html.find(id="change-7")
    assert "Yhteyshenkilö vaihtunut · Verkostot / Viestintäverkosto" in change.get_text(" ")
    assert [d.get_text() for d in change.find_all("del")] == ["Helmi Saarela"]
    assert [i.get_text() for i in change.find_all("ins")] == ["Oskari Mattila"]
    hrefs = [a["href"] for a in change.find_all("a")]
    assert "https://stm.fi/verkostot" in hrefs
    assert "http://datasette.local:9000/-/sotewatch/change/7" in hrefs


def test_script_in_a_scraped_title_is_text_not_markup() -> None:
    evil = '<script>alert("x")</script><img src=x onerror=alert(1)>'
    rendered = render([record(1, title=evil, after=evil)])
    html = soup(rendered.html)
    assert html.find("script") is None and html.find("img") is None
    assert evil in html.find(id="change-1").get_text()
    assert evil in rendered.text  # the text part is plain text: shown as written


@pytest.mark.parametrize(
    "url",
    ["javascript:alert(1)", "data:text/html,<b>x</b>", "ftp://stm.fi/x", "https://stm.fi/a b"],
    ids=["javascript", "data", "ftp", "space"],
)
def test_only_http_links_become_links(url: str) -> None:
    html = soup(render([record(1, url=url)]).html)
    hrefs = [a["href"] for a in html.find(id="change-1").find_all("a")]
    assert hrefs == ["http://127.0.0.1:8001/-/sotewatch/change/1"]


def test_a_change_under_two_followed_regions_is_shown_once_under_both_names() -> None:
    rendered = render([record(1, regions=("kainuu", "lappi"))])
    html = soup(rendered.html)
    assert [h.get_text() for h in html.find_all("h2")] == ["Kainuu, Lappi"]
    assert len(html.find_all(id="change-1")) == 1
    assert rendered.subject == "Kainuu: yhteyshenkilö vaihtunut Yhteyshenkilö Oskari Mattila"
    assert "1 muutos" in html.find(class_="meta").get_text()
    assert rendered.text.count("Oskari Mattila+}") == 1


def test_css_is_inlined_and_dark_mode_and_phone_rules_stay_in_style() -> None:
    html = soup(render([record(1)]).html)
    container = html.find("table", class_="container")
    assert "max-width: 600px" in container["style"]
    assert container["role"] == "presentation"
    assert "background-color: #fde2e2" in html.find("del")["style"]
    style = html.find("style").get_text()
    assert "prefers-color-scheme: dark" in style and "max-width: 620px" in style
    assert html.find("meta", attrs={"name": "color-scheme"})["content"] == "light dark"
    assert html.find("meta", attrs={"name": "viewport"}) is not None


def test_charset_is_declared_within_the_first_kilobyte() -> None:
    html = render([record(1)]).html
    assert '<meta charset="utf-8">' in html[:1024]


@pytest.mark.parametrize(
    ("language", "national", "kind", "subject"),
    [
        (
            "fi",
            "Valtakunnalliset ja muut",
            "Teksti muuttunut",
            "Valtakunnalliset ja muut: teksti muuttunut (Viestintäverkosto)",
        ),
        (
            "sv",
            "Nationellt och övrigt",
            "Text ändrad",
            "Nationellt och övrigt: text ändrad (Viestintäverkosto)",
        ),
        (
            "en",
            "National and other",
            "Text edited",
            "National and other: text edited (Viestintäverkosto)",
        ),
    ],
    ids=["fi", "sv", "en"],
)
def test_headings_and_labels_follow_the_readers_language(language, national, kind, subject):
    rec = record(1, kind=ChangeKind.TEXT_EDITED, regions=())
    rendered = render([rec], language=language)
    html = soup(rendered.html)
    assert html.find("h2").get_text() == national
    assert kind in html.find(class_="kind").get_text()
    assert rendered.subject == subject
    assert f"== {national} ==" in rendered.text and kind in rendered.text


def test_swedish_reader_sees_swedish_county_names() -> None:
    rendered = render([record(1)], language="sv")
    assert soup(rendered.html).find("h2").get_text() == "Lappland"
    assert rendered.subject == "Lappland: kontaktperson bytt Yhteyshenkilö Oskari Mattila"


def test_text_alternative_marks_words_like_wdiff() -> None:
    text = render([record(3)]).text
    assert "Yhteyshenkilö [-Helmi Saarela-]{+Oskari Mattila+}, viestintäasiantuntija" in text
    assert "== Lappi ==" in text
    assert "Näytä muutos: http://127.0.0.1:8001/-/sotewatch/change/3" in text


def test_source_health_note_names_failing_sources() -> None:
    rendered = render([record(1)], health=[("STM: verkostot", 4, "HTTP 503 <b>busy</b>")])
    note = soup(rendered.html).find(class_="health")
    assert "STM: verkostot: 4 peräkkäistä epäonnistumista" in note.get_text()
    assert "HTTP 503 <b>busy</b>" in note.get_text() and note.find("b") is None
    assert "STM: verkostot: 4 peräkkäistä" in rendered.text
    assert soup(render([record(1)]).html).find(class_="health") is None


@pytest.mark.parametrize(
    ("language", "failing", "thin"),
    [
        ("fi", "haku on epäonnistunut", "seurataan tavallista karkeammin"),
        ("sv", "har misslyckats", "bevakas grövre än vanligt"),
        ("en", "has been failing", "watched more coarsely than usual"),
    ],
)
def test_a_thin_page_is_not_introduced_as_a_failing_source(
    language: str, failing: str, thin: str
) -> None:
    only_thin = [("THL", 0, "https://thl.example/seloste")]
    rendered = render([record(1)], language=language, health=only_thin)
    for note in (soup(rendered.html).find(class_="health").get_text(), rendered.text):
        assert thin in note and failing not in note
    both = render([record(1)], language=language, health=[("STM", 4, "HTTP 503"), *only_thin])
    note = soup(both.html).find(class_="health").get_text()
    assert note.index(failing) < note.index("STM") < note.index(thin) < note.index("THL")
    assert both.text.index(failing) < both.text.index(thin) < both.text.index("THL:")


def test_footer_says_what_the_reader_follows() -> None:
    reader = Subscriber(
        "aino", "aino@example.org", "Aino", "fi", Follow(frozenset({"lappi"}), frozenset(), True)
    )
    rendered = render([record(1)], subscriber=reader, unsubscribe="https://example.org/u/aino")
    footer = soup(rendered.html).find(class_="footer")
    assert "seuraat: Lappi, Valtakunnalliset ja muut." in footer.get_text()
    assert footer.find("a")["href"] == "https://example.org/u/aino"


def test_long_unchanged_text_is_cut_around_the_change() -> None:
    words = " ".join(f"sana{i}" for i in range(60))
    ops = short_diff(words + " vanha " + words, words + " uusi " + words)
    shown = diff_text(ops)
    assert shown.startswith("… ") and shown.endswith(" …")
    assert "[-vanha-]{+uusi+}" in shown
    assert len(shown) < 300


def test_overview_digest_has_every_change_and_heading() -> None:
    pool = cases()["change"]
    recs = [
        record(i, regions=tuple(c["regions"]), networks=tuple(c["networks"]))
        for i, c in enumerate(pool, start=1)
    ]
    rendered = render_overview(recs, names())
    headings = [h.get_text() for h in soup(rendered.html).find_all("h2")]
    assert headings == [
        "Pirkanmaa", "Pohjanmaa", "Kainuu, Lappi", "Lappi, Viestintäverkosto", "Johtoryhmä",
        "Valtakunnalliset ja muut",
    ]  # fmt: skip
    assert rendered.subject.endswith(" ja 5 muuta muutosta")


def test_templates_fail_loudly_on_a_missing_variable() -> None:
    with pytest.raises(UndefinedError):
        environment().get_template("digest.txt").render()


def test_summary_stands_in_only_when_there_is_no_text_to_compare() -> None:
    summary = "Liite vaihtunut: aikataulu.pdf"
    plain = record(1, kind=ChangeKind.ATTACHMENT_CHANGED, before="", after="", summary=summary)
    both = record(2, summary="Helmi Saarela → Oskari Mattila")
    rendered = render([plain, both])
    html = soup(rendered.html)
    assert html.find(id="change-1").find(class_="summary").get_text() == summary
    assert html.find(id="change-2").find(class_="summary") is None
    assert summary in rendered.text and "Helmi Saarela → Oskari Mattila" not in rendered.text
