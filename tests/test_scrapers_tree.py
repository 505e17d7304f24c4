"""The lxml tree under extraction reads a page the way the BeautifulSoup one did:
texts stay apart where bs4 kept them apart, ruby text counts where bs4 counted it,
every level of a very deep page is kept, and a source's CSS selectors match what
soupsieve matches."""

from __future__ import annotations

import pytest

from sotewatch.scrapers._reading import blocks
from sotewatch.scrapers._select import _soup_of, select_all
from sotewatch.scrapers._tree import drop, first, parse, text

PAGE = """<html><body>
<div id="sisalto" class="news main"><p class="intro Lead">Alku</p>
  <ul class="some-share"><li>Jaa</li><li>Tulosta</li></ul>
  <div class="news"><p>Toinen <b>kappale</b></p><p role="note">Huom</p></div>
</div><ul><li>Yksi</li><li>Kaksi</li></ul></body></html>"""


def tree():
    return parse(PAGE.encode(), "", "utf-8")


def test_empty_document_is_an_empty_html_element() -> None:
    root = parse(b"", "", None)
    assert root.tag == "html" and len(root) == 0 and text(root) == ""


def test_http_charset_decides_how_bytes_are_read() -> None:
    root = parse("<p>Öljyä ja åäö</p>".encode("iso-8859-1"), "", "iso-8859-1")
    assert text(first(root, "p")) == "Öljyä ja åäö"


def test_a_dropped_element_keeps_the_text_after_it_and_apart_from_the_text_before() -> None:
    root = parse("<p>ennen<b>pois</b>jälkeen</p>".encode(), "", "utf-8")
    paragraph = first(root, "p")
    drop(first(root, "b"))
    assert text(paragraph, " ") == "ennen jälkeen"  # bs4: two strings, joined by " "
    assert "".join(paragraph.itertext()) == "ennenjälkeen"


def test_comments_are_no_text_but_separate_the_text_around_them() -> None:
    paragraph = first(parse(b"<p>a<!-- huomautus -->b</p>", "", "utf-8"), "p")
    assert text(paragraph, " ") == "a b"


def test_a_doctype_amid_the_page_keeps_the_text_around_it_apart() -> None:
    root = parse(b"<!DOCTYPE html><h2>Ennen<!DOCTYPE html>Jalkeen</h2>", "", "utf-8")
    assert text(first(root, "h2"), " ") == "Ennen Jalkeen"


def test_ruby_text_counts_only_for_its_own_element() -> None:
    root = parse("<p>漢<ruby>字<rt>ji</rt></ruby>です</p>".encode(), "", "utf-8")
    assert text(first(root, "p")) == "漢字です"
    assert text(first(root, "rt")) == "ji"


def test_pages_deeper_than_libxml2s_own_tree_limit_keep_every_level() -> None:
    markup = "<p>" + "<font>sana " * 3000 + "</p>"
    root = parse(markup.encode(), "", "utf-8")
    assert text(root).split() == ["sana"] * 3000


@pytest.mark.parametrize(
    "selector",
    ["ul", "UL", ".news", ".news.main", "#sisalto", "div#sisalto.news", "p, li", "*",
     "li.some-share", ".Lead", ".lead", "#nope"],
)  # fmt: skip
def test_simple_selectors_match_what_soupsieve_matches(selector: str) -> None:
    root = tree()
    soup, elements = _soup_of(root)
    expected = [elements[id(tag)] for tag in soup.select(selector)]
    assert select_all(root, (selector,)) == [expected]


@pytest.mark.parametrize(
    ("selector", "texts"),
    [("div > p", ["Alku", "Toinen kappale", "Huom"]),
     ("ul li:nth-child(2)", ["Tulosta", "Kaksi"]),
     ("[role=note]", ["Huom"]),
     ("#sisalto .news p:first-child", ["Toinen kappale"])],
)  # fmt: skip
def test_richer_selectors_are_matched_by_soupsieve(selector: str, texts: list[str]) -> None:
    (found,) = select_all(tree(), (selector,))
    assert [text(element, " ", strip=True) for element in found] == texts


@pytest.mark.parametrize("selector", ["p[", "", "ul,", "::nope"])
def test_an_invalid_selector_matches_nothing_and_spoils_no_other(selector: str) -> None:
    invalid, items = select_all(tree(), (selector, "li"))
    assert invalid == [] and [item.text for item in items] == ["Jaa", "Tulosta", "Yksi", "Kaksi"]


@pytest.mark.parametrize(
    ("markup", "lines"),
    [
        ("<p>Tilaa tiedotteet\nsähköpostiisi.</p>", ["Tilaa tiedotteet sähköpostiisi."]),
        ("<p>Aino Esimerkki<br>Eero Malli</p>", ["Aino Esimerkki", "Eero Malli"]),
        ("<p><span>Aino\nEsimerkki<br>\nEero</span> Malli</p>", ["Aino Esimerkki", "Eero Malli"]),
        ("<pre>rivi yksi\nrivi kaksi</pre>", ["rivi yksi", "rivi kaksi"]),
    ],
)
def test_a_source_newline_is_a_space_and_a_line_break_is_a_br(
    markup: str, lines: list[str]
) -> None:
    """As a browser shows the page: the newlines of the HTML source are spaces, except
    in <pre>; <br> breaks a line."""
    root = parse(f"<body>{markup}</body>".encode(), "", "utf-8")
    assert [block.text for block in blocks(root)] == lines
