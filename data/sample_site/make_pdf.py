"""Build the sample site's webinar slides, one PDF per edition.

The real SOSTE site links a PDF of webinar slides that lists the NGO experts and
the counties each covers; edition 2 moves one county (Kanta-Häme) from one
expert to another, which is the change a county's reader wants to hear about.

Run from the repository root: `.venv/bin/python data/sample_site/make_pdf.py`.
The output is byte-for-byte reproducible (fixed creation date, core font only),
so re-running it leaves the committed PDFs unchanged.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from fpdf import FPDF

HERE = Path(__file__).resolve().parent
PDF_PATH = "soste/webinaari-2021.pdf"
CREATED = {
    1: datetime(2021, 9, 10, 9, 0, tzinfo=UTC),
    2: datetime(2022, 4, 22, 13, 30, tzinfo=UTC),
}


@dataclass(frozen=True)
class Slide:
    """A slide heading and its lines; `bullets` draws a dot before each line."""

    heading: str
    lines: tuple[str, ...]
    bullets: bool = True


def experts(edition: int) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """Each invented NGO expert with the counties they cover; edition 2 moves Kanta-Häme."""
    moved = ("Kanta-Häme",)
    return (
        ("Kaisa Rautiainen", ("Lappi", "Kainuu", "Pohjois-Pohjanmaa", "Keski-Pohjanmaa")),
        ("Minna Heikkilä", ("Pohjois-Savo", "Etelä-Savo", "Keski-Suomi", "Pohjois-Karjala")),
        ("Tero Mäkelä", ("Pirkanmaa", "Etelä-Pohjanmaa") + (moved if edition == 1 else ())),
        (
            "Hanna Koskinen",
            ("Etelä-Karjala", "Kymenlaakso", "Päijät-Häme") + (moved if edition == 2 else ()),
        ),
        ("Elina Grönroos", ("Varsinais-Suomi", "Satakunta", "Pohjanmaa")),
        ("Sari Nurmi ja Ville Ahonen", ("Uusimaa",)),
    )


def slides() -> tuple[Slide, ...]:
    """The text slides (the experts slide is drawn separately as a grid)."""
    return (
        Slide(
            "Järjestöt sote-uudistuksen toimeenpanossa",
            (
                "Järjestöjen sote-muutostuen webinaari 9.9.2021",
                "Projektipäällikkö Kirsi Väisänen, SOSTE",
            ),
            bullets=False,
        ),
        Slide(
            "Kevään tilannekuvakysely",
            (
                "Kysely tehtiin touko-kesäkuussa 2021 muutostuen alueellisille kumppaneille",
                "Vastauksia tuli 41, jokaiselta hyvinvointialueelta vähintään yksi",
                "Kysyimme, miten järjestöjen ja julkisten toimijoiden yhteistyörakenteet toimivat",
                "Yhteistyörakenteilla tarkoitimme neuvottelukuntia, foorumeita ja verkostoja",
            ),
        ),
        Slide(
            "Tuloksia alueittain (asteikko 1-5)",
            (
                "Järjestöt mukana valmistelussa: koko maan keskiarvo 3,2",
                "Vahvimmin mukana Pohjois-Pohjanmaalla ja Etelä-Pohjanmaalla",
                "Eniten kehitettävää Kymenlaaksossa ja Etelä-Savossa",
                "Sote-yhdistykset tavoitettiin parhaiten Lapissa ja Kanta-Hämeessä",
                "Erot alueiden välillä ovat suuria",
            ),
        ),
        Slide(
            "Mihin keskitymme syksyllä 2021",
            (
                "Järjestöt mukaan hyvinvointialueiden strategioihin",
                "Järjestöjen tilojen ja avustusten jatkuvuus siirtymävaiheessa",
                "Järjestöjen neuvonta ja vertaistuki osaksi sotekeskuksia",
                "Yhteistyö THL:n aluekoordinaattoreiden kanssa",
            ),
        ),
    )


CLOSING = (
    Slide(
        "Kansallinen koordinointi",
        (
            "Kirsi Väisänen, projektipäällikkö",
            "Emilia Nieminen, viestinnän asiantuntija",
            "Aleksi Koivisto, tutkija",
        ),
    ),
    Slide(
        "Kiitos!",
        (
            "Kirsi Väisänen",
            "projektipäällikkö, Järjestöjen sote-muutostuki",
            "kirsi.vaisanen@soste.fi",
        ),
        bullets=False,
    ),
)


class Deck(FPDF):
    """Landscape A4 slides with a heading, lines and a footer."""

    def __init__(self) -> None:
        super().__init__(orientation="L", unit="mm", format="A4")
        self.set_auto_page_break(auto=False)
        self.set_margins(20, 20, 20)

    def footer(self) -> None:
        self.set_y(-14)
        self.set_font("helvetica", size=9)
        self.set_text_color(110, 110, 110)
        self.cell(0, 6, f"Järjestöjen sote-muutostuki | {self.page_no()}", align="R")

    def heading(self, text: str) -> None:
        self.set_xy(20, 22)
        self.set_font("helvetica", style="B", size=26)
        self.set_text_color(200, 16, 46)
        self.multi_cell(0, 12, text)
        self.set_text_color(20, 20, 20)

    def text_slide(self, slide: Slide) -> None:
        self.add_page()
        self.heading(slide.heading)
        self.set_font("helvetica", size=17)
        y = 52.0
        for line in slide.lines:
            if slide.bullets:
                self.set_fill_color(200, 16, 46)
                self.circle(x=24, y=y + 4.2, radius=1.4, style="F")
            self.set_xy(30 if slide.bullets else 20, y)
            self.multi_cell(240, 8.5, line)
            y = self.get_y() + 5

    def experts_slide(self, edition: int) -> None:
        """One block per expert in a 3 x 2 grid: the name in bold, then one county per line."""
        self.add_page()
        self.heading("Järjestöasiantuntijat alueilla")
        for index, (name, counties) in enumerate(experts(edition)):
            x = 20 + (index % 3) * 88
            y = 50 + (index // 3) * 72
            self.set_xy(x, y)
            self.set_font("helvetica", style="B", size=15)
            self.cell(84, 8, name)
            self.set_font("helvetica", size=14)
            for offset, county in enumerate(counties, start=1):
                self.set_xy(x, y + 2 + offset * 7.5)
                self.cell(84, 7, county)


def build(edition: int) -> bytes:
    """The slides of one edition as PDF bytes."""
    deck = Deck()
    deck.set_title("Järjestöt sote-uudistuksen toimeenpanossa")
    deck.set_author("Järjestöjen sote-muutostuki")
    deck.set_creator("sotewatch sample site")
    deck.set_lang("fi")
    deck.set_creation_date(CREATED[edition])
    for slide in slides():
        deck.text_slide(slide)
    deck.experts_slide(edition)
    for slide in CLOSING:
        deck.text_slide(slide)
    return bytes(deck.output())


def main(root: Path = HERE) -> list[Path]:
    written = []
    for edition in (1, 2):
        target = root / f"edition-{edition}" / PDF_PATH
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(build(edition))
        written.append(target)
    return written


if __name__ == "__main__":
    for path in main(Path(sys.argv[1]) if len(sys.argv) > 1 else HERE):
        print(path)
