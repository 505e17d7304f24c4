"""Text-level rules shared by the HTML families: whitespace, chrome lines, dates.

Selectors remove most chrome, but some sites print it as ordinary paragraphs
inside the content ("Sivua päivitetty 3.5.2024", "Etusivu / Uutiset / ...").
Those lines change on every visit or say nothing a reader wants, so they are
recognised by their words. Pure functions only.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import datetime

from sotewatch.pipeline.document.textscan import has_digit

_INVISIBLE_CHARS = "\u00ad\u200b\u200c\u200d\u2060\ufeff"
_INVISIBLE = re.compile(f"[{_INVISIBLE_CHARS}]")
# Control characters (C0 but whitespace, DEL, C1) and the two non-characters XML 1.0
# forbids: one U+0001 from a page would make a whole Atom feed invalid XML, and a raw
# ESC in a digest is a terminal escape. Tab and newline are whitespace, handled apart.
_CONTROL = re.compile("[\x00-\x08\x0b\x0e-\x1b\x7f-\x84\x86-\x9f\ufffe\uffff]")

_LATIN1_UNPRINTABLE = bytes(code for code in range(256) if not chr(code).isprintable())

DATE = r"(\d{1,2})\.\s?(\d{1,2})\.\s?(\d{4})"
_TIME = r"(?:\s+(?:klo\s+|kl\.\s+)?(\d{1,2})[.:](\d{2}))?"
PUBLISHED = re.compile(
    rf"(?:julkaistu|julkaisuajankohta|julkaisupäivä|publicerad|publiceringstid|published)"
    rf"\s*:?\s*{DATE}{_TIME}",
    re.IGNORECASE,
)
BARE_DATETIME = re.compile(rf"{DATE}{_TIME}")
_ANY_DATE = r"(?:\d{1,2}\.\s?\d{1,2}\.\s?\d{2,4}|\d{4}-\d{2}-\d{2}|[A-Za-z]+\s+\d{1,2},?\s+\d{4})"
_MAX_CHROME_LINE = 240

_CHROME_LINES = [
    # "last updated" lines change with every edit of the CMS, never with the content
    r"(?:sivua\s+|sivu\s+)?(?:päivitetty|muokattu|viimeksi\s+(?:päivitetty|muokattu))"
    rf"\s*:?\s*{_ANY_DATE}.*",
    rf"(?:sidan\s+)?(?:uppdaterad|uppdaterades|senast\s+uppdaterad)\s*:?\s*{_ANY_DATE}.*",
    rf"(?:page\s+)?(?:last\s+)?(?:updated|modified)\s*:?\s*{_ANY_DATE}.*",
    r"(?:julkaistu|julkaisuajankohta|publicerad|published)\s*:?\s*\d{1,2}\.\s?\d{1,2}\.\s?\d{4}.*",
    # share widgets and print buttons
    r"(?:jaa|jaa\s+sivu|jaa\s+artikkeli|jaa\s+uutinen|dela|dela\s+sidan|share|share\s+this(?:\s+page)?"
    r"|tulosta|skriv\s+ut|print)\s*:?(?:\s*(?:facebook|twitter|x|linkedin|whatsapp|sähköposti|e-post"
    r"|email)\s*)*",
    # skip links and language choosers
    r"(?:hyppää|siirry)\s+(?:sisältöön|pääsisältöön)|hoppa\s+till\s+(?:innehållet|innehåll)"
    r"|skip\s+to\s+(?:main\s+)?content",
    r"(?:fi|sv|en|suomi|svenska|english)(?:\s*[|/]?\s*(?:fi|sv|en|suomi|svenska|english)){1,3}",
    # breadcrumbs written out as text
    r"(?:etusivu|startsida|framsida|hem|home)\s*(?:[/>»›|]\s*[^/>»›|]+){1,8}",
    # visitor counters and form tokens
    r"(?:kävijöitä|kävijämäärä|sivulla\s+käyntejä|käyntejä|besökare|visitors?|page\s+views?)"
    r"\s*:?\s*[\d\s]+",
    r"(?:token|csrf|lomaketunniste)\s*:?\s*[\w-]+",
    # cookie banners printed inline
    r".*\b(?:evästeitä|evästeet|kakor|cookies?)\b.*\b(?:hyväksy|accept|godkänn|käytämme|vi\s+använder"
    r"|we\s+use)\b.*",
    r"(?:hyväksy|hyväksy\s+kaikki|hylkää|accept(?:\s+all)?|reject|godkänn|neka)(?:\s+evästeet)?",
]
_CHROME = re.compile("|".join(f"(?:{p})" for p in _CHROME_LINES), re.IGNORECASE)

RELATED_HEADING = re.compile(
    r"^(?:katso\s+myös|lue\s+myös|aiheeseen\s+liittyvää|liittyvät\s+(?:sivut|uutiset|artikkelit)"
    r"|muita\s+uutisia|uusimmat\s+uutiset|se\s+även|läs\s+också|relaterat|related(?:\s+\w+)?"
    r"|see\s+also|read\s+also|suosituimmat|mest\s+lästa)\s*:?$",
    re.IGNORECASE,
)


def clean(text: str) -> str:
    """One line of text as a reader sees it: NFC, no invisible or control characters,
    single spaces.

    Every line of every page passes here, so it avoids scans: `in` finds a character
    faster than a regex, and str.split() splits on exactly what the regex \\s matches
    (no-break space too) in a fraction of the time of a substitution. Most lines are
    clean already: a printable text has no invisible character and no whitespace but
    " " (both are Unicode "other" or "separator"), so single spaces inside are all
    that is left to check."""
    if not text.isascii():  # ASCII is already NFC and has no invisible characters
        text = unicodedata.normalize("NFC", text)
    if text.isprintable() and "  " not in text and text[:1] != " " and text[-1:] != " ":
        return text
    if not text.isascii() and any(char in text for char in _INVISIBLE_CHARS):
        text = _INVISIBLE.sub("", text)
    if not text.isprintable():
        text = _CONTROL.sub("", text)
    return " ".join(text.split())


def clean_lines(lines: list[str]) -> list[str]:
    """clean() of each line. Latin-1 text is NFC as it is, and has no invisible
    character but the soft hyphen, which is not printable: so when all the lines
    together are Latin-1, printable and free of double spaces (one scan each), only
    a line with a space at either end needs cleaning."""
    joined = "\n".join(lines)
    try:
        raw = joined.encode("latin-1")  # a plain copy when it succeeds
    except UnicodeEncodeError:
        return [clean(line) for line in lines]
    unprintable = len(raw) - len(raw.translate(None, _LATIN1_UNPRINTABLE))
    if unprintable > len(lines) - 1 or b"  " in raw:  # more than the joining newlines
        return [clean(line) for line in lines]
    return [clean(line) if line[:1] == " " or line[-1:] == " " else line for line in lines]


def is_chrome_line(line: str) -> bool:
    """True for a line that is site furniture, not content (see the patterns above)."""
    line = line.strip()
    return len(line) <= _MAX_CHROME_LINE and bool(_CHROME.fullmatch(line))


def published_iso(text: str) -> str | None:
    """ISO date(-time) from a "Julkaistu 2.11.2018 15.02" style line, or None."""
    if not has_digit(text):  # a date line has digits; most paragraphs have none
        return None
    match = PUBLISHED.search(text)
    return iso_from_match(match) if match else None


def iso_from_match(match: re.Match[str]) -> str | None:
    day, month, year, hour, minute = match.groups()
    try:
        if hour is None:
            return datetime(int(year), int(month), int(day)).date().isoformat()
        stamp = datetime(int(year), int(month), int(day), int(hour), int(minute))
    except ValueError:
        return None
    return stamp.isoformat(timespec="minutes")
