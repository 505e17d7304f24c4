"""Is this 200 really a failure? A pure check before any snapshot is stored.

Sites answer 200 with a maintenance notice, a friendly "page not found", or a
broken template whose main content is empty. Storing that as a new version
would report every section as removed; instead the fetch counts as failed and
the last good snapshot stays the current one.
"""

from __future__ import annotations

import re

from pipeline.models import Document

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


def soft_failure(new: Document, previous: Document | None) -> str | None:
    """The reason this 200 response is really a failure, or None if it looks genuine."""
    text = _main_text(new)
    if not text:
        return "main content is empty"
    match = _PHRASE.search(f"{new.title}\n{text}") if len(text) < _SHORT_PAGE else None
    if match:
        return f"looks like an error or maintenance page ({match.group(0)!r})"
    if previous is not None:
        before = len(_main_text(previous))
        if before >= _MIN_PREVIOUS and len(text) < _MIN_FRACTION * before:
            share = 100.0 * len(text) / before
            return (
                f"main content shrank to {share:.0f}% of the previous version "
                f"({len(text)} of {before} characters)"
            )
    return None


def _main_text(doc: Document) -> str:
    """What the page says beyond its title: sections, contacts, and watched links
    (a listing's content is its items)."""
    parts: list[str] = []
    for section in doc.sections:
        parts.extend(section.paragraphs)
    parts.extend(f"{c.name} {c.title} {c.email}" for c in doc.contacts)
    parts.extend(f"{link.text} {link.url}" for link in doc.discovered)
    return " ".join(" ".join(parts).split())
