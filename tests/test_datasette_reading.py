"""Datasette in a Finnish researcher's terms: the project's pages in Finnish by default
(Swedish and English a click away), counties and networks by name in tables and
facets, long texts folded, one date format, and an activity chart for any screen.
"""

from __future__ import annotations

from datetime import date

import pytest
from bs4 import BeautifulSoup
from datasette_history import HistoryDb, build

from sotewatch.pipeline.browsing.browse import make_app
from sotewatch.pipeline.browsing.datasette_reading import SHORT_TEXT, cell, fi_date
from sotewatch.pipeline.browsing.svgchart import heatmap


@pytest.fixture(scope="module")
def history(tmp_path_factory: pytest.TempPathFactory) -> HistoryDb:
    return build(tmp_path_factory.mktemp("reading"))


@pytest.fixture
def app(history: HistoryDb):
    return make_app(history.path)


async def html(app, path: str, **kwargs) -> BeautifulSoup:
    response = await app.client.get(path, **kwargs)
    assert response.status_code == 200, response.text
    return BeautifulSoup(response.text, "html.parser")


@pytest.mark.parametrize(
    ("query", "heading"),
    [("", "Ennen → jälkeen"), ("?_lang=sv", "Före → efter"), ("?_lang=en", "Before → after")],
    ids=["finnish-by-default", "swedish", "english"],
)
async def test_the_change_page_speaks_the_readers_language(app, history, query, heading):
    soup = await html(app, f"/-/sotewatch/change/{history.ids['text_change']}{query}")
    assert [h.get_text() for h in soup.select("h2")] == [heading]


@pytest.mark.parametrize(
    ("path", "finnish"),
    [
        ("/-/sotewatch/search?q=Lappi", "Hae sivuilta ja niiden historiasta"),
        ("/-/sotewatch/activity", "Muutokset viikoittain"),
    ],
)
async def test_search_and_activity_are_finnish_by_default(app, path, finnish):
    assert (await html(app, path)).h1.get_text() == finnish


async def test_page_and_snapshot_pages_are_finnish_by_default(app, history):
    page = await html(app, f"/-/sotewatch/page/{history.ids['networks_page']}")
    assert "ensi kerran nähty" in page.select_one(".sw-meta").get_text()
    assert "seurannassa" in page.select_one(".sw-meta").get_text()
    snapshot = await html(app, f"/-/sotewatch/snapshot/{history.ids['second_version']}")
    assert [th.get_text() for th in snapshot.select("table th")][:2] == ["Nimi", "Tehtävä"]


async def test_the_language_switch_is_remembered(app, history):
    change = f"/-/sotewatch/change/{history.ids['text_change']}"
    response = await app.client.get(f"/-/sotewatch/lang/sv?next={change}")
    assert response.status_code == 302
    assert response.headers["location"] == change
    cookie = response.headers["set-cookie"]
    assert cookie.startswith("sotewatch_lang=sv")
    soup = await html(app, change, cookies={"sotewatch_lang": "sv"})
    assert soup.h2.get_text() == "Före → efter"


async def test_the_switch_goes_back_only_to_this_site(app):
    response = await app.client.get("/-/sotewatch/lang/en?next=https://evil.example/x")
    assert response.headers["location"] == "/x"


async def test_the_change_log_names_counties_and_networks_and_dates_one_way(app):
    soup = await html(app, "/sotewatch/change_log?_sort_desc=change_id")
    regions = [td.get_text(" ", strip=True) for td in soup.select("td.col-regions")]
    assert any("Lappi" in r for r in regions)
    assert not any('"lappi"' in r or r.startswith("[") for r in regions)
    detected = [td.get_text(strip=True) for td in soup.select("td.col-detected_at")]
    assert detected and all(_finnish_timestamp(d) for d in detected)


async def test_facets_show_names_not_slugs(app):
    soup = await html(app, "/sotewatch/change_log")
    facet = soup.select_one('[data-column="regions"]')
    values = [a.get_text() for a in facet.select("li a")]
    assert "Lappi" in values and "lappi" not in values
    kinds = [a.get_text() for a in soup.select_one('[data-column="kind"]').select("li a")]
    assert "Yhteyshenkilö vaihtunut" in kinds
    assert facet.select_one(".facet-info-name strong").get_text().startswith("Hyvinvointialueet")


def test_a_long_text_is_folded_with_the_whole_one_click_away() -> None:
    text = "Sote-uudistuksen alueviestintäverkosto kokoontui. " * 20
    folded = BeautifulSoup(str(cell(text, "after", "fi")), "html.parser")
    assert len(folded.summary.get_text()) < SHORT_TEXT + 30
    assert folded.details.div.get_text() == text
    assert cell("Lyhyt teksti.", "after", "fi") is None


def test_one_date_format() -> None:
    assert fi_date("2026-12-06T03:44:06Z") == "6.12.2026 03:44"
    assert fi_date("2026-11-30") == "30.11.2026"
    assert fi_date("not a date") == "not a date"


def test_a_long_name_never_runs_into_the_cells() -> None:
    long = "Tulevaisuuden sosiaali- ja terveyskeskus -ohjelman hankeverkosto"
    weeks = [date(2026, 11, 30)]
    chart = heatmap({}, [("x", long), ("y", "Lappi")], weeks, label_width=120)
    short, lappi = (row.short for row in chart.rows)
    assert short.endswith("…") and len(short) * 6.2 <= 120
    assert lappi == "Lappi"
    assert chart.rows[0].label == long


async def test_the_activity_chart_has_a_phone_version(app):
    soup = await html(app, "/-/sotewatch/activity?weeks=52")
    wide, narrow = soup.select(".sw-wide svg"), soup.select(".sw-narrow svg")
    assert len(wide) == len(narrow) == 2
    assert all(float(svg["width"]) <= 360 for svg in narrow)
    assert "@media (max-width: 600px)" in soup.style.get_text()


def _finnish_timestamp(text: str) -> bool:
    day, _, time = text.partition(" ")
    parts = day.split(".")
    return len(parts) == 3 and len(parts[2]) == 4 and len(time) == 5 and time[2] == ":"


@pytest.mark.parametrize(
    "how",
    [{"params": {"_lang": "sv"}}, {"cookies": {"sotewatch_lang": "sv"}}],
    ids=["arg", "cookie"],
)
async def test_a_swedish_reader_sees_swedish_county_names_in_tables(app, how):
    soup = await html(app, "/sotewatch/change_log", **how)
    assert soup.select("tbody tr"), "the language argument must not filter the rows"
    regions = " ".join(td.get_text() for td in soup.select("td.col-regions"))
    assert "Lappland" in regions and "Lappi" not in regions
    facet = [a.get_text() for a in soup.select_one('[data-column="regions"]').select("li a")]
    assert "Lappland" in facet
