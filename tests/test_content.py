"""Main content: trafilatura decides which of our blocks are content, our own shape stays.

`select` is pure (the extractor's text in, our blocks out), so its rules are tested on
text alone; the chrome guards on small pages."""

from __future__ import annotations

from sotewatch.pipeline.document.models import Link
from sotewatch.scrapers import Page, _html, get_scraper
from sotewatch.scrapers._content import (
    THIN_MAX_HELD,
    internal_link_texts,
    select,
    without_link_lists,
)
from sotewatch.scrapers._html import Block

LONG = "Hyvinvointialueen järjestöyhteistyö jatkuu syksyllä uusien kumppanuuspöytien kanssa."


def texts(blocks: list[Block]) -> list[str]:
    return [block.text for block in blocks]


def test_blocks_the_extractor_kept_stay_in_page_order_with_their_headings() -> None:
    items = [Block(0, "Etusivu"), Block(1, "Verkostot"), Block(0, LONG), Block(2, "Lisätietoja"),
             Block(0, "Aino Esimerkki, puh. 040 123 4567"), Block(0, "Palaute")]  # fmt: skip
    content = f"Verkostot\n{LONG}\nLisätietoja\nAino Esimerkki, puh. 040 123 4567"
    chosen = select(items, content, visible=len(content))
    assert texts(chosen.items) == ["Verkostot", LONG, "Lisätietoja",
                                   "Aino Esimerkki, puh. 040 123 4567"]  # fmt: skip
    assert texts(chosen.dropped) == ["Etusivu", "Palaute"]
    assert not chosen.thin


def test_words_are_matched_whatever_the_extractor_did_with_spaces_and_punctuation() -> None:
    items = [
        Block(0, "Listan kohta yksi"),
        Block(0, "Listan kohta kaksi"),
        Block(0, "Alue | Ryhmät"),
    ]
    chosen = select(items, "Listan kohta yksiListan kohta kaksi\n| Alue | Ryhmät |", visible=60)
    assert texts(chosen.items) == texts(items)


def test_a_short_line_is_content_only_where_the_content_has_it_in_order() -> None:
    # "Tulosta" (print) appears in the content's text once, before the paragraph: the
    # page's second "Tulosta", a button after it, is not content.
    items = [Block(0, "Tulosta"), Block(0, LONG), Block(0, "Tulosta")]
    chosen = select(items, f"Tulosta\n{LONG}", visible=200)
    assert texts(chosen.items) == ["Tulosta", LONG]


def test_a_long_sentence_is_found_anywhere_in_a_script_written_without_spaces() -> None:
    # One \w+ run is a whole Chinese sentence: it is long by its characters, not short
    # as one "word", so it is content wherever the extractor put it.
    sentence = "谷歌在2014年收购的人工智能公司开发出一款能够学习新知识的计算机。"
    items = [Block(0, LONG), Block(0, sentence)]
    chosen = select(items, f"谷歌(微博) {sentence}\n{LONG}", visible=200)
    assert texts(chosen.items) == [LONG, sentence]


def test_a_line_found_far_ahead_does_not_hide_the_short_lines_before_it() -> None:
    # The extractor put the page's name at the end of its text (a table layout): the
    # short list items read before it are still found in their place.
    name = "Alueen uutiset | Hyvinvointialue"
    short = [f"+ Lisätty kohta numero {n}" for n in range(1, 80)]
    items = [Block(0, name), *(Block(0, line) for line in short)]
    chosen = select(items, " ".join(short) + f"\n| {name} |", visible=2000)
    assert texts(chosen.items) == [name, *short] and not chosen.thin


def test_a_tabs_label_found_a_panel_ahead_does_not_take_that_panels_heading() -> None:
    # Two tabs' labels, then each tab's panel under the same words as its heading: the
    # second label is found a whole panel ahead, a repeat rather than its place, and
    # the second panel keeps its heading.
    panel = [f"{LONG} {n}" for n in range(6)]
    items = [Block(0, "Teemat"), Block(0, "Lisäosat"), Block(3, "Teemat"),
             *(Block(0, line) for line in panel), Block(3, "Lisäosat"), Block(0, LONG)]  # fmt: skip
    content = "\n".join(["Teemat", *panel, "Lisäosat", LONG])
    assert Block(3, "Lisäosat") in select(items, content, visible=1000).items


def test_table_rows_between_kept_passages_stay_with_them() -> None:
    items = [Block(0, LONG), Block(0, "Taulukko kumppaneista"), Block(0, "Kumppani | Maa"),
             Block(0, "Vercel | Yhdysvallat"), Block(0, LONG + " Toinen kappale."),
             Block(0, "Muut uutiset"), Block(0, "Uutinen | 1.2.2025")]  # fmt: skip
    chosen = select(items, f"{LONG}\n{LONG} Toinen kappale.", visible=400)
    assert "Vercel | Yhdysvallat" in texts(chosen.items)
    assert "Uutinen | 1.2.2025" not in texts(chosen.items)  # not between kept passages


def test_one_line_with_a_pipe_between_kept_passages_is_a_caption_not_a_table() -> None:
    items = [Block(0, LONG), Block(0, "Kokoussali. | Kuva: Aino Esimerkki"),
             Block(0, LONG + " Toinen kappale.")]  # fmt: skip
    chosen = select(items, f"{LONG}\n{LONG} Toinen kappale.", visible=400)
    assert texts(chosen.dropped) == ["Kokoussali. | Kuva: Aino Esimerkki"]


def test_a_heading_over_nothing_kept_goes_with_what_it_titled() -> None:
    """Extractors keep the headings of a news box or a widget whose items they drop."""
    items = [Block(1, "Verkostot"), Block(0, LONG), Block(2, "Ajankohtaista"),
             Block(3, "Rahoituslaskelmat päivitettiin"), Block(0, "1.1.2026 Lue lisää"),
             Block(2, "Lisätietoja"), Block(0, "Aino Esimerkki, puh. 040 123 4567")]  # fmt: skip
    content = (
        f"Verkostot\n{LONG}\nAjankohtaista\nRahoituslaskelmat päivitettiin\n"
        "Lisätietoja\nAino Esimerkki, puh. 040 123 4567"
    )
    chosen = select(items, content, visible=len(content))
    assert texts(chosen.items) == ["Verkostot", LONG, "Lisätietoja",
                                   "Aino Esimerkki, puh. 040 123 4567"]  # fmt: skip


def test_a_heading_that_is_a_sentence_is_prose_and_stays() -> None:
    items = [Block(1, "Verkostot"), Block(0, LONG), Block(4, "Verkosto kokoontuu syksyllä.")]
    content = f"Verkostot\n{LONG}\nVerkosto kokoontuu syksyllä."
    assert texts(select(items, content, visible=len(content)).items) == texts(items)


def test_the_first_h1_stays_even_when_the_extractor_took_it_for_the_title() -> None:
    items = [Block(1, "Verkostot"), Block(0, LONG)]
    assert texts(select(items, LONG, visible=200).items) == ["Verkostot", LONG]


def test_short_content_on_a_page_showing_four_times_more_is_thin_and_all_is_kept() -> None:
    items = [Block(1, "Seloste"), *(Block(0, f"{LONG} {n}") for n in range(8))]
    visible = sum(len(item.text) for item in items)
    chosen = select(items, "Seloste", visible)
    assert chosen.thin
    assert chosen.items == items


def test_long_content_is_a_reading_of_its_own_however_long_the_page() -> None:
    article = [Block(0, f"{LONG} {n}") for n in range(THIN_MAX_HELD // len(LONG) + 2)]
    comments = [Block(0, f"Kommentti {n}: {LONG}") for n in range(200)]
    content = "\n".join(texts(article))
    chosen = select(
        article + comments, content, visible=sum(len(b.text) for b in article + comments)
    )
    assert not chosen.thin
    assert chosen.items == article


def parse(html: str) -> str:
    page = Page("https://alue.example/s", html.encode(), "text/html; charset=utf-8", html)
    return get_scraper("generic").parse(page).text


def test_a_container_named_like_furniture_that_holds_the_article_stays() -> None:
    body = " ".join([LONG] * 14)
    html = (f"<html><body><nav><a href='/'>Etusivu</a></nav><div class='content__sharingContainer'>"
            f"<h1>Uutinen</h1><p>{body}</p></div><div class='share'><a href='/fb'>Jaa</a></div>"
            "</body></html>")  # fmt: skip
    text = parse(html)
    assert body in text and "Jaa" not in text and "Etusivu" not in text


def test_a_related_box_ends_where_the_article_resumes() -> None:
    html = (f"<html><body><main><h1>Uutinen</h1><p>{LONG}</p><h2>Katso myös</h2>"
            "<ul><li><a href='/a'>Toinen uutinen</a></li></ul>"
            f"<p>Kokous jatkuu huomenna Hämeenlinnassa, ja sen pöytäkirja julkaistaan ensi "
            "viikolla neuvottelukunnan sivuilla.</p>"
            "</main></body></html>")  # fmt: skip
    text = parse(html)
    assert "Toinen uutinen" not in text
    assert "pöytäkirja julkaistaan ensi viikolla" in text


def test_a_run_of_links_to_the_sites_other_pages_is_dropped_links_elsewhere_stay() -> None:
    page = "https://alue.example/uutiset/kokous"
    links = [Link(f"https://alue.example/uutiset/{n}", f"Uutinen numero {n}") for n in range(3)]
    links += [Link(f"https://www.finlex.fi/laki/{n}", f"Laki {n}/2021") for n in range(3)]
    items = [Block(0, LONG), *(Block(0, f"Laki {n}/2021") for n in range(3)),
             Block(0, "Uutinen numero 0"), Block(0, LONG + " Lisäksi."),
             *(Block(0, f"Uutinen numero {n}") for n in range(3))]  # fmt: skip
    kept = texts(without_link_lists(items, internal_link_texts(links, page)))
    assert kept == [LONG, "Laki 0/2021", "Laki 1/2021", "Laki 2/2021", "Uutinen numero 0",
                    LONG + " Lisäksi."]  # fmt: skip


def blocks_after_chrome(html: str) -> list[str]:
    root = _html.parse(html.encode(), html, "text/html; charset=utf-8")
    _html.strip_chrome(root)
    return texts(_html.blocks(root))


def test_text_a_style_hides_is_not_read_and_does_not_split_its_paragraph() -> None:
    # Wikipedia's formulas: MathML a browser does not show, beside the image it does.
    html = ("<html><body><p>Annetaan <span style='display: none'><math>\n<mi>N</mi>\n"
            "</math></span> vektoria.</p></body></html>")  # fmt: skip
    assert blocks_after_chrome(html) == ["Annetaan vektoria."]


def test_a_page_a_script_reveals_from_behind_display_none_is_still_read() -> None:
    body = " ".join([LONG] * 14)
    html = f"<html><body><div style='display:none'><p>{body}</p></div></body></html>"
    assert blocks_after_chrome(html) == [body]
