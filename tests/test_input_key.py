"""A page fetched again is extracted again only if what its Document depends on changed.

A scraper reads a page to a key (`Scraper.read`): for HTML, the digest of its tree
without the site's chrome, with the family, its options, the URL and the content type.
`runs.inputkey` adds the source's noise rules and the code. A page read to the key
its latest version was read from has that version's Document: `prepare` then answers
"unchanged" without extracting.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from sotewatch.pipeline.config import Source
from sotewatch.pipeline.demo.sample_site import SampleSite, sample_sources_path
from sotewatch.pipeline.runs import inputkey
from sotewatch.pipeline.runs.analyse import Task, prepare, read
from sotewatch.pipeline.runs.run import run_sources
from sotewatch.pipeline.runs.runner import load_config, prepare_store
from sotewatch.pipeline.tagging.tag import Tagger
from sotewatch.pipeline.tagging.taxonomy import load_taxonomy
from sotewatch.scrapers import FAMILIES, Page, ScraperOptions, get_scraper
from sotewatch.scrapers.generic import GenericScraper
from sotewatch.scrapers.listing import ListingScraper

FIXTURES = Path(__file__).parent / "fixtures" / "scrapers"
SAMPLE = Path(__file__).parent.parent / "data" / "sample_site" / "edition-1"
URL = "https://example.org/verkostot"
CONTENT = (
    "<h1>Verkostot</h1><h2>Viestintäverkosto</h2>"
    "<p>Viestintäverkosto kokoontuu kerran kuukaudessa Pirkanmaalla.</p>"
)


def rebuilt(
    content: str = CONTENT, *, built: str = "1.12.2026 klo 10.00", token: str = "a1"
) -> str:
    """The page as a site builds it: navigation, a cookie banner, a form token and a
    footer with the build date around the same content."""
    return (
        "<!doctype html><html lang='fi'><head><meta charset='utf-8'><title>Verkostot</title>"
        f"</head><body><nav><a href='/'>Etusivu</a></nav>"
        f"<div class='cookie-banner'>Sivusto käyttää evästeitä. <button>Hyväksy</button></div>"
        f"<main>{content}</main>"
        f"<footer><form><input type='hidden' name='token' value='{token}'></form>"
        f"<p>Sivusto koottu {built}</p></footer></body></html>"
    )


def html_page(markup: str, url: str = URL) -> Page:
    return Page(url, markup.encode("utf-8"), "text/html; charset=utf-8", markup)


def key_of(markup: str, family: str = "generic", **options: object) -> bytes:
    return get_scraper(family, ScraperOptions(**options)).read(html_page(markup)).key


def test_a_page_rebuilt_with_new_chrome_reads_to_the_same_key() -> None:
    assert key_of(rebuilt(built="2.12.2026 klo 11.30", token="b2")) == key_of(rebuilt())


@pytest.mark.parametrize(
    "edited",
    [
        CONTENT.replace("kerran kuukaudessa", "kahdesti kuukaudessa"),  # a word
        CONTENT.replace("<h2>", "<h3>").replace("</h2>", "</h3>"),  # the structure
        CONTENT + "<p><a href='/muistio.pdf'>Muistio</a></p>",  # a link
        CONTENT.replace("<p>", "<p class='ingressi'>"),  # an attribute
    ],
    ids=["word", "heading-level", "link", "attribute"],
)
def test_a_page_whose_content_changed_reads_to_another_key(edited: str) -> None:
    assert key_of(rebuilt(edited)) != key_of(rebuilt())


def test_the_key_depends_on_the_family_its_options_and_the_url() -> None:
    markup = rebuilt()
    base = key_of(markup)
    assert key_of(markup, "ministry") != base
    assert key_of(markup, exclude=(".ingressi",)) != base
    assert key_of(markup, language="sv") != base
    other_url = get_scraper("generic").read(html_page(markup, URL + "/uusi")).key
    assert other_url != base


def test_the_input_key_depends_on_the_source_noise_rules() -> None:
    page = html_page(rebuilt())
    source = Source(id="stm", url=URL)
    plain = read(page, "generic", source).key
    assert read(page, "generic", source).key == plain
    ignoring = dataclasses.replace(source, ignore=("Sivusto koottu",))
    assert read(page, "generic", ignoring).key != plain


def test_the_code_digest_changes_with_any_module_of_either_package(tmp_path: Path) -> None:
    (tmp_path / "a.py").write_text("X = 1\n")
    first = inputkey.sources_digest([tmp_path])
    (tmp_path / "a.py").write_text("X = 2\n")
    assert inputkey.sources_digest([tmp_path]) != first
    (tmp_path / "a.py").write_text("X = 1\n")
    assert inputkey.sources_digest([tmp_path]) == first
    (tmp_path / "b.py").write_text("")
    assert inputkey.sources_digest([tmp_path]) != first


def family_cases() -> list[tuple[str, str, str]]:
    """(family, file, content type): each family on the kind of page it reads."""
    html = [p for p in sorted(FIXTURES.glob("*.html")) if p.name != "malformed.html"]
    cases = [("generic", p.name, "text/html") for p in html]
    html_families = [f for f in FAMILIES if f not in ("pdf", "feed", "sitemap")]
    cases += [(family, "network_page.html", "text/html") for family in html_families]
    cases += [("listing", "listing.html", "text/html"), ("county", "counties.html", "text/html")]
    cases += [("feed", "feed.rss", "application/rss+xml")]
    cases += [("sitemap", "sitemap.xml", "application/xml")]
    cases += [("pdf", "webinaari-2021.pdf", "application/pdf")]
    return cases


@pytest.mark.parametrize(("family", "name", "content_type"), family_cases())
def test_every_family_reads_a_page_to_the_document_it_parses(
    family: str, name: str, content_type: str
) -> None:
    path = FIXTURES / name if (FIXTURES / name).exists() else SAMPLE / "soste" / name
    page = Page(URL, path.read_bytes(), content_type)
    scraper = get_scraper(family)
    try:
        parsed = scraper.parse(page)
    except Exception as exc:  # noqa: BLE001 (then reading must fail the same way)
        with pytest.raises(type(exc)):
            scraper.read(page).document()
        return
    assert scraper.read(page).document() == parsed


def test_a_family_with_its_own_parse_is_keyed_by_the_body() -> None:
    """A PDF is not HTML: its family does not read it as a tree."""
    pdf = (SAMPLE / "soste" / "webinaari-2021.pdf").read_bytes()
    scraper = get_scraper("pdf")
    key = scraper.read(Page(URL, pdf, "application/pdf")).key
    assert key == scraper.read(Page(URL, pdf, "application/pdf")).key
    assert key != scraper.read(Page(URL, pdf + b"\n%%EOF\n", "application/pdf")).key


# -- prepare: the key that spares an extraction ----------------------------------------------


@pytest.fixture(scope="module")
def tagger() -> Tagger:
    return Tagger(load_taxonomy(), lemmatiser=lambda word, lang: word)


def task(markup: str, **previous: object) -> Task:
    source = Source(id="stm", url=URL, language="fi")
    return Task(html_page(markup), "generic", source, False, **previous)  # type: ignore[arg-type]


def test_a_page_read_to_its_latest_key_is_unchanged_without_extraction(
    tagger: Tagger, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = prepare(task(rebuilt()), tagger)
    assert first.input_key and first.digest and not first.failure
    again = task(
        rebuilt(built="3.12.2026 klo 9.15"),
        previous_hash=first.digest,
        previous_input=first.input_key,
    )
    monkeypatch.setattr(GenericScraper, "document", _refuse)
    found = prepare(again, tagger)
    assert found.unchanged and found.same_input
    assert found.digest == first.digest and found.input_key == first.input_key
    assert found.failure is None


def test_a_page_read_to_another_key_is_extracted_and_compared(tagger: Tagger) -> None:
    first = prepare(task(rebuilt()), tagger)
    edited = rebuilt(CONTENT.replace("kerran", "kahdesti"))
    again = task(edited, previous_hash=first.digest, previous_input=first.input_key, previous_id=1)
    found = prepare(again, tagger, read_previous={1: first.document_json}.__getitem__)
    assert not found.unchanged and not found.same_input
    assert found.input_key != first.input_key
    assert [change.kind for change in found.changes] == ["text_edited"]


def test_a_page_with_no_stored_version_is_always_extracted(tagger: Tagger) -> None:
    """A key alone (its version failed to store, say) is not a version to stand for."""
    first = prepare(task(rebuilt()), tagger)
    found = prepare(task(rebuilt(), previous_input=first.input_key), tagger)
    assert not found.same_input and found.digest == first.digest


def _refuse(*args: object) -> None:
    raise AssertionError("the page was extracted")


# -- the run: what a page not read again still does --------------------------------------


def test_a_listing_not_read_again_offers_its_items_again(
    tmp_path: Path, tagger: Tagger, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A run killed after storing a listing, before registering its items: the next run
    finds them, though the listing (answering 200, without validators now) is not read."""
    taxonomy = load_taxonomy()
    store = prepare_store(tmp_path / "watch.db", taxonomy)
    item = "/valtioneuvosto/tiedote-2022-alueviestintaverkosto"
    try:
        with SampleSite(edition=2) as site:
            config = load_config(sample_sources_path(), taxonomy, site=site.base_url)
            settings = dataclasses.replace(config.settings, per_host_delay=0.0)
            run_sources(store, config, tagger, settings=settings, force=True)
            with store.transaction():  # forgotten, as if the run had been killed
                (page,) = store.conn.execute(
                    "select id from pages where url = ?", [site.base_url + item]
                ).fetchone()
                for table in ("changes", "snapshots", "fetches"):
                    store.conn.execute(f"delete from {table} where page_id = ?", [page])
                store.conn.execute("delete from pages where id = ?", [page])
                store.conn.execute("update pages set etag = null, last_modified = null")
            monkeypatch.setattr(ListingScraper, "document", _refuse)
            report = run_sources(store, config, tagger, settings=settings, force=True)
            urls = [row[0] for row in store.conn.execute("select url from pages")]
            assert site.base_url + item in urls
        assert report.failed == 0, report.errors
    finally:
        store.close()
