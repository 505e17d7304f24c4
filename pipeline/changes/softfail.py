"""Is this 200 really a failure? A pure check before any snapshot is stored.

Sites answer 200 with a maintenance notice, a friendly "page not found", or a
broken template whose main content is empty. Storing that as a new version
would report every section as removed; instead the fetch counts as failed and
the last good snapshot stays the current one.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from sotewatch.pipeline.document.models import Document

# Phrases that, in a short page, mean "this is not the page you watch".
_FAILURE_PHRASES = (
    # Finnish
    r"sivua ei löytynyt",
    r"sivua ei löydy",
    r"hakemaasi sivua ei",
    r"huoltokatko",
    r"palvelu on tilapäisesti poissa käytöstä",
    r"sivusto on huollossa",
    # Swedish
    r"sidan hittades inte",
    r"sidan kunde inte hittas",
    r"serviceavbrott",
    r"webbplatsen är under underhåll",
    # English
    r"page not found",
    r"404 not found",
    r"under maintenance",
    r"down for maintenance",
    r"temporarily unavailable",
    r"service unavailable",
)
_PHRASE = re.compile("|".join(_FAILURE_PHRASES), re.IGNORECASE)
# A page whose main text is longer than this is a real page that merely
# mentions maintenance (a news item about a service break, say).
_SHORT_PAGE = 600
_MIN_FRACTION = 0.20
# Below this many characters a previous version is too small to compare fractions.
_MIN_PREVIOUS = 200
# A page with this much main text is a page of its own, however much longer the last
# version was: a rewrite to a short text is an edit (a failed page is a stub).
_OWN_PAGE = 2000


def soft_failure(new: Document, previous: Document | None) -> str | None:
    """The reason this 200 response is really a failure, or None if it looks genuine.

    Only a short page is read for phrases and only a previous version asks for the whole
    length, so without one the length is counted no further than `_SHORT_PAGE`."""
    size = _main_length(new, None if previous is not None else _SHORT_PAGE)
    if not size:
        return "main content is empty"
    if size < _SHORT_PAGE:
        text = _main_text(new)
        match = _PHRASE.search(f"{new.title}\n{text}")
        if match:
            return f"looks like an error or maintenance page ({match.group(0)!r})"
    if previous is not None:
        before = _main_length(previous)
        if before >= _MIN_PREVIOUS and size < min(_MIN_FRACTION * before, _OWN_PAGE):
            share = 100.0 * size / before
            return (
                f"main content shrank to {share:.0f}% of the previous version "
                f"({size} of {before} characters)"
            )
    return None


def _parts(doc: Document) -> Iterator[str]:
    """What the page says beyond its title: sections, contacts, and watched links
    (a listing's content is its items)."""
    for section in doc.sections:
        yield from section.paragraphs
    for contact in doc.contacts:
        yield from (contact.name, contact.title, contact.email)
    for link in doc.discovered:
        yield from (link.text, link.url)


def _main_text(doc: Document) -> str:
    """The parts as one line, whitespace collapsed."""
    return " ".join(word for part in _parts(doc) for word in part.split())


def _main_length(doc: Document, enough: int | None = None) -> int:
    """len(_main_text(doc)) without building it; once past `enough`, any length past it.

    The parts' words are the text's words (they are joined by spaces), and the text is
    those words with one space between each two."""
    letters = words = 0
    for part in _parts(doc):
        found = part.split()
        words += len(found)
        letters += sum(map(len, found))
        if enough is not None and letters + words > enough:
            break
    return letters + words - 1 if words else 0
