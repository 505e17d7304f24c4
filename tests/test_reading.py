"""Reading a change at a glance, on the sample site's two editions.

The webinar slides list each NGO expert with the counties they cover; edition 2
moves Kanta-Häme from Tero Mäkelä to Hanna Koskinen. That change must say so, and
reach the readers of the county and of both experts' counties. A coordinator's
digest shows every change once; a new page opens with its lead, not its title.
A changed line is tagged from the whole passage it belongs to.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator

import pytest
from bs4 import BeautifulSoup

from sotewatch.pipeline.changes.diff import diff_documents
from sotewatch.pipeline.changes.passages import passage
from sotewatch.pipeline.delivery.subscribers import Follow
from sotewatch.pipeline.demo.sample_site import SampleSite, sample_sources_path
from sotewatch.pipeline.digests.digest import ChangeRecord, Names, build_digest, load_changes
from sotewatch.pipeline.digests.glance import period_text
from sotewatch.pipeline.digests.render import render_digest
from sotewatch.pipeline.document.models import Document, Section
from sotewatch.pipeline.runs.run import run_sources
from sotewatch.pipeline.runs.runner import load_config, prepare_store
from sotewatch.pipeline.tagging.tag import Tagger
from sotewatch.pipeline.tagging.taxonomy import load_taxonomy

MOVE = "Kanta-Häme: Tero Mäkelä → Hanna Koskinen"


@pytest.fixture(scope="module")
def records(tmp_path_factory: pytest.TempPathFactory) -> Iterator[list[ChangeRecord]]:
    """The changes between edition 1 and edition 2, as digests load them."""
    taxonomy = load_taxonomy()
    store = prepare_store(tmp_path_factory.mktemp("reading") / "demo.db", taxonomy)
    with SampleSite(edition=1) as site:
        config = load_config(sample_sources_path(), taxonomy, site=site.base_url)
        for edition in (1, 2):
            site.edition = edition
            run_sources(store, config, Tagger(taxonomy), force=True)
    yield load_changes(store.db)
    store.close()


@pytest.fixture(scope="module")
def names() -> Names:
    return Names.load()


def county_reader(*slugs: str) -> Follow:
    return Follow(frozenset(slugs), frozenset(), False)


def rendered_html(records: list[ChangeRecord], follow: Follow, names: Names, lang: str = "fi"):
    digest = build_digest(records, follow, lang, names)
    rendered = render_digest(digest, names=names)
    return digest, rendered, BeautifulSoup(rendered.html, "html.parser")


def test_the_moved_county_reads_from_one_expert_to_the_other(records) -> None:
    moves = [r.change for r in records if r.change.kind == "text_moved"]
    assert [m.summary for m in moves] == [MOVE]
    assert moves[0].before == "Kanta-Häme: Tero Mäkelä"
    assert moves[0].after == "Kanta-Häme: Hanna Koskinen"


@pytest.mark.parametrize(
    "county",
    ["kanta-hame", "pirkanmaa", "etela-pohjanmaa", "paijat-hame", "kymenlaakso", "etela-karjala"],
)
def test_the_move_reaches_the_county_and_both_experts_counties(records, names, county) -> None:
    _, rendered, html = rendered_html(records, county_reader(county), names)
    assert MOVE in html.get_text(" ")
    assert MOVE in rendered.text


@pytest.mark.parametrize("county", ["lappi", "satakunta", "kainuu"])
def test_the_move_does_not_reach_unrelated_counties(records, names, county) -> None:
    _, rendered, _ = rendered_html(records, county_reader(county), names)
    assert MOVE not in rendered.text


@pytest.mark.parametrize("lang", ["fi", "sv", "en"])
def test_a_coordinators_digest_shows_each_change_once(records, names, lang) -> None:
    digest, rendered, html = rendered_html(records, Follow.everything(), names, lang)
    shown = Counter(td["id"] for td in html.find_all(id=True) if td["id"].startswith("change-"))
    assert set(shown.values()) == {1}
    assert len(shown) == digest.count == len(records)
    in_groups = [r.id for g in digest.groups for r in g.changes]
    assert sorted(in_groups) == list(digest.change_ids)


def test_a_change_about_uusimaa_is_one_entry_named_by_all_its_counties(records, names) -> None:
    _, _, html = rendered_html(records, Follow.everything(), names)
    uusimaa = "Itä-Uusimaa, Keski-Uusimaa, Länsi-Uusimaa, Vantaa-Kerava, Helsinki"
    titles = [h.get_text() for h in html.find_all("h2")]
    assert uusimaa in titles
    assert not {"Itä-Uusimaa", "Keski-Uusimaa", "Vantaa-Kerava"} & set(titles)


def test_a_one_county_reader_sees_the_shared_change_under_that_county(records, names) -> None:
    digest, _, html = rendered_html(records, county_reader("vantaa-kerava"), names)
    assert [h.get_text() for h in html.find_all("h2")] == ["Vantaa-Kerava"]
    assert "Koordinaattorien työnjako" in html.get_text(" ")
    assert digest.count == 1


def test_a_new_page_opens_with_its_lead_not_its_title_twice(records, names) -> None:
    _, _, html = rendered_html(records, Follow.everything(), names)
    added = next(r for r in records if r.change.kind == "page_added")
    entry = html.find(id=f"change-{added.id}")
    lead = entry.find("ins").get_text()
    assert lead.startswith("Sote-uudistuksen alueviestintäverkosto piti kevätkokouksensa")
    assert added.page_title not in lead
    assert len(lead) <= 300


def test_a_removed_page_shows_what_was_lost(records, names) -> None:
    _, _, html = rendered_html(records, Follow.everything(), names)
    removed = next(r for r in records if r.change.kind == "page_removed")
    lost = html.find(id=f"change-{removed.id}").find("del").get_text()
    assert lost.startswith("Hallituksen erottua")


@pytest.mark.parametrize(
    ("lang", "more"),
    [("fi", "muuta muutosta"), ("sv", "andra ändringar"), ("en", "more changes")],
)
def test_the_subject_names_the_most_important_change(records, names, lang, more) -> None:
    digest, rendered, _ = rendered_html(records, county_reader("kanta-hame", "lappi"), names, lang)
    assert rendered.subject.startswith(f"{names.region('kanta-hame', lang)}: ")
    assert f"({MOVE})" in rendered.subject
    assert rendered.subject.endswith(f"{digest.count - 1} {more}")


# -- tags from the whole passage, not from the line that changed ----------------------

WRAPPED = (
    "Järjestöt mukana valmistelussa: keskiarvo 3,2.",
    "Vahvimmin mukana Pohjois-Pohjanmaalla",
    "ja Etelä-Pohjanmaalla, keskiarvo {}",
    "molemmilla.",
    "Eniten kehitettävää Kymenlaaksossa.",
)


def slide(average: str) -> Document:
    lines = tuple(line.format(average) for line in WRAPPED)
    return Document(url="u", title="Webinaari", sections=(Section(("Tuloksia",), lines),))


def test_an_edited_wrapped_line_is_tagged_from_its_whole_bullet() -> None:
    (change,) = diff_documents(slide("3,8"), slide("3,9"), page_url="u", page_title="Webinaari")
    assert change.before == "ja Etelä-Pohjanmaalla, keskiarvo 3,8"  # the excerpt stays short
    tagged = Tagger(load_taxonomy()).tag_change(change)
    assert tagged.regions == ("etela-pohjanmaa", "pohjois-pohjanmaa")


def test_a_sentence_that_ends_does_not_lend_its_counties_to_the_next() -> None:
    lines = ["Eniten kehitettävää Kymenlaaksossa.", "uusi rivi ilman maakuntaa", "Lapissa."]
    assert passage(lines, 1) == "uusi rivi ilman maakuntaa"
    assert passage(["Vahvimmin Lapissa", "ja Kainuussa", "Muuta."], 2) == "Muuta."
    assert passage(["Vahvimmin Lapissa", "ja Kainuussa", "Muuta."], 0) == (
        "Vahvimmin Lapissa ja Kainuussa"
    )


# -- search without the whole dictionary in memory ---------------------------------------


def test_search_finds_inflected_forms_without_loading_the_full_dictionary() -> None:
    from simplemma.strategies.dictionaries import DEFAULT_DICTIONARY_FACTORY

    from sotewatch.pipeline.storage import search

    match = search.fts_query("Lapissa")
    assert "Lappi" in match or "lappi" in match
    assert "hyvinvointialue" in search.lemma_text("hyvinvointialueilla", "fi").casefold()
    # the frugal backend answered; the default one (some 400 MB) was never filled
    assert DEFAULT_DICTIONARY_FACTORY._get_dictionary.cache_info().currsize == 0


@pytest.mark.parametrize(
    ("period", "shown"),
    [
        ("2026-W49", "30.11.–6.12.2026"),
        ("2026-W01", "29.12.2025–4.1.2026"),
        ("2026-12-06", "6.12.2026"),
        ("kesä 2026", "kesä 2026"),
    ],
)
def test_a_digests_period_is_written_as_dates(period: str, shown: str) -> None:
    assert period_text(period) == shown


def test_a_table_row_handed_to_another_expert_reaches_both_experts_counties() -> None:
    def table(kanta_hame: str) -> Document:
        rows = (
            "Pirkanmaa | Oskari Salo",
            f"Kanta-Häme | {kanta_hame}",
            "Kymenlaakso | Mervi Ojala",
        )
        return Document(url="u", title="Asiantuntijat", sections=(Section(("Alueet",), rows),))

    (change,) = diff_documents(
        table("Oskari Salo"), table("Mervi Ojala"), page_url="u", page_title="Asiantuntijat"
    )
    assert change.summary == "Kanta-Häme: Oskari Salo → Mervi Ojala"
    tagged = Tagger(load_taxonomy()).tag_change(change)
    assert tagged.regions == ("kanta-hame", "kymenlaakso", "pirkanmaa")
