"""Which of Finnish, Swedish or English a text is written in.

Tagging inflects county and network names differently per language and the
digest says which language a page is in, so every Document carries one.
Function words decide: every sentence has them and the three languages share
almost none, so a few hundred characters are enough. (simplemma's detector was
tried first: it needs its 400 MB Finnish dictionary in memory, which a cron job
on a small server cannot afford, and it gave no better answers on our pages.)
Letters decide a tie (many "å" is Swedish, "ä"/"ö" without them Finnish); Finnish, the
language of most pages we watch, is the default.
"""

from __future__ import annotations

import re
from collections import Counter

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
            "ne",
            "sen",
            "jotka",
            "jonka",
            "mukaan",
            "lisäksi",
            "vuonna",
            "ovat",
            "olla",
            "eli",
            "jo",
            "vielä",
            "kuin",
            "nyt",
            "mitä",
            "miten",
            "tämä",
            "tässä",
            "sekä",
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
            "om",
            "ett",
            "en",
            "de",
            "vid",
            "kan",
            "ska",
            "från",
            "under",
            "samt",
            "detta",
            "även",
            "vi",
            "sina",
            "finns",
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
            "from",
            "will",
            "has",
            "have",
            "was",
            "were",
            "which",
            "its",
            "their",
            "also",
            "an",
            "at",
        ]
    ),
}
_WORD = re.compile(r"[^\W\d_]+")
_LANGUAGES_OF: dict[str, tuple[str, ...]] = {
    word: tuple(lang for lang in LANGUAGES if word in _STOPWORDS[lang])
    for stop in _STOPWORDS.values()
    for word in stop
}


def detect_language(text: str) -> str:
    """Return "fi", "sv" or "en" for `text`; "fi" when nothing decides."""
    sample = text[:_SAMPLE_CHARS]
    counts = _stopword_counts(sample)
    if counts is None:
        return DEFAULT
    ranked = sorted(LANGUAGES, key=lambda lang: counts[lang], reverse=True)
    if counts[ranked[0]] > counts[ranked[1]]:
        return ranked[0]
    # The letters of the case-folded words: these letters are always inside a word.
    aring = sum(map(sample.count, _FOLDS_TO_ARING))
    return _by_counts(aring, sum(map(sample.count, _FOLDS_TO_UMLAUT)))


_FOLDS_TO_ARING = ("å", "Å", "\u212b")  # every character whose casefold() holds an "å"
_FOLDS_TO_UMLAUT = ("ä", "Ä", "ö", "Ö")  # ... an "ä" or "ö"


def _stopword_counts(text: str) -> dict[str, int] | None:
    """Per language, how many of the words (runs of _WORD, case-folded) of `text` are
    its stopwords; None when `text` has no word at all.

    No word holds whitespace, so the words of the text are those of its whitespace-
    separated tokens: the regex, slow per character, reads only the distinct tokens
    that are not one plain word already."""
    counts = dict.fromkeys(LANGUAGES, 0)
    seen = False
    for token, times in Counter(text.split()).items():
        words = (token,) if token.isalpha() else _WORD.findall(token)
        for word in words:
            seen = True
            for lang in _LANGUAGES_OF.get(word.casefold(), ()):
                counts[lang] += times
    return counts if seen else None


def _by_counts(aring: int, umlauts: int) -> str:
    """Swedish writes "å" often and "ä"/"ö" less; Finnish has "ä"/"ö" and no "å"."""
    if aring and 3 * aring >= umlauts:
        return "sv"
    return "fi" if umlauts else DEFAULT
