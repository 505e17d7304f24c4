"""Every scraper family turns its kind of page into a clean Document.

Fixtures in tests/fixtures/scrapers/ are written in our own words, modelled on
the structure of the real pages (chrome, breadcrumbs, contact blocks).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from fpdf import FPDF

from sotewatch.pipeline.document.language import detect_language
from sotewatch.pipeline.document.models import Contact, Link, Section
from sotewatch.pipeline.errors import ExtractionError
from sotewatch.scrapers import REGISTRY, Page, ScraperOptions, get_scraper
from sotewatch.scrapers._text import is_chrome_line

FIXTURES = Path(__file__).parent / "fixtures" / "scrapers"
URL = "https://example.org/sivu"


def page(name: str, content_type: str = "text/html", url: str = URL) -> Page:
    return Page(url=url, content=(FIXTURES / name).read_bytes(), content_type=content_type)


def parse(family: str, name: str, **options) -> object:
    content_type = "application/rss+xml" if name.endswith(".rss") else "text/html"
    return get_scraper(family, ScraperOptions(**options)).parse(page(name, content_type))


def test_every_family_is_registered_with_a_one_line_description() -> None:
    get_scraper("generic")
    families = {"generic", "ministry", "ngo", "county", "pdf", "listing", "feed", "sitemap"}
    assert families <= set(REGISTRY)
    for cls in REGISTRY.values():
        assert (cls.__doc__ or "").strip().splitlines()[0]


# -- generic ---------------------------------------------------------------------------


def test_generic_keeps_content_in_sections_by_heading_path() -> None:
    doc = parse("generic", "network_page.html")
    assert doc.title == "Yhteistyöverkostot"
    assert [s.path for s in doc.sections] == [
        ("Yhteistyöverkostot",),
        ("Yhteistyöverkostot", "Viestintäverkosto"),
        ("Yhteistyöverkostot", "Viestintäverkosto", "Lisätietoja"),
        ("Yhteistyöverkostot", "Sidosryhmäverkosto"),
    ]
    network = doc.sections[1].paragraphs
    assert network[:5] == (
        "Viestintäverkosto sovittaa yhteen alueiden ja valtakunnan viestintää.",
        "Verkosto tapaa kuukausittain.",
        "Yhteiset viestipohjat",
        "Kuukausitapaamiset",
        "Etäyhteydellä",
    )


@pytest.mark.parametrize(
    "chrome",
    ["Hyppää sisältöön", "evästeitä", "Tietoa meistä", "Etusivu", "päivitetty", "Jaa sivu",
     "Facebook", "Katso myös", "Muut verkostot", "f3a9c1d2", "Kävijöitä", "48213", "Kyllä"],
)  # fmt: skip
def test_generic_drops_site_chrome(chrome: str) -> None:
    doc = parse("generic", "network_page.html")
    assert chrome.casefold() not in doc.to_json().casefold()


def test_generic_contacts_carry_their_section_path() -> None:
    doc = parse("generic", "network_page.html")
    section = "Yhteistyöverkostot / Viestintäverkosto / Lisätietoja"
    assert doc.contacts == (
        Contact("Veera Vuorela", "viestintäjohtaja", "STM", "+358295163900",
                "veera.vuorela@gov.fi", section),
        Contact("Oskari Oja", "erityisasiantuntija", "STM", "+358295163901",
                "oskari.oja@gov.fi", section),
    )  # fmt: skip


def test_links_are_absolute_and_pdfs_are_attachments() -> None:
    doc = parse("generic", "network_page.html")
    assert doc.links == (
        Link(
            "https://example.org/liitteet/verkostokuvaus.pdf", "Verkostokuvaus (PDF)", "attachment"
        ),
        Link("https://example.org/uutiset.rss", "Uutiset", "feed"),
    )
    assert doc.discovered == (doc.links[0],)


def test_the_same_page_with_other_chrome_gives_an_identical_document() -> None:
    first = parse("generic", "network_page.html")
    second = parse("generic", "network_page_other_chrome.html")
    assert (FIXTURES / "network_page.html").read_bytes() != (
        FIXTURES / "network_page_other_chrome.html"
    ).read_bytes()
    assert first == second
    assert first.to_json() == second.to_json()


def test_malformed_html_unclosed_tags_nested_tables_and_no_main() -> None:
    doc = parse("generic", "malformed.html")
    assert doc.title == "Järjestöjen kohtaamispaikka"
    assert doc.sections == (
        Section(("Järjestöjen kohtaamispaikka",), (
            "Ensimmäinen kappale ilman lopputagia",
            "Toinen kappale, jossa lihavointi ei lopu",
        )),
        Section(("Järjestöjen kohtaamispaikka", "Taulukko taulukossa"), (
            "Alue | Ryhmät", "Pirkanmaa", "Järjestöfoorumi", "Kumppanuuspöytä",
            "Satakunta | Neuvottelukunta", "Listan kohta yksi", "Listan kohta kaksi",
            "Irrallinen teksti suoraan divissä ilman kappaletta.",
        )),
    )  # fmt: skip
    assert "Kävijöitä" not in doc.text and "Yhteystiedot" not in doc.text


def test_iso_8859_1_page_is_decoded_from_its_meta_charset() -> None:
    doc = parse("generic", "latin1.html")
    assert doc.sections[0].paragraphs == (
        "Päijät-Hämeen ja Etelä-Karjalan järjestöt kokoontuvat syksyllä yhteiseen työpajaan.",
        "Åbolands föreningar deltar också.",
    )


def test_http_charset_wins_over_sniffing() -> None:
    body = "<html><body><main><h1>Äänestys</h1><p>Öljyä ja åäö</p></main></body></html>"
    content = body.encode("iso-8859-1")
    doc = get_scraper("generic").parse(Page(URL, content, "text/html; charset=ISO-8859-1"))
    assert doc.title == "Äänestys" and doc.sections[0].paragraphs == ("Öljyä ja åäö",)


def test_include_and_exclude_selectors_of_a_source() -> None:
    options = {"include": ("#sisalto",), "exclude": ("ul",)}
    doc = parse("generic", "network_page.html", **options)
    assert "Yhteiset viestipohjat" not in doc.text
    assert "Viestintäverkosto sovittaa" in doc.text


@pytest.mark.parametrize(
    ("line", "chrome"),
    [("Sivua päivitetty 14.2.2022", True), ("Uppdaterad 3.5.2022", True),
     ("Etusivu / Uutiset / Järjestöt mukana", True), ("Jaa sivu", True), ("FI SV EN", True),
     ("Kävijöitä: 48213", True), ("Julkaistu 5.10.2021", True),
     ("Päivitetty toimintasuunnitelma hyväksyttiin kokouksessa.", False),
     ("Lisätietoja", False), ("Kokous pidettiin 1.11.2018.", False)],
)  # fmt: skip
def test_chrome_lines_are_recognised_by_their_words(line: str, chrome: bool) -> None:
    assert is_chrome_line(line) is chrome


# -- ministry, ngo, county -------------------------------------------------------------


def test_ministry_press_release_date_type_and_publisher_lines() -> None:
    doc = parse("ministry", "press_release.html")
    assert doc.published == "2022-03-14T09:30"
    assert [s.path[-1] for s in doc.sections] == ["Alueviestijät kokoontuivat Helsingissä",
                                                   "Lisätietoja"]  # fmt: skip
    assert doc.sections[0].paragraphs[0] == (
        "Alueiden viestijät kävivät läpi aluevaalien jälkeistä viestintää."
    )
    for gone in ("Tiedote", "Julkaisuajankohta", "valtiovarainministeriö", "FI SV EN",
                 "Sote-uudistus Viestintä", "Hyppää"):  # fmt: skip
        assert gone not in doc.text
    assert doc.contacts == (
        Contact("Ilmari Ilola", "viestintäpäällikkö", "VM", "+358295530999", "ilmari.ilola@vm.fi",
                "Alueviestijät kokoontuivat Helsingissä / Lisätietoja"),
    )  # fmt: skip


def test_ngo_article_drops_breadcrumb_keeps_quotes_and_reads_contacts() -> None:
    doc = parse("ngo", "ngo_article.html")
    assert doc.published == "2021-10-05"
    assert "Etusivu" not in doc.text and "Jaa artikkeli" not in doc.text
    assert "”Järjestöjen ääni kuuluu nyt paremmin”, sanoo projektipäällikkö Saara Suvanto." in (
        doc.sections[0].paragraphs
    )
    assert [(c.name, c.email, c.phone) for c in doc.contacts] == [
        ("Tuomas Tähti", "tuomas.tahti@esimerkki.fi", ""),
        ("Saara Suvanto", "", ""),
        ("Helmi Harju", "helmi.harju@esimerkki.fi", "+358401234567"),
    ]


def test_county_page_has_one_section_per_county() -> None:
    doc = parse("county", "counties.html")
    root = "Järjestöt hyvinvointialueiden valmistelussa"
    assert [s.path for s in doc.sections] == [
        (root,),
        (root, "Etelä-Karjala"),
        (root, "Lappi"),
        (root, "Kainuu"),
        (root, "Pohjanmaa"),
    ]
    assert doc.sections[2].paragraphs == ("Työryhmät", "Järjestöfoorumi")
    assert doc.sections[4].paragraphs == ("Kaksikielinen foorumi nimeää edustajat.",)


# -- discovery: listing, feed, sitemap --------------------------------------------------


def test_listing_items_become_date_title_paragraphs_and_item_links() -> None:
    doc = parse("listing", "listing.html")
    assert doc.kind == "listing"
    assert doc.sections[0].paragraphs == (
        "14.3.2022 Alueviestijät kokoontuivat Helsingissä",
        "1.2.2022 Aluevaalien tulos on vahvistettu kaikilla alueilla",
        "3.1.2022 Uudenvuoden tervehdys sidosryhmille ja kumppaneille",
        "2.1.2022 Vuosikatsaus 2021 liitteineen (PDF)",
    )
    assert [(link.url, link.kind) for link in doc.links] == [
        ("https://example.org/tiedote/alueviestijat", "item"),
        ("https://example.org/tiedote/aluevaalit-tulos", "item"),
        ("https://example.org/blogi/uudenvuoden-tervehdys", "item"),
        ("https://example.org/tiedote/liite.pdf", "attachment"),
    ]


def test_listing_applies_url_include_exclude_and_max_items() -> None:
    doc = parse("listing", "listing.html", url_include=(r"/tiedote/",), url_exclude=(r"\.pdf$",),
                max_items=1)  # fmt: skip
    assert [link.url for link in doc.links] == ["https://example.org/tiedote/alueviestijat"]
    assert doc.sections[0].paragraphs == ("14.3.2022 Alueviestijät kokoontuivat Helsingissä",)


def test_feed_entries_become_items_with_absolute_urls() -> None:
    doc = parse("feed", "feed.rss")
    assert (doc.title, doc.kind, doc.language) == ("Esimerkkiministeriön tiedotteet", "feed", "fi")
    assert doc.sections[0].paragraphs == (
        "2022-03-14 Alueviestijät kokoontuivat Helsingissä",
        "2022-02-01 Aluevaalien tulos on vahvistettu",
    )
    assert [(link.url, link.kind) for link in doc.links] == [
        ("https://example.org/tiedote/alueviestijat", "item"),
        ("https://example.org/tiedote/aluevaalit-tulos", "item"),
    ]


@pytest.mark.parametrize("name", ["feed_bomb.rss", "feed_external_entity.rss"])
def test_feed_with_entities_is_refused_without_expanding_anything(name: str) -> None:
    with pytest.raises(ExtractionError, match="entities"):
        parse("feed", name)


def test_sitemap_urls_become_items_and_index_children_are_feeds() -> None:
    doc = get_scraper("sitemap", ScraperOptions(url_exclude=(r"\?",))).parse(
        page("sitemap.xml", "application/xml")
    )
    assert [(link.url, link.kind) for link in doc.links] == [
        ("https://example.org/verkostot", "item"),
        ("https://example.org/tiedote/alueviestijat", "item"),
    ]
    index = get_scraper("sitemap").parse(page("sitemap_index.xml", "application/xml"))
    assert [(link.url, link.kind) for link in index.links] == [
        ("https://example.org/sitemap-pages.xml", "feed")
    ]


def test_sitemap_refuses_entities_and_reads_gzip() -> None:
    import gzip

    bomb = (FIXTURES / "feed_bomb.rss").read_bytes()
    with pytest.raises(ExtractionError, match="refused"):
        get_scraper("sitemap").parse(Page(URL, bomb, "application/xml"))
    packed = gzip.compress((FIXTURES / "sitemap.xml").read_bytes())
    doc = get_scraper("sitemap").parse(Page(URL, packed, "application/gzip"))
    assert len(doc.links) == 3


# -- pdf -------------------------------------------------------------------------------


def two_column_slides() -> bytes:
    """A landscape deck: a title slide, a two-column slide of experts and their counties,
    a bullet slide with a wrapped item, each with a running footer."""
    pdf = FPDF(orientation="L", unit="mm", format="A4")
    pdf.set_auto_page_break(auto=False)
    columns = [("Liisa Lahti", ["Lappi", "Kainuu"]), ("Olli Orava", ["Pirkanmaa", "Satakunta"])]
    for number in (1, 2, 3):
        pdf.add_page()
        pdf.set_font("helvetica", "B", 24)
        pdf.set_xy(20, 20)
        heading = {1: "Muutostuen webinaari", 2: "Asiantuntijat alueilla", 3: "Syksyn painopisteet"}
        pdf.cell(0, 12, heading[number])
        pdf.set_font("helvetica", size=14)
        if number == 1:
            pdf.set_xy(20, 50)
            pdf.cell(0, 8, "Kaarina Kallio")
            pdf.set_xy(20, 60)
            pdf.cell(0, 8, "hankepäällikkö, Järjestöjen sote-muutostuki")
            pdf.set_xy(20, 70)
            pdf.cell(0, 8, "kaarina.kallio@soste.fi")
        if number == 2:
            for index, (name, counties) in enumerate(columns):
                x = 20 + index * 140
                for row, text in enumerate([name, *counties]):
                    pdf.set_xy(x, 50 + row * 9)
                    pdf.cell(120, 8, text)
        if number == 3:
            pdf.set_xy(20, 50)
            pdf.multi_cell(
                150, 8,
                "- Järjestöt mukaan hyvinvointialueiden strategioihin ja niiden valmisteluun "
                "kaikilla alueilla\n- Avustusten jatkuvuus\n"
                "- Yhteistyö aluekoordinaattorien kanssa",
            )  # fmt: skip
        pdf.set_font("helvetica", size=9)
        pdf.set_xy(200, 195)
        pdf.cell(0, 6, f"Järjestöjen sote-muutostuki | {number}")
    return bytes(pdf.output())


def test_pdf_slides_sections_columns_and_list_items() -> None:
    doc = get_scraper("pdf").parse(Page(URL + ".pdf", two_column_slides(), "application/pdf"))
    assert doc.kind == "pdf" and doc.title == "Muutostuen webinaari"
    assert doc.sections == (
        Section(("Muutostuen webinaari",), (
            "Kaarina Kallio", "hankepäällikkö, Järjestöjen sote-muutostuki",
            "kaarina.kallio@soste.fi",
        )),
        Section(("Asiantuntijat alueilla",), (
            "Liisa Lahti", "Lappi", "Kainuu", "Olli Orava", "Pirkanmaa", "Satakunta",
        )),
        Section(("Syksyn painopisteet",), (
            "Järjestöt mukaan hyvinvointialueiden strategioihin ja niiden valmisteluun kaikilla "
            "alueilla",
            "Avustusten jatkuvuus",
            "Yhteistyö aluekoordinaattorien kanssa",
        )),
    )  # fmt: skip
    assert [(c.name, c.email) for c in doc.contacts] == [
        ("Kaarina Kallio", "kaarina.kallio@soste.fi")
    ]


def test_a_broken_pdf_is_an_extraction_error() -> None:
    with pytest.raises(ExtractionError, match="PDF"):
        get_scraper("pdf").parse(Page(URL, b"%PDF-1.4 not really", "application/pdf"))


# -- language --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "language"),
    [("network_page.html", "fi"), ("swedish.html", "sv"), ("english.html", "en"),
     ("latin1.html", "fi"), ("counties.html", "fi")],
)  # fmt: skip
def test_language_of_each_fixture(name: str, language: str) -> None:
    assert parse("generic", name).language == language


def test_language_can_be_forced_by_the_source() -> None:
    assert parse("generic", "network_page.html", language="sv").language == "sv"


@pytest.mark.parametrize(
    ("text", "language"),
    [("", "fi"), ("12 34", "fi"), ("Lappi", "fi"), ("och det är", "sv"), ("the and of", "en")],
)  # fmt: skip
def test_detect_language_on_short_and_empty_texts(text: str, language: str) -> None:
    assert detect_language(text) == language
