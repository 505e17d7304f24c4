"""A synthetic site of N pages for the fetch and run benchmarks.

Each page (10-50 KB) has what real ministry pages have around their content:
a navigation menu, a cookie banner, and a footer whose build date changes on
every build, so a tool that diffs raw HTML reports every page as changed.
`build` numbers the builds; pages in `changed` also get a meaningful edit
(a paragraph rewritten, a contact replaced) that a good tool must report.
Deterministic for a given seed. The text is invented from a small vocabulary.
"""

from __future__ import annotations

import os
import random
from datetime import UTC, datetime, timedelta
from html import escape
from pathlib import Path

WORDS = [
    "hyvinvointialue",
    "sote-uudistus",
    "verkosto",
    "yhteistyö",
    "valmistelu",
    "rahoitus",
    "henkilöstö",
    "järjestäminen",
    "palvelut",
    "asiakas",
    "sosiaalihuolto",
    "terveydenhuolto",
    "pelastustoimi",
    "kunta",
    "ministeriö",
    "päätös",
    "lausunto",
    "kokous",
    "jaosto",
    "seuranta",
    "arviointi",
    "tiedonhallinta",
    "digitalisaatio",
    "perustason",
    "palvelut",
    "erikoissairaanhoito",
    "ikääntyneet",
    "lapsiperheet",
    "mielenterveys",
    "päihdetyö",
    "kehittäminen",
    "hanke",
    "tulevaisuuden",
    "sotekeskus",
    "muutostuki",
    "viestintä",
    "sidosryhmät",
    "järjestöt",
    "osallisuus",
    "asukkaat",
    "vaikuttavuus",
    "laatu",
    "saatavuus",
    "jonot",
    "hoitotakuu",
    "resurssit",
    "talous",
    "budjetti",
    "investoinnit",
    "toimitilat",
    "yhteispalvelu",
    "neuvonta",
    "ohjaus",
    "alueellinen",
    "valtakunnallinen",
]
NETWORKS = (
    "Viestintäverkosto",
    "Sidosryhmäverkosto",
    "Vastuuhenkilöiden verkosto",
    "Rahoitusjaosto",
    "Henkilöstöjaosto",
)
FIRST = ("Aino", "Eero", "Kaisa", "Mikko", "Sanna", "Juho", "Liisa", "Oskari", "Veera", "Timo")
LAST = ("Esimerkki", "Testinen", "Malli", "Kuvitelma", "Harjoitus", "Keksitty", "Luonnos")
BUILD_EPOCH = datetime(2025, 1, 6, 9, 0, tzinfo=UTC)


def changed_pages(pages: int, fraction: float, seed: int = 1) -> frozenset[int]:
    """Which pages a `changed` build edits: a fixed random sample."""
    rng = random.Random(seed * 7919)
    return frozenset(rng.sample(range(pages), round(pages * fraction)))


def build_site(
    root: Path,
    *,
    pages: int = 1000,
    seed: int = 1,
    build: int = 0,
    changed: frozenset[int] = frozenset(),
) -> list[str]:
    """Write the site under `root`; returns the page paths ("/p/0001.html", ...)."""
    built_at = BUILD_EPOCH + timedelta(days=build)
    paths = [f"/p/{i:04d}.html" for i in range(pages)]
    (root / "p").mkdir(parents=True, exist_ok=True)
    mtime = built_at.timestamp()
    for index, path in enumerate(paths):
        html = page_html(index, paths, seed=seed, built_at=built_at, edited=index in changed)
        target = root / path.lstrip("/")
        target.write_text(html, encoding="utf-8")
        # nginx derives ETag and Last-Modified from the mtime: one per build, as a deploy would.
        os.utime(target, (mtime, mtime))
    return paths


def page_html(index: int, paths: list[str], *, seed: int, built_at: datetime, edited: bool) -> str:
    rng = random.Random(seed * 100_003 + index)
    size = rng.randint(10_000, 50_000)
    title = f"{_sentence(rng, 3, 6).rstrip('.')} ({index})"
    nav = "".join(
        f'<li><a href="{p}">{escape(_sentence(rng, 1, 3).rstrip("."))}</a></li>'
        for p in rng.sample(paths, min(25, len(paths)))
    )
    body = _sections(rng, size, edited)
    contact = _contact(rng, edited)
    return (
        f'<!doctype html><html lang="fi"><head><meta charset="utf-8"><title>{escape(title)}'
        f"</title></head><body>"
        f'<div class="cookie-banner">Sivusto käyttää evästeitä. <button>Hyväksy</button></div>'
        f'<nav class="main-nav"><ul>{nav}</ul></nav>'
        f"<main><h1>{escape(title)}</h1>{body}{contact}</main>"
        f"<footer><p>Sivusto koottu {built_at:%d.%m.%Y klo %H.%M}</p></footer>"
        f"</body></html>"
    )


def _sections(rng: random.Random, size: int, edited: bool) -> str:
    parts: list[str] = []
    total = 0
    while total < size:
        heading = _sentence(rng, 2, 4).rstrip(".")
        paragraphs = [_sentence(rng, 40, 90) for _ in range(rng.randint(2, 5))]
        if edited and not parts:
            paragraphs[0] = (
                "Muutos: valmistelua jatketaan uudessa aikataulussa, ja seuraava kokous "
                "siirtyy kuukaudella eteenpäin. " + paragraphs[0]
            )
        chunk = f"<h2>{escape(heading)}</h2>" + "".join(f"<p>{escape(p)}</p>" for p in paragraphs)
        parts.append(chunk)
        total += len(chunk.encode())
    return "".join(parts)


def _contact(rng: random.Random, edited: bool) -> str:
    network = rng.choice(NETWORKS)
    first, last = rng.choice(FIRST), rng.choice(LAST)
    if edited:
        first, last = "Uusi", "Yhteyshenkilö"
    phone = f"+358 29 5{rng.randint(100000, 999999)}"
    return (
        f"<h2>{network}</h2><p>{first} {last}, erityisasiantuntija, "
        f"puh. {phone}, etunimi.sukunimi@example.fi</p>"
    )


def _sentence(rng: random.Random, low: int, high: int) -> str:
    words = [rng.choice(WORDS) for _ in range(rng.randint(low, high))]
    return " ".join(words).capitalize() + "."
