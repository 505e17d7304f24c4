"""Whole-text tests in one C pass, for the checks that let most text skip a regex.

Python's `re` reads a character class at several nanoseconds a character; `in` on a
str or bytes (memchr and friends) reads a gigabyte a second. Most pages we watch are
Latin-1 text (Finnish and Swedish letters included), and for those two facts make
the fast tests exact: the only digits are 0-9, and each letter lowers to one Latin-1
letter, so lowering is a byte translation. Anything else takes the slow, general path.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Sequence
from functools import lru_cache
from itertools import accumulate

_DIGIT = re.compile(r"\d")
# str.lower() of a Latin-1 text, byte for byte
_LATIN1_LOWER = bytes(ord(chr(code).lower()) for code in range(256))


def latin1_lowered(text: str) -> bytes | None:
    """`text.lower()` encoded as Latin-1, or None when `text` is not Latin-1 (a str of
    Latin-1 characters encodes as a plain copy; the translation is one pass)."""
    try:
        return text.encode("latin-1").translate(_LATIN1_LOWER)
    except UnicodeEncodeError:
        return None


def contains_lowered(text: str, words: tuple[str, ...]) -> bool:
    """Whether any of the lower-case `words` occurs in `text.lower()`."""
    lowered = latin1_lowered(text)
    if lowered is None:
        low = text.lower()
        return any(word in low for word in words)
    return any(word in lowered for word in _latin1_words(words))


@lru_cache(maxsize=64)
def _latin1_words(words: tuple[str, ...]) -> tuple[bytes, ...]:
    """The words as Latin-1 bytes; a word beyond Latin-1 is in no Latin-1 text."""
    return tuple(w.encode("latin-1") for w in words if all(ord(c) < 256 for c in w))


DIGITS = "0123456789"  # in Latin-1 text, all that the regex \\d finds


def is_latin1(text: str) -> bool:
    try:
        text.encode("latin-1")  # a plain copy when it succeeds
    except UnicodeEncodeError:
        return False
    return True


def has_digit(text: str) -> bool:
    """Whether the regex \\d finds a digit in `text`."""
    if not is_latin1(text):
        return _DIGIT.search(text) is not None
    return any(digit in text for digit in DIGITS)


def holding(texts: Sequence[str], needles: Sequence[str]) -> list[bool]:
    """For each text, whether any of `needles` (none with a newline) occurs in it: one
    find per needle and hit over the texts joined, jumping to the next text at a hit,
    instead of a scan per text and needle."""
    joined = "\n".join(texts)  # a newline in no needle: every hit lies in one text
    starts = list(accumulate((len(text) + 1 for text in texts[:-1]), initial=0))
    hits = [False] * len(texts)
    for needle in needles:
        at = joined.find(needle)
        while at != -1:
            index = bisect_right(starts, at) - 1
            hits[index] = True
            at = joined.find(needle, starts[index + 1]) if index + 1 < len(texts) else -1
    return hits
