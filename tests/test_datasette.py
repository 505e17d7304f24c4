"""Browsing in Datasette: search in any inflection, facets, readable diffs and snapshots,
an activity chart, a read-only server, and no private data.

Everything goes through Datasette's in-process client against the app that
`sotewatch browse` serves (`sotewatch.pipeline.browsing.browse.make_app`), on a history written
through `Store` (tests/datasette_history.py).
"""

from __future__ import annotations

import json
import sqlite3
import tomllib
from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest
from bs4 import BeautifulSoup
from datasette_history import SCRIPT, SUBSCRIBER_EMAIL, HistoryDb, build

from sotewatch.pipeline.browsing.browse import browse_command_args, check_servable, make_app
from sotewatch.pipeline.browsing.svgchart import EMPTY, PALETTE, heatmap, shade, week_range
from sotewatch.pipeline.errors import ConfigError
from sotewatch.pipeline.storage.search import fts_query, index_new
from sotewatch.pipeline.storage.store import Store, doc_hash

CASES = tomllib.loads((Path(__file__).parent / "data" / "datasette_search.toml").read_text())
PAGES = ("networks", "kainuu", "hame", "osterbotten")


@pytest.fixture(scope="module")
def history(tmp_path_factory: pytest.TempPathFactory) -> HistoryDb:
    return build(tmp_path_factory.mktemp("datasette"))


@pytest.fixture
def app(history: HistoryDb):
    return make_app(history.path)


async def get_json(app, path: str):
    response = await app.client.get(path)
    assert response.status_code == 200, response.text
    return response.json()


async def get_html(app, path: str) -> BeautifulSoup:
    response = await app.client.get(path)
    assert response.status_code == 200, response.text
    return BeautifulSoup(response.text, "html.parser")


def page_ids(history: HistoryDb, keys) -> set[int]:
    return {history.ids[f"{key}_page"] for key in keys}


# -- search ------------------------------------------------------------------------


@pytest.mark.parametrize("case", CASES["case"], ids=[c["id"] for c in CASES["case"]])
async def test_search_canned_query_finds_forms(app, history, case):
    rows = await get_json(app, f"/sotewatch/search.json?_shape=array&q={case['q']}")
    found = {row["page_id"] for row in rows}
    assert page_ids(history, case["finds"]) <= found
    assert not page_ids(history, case["misses"]) & found


@pytest.mark.parametrize("case", CASES["case"], ids=[c["id"] for c in CASES["case"]])
async def test_search_page_lists_the_same_pages(app, history, case):
    soup = await get_html(app, f"/-/sotewatch/search?q={case['q']}")
    titles = {a.get_text() for a in soup.select("ul.sw-hits a[href*='/snapshot/']")}
    expected = {history.titles[key] for key in case["finds"]}
    assert expected <= titles
    assert not {history.titles[key] for key in case["misses"]} & titles


async def test_search_page_marks_the_inflected_word_that_matched(app):
    soup = await get_html(app, "/-/sotewatch/search?q=Lappi")
    marked = {m.get_text() for m in soup.select("ul.sw-hits mark")}
    assert "Lapissa" in marked


async def test_wording_a_page_no_longer_has_is_found_in_the_change_that_edited_it(app, history):
    """Only each page's latest version is indexed; older wording lives in the changes."""
    soup = await get_html(app, "/-/sotewatch/search?q=kunnissa")
    changes = {a["href"].rsplit("/", 1)[-1] for a in soup.select("ul.sw-hits a[href*='/change/']")}
    assert changes == {str(history.ids["text_change"])}
    assert not soup.select("ul.sw-hits a[href*='/snapshot/']")
    marked = {m.get_text() for m in soup.select("ul.sw-hits mark")}
    assert marked == {"kunnissa"}


async def test_table_search_on_snapshots_uses_the_lemma_column(app, history):
    rows = await get_json(app, "/sotewatch/snapshots.json?_search=Kainuu&_shape=array")
    assert {row["page_id"] for row in rows} == page_ids(history, ["kainuu"])


async def test_change_search_finds_a_change_by_base_form(app, history):
    rows = await get_json(app, "/sotewatch/search_changes.json?_shape=array&q=Lappi")
    assert [row["change_id"] for row in rows] == [history.ids["text_change"]]


def test_query_keeps_the_typed_form_and_adds_base_forms():
    assert fts_query("Lapissa") == '("Lapissa" OR "Lappi")'
    assert fts_query("") == '""'


# -- indexing ----------------------------------------------------------------------


def test_index_new_is_incremental_and_idempotent(tmp_path):
    history = build(tmp_path)
    store = Store.open(history.path)
    try:
        again = index_new(store.db)
        assert (again.snapshots, again.changes, again.dropped) == (0, 0, 0)
        gone = history.ids["contact_change"]
        store.db.execute("delete from change_networks where change_id = ?", [gone])
        store.db.execute("delete from changes where id = ?", [gone])
        after_delete = index_new(store.db)
        assert (after_delete.snapshots, after_delete.changes, after_delete.dropped) == (0, 0, 1)
        indexed = {r[0] for r in store.db.execute("select rowid from snapshots_fts")}
        latest = {r[0] for r in store.db.execute("select max(id) from snapshots group by page_id")}
        assert indexed == latest
    finally:
        store.close()


def test_a_new_version_replaces_its_page_in_the_index(tmp_path):
    history = build(tmp_path)
    store = Store.open(history.path)
    try:
        page = history.ids["networks_page"]
        old = store.latest_snapshot(page)
        assert old is not None
        newer = replace(old.document, title="Verkostot uudistettu")
        with store.transaction():
            fetch = store.record_fetch(page_id=page, url=newer.url, outcome="ok")
            new_id = store.add_snapshot(page, fetch, newer, doc_hash(newer), None)
        stats = index_new(store.db)
        assert (stats.snapshots, stats.dropped) == (1, 1)
        rows = store.db.execute(
            "select rowid from snapshots_fts where snapshots_fts match 'uudistettu'"
        ).fetchall()
        assert rows == [(new_id,)]
        assert not store.db.execute(
            "select 1 from snapshots_fts where rowid = ?", [old.id]
        ).fetchone()
    finally:
        store.close()


# -- tables, views, facets, labels -------------------------------------------------


async def test_change_log_facets_count_regions_networks_and_kinds(app):
    data = await get_json(app, "/sotewatch/change_log.json")
    facets = data["facet_results"]
    regions = {f["value"]: f["count"] for f in facets["regions"]["results"]}
    networks = {f["value"]: f["count"] for f in facets["networks"]["results"]}
    kinds = {f["value"]: f["count"] for f in facets["kind"]["results"]}
    sources = {f["value"]: f["count"] for f in facets["source_id"]["results"]}
    assert regions == {"lappi": 1, "kainuu": 1, "kanta-hame": 1, "pohjanmaa": 1}
    assert networks == {"viestintaverkosto": 1}
    assert kinds == {"page_added": 3, "text_edited": 1, "contact_replaced": 1}
    assert sources == {"stm-verkostot": 2, "soste": 3}
    assert "detected_at" in facets


async def test_change_log_filters_by_county(app, history):
    rows = await get_json(
        app, "/sotewatch/change_log.json?_shape=array&regions__arraycontains=lappi"
    )
    assert [row["change_id"] for row in rows] == [history.ids["text_change"]]


async def test_a_change_row_shows_its_page_title(app, history):
    path = f"/sotewatch/changes.json?_labels=on&_shape=array&id={history.ids['text_change']}"
    [row] = await get_json(app, path)
    assert row["page_id"]["label"] == "Sote-uudistuksen verkostot"


async def test_canned_query_changes_for_a_network_since_a_date(app, history):
    base = "/sotewatch/changes_for_network.json?_shape=array&network=viestintaverkosto"
    assert [r["change_id"] for r in await get_json(app, f"{base}&since=2026-03-01")] == [
        history.ids["contact_change"]
    ]
    assert await get_json(app, f"{base}&since=2026-04-01") == []


async def test_latest_version_of_each_page(app, history):
    rows = await get_json(app, "/sotewatch/latest_snapshots.json?_shape=array")
    latest = {row["page_id"]: row["snapshot_id"] for row in rows}
    assert latest[history.ids["networks_page"]] == history.ids["second_version"]
    assert len(latest) == len(PAGES)


async def test_contacts_now_and_their_history(app):
    now = await get_json(app, "/sotewatch/contacts_now.json?_shape=array")
    assert [c["name"] for c in now] == ["Antti Esimerkki"]
    past = await get_json(app, "/sotewatch/contact_history.json?_shape=array&_sort=first_seen")
    assert [(c["name"], c["current"]) for c in past] == [
        ("Maija Testinen", 0),
        ("Antti Esimerkki", 1),
    ]


async def test_every_version_of_one_page(app, history):
    path = "/sotewatch/page_history.json?_shape=array&page=https://stm.example/verkostot"
    rows = await get_json(app, path)
    assert [r["snapshot_id"] for r in rows] == [
        history.ids["second_version"],
        history.ids["first_version"],
    ]


# -- the plugin's pages ------------------------------------------------------------


async def test_change_page_shows_a_word_diff_with_insertions_and_deletions(app, history):
    soup = await get_html(app, f"/-/sotewatch/change/{history.ids['contact_change']}")
    assert soup.h1.get_text() == "Sote-uudistuksen verkostot"
    deleted = [d.get_text() for d in soup.select(".sw-diff del")]
    inserted = [i.get_text() for i in soup.select(".sw-diff ins")]
    assert deleted == ["Maija Testinen", "viestintäpäällikkö"]
    assert inserted == ["Antti Esimerkki", "erityisasiantuntija"]
    before, after = BeautifulSoup(str(soup.select_one(".sw-diff")), "html.parser"), soup
    for tag in before.select("ins"):
        tag.decompose()
    for tag in after.select(".sw-diff del"):
        tag.decompose()
    assert before.get_text() == "Maija Testinen, viestintäpäällikkö"
    assert after.select_one(".sw-diff").get_text() == "Antti Esimerkki, erityisasiantuntija"
    assert "Viestintäverkosto" in soup.select_one(".sw-tags").get_text()
    hrefs = {a.get_text(): a["href"] for a in soup.select("nav.sw-nav a")}
    assert hrefs["← Edellinen versio"] == f"/-/sotewatch/snapshot/{history.ids['first_version']}"
    assert hrefs["Seuraava versio →"] == f"/-/sotewatch/snapshot/{history.ids['second_version']}"
    assert (
        hrefs["Seuraava muutos tällä sivulla →"]
        == f"/-/sotewatch/change/{history.ids['text_change']}"
    )


async def test_change_page_shows_a_script_in_scraped_text_as_text(app, history):
    response = await app.client.get(f"/-/sotewatch/change/{history.ids['text_change']}")
    assert SCRIPT not in response.text
    assert "&lt;script&gt;alert(" in response.text
    ins = BeautifulSoup(response.text, "html.parser").select_one(".sw-diff ins")
    assert ins.find("script") is None and SCRIPT in ins.get_text()


async def test_snapshot_page_renders_sections_contacts_and_escapes(app, history):
    response = await app.client.get(f"/-/sotewatch/snapshot/{history.ids['second_version']}")
    assert SCRIPT not in response.text
    soup = BeautifulSoup(response.text, "html.parser")
    headings = [h.get_text() for h in soup.select(".sw-section h3")]
    assert headings == ["Viestintäverkosto", "Alueellinen valmistelu"]
    assert "Antti Esimerkki" in soup.table.get_text()
    nav = {a.get_text(): a["href"] for a in soup.select("nav.sw-nav a")}
    assert nav["← Edellinen versio"] == f"/-/sotewatch/snapshot/{history.ids['first_version']}"


async def test_page_history_lists_versions_newest_first_with_their_changes(app, history):
    soup = await get_html(app, f"/-/sotewatch/page/{history.ids['networks_page']}")
    versions = soup.select(".sw-version")
    assert [v.h2.a["href"].rsplit("/", 1)[1] for v in versions] == [
        str(history.ids["second_version"]),
        str(history.ids["first_version"]),
    ]
    assert len(versions[0].select("li")) == 2


async def test_activity_page_draws_counties_and_networks_by_week(app):
    soup = await get_html(app, "/-/sotewatch/activity?weeks=52")
    county, network = soup.select(".sw-wide svg")
    titles = {t.get_text() for t in county.select("rect title")}
    assert "Lapin hyvinvointialue, viikko 16.3.2026–22.3.2026: 1 muutos" in titles
    assert "Kainuun hyvinvointialue, viikko 30.3.2026–5.4.2026: 1 muutos" in titles
    assert "Kainuun hyvinvointialue, viikko 16.3.2026–22.3.2026: 0 muutosta" in titles
    weeks = {t.split("viikko ")[1].split("–")[0] for t in titles}
    assert weeks == {"16.3.2026", "23.3.2026", "30.3.2026", "6.4.2026"}
    assert "Viestintäverkosto" in network.get_text()


async def test_the_change_log_has_an_address_independent_of_the_file_name(app):
    response = await app.client.get("/-/sotewatch/changes")
    assert response.status_code == 302
    assert response.headers["location"] == "/sotewatch/change_log"


async def test_metadata_applies_whatever_the_database_file_is_called(tmp_path):
    history = build(tmp_path)
    renamed = history.path.rename(tmp_path / "demo.db")
    app = make_app(renamed)
    data = await get_json(app, "/demo/change_log.json")
    assert {"source_id", "kind", "regions", "networks"} <= set(data["facet_results"])
    rows = await get_json(app, "/demo/search.json?_shape=array&q=Lappi")
    assert {r["page_id"] for r in rows} == {history.ids["networks_page"]}


async def test_unknown_ids_are_404(app):
    for path in ("/-/sotewatch/change/999", "/-/sotewatch/snapshot/999", "/-/sotewatch/page/9"):
        assert (await app.client.get(path)).status_code == 404


@pytest.mark.parametrize("kind", ["change", "snapshot", "page"])
@pytest.mark.parametrize("number", [2**63 - 1, 2**63, 10**40])
async def test_ids_beyond_sqlite_integers_are_404(app, kind, number):
    assert (await app.client.get(f"/-/sotewatch/{kind}/{number}")).status_code == 404


async def test_views_link_ids_to_the_readable_pages(app, history):
    soup = await get_html(app, "/sotewatch/change_log")
    hrefs = {a["href"] for a in soup.select("td a")}
    assert f"/-/sotewatch/change/{history.ids['text_change']}" in hrefs
    assert f"/-/sotewatch/page/{history.ids['networks_page']}" in hrefs


# -- privacy and safety ------------------------------------------------------------


async def test_only_the_public_database_is_served(app, history):
    databases = await get_json(app, "/-/databases.json")
    assert [db["name"] for db in databases] == ["sotewatch"]
    for path in ("/", "/-/metadata.json", "/sotewatch.json", "/-/sotewatch/search?q=salainen"):
        response = await app.client.get(path)
        assert SUBSCRIBER_EMAIL not in response.text


def test_a_database_with_private_tables_is_refused(history):
    with pytest.raises(ConfigError, match="subscribers"):
        check_servable(history.private)
    with pytest.raises(ConfigError, match="no such database"):
        make_app(history.path.with_name("missing.db"))


async def test_the_served_database_cannot_be_written(app):
    db = app.get_database("sotewatch")
    with pytest.raises(sqlite3.OperationalError, match="readonly|read-only|query_only"):
        await db.execute_write("insert into sources (id, name) values ('x', 'x')")
    response = await app.client.get("/sotewatch.json?sql=delete+from+sources")
    assert response.status_code == 400


async def test_serving_works_while_a_run_holds_a_write_transaction(tmp_path):
    history = build(tmp_path)
    app = make_app(history.path)
    writer = sqlite3.connect(history.path, isolation_level=None)
    try:
        writer.execute("BEGIN IMMEDIATE")
        writer.execute("insert into sources (id, name) values ('new', 'Uncommitted')")
        rows = await get_json(app, "/sotewatch/sources.json?_shape=array")
        assert "new" not in {row["id"] for row in rows}
        writer.execute("COMMIT")
        rows = await get_json(app, "/sotewatch/sources.json?_shape=array")
        assert "new" in {row["id"] for row in rows}
    finally:
        writer.close()


def test_metadata_holds_no_secret():
    text = (Path(__file__).parent.parent / "data" / "datasette" / "metadata.yml").read_text()
    for word in ("password", "secret:", "smtp", "@example.org", "token"):
        assert word not in text.lower()


def test_browse_command_serves_one_file_read_only_with_the_project_files(tmp_path):
    args = browse_command_args(tmp_path / "x.db", port=8123, host="127.0.0.1")
    assert args[1:5] == ["-m", "datasette", "serve", str(tmp_path / "x.db")]
    assert "--immutable" not in args and "-i" not in args  # a run may write while we serve
    joined = " ".join(args)
    for part in (
        "--metadata",
        "--plugins-dir",
        "--template-dir",
        "--port 8123",
        "allow_download off",
    ):
        assert part in joined
    assert json.dumps(args).count(".db") == 1


# -- the activity chart's geometry (pure) ------------------------------------------


def test_weeks_run_monday_to_monday_with_empty_weeks_kept():
    assert week_range(date(2026, 3, 18), date(2026, 4, 5)) == [
        date(2026, 3, 16),
        date(2026, 3, 23),
        date(2026, 3, 30),
    ]


@pytest.mark.parametrize(
    ("count", "busiest", "fill"),
    [
        (0, 5, EMPTY),
        (1, 5, PALETTE[0]),
        (3, 5, PALETTE[2]),
        (5, 5, PALETTE[-1]),
        (1, 1, PALETTE[-1]),
    ],
    ids=["none", "least", "middle", "busiest", "only"],
)
def test_cells_darken_with_the_share_of_the_busiest_week(count, busiest, fill):
    assert shade(count, busiest)[0] == fill


def test_heatmap_has_a_cell_per_row_and_week_and_row_totals():
    weeks = week_range(date(2026, 3, 16), date(2026, 3, 30))
    counts = {("lappi", weeks[0]): 2, ("lappi", weeks[2]): 1, ("kainuu", weeks[1]): 4}
    chart = heatmap(counts, [("kainuu", "Kainuu"), ("lappi", "Lappi")], weeks)
    assert len(chart.cells) == 2 * 3
    assert [(r.label, r.total) for r in chart.rows] == [("Kainuu", 4), ("Lappi", 3)]
    assert chart.max_count == 4
    assert [c.count for c in chart.cells] == [0, 4, 0, 2, 0, 1]
    assert all(cell.x + cell.width <= chart.width for cell in chart.cells)


def _index_bytes(store: Store) -> int:
    return store.db.execute("select sum(length(block)) from snapshots_fts_data").fetchone()[0]


def _replace_versions(store: Store, page: int, times: int) -> None:
    for n in range(times):
        old = store.latest_snapshot(page)
        assert old is not None
        newer = replace(old.document, title=f"Verkostot {n}")
        with store.transaction():
            fetch = store.record_fetch(page_id=page, url=newer.url, outcome="ok")
            store.add_snapshot(page, fetch, newer, doc_hash(newer), None)
        index_new(store.db)


@pytest.mark.parametrize("optimised", [True, False], ids=["optimised", "never-optimised"])
def test_the_index_stays_the_size_of_the_pages_it_holds(tmp_path, monkeypatch, optimised):
    """Replacing rows leaves deleted words in FTS5's index until it is rewritten;
    it is rewritten once a quarter of its rows were replaced."""
    import sotewatch.pipeline.storage.search

    if not optimised:
        monkeypatch.setattr(sotewatch.pipeline.storage.search, "OPTIMISE_SHARE", float("inf"))
    history = build(tmp_path)
    store = Store.open(history.path)
    try:
        fresh = _index_bytes(store)
        _replace_versions(store, history.ids["networks_page"], 60)
        grown = _index_bytes(store) / fresh
        assert (grown < 1.5) is optimised, f"index at {grown:.1f}x its size"
    finally:
        store.close()
