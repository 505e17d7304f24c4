"""Blocks a site repeats on several watched pages (its template inside the content area)
are not the page's news: the diff leaves them out of both versions, decided from the
latest stored versions of the site's other pages, so the decision never flips a page."""

from __future__ import annotations

from pathlib import Path

import sqlite_utils
from click.testing import CliRunner
from localsite import serving

from sotewatch.pipeline.changes.repeated import block_key, drop_repeated, repeated_on_others
from sotewatch.pipeline.cli import cli
from sotewatch.pipeline.document.models import Document, Section

BOX = (
    "Asiakaspalvelumme palvelee arkisin kello kahdeksasta neljään, myös puhelimitse.",
    "Palautetta verkkosivuista voi antaa sivun alareunan lomakkeella milloin tahansa.",
    "Tietosuojaseloste kertoo, miten henkilötietoja käsitellään palvelussa.",
)
PAGES = {
    "/verkostot": "Verkostot",
    "/jaostot": "Johtoryhmän jaostot",
    "/seuranta": "Seurantaryhmä",
    "/viestinta": "Valtakunnallinen viestintäryhmä",
}


def page(title: str, own: tuple[str, ...], box: tuple[str, ...] = BOX) -> bytes:
    paragraphs = "".join(f"<p>{p}</p>" for p in own)
    footer = "".join(f"<p>{p}</p>" for p in box)
    return (
        f'<html lang="fi"><head><title>{title}</title></head><body><main><h1>{title}</h1>'
        f"{paragraphs}<h2>Ota yhteyttä</h2>{footer}</main></body></html>"
    ).encode()


def own_text(title: str, edited: bool = False) -> tuple[str, ...]:
    return (
        f"{title} kokoontuu kuukausittain ja valmistelee uudistuksen toimeenpanoa alueilla.",
        f"{title} kokoaa yhteen ministeriöiden ja hyvinvointialueiden edustajat."
        + (" Kokoonpano uudistettiin syksyllä." if edited else ""),
        f"Pöytäkirjat julkaistaan tällä sivulla, kun {title.lower()} on ne hyväksynyt.",
    )


def site(box: dict[str, tuple[str, ...]] | None = None, edited: str = "") -> dict[str, bytes]:
    box = box or {}
    return {
        path: page(title, own_text(title, path == edited), box.get(path, BOX))
        for path, title in PAGES.items()
    }


def run(db: Path, urls: Path) -> None:
    result = CliRunner().invoke(
        cli,
        ["--db", str(db), "run", "--sources", str(urls), "--no-send", "--force",
         "--per-host-delay", "0"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output


def run_editions(tmp_path: Path, *editions: dict[str, bytes]) -> list[tuple[str, str, str]]:
    """Run `sotewatch run` once per edition of the site; the changes the last one stored,
    as (page path, before, after)."""
    db, urls = tmp_path / "watch.db", tmp_path / "urls.txt"
    served: dict[str, bytes] = {}
    with serving(served) as base:
        urls.write_text("".join(f"{base}{path}\n" for path in PAGES), encoding="utf-8")
        for edition in editions:
            served.clear()
            served.update(edition)
            run(db, urls)
        rows = sqlite_utils.Database(db).query(
            "select p.url, c.before, c.after from changes c join pages p on p.id = c.page_id"
            " where c.run_id = (select max(id) from runs)"
        )
        return [(r["url"].removeprefix(base), r["before"], r["after"]) for r in rows]


def test_a_template_block_that_changes_on_every_page_is_not_reported(tmp_path: Path) -> None:
    shorter = dict.fromkeys(PAGES, BOX[1:])
    changes = run_editions(tmp_path, site(), site(shorter, edited="/jaostot"))
    assert [path for path, _, _ in changes] == ["/jaostot"]
    assert "Kokoonpano uudistettiin syksyllä." in changes[0][2]
    assert not any(BOX[0] in (before or "") + (after or "") for _, before, after in changes)


def test_a_template_block_removed_from_one_page_is_not_that_pages_news(tmp_path: Path) -> None:
    assert run_editions(tmp_path, site(), site({"/seuranta": ()})) == []


def test_a_block_that_stops_being_a_template_does_not_flip_a_page(tmp_path: Path) -> None:
    """On three pages the box is the template; taken off one, it stands on only one other
    page of each that keeps it: the next edit of such a page reports the edit alone."""
    three = site({"/viestinta": ()})
    two = site({"/viestinta": (), "/seuranta": ()})
    edited = site({"/viestinta": (), "/seuranta": ()}, edited="/verkostot")
    changes = run_editions(tmp_path, three, two, edited)
    assert [(path, after) for path, _, after in changes] == [
        ("/verkostot", own_text("Verkostot", edited=True)[1])
    ]


def test_a_block_on_two_pages_only_is_content(tmp_path: Path) -> None:
    """Two pages saying the same is not yet a template (it takes three)."""
    pair = ("Yhteinen kappale kahdella sivulla.", "Toinen yhteinen kappale kahdella sivulla.")
    first = site({"/verkostot": pair, "/jaostot": pair, "/seuranta": (), "/viestinta": ()})
    changed = (pair[0] + " Muutettu.", pair[1])
    second = site({"/verkostot": changed, "/jaostot": pair, "/seuranta": (), "/viestinta": ()})
    changes = run_editions(tmp_path, first, second)
    assert [(path, after) for path, _, after in changes] == [("/verkostot", changed[0])]


def test_preview_shows_the_template_as_repeated_on_the_sites_pages(tmp_path: Path) -> None:
    db, urls = tmp_path / "watch.db", tmp_path / "urls.txt"
    with serving(site()) as base:
        urls.write_text("".join(f"{base}{path}\n" for path in PAGES), encoding="utf-8")
        run(db, urls)
        result = CliRunner().invoke(cli, ["--db", str(db), "preview", f"{base}/verkostot"])
        alone = CliRunner().invoke(cli, ["--db", str(tmp_path / "none.db"), "preview",
                                         f"{base}/verkostot"])  # fmt: skip
    assert result.exit_code == 0, result.output
    shown, dropped = result.output.split("\ndropped (")
    assert BOX[0] not in shown and own_text("Verkostot")[0] in shown
    assert f"[repeated on 4 pages of this site] {BOX[0]}" in dropped
    assert BOX[0] in alone.output.split("\ndropped (")[0]


def test_one_shared_line_is_content_a_run_of_them_a_template() -> None:
    doc = Document(
        "https://stm.example/a",
        "A",
        sections=(
            Section(("A",), ("Oma kappale.", "Yhteinen rivi.", "Oma toinen kappale.")),
            Section(("A", "Ota yhteyttä"), BOX),
        ),
    )
    repeated = {block_key(p): 3 for p in ("Yhteinen rivi.", *BOX)}
    assert drop_repeated(doc, repeated).sections == (doc.sections[0],)


def test_teasers_a_site_shows_on_its_other_pages_go_heading_and_all() -> None:
    """A box of the latest news: each teaser its own heading and one line."""
    teasers = [("Rahoituslaskelmat päivitettiin", "1.1.2026 Laskelmat julkaistiin."),
               ("Lausuntopyyntö asetuksesta", "2.1.2026 Lausuntoja pyydetään.")]  # fmt: skip
    own = Section(("A",), ("Oma kappale.", "Oma toinen kappale."))
    doc = Document(
        "https://stm.example/a",
        "A",
        sections=(own, *(Section(("A", "Ajankohtaista", h), (line,)) for h, line in teasers)),
    )
    repeated = {block_key(text): 2 for teaser in teasers for text in teaser}
    assert drop_repeated(doc, repeated).sections == (own,)


def test_a_contact_the_site_names_on_several_pages_is_content() -> None:
    contacts = ("Jari Kivimäki, osastopäällikkö, STM, 0295 163 418, jari.kivimaki(at)gov.fi",
                "Riikka Lappalainen, projektisihteeri, STM, 0295 163 577")  # fmt: skip
    doc = Document(
        "https://stm.example/a", "A", sections=(Section(("A", "Lisätietoja"), contacts),)
    )
    repeated = {block_key(text): 3 for text in ("Lisätietoja", *contacts)}
    assert drop_repeated(doc, repeated) == doc


def test_a_block_repeats_when_two_other_pages_show_it() -> None:
    own = frozenset({"a", "b", "c"})
    others = [frozenset({"a", "b"}), frozenset({"a"}), frozenset({"c"})]
    assert repeated_on_others(own, others) == {"a": 2}


def test_a_line_added_to_a_template_block_on_every_page_is_not_reported(tmp_path: Path) -> None:
    """The site adds a line to its box on every page at once: no page of the run, not
    even the first ones read, reports it, because every page's new version is read
    before any is compared."""
    longer = dict.fromkeys(PAGES, (*BOX, "Uusi palvelunumero on käytössä joulukuusta alkaen."))
    changes = run_editions(tmp_path, site(), site(longer, edited="/seuranta"))
    assert [(path, after) for path, _, after in changes] == [
        ("/seuranta", own_text("Seurantaryhmä", edited=True)[1])
    ]
