"""The county-by-county page of verkostojarjestot.fi: which NGO groups take part where."""

from __future__ import annotations

import re

from sotewatch.pipeline.document.models import Section
from sotewatch.scrapers import register
from sotewatch.scrapers.generic import GenericScraper

# Each county as the page may name it: nominative, genitive (before "hyvinvointialue")
# and Swedish. Helsinki, HUS and Uusimaa as a whole appear on such pages too.
COUNTIES: dict[str, tuple[str, ...]] = {
    "Itä-Uusimaa": ("Itä-Uudenmaan", "Östra Nyland"),
    "Keski-Uusimaa": ("Keski-Uudenmaan", "Mellersta Nyland"),
    "Länsi-Uusimaa": ("Länsi-Uudenmaan", "Västra Nyland"),
    "Vantaa-Kerava": ("Vantaan ja Keravan", "Vanda och Kervo", "Vantaa ja Kerava"),
    "Varsinais-Suomi": ("Varsinais-Suomen", "Egentliga Finland"),
    "Satakunta": ("Satakunnan",),
    "Kanta-Häme": ("Kanta-Hämeen", "Egentliga Tavastland"),
    "Pirkanmaa": ("Pirkanmaan", "Birkaland"),
    "Päijät-Häme": ("Päijät-Hämeen", "Päijänne-Tavastland"),
    "Kymenlaakso": ("Kymenlaakson", "Kymmenedalen"),
    "Etelä-Karjala": ("Etelä-Karjalan", "Södra Karelen"),
    "Etelä-Savo": ("Etelä-Savon", "Södra Savolax"),
    "Pohjois-Savo": ("Pohjois-Savon", "Norra Savolax"),
    "Pohjois-Karjala": ("Pohjois-Karjalan", "Norra Karelen"),
    "Keski-Suomi": ("Keski-Suomen", "Mellersta Finland"),
    "Etelä-Pohjanmaa": ("Etelä-Pohjanmaan", "Södra Österbotten"),
    "Pohjanmaa": ("Pohjanmaan", "Österbotten"),
    "Keski-Pohjanmaa": ("Keski-Pohjanmaan", "Mellersta Österbotten"),
    "Pohjois-Pohjanmaa": ("Pohjois-Pohjanmaan", "Norra Österbotten"),
    "Kainuu": ("Kainuun", "Kajanaland"),
    "Lappi": ("Lapin", "Lappland"),
    "Helsinki": ("Helsingin", "Helsingfors"),
    "HUS": ("HUS-yhtymä", "HUS-sammanslutningen"),
    "Uusimaa": ("Uudenmaan", "Nyland"),
}
_SUFFIX = r"(?:\s+(?:hyvinvointialue|hyvinvointialueella|välfärdsområde|kaupunki))?"
_FORMS = sorted(
    ((form, name) for name, forms in COUNTIES.items() for form in (name, *forms)),
    key=lambda pair: -len(pair[0]),
)
_COUNTY = re.compile(
    r"^(" + "|".join(re.escape(form) for form, _ in _FORMS) + rf"){_SUFFIX}\s*(?:\([^)]*\))?\s*:?$",
    re.IGNORECASE,
)
_CANONICAL = {form.casefold(): name for form, name in _FORMS}


def county_of(line: str) -> str | None:
    """The county a short heading-like line names ("Lapin hyvinvointialue" -> "Lappi")."""
    match = _COUNTY.match(" ".join(line.split()))
    return _CANONICAL[match.group(1).casefold()] if match else None


@register
class CountyScraper(GenericScraper):
    """County-by-county page (verkostojarjestot.fi): one section per wellbeing services county."""

    name = "county"

    def shape(self, sections: tuple[Section, ...], title: str) -> tuple[Section, ...]:
        root = tuple(p for p in (title,) if p)
        out: list[tuple[tuple[str, ...], list[str]]] = []
        county: str | None = None
        for section in sections:
            depth, named = _deepest_county(section.path)
            if named:
                if named != county:
                    out.append(((*root, named), []))
                county = named
                out[-1][1].extend(section.path[depth + 1 :])  # sub-headings inside a county
            elif county is not None and section.path:
                out[-1][1].append(section.path[-1])
            elif county is None:
                out.append((section.path, []))
            for paragraph in section.paragraphs:
                named = county_of(paragraph)
                if named:
                    county = named
                    out.append(((*root, named), []))
                else:
                    out[-1][1].append(paragraph)
        return tuple(Section(path, tuple(texts)) for path, texts in out if path or texts)


def _deepest_county(path: tuple[str, ...]) -> tuple[int, str | None]:
    for depth in range(len(path) - 1, -1, -1):
        named = county_of(path[depth])
        if named:
            return depth, named
    return -1, None
