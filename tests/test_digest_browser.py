"""The HTML digest in a real browser (Debian's headless Chromium): the layout holds on a
phone and on a desktop, in light and dark mode; screenshots are kept for a human eye.

The phone is a 375 px wide iframe (headless Chromium will not make a window narrower
than 500 px), scrollbars hidden as on a phone; a script inside the page measures what
a reader would notice: a page wider than the screen, an element sticking out, a card
wider than 600 px.
"""

from __future__ import annotations

import json
from html import escape
from pathlib import Path

import pytest
from browser import browser_marks, chromium, keep
from bs4 import BeautifulSoup
from digest_fixtures import names

from sotewatch.pipeline.delivery.subscribers import Follow
from sotewatch.pipeline.digests.digest import ChangeRecord, build_digest
from sotewatch.pipeline.digests.render import render_digest
from sotewatch.pipeline.document.models import Change, ChangeKind

pytestmark = browser_marks
LONG_URL = (
    "https://soteuudistus.fi/documents/1410877/"
    + "Hyvinvointialueiden_valmistelun_tilannekuva_" * 3
    + "liite.pdf"
)
MEASURE = """
<script>
function measure(doc, win) {
  const width = win.innerWidth;
  const card = doc.querySelector('table.container');
  const sticking = [...doc.querySelectorAll('body *')]
    .filter(el => el.getBoundingClientRect().right > width + 1)
    .map(el => el.tagName + '.' + el.className);
  return {scroll: doc.documentElement.scrollWidth, width: width, sticking: sticking,
          card: card.getBoundingClientRect().width,
          cardLeft: card.getBoundingClientRect().left,
          cardBg: win.getComputedStyle(card).backgroundColor,
          insBg: win.getComputedStyle(doc.querySelector('ins')).backgroundColor};
}
</script>
"""


def hard_digest() -> str:
    """A digest with what breaks mail layouts: long unbroken words and URLs, long titles."""
    compound = "sosiaali-ja-terveydenhuollon-järjestämisvastuun-siirtosuunnitelmaluonnos"
    records = []
    for cid, (regions, networks) in enumerate(
        [(("lappi", "kainuu"), ()), ((), ("viestintaverkosto",)), ((), ()), (("pirkanmaa",), ())],
        start=1,
    ):
        change = Change(
            ChangeKind.TEXT_EDITED,
            LONG_URL,
            f"Sote-uudistuksen valmistelu: {compound} ja tiedote {cid}",
            "Valmistelu / Aikataulu / Lausuntokierros",
            f"Lisätietoja: {LONG_URL} ja {compound}, puh. 0295 163 000, kirjaamo.stm(at)gov.fi",
            f"Lisätietoja: {LONG_URL}uusi ja {compound}-päivitys, puh. 0295 163 111",
            "Yhteystiedot ja aikataulu päivitetty",
            regions,
            networks,
        )
        records.append(ChangeRecord(cid, "2026-11-23T06:00:00Z", LONG_URL, change.page_title,
                                    cid, None, "stm", change))  # fmt: skip
    digest = build_digest(records, Follow.everything(), "fi", names())
    rendered = render_digest(
        digest, names=names(), health=[("STM: " + compound, 5, "HTTP 503 " + LONG_URL)]
    )
    return rendered.html


def harness(tmp_path: Path, html: str, frame_width: int, name: str) -> Path:
    """The digest inside an iframe of the given width, measured once it has loaded."""
    page = f"""<!DOCTYPE html><html><head><meta charset="utf-8">{MEASURE}</head>
<body style="margin:0;background:#888">
<iframe id="mail" style="width:{frame_width}px;height:1200px;border:0;display:block"
 srcdoc="{escape(html, quote=True)}"
 onload="document.body.dataset.check = JSON.stringify(
   measure(this.contentDocument, this.contentWindow))"></iframe>
</body></html>"""
    path = tmp_path / f"{name}.html"
    path.write_text(page, encoding="utf-8")
    return path


def measured(tmp_path: Path, html: str, frame_width: int, window: int, *extra: str) -> dict:
    path = harness(tmp_path, html, frame_width, f"harness-{frame_width}-{len(extra)}")
    dom = chromium(tmp_path, path.as_uri(), (window, 1200), "--dump-dom", *extra)
    return json.loads(BeautifulSoup(dom, "html.parser").body["data-check"])


def test_phone_width_never_scrolls_sideways(tmp_path: Path) -> None:
    check = measured(tmp_path, hard_digest(), 375, 500)
    assert check["width"] == 375
    assert check["scroll"] <= 375, check
    assert check["sticking"] == [], check
    assert check["card"] <= 375


def test_desktop_width_keeps_a_centred_600px_card(tmp_path: Path) -> None:
    check = measured(tmp_path, hard_digest(), 1200, 1280)
    assert check["card"] == 600, check
    assert check["cardLeft"] == (check["width"] - 600) / 2  # centred
    assert check["scroll"] <= 1200 and check["sticking"] == []
    assert check["cardBg"] == "rgb(255, 255, 255)"


def test_dark_mode_overrides_the_inlined_light_colours(tmp_path: Path) -> None:
    check = measured(tmp_path, hard_digest(), 375, 500, "--blink-settings=preferredColorScheme=0")
    assert check["cardBg"] == "rgb(28, 31, 35)"
    assert check["insBg"] == "rgb(20, 61, 38)"


@pytest.mark.parametrize(
    ("name", "frame", "window", "extra"),
    [
        ("phone", 375, 500, ()),
        ("desktop", 1200, 1280, ()),
        ("phone-dark", 375, 500, ("--blink-settings=preferredColorScheme=0",)),
    ],
    ids=["phone", "desktop", "phone-dark"],
)
def test_screenshots_are_saved(
    tmp_path: Path, name: str, frame: int, window: int, extra: tuple[str, ...]
) -> None:
    page = harness(tmp_path, hard_digest(), frame, f"shot-{name}")
    shot = tmp_path / f"digest-{name}.png"
    chromium(tmp_path, page.as_uri(), (window, 1200), f"--screenshot={shot}", *extra)
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert shot.stat().st_size > 10_000  # a rendered page, not a blank image
    keep(shot)
