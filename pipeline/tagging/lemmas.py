"""Base forms of words for full-text search: the tagger's lexicon first, then simplemma."""

from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING

from sotewatch.pipeline.tagging.taxonomy import load_taxonomy
from sotewatch.pipeline.tagging.tokens import tokenize

if TYPE_CHECKING:  # the lexicon is built, and its module imported, on first use
    from sotewatch.pipeline.tagging.lexicon import Lexicon


@lru_cache(maxsize=1)
def _default_lexicon() -> Lexicon:
    from sotewatch.pipeline.tagging.tag import lexicon_of  # the tagger's, if it built one

    return lexicon_of(load_taxonomy())


@lru_cache(maxsize=200_000)
def _lemma(low: str, lang: str) -> str:
    known = _default_lexicon().forms.get(low)
    if known:
        # "lapin" is both an inflected "lappi" and the fixed first word of "Lapin Kansa":
        # the inflection is the lemma. Sorted, so the answer never depends on set order.
        others = sorted(known - {low}, key=lambda base: (len(base), base))
        return others[0] if others else low
    import simplemma  # only search indexing asks for lemmas, never a run

    try:
        return simplemma.lemmatize(low, lang=lang, low_memory=True).lower()
    except ValueError:  # a language simplemma does not know
        return low


def lemmas(text: str, lang: str) -> list[str]:
    """Base forms of a text's words, for full-text search ("Lapissa" → "lappi")."""
    return [_lemma(t.low, lang) for t in tokenize(text) if t.low != ","]
