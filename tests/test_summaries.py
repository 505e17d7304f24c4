"""Stored change summaries (written in English by the diff) read in the reader's
language: in the digest, its feed and chat Markdown, and on Datasette's pages."""

from __future__ import annotations

from pathlib import Path

import pytest
from bs4 import BeautifulSoup
from digest_fixtures import make_main_db, names

from sotewatch.pipeline.browsing.browse import make_app
from sotewatch.pipeline.changes.diff import diff_documents
from sotewatch.pipeline.delivery.subscribers import Follow
from sotewatch.pipeline.digests.channel_digest import render_markdown
from sotewatch.pipeline.digests.digest import ChangeRecord, build_digest
from sotewatch.pipeline.digests.render import render_digest, texts
from sotewatch.pipeline.digests.summaries import localized_summary
from sotewatch.pipeline.document.models import Change, ChangeKind, Contact, Document, Link, Section

URL = "https://stm.example/verkostot"
ENGLISH = texts()["en"]["summaries"]
# Words of the diff's English phrasings; none may reach a Finnish or Swedish reader.
ENGLISH_WORDS = ("moved within", "added", "removed", "replaced by", "as contact", "New ", "Title")


def networks(title: str, sections: tuple[Section, ...], contacts=(), links=()) -> Document:
    return Document(URL, title, sections=sections, contacts=contacts, links=links)


OLD = networks(
    "Verkostot",
    (
        Section(
            ("Viestintäverkosto",),
            (
                "Verkosto kokoontuu kuukausittain etänä.",
                "Kokouksissa käsitellään alueiden viestintää.",
                "Puheenjohtajana toimii ministeriön edustaja.",
                "Muistiot julkaistaan verkossa.",
            ),
        ),
        Section(("Sidosryhmäverkosto",), ("Sidosryhmät tapaavat keväisin.", "Jäseniä on 30.")),
        Section(("Poistuva ryhmä",), ("Tämä ryhmä lopettaa toimintansa.",)),
    ),
    (
        Contact("Maija Virtanen", section="Viestintäverkosto"),
        Contact("Pekka Laine", section="Sidosryhmäverkosto"),
    ),
    (Link("https://stm.example/b.pdf", "Liite B", "attachment"),),
)
NEW = networks(
    "Verkostot ja ryhmät",
    (
        Section(
            ("Viestintäverkosto",),
            (
                "Puheenjohtajana toimii ministeriön edustaja.",
                "Verkosto kokoontuu kuukausittain etänä.",
                "Kokouksissa käsitellään alueiden viestintää.",
                "Uudet jäsenet esittäytyvät syksyllä.",
            ),
        ),
        Section(
            ("Sidosryhmäverkosto",),
            ("Sidosryhmät tapaavat keväisin.", "Muistiot julkaistaan verkossa."),
        ),  # fmt: skip
        Section(("Uusi työryhmä",), ("Työryhmä aloittaa tammikuussa.",)),
    ),
    (
        Contact("Antti Nieminen", section="Viestintäverkosto"),
        Contact("Pekka Laine", section="Sidosryhmäverkosto"),
        Contact("Sari Mäki", section="Sidosryhmäverkosto"),
    ),
    (Link("https://stm.example/c.pdf", "Liite C", "attachment"),),
)


EDITED = tuple(
    networks("Verkostot", (Section(("Lappi",), (text,)),))
    for text in (
        "Lapista verkostossa on yksi edustaja, joka vaihtuu vuosittain.",
        "Lapista verkostossa on kaksi edustajaa, joista toinen edustaa saamelaisjärjestöjä ja"
        " joka vaihtuu vuosittain.",
    )
)


def every_kind_of_change() -> list[Change]:
    """What the diff writes for one page that came, changed in every way, and went."""
    changes = diff_documents(None, OLD, page_url=URL, page_title="Verkostot")
    changes += diff_documents(OLD, NEW, page_url=URL, page_title="Verkostot")
    without_pekka = networks(NEW.title, NEW.sections, NEW.contacts[:1] + NEW.contacts[2:])
    changes += diff_documents(NEW, without_pekka, page_url=URL, page_title="Verkostot")
    changes += diff_documents(EDITED[0], EDITED[1], page_url=URL, page_title="Verkostot")
    return changes + diff_documents(OLD, None, page_url=URL, page_title="Verkostot")


CHANGES = every_kind_of_change()


def say(change: Change, language: str) -> str:
    words = texts()[language]["summaries"]
    return localized_summary(str(change.kind), change.section, change.summary, words, ENGLISH)


def test_the_changes_cover_every_english_phrasing() -> None:
    kinds = {str(c.kind) for c in CHANGES}
    assert kinds >= {
        "page_added", "page_removed", "section_added", "section_removed", "text_edited",
        "text_added", "text_removed", "text_moved", "contact_added", "contact_removed",
        "contact_replaced", "attachment_added", "attachment_removed",
    }  # fmt: skip


@pytest.mark.parametrize("change", CHANGES, ids=lambda c: f"{c.kind}: {c.summary[:40]}")
def test_english_templates_are_what_the_diff_writes(change: Change) -> None:
    """The [en.summaries] table reads every stored phrasing back as it was written."""
    assert say(change, "en") == change.summary


@pytest.mark.parametrize("language", ["fi", "sv"])
@pytest.mark.parametrize("change", CHANGES, ids=lambda c: f"{c.kind}: {c.summary[:40]}")
def test_no_english_word_reaches_a_finnish_or_swedish_reader(change: Change, language: str):
    said = say(change, language)
    assert not [w for w in ENGLISH_WORDS if w in said], said
    assert change.section.split(" / ")[-1] in said or not change.section  # what the page said


def test_a_move_within_a_section_reads_in_each_language() -> None:
    (moved,) = [c for c in CHANGES if c.kind == "text_moved" and "within" in c.summary]
    quoted = "“Puheenjohtajana toimii ministeriön edustaja.”"
    assert say(moved, "fi") == f"Viestintäverkosto: {quoted} siirretty osion sisällä"
    assert say(moved, "sv") == f"Viestintäverkosto: {quoted} flyttat inom avsnittet"


@pytest.mark.parametrize(
    ("stored", "finnish"),
    [
        (
            "Lappi: “yksi” → “kaksi”; added “ja toinen”",
            "Lappi: “yksi” → “kaksi”; lisätty “ja toinen”",
        ),
        ("Lappi: removed “x”; “a” → “b” (+2 more)", "Lappi: poistettu “x”; “a” → “b” (+2 muuta)"),
        ("Lappi: reworded", "Lappi: muotoiltu uudelleen"),
        ("Lappi: “added “x”” → “y”", "Lappi: “added “x”” → “y”"),  # quoted text is the page's
    ],
)
def test_an_edit_s_own_words_are_said_in_finnish(stored: str, finnish: str) -> None:
    fi = texts()["fi"]["summaries"]
    assert localized_summary("text_edited", "Verkostot / Lappi", stored, fi, ENGLISH) == finnish
    assert localized_summary("text_edited", "Verkostot / Lappi", stored, ENGLISH, ENGLISH) == stored


def test_a_summary_no_template_knows_is_shown_as_stored() -> None:
    old = "Viestintäverkosto: vanha muotoilu jota ei enää kirjoiteta"
    fi = texts()["fi"]["summaries"]
    assert localized_summary("text_moved", "Viestintäverkosto", old, fi, ENGLISH) == old


# -- where readers see them ---------------------------------------------------------

MOVED = Change(
    ChangeKind.TEXT_MOVED, URL, "Verkostot", "Viestintäverkosto",
    "Muistiot julkaistaan verkossa.", "Muistiot julkaistaan verkossa.",
    "Viestintäverkosto: “Muistiot julkaistaan verkossa.” moved within the section",
    ("lappi",), (),
)  # fmt: skip


def moved_record() -> ChangeRecord:
    return ChangeRecord(1, "2026-11-23T06:00:00Z", URL, "Verkostot", 11, 10, "stm", MOVED)


@pytest.mark.parametrize(
    ("language", "words"),
    [("fi", "siirretty osion sisällä"), ("sv", "flyttat inom avsnittet"),
     ("en", "moved within the section")],
)  # fmt: skip
def test_the_digest_and_its_chat_form_say_the_move_in_the_reader_s_language(
    language: str, words: str
) -> None:
    digest = build_digest([moved_record()], Follow.everything(), language, names())
    rendered = render_digest(digest, names=names())
    _, markdown = render_markdown(digest, names())
    for text in (BeautifulSoup(rendered.html, "html.parser").get_text(), rendered.text, markdown):
        assert words in text
        if language != "en":
            assert "moved within" not in text


@pytest.mark.parametrize(
    ("language", "words"),
    [("fi", "siirretty osion sisällä"), ("sv", "flyttat inom avsnittet"),
     ("en", "moved within the section")],
)  # fmt: skip
async def test_datasette_s_change_page_says_it_as_the_digest_does(
    tmp_path: Path, language: str, words: str
) -> None:
    db = make_main_db(tmp_path / "sotewatch.db", [{
        "page": "Verkostot", "kind": "text_moved", "section": MOVED.section,
        "before": MOVED.before, "after": MOVED.after, "summary": MOVED.summary,
    }])  # fmt: skip
    db.conn.close()
    app = make_app(tmp_path / "sotewatch.db")
    response = await app.client.get(f"/-/sotewatch/change/1?_lang={language}")
    assert response.status_code == 200, response.text
    shown = BeautifulSoup(response.text, "html.parser").select_one(".sw-summary")
    assert shown is not None and words in shown.get_text()


async def test_the_change_log_table_says_it_in_finnish_too(tmp_path: Path) -> None:
    db = make_main_db(tmp_path / "sotewatch.db", [{
        "page": "Verkostot", "kind": "text_moved", "section": MOVED.section,
        "before": MOVED.before, "after": MOVED.after, "summary": MOVED.summary,
    }])  # fmt: skip
    db.conn.close()
    app = make_app(tmp_path / "sotewatch.db")
    response = await app.client.get("/sotewatch/change_log")
    assert response.status_code == 200, response.text
    cells = BeautifulSoup(response.text, "html.parser").select("td.col-summary")
    assert cells and "siirretty osion sisällä" in cells[0].get_text()
