"""The whole passage a changed line belongs to, for tagging.

A PDF's text comes out one printed line at a time: a slide's bullet that wraps is
several "paragraphs" ("Vahvimmin mukana Pohjois-Pohjanmaalla" / "ja
Etelä-Pohjanmaalla, keskiarvo 3,8" / "molemmilla"). An edit of the number is a
change of one of them, and the excerpt shown should stay that short, but what the
edit concerns is the whole bullet, both counties. A line continues the one before it
when that one does not end a sentence and it starts in lower case or with a digit.

Pure and string-only.
"""

from __future__ import annotations

from collections.abc import Sequence

MAX_LINES = 4  # lines joined each way: a bullet, not a page
_ENDS = tuple(".!?:;")


def continues(previous: str, line: str) -> bool:
    """Whether `line` is the rest of `previous`, cut by the page's line wrap."""
    first = line.lstrip()[:1]
    return (
        bool(first)
        and not previous.rstrip().endswith(_ENDS)
        and (first.islower() or first.isdigit())
    )


def passage(paragraphs: Sequence[str], index: int) -> str:
    """The paragraph at `index` with the wrapped lines before and after it, joined."""
    start = index
    while (
        start > 0
        and index - start < MAX_LINES
        and continues(paragraphs[start - 1], paragraphs[start])
    ):
        start -= 1
    end = index
    while (
        end + 1 < len(paragraphs)
        and end - index < MAX_LINES
        and continues(paragraphs[end], paragraphs[end + 1])
    ):
        end += 1
    return " ".join(paragraphs[start : end + 1])


def passage_of(paragraphs: Sequence[str], text: str, where: dict[str, int] | None = None) -> str:
    """The passage around the first paragraph equal to `text` ("" if there is none, or
    if it is the paragraph alone). `where` (see `positions`) saves a search per call."""
    index = (where if where is not None else positions(paragraphs)).get(text)
    return "" if index is None else wrapped_around(paragraphs, index)


def wrapped_around(paragraphs: Sequence[str], index: int) -> str:
    """The passage around the paragraph at `index`, or "" if it is the paragraph alone."""
    whole = passage(paragraphs, index)
    return whole if whole != paragraphs[index] else ""


def positions(paragraphs: Sequence[str]) -> dict[str, int]:
    """Each paragraph's first position."""
    where: dict[str, int] = {}
    for index, paragraph in enumerate(paragraphs):
        where.setdefault(paragraph, index)
    return where
