"""Which of Finnish, Swedish or English a text is written in.

Tagging inflects county and network names differently per language and the
digest says which language a page is in, so every Document carries one.
simplemma's detector (already a dependency, for lemmas) scores the share of
words it knows per language; it is fast, offline and deterministic. Where it
has nothing to go on we fall back to counting a few function words, and then
to Finnish, the language of most pages we watch.
"""

from __future__ import annotations

import re

import simplemma

LANGUAGES: tuple[str, ...] = ("fi", "sv", "en")
DEFAULT = "fi"
_SAMPLE_CHARS = 4000  # enough words to decide; keeps long PDFs cheap

_STOPWORDS: dict[str, frozenset[str]] = {
    "fi": frozenset(
        [
            "ja",
            "on",
            "ei",
            "se",
            "että",
            "ovat",
            "myös",
            "tai",
            "kun",
            "sekä",
            "joka",
            "mutta",
            "oli",
            "ole",
            "kanssa",
        ]
    ),
    "sv": frozenset(
        [
            "och",
            "är",
            "att",
            "det",
            "som",
            "för",
            "med",
            "av",
            "på",
            "den",
            "till",
            "inte",
            "har",
            "också",
            "eller",
        ]
    ),
    "en": frozenset(
        [
            "the",
            "and",
            "is",
            "are",
            "of",
            "to",
            "in",
            "that",
            "for",
            "with",
            "on",
            "as",
            "by",
            "this",
            "be",
            "or",
            "not",
        ]
    ),
}
_WORD = re.compile(r"[^\W\d_]+")


def detect_language(text: str) -> str:
    """Return "fi", "sv" or "en" for `text`; "fi" when nothing decides."""
    sample = text[:_SAMPLE_CHARS]
    if not _WORD.search(sample):
        return DEFAULT
    scores = simplemma.langdetect(sample, lang=LANGUAGES)
    best, score = scores[0]
    if best in LANGUAGES and score > 0:
        runner_up = next((s for lang, s in scores[1:] if lang in LANGUAGES), 0.0)
        if score > runner_up:
            return best
    return _by_stopwords(sample)


def _by_stopwords(text: str) -> str:
    words = [w.casefold() for w in _WORD.findall(text)]
    counts = {lang: sum(w in stop for w in words) for lang, stop in _STOPWORDS.items()}
    best = max(LANGUAGES, key=lambda lang: (counts[lang], lang == DEFAULT))
    return best if counts[best] > 0 else DEFAULT
