"""A passage as the tagger and the search index read it: words and commas, by sentence."""

from __future__ import annotations

import re
from typing import NamedTuple

_TOKEN = re.compile(r"\w+(?:[-‐–]\w+)*(?:-(?!\w))?(?::\w+)?|,")


_SENTENCES = re.compile(r"(?<=[.!?])\s+|\n+")
_DASHES = str.maketrans({"‐": "-", "–": "-"})


class Token(NamedTuple):
    """A word as written (colon suffix removed: "HUS:n" → "HUS"), in lower case, in its sentence."""

    text: str
    low: str
    sentence: int
    first: bool  # first word of its sentence
    dangling: bool  # "Etelä-" in "Etelä- ja Pohjois-Savossa"


def tokenize(text: str) -> list[Token]:
    """Words (hyphenated compounds whole, dangling prefixes kept) and commas, with sentences."""
    tokens: list[Token] = []
    for sentence, chunk in enumerate(_SENTENCES.split(text.translate(_DASHES))):
        first = True
        for raw in _TOKEN.findall(chunk):
            if ":" in raw:
                raw = raw.split(":", 1)[0]
            comma = raw == ","
            tokens.append(Token(raw, raw.lower(), sentence, first and not comma, raw[-1] == "-"))
            first = first and comma
    return tokens
