"""Which of a page's blocks are its main content: trafilatura decides, we keep our shape.

trafilatura is the field's reference main-content extractor; sotewatch still builds its
own Document (sections by heading, list items, table rows, contacts) from its own blocks,
and keeps each block whose words trafilatura kept. When what is kept is far less than
the page shows (`THIN_SHARE`), the page is read from all its visible blocks instead and
flagged "thin extraction", so a page the extractor misses is never watched in silence.
"""

from __future__ import annotations

import logging
import re
import warnings
from collections import Counter
from collections.abc import Sequence
from typing import NamedTuple
from urllib.parse import urlsplit

from sotewatch.pipeline.document.models import Link
from sotewatch.scrapers._html import Block
from sotewatch.scrapers._reading import TABLE_CELLS

# The extractor's content under a quarter of the visible text: it missed the page's point.
THIN_SHARE = 0.25
# Below this many visible characters a page is too small to call its extraction thin.
THIN_MIN_VISIBLE = 200
# Content of this many characters is a reading of its own, however much else the page
# shows (a blog post under a long comment thread, an article among long link lists).
THIN_MAX_HELD = 2000
# A fast reading under this share of the page's text asks trafilatura's second opinions.
SECOND_OPINION_SHARE = 0.5
_WORD = re.compile(r"\w+")
# Scripts written without spaces (Chinese, Japanese, Thai): each character counts as a
# word when a block's length is told in words (`_ANYWHERE_WORDS`).
_UNSPACED = re.compile("[\u0e00-\u0e7f\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_NON_WORD = re.compile(r"\W+")
# A block this long found anywhere in the content (not only after the previous match)
# is content: short ones ("Home", "Print") are kept only in reading order.
_ANYWHERE_WORDS = 5
# A long block whose word triples are mostly in the content is kept (the extractor may
# have trimmed an inline element from it).
_PARTIAL_WORDS = 10
_PARTIAL_SHARE = 0.5
# Content characters a found block may skip and still move the reading on (`_aligned`):
# this many per character of the block, at most MAX_SKIP. A short text found far ahead
# ("Next", a tab's label above its panel) is more likely a repeat than its place.
SKIP_PER_CHARACTER = 20
MAX_SKIP = 1000


_SENTENCE_ENDS = (".", "!", "?", "”", '"')
# This many lines in a row, each one link to the site's other pages, are a link list.
LINK_LIST_RUN = 3


class Selection(NamedTuple):
    """The blocks read as the page's content, and whether they are the thin fallback."""

    items: list[Block]
    thin: bool
    dropped: list[Block]
    held: int  # characters the extractor's content held (before any fallback)


def main_text(markup: str, fast: bool = True) -> str:
    """trafilatura's main text of a page ("" when it finds none); `fast` without its
    second opinions (readability and jusText), which cost it twice the time."""
    import trafilatura  # imported on the first HTML page: it brings its own parsers

    logging.getLogger("trafilatura").setLevel(logging.CRITICAL)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # its dependencies warn about their own internals
        found = trafilatura.extract(
            markup, fast=fast, include_comments=False, include_tables=True, deduplicate=False
        )
    return found or ""


def words(text: str) -> list[str]:
    return _WORD.findall(text.casefold())


def choose(items: Sequence[Block], markup: str, visible: int) -> Selection:
    """The blocks of `items` that are the page's main content.

    trafilatura reads the page fast; when what it keeps is under `SECOND_OPINION_SHARE`
    of the page, it reads it again with its second opinions (readability, jusText) and
    the longer reading wins; still thin, every visible block is kept, flagged thin."""
    selection = select(items, main_text(markup, fast=True), visible)
    if selection.held >= SECOND_OPINION_SHARE * visible:
        return selection
    second = select(items, main_text(markup, fast=False), visible)
    return second if second.held > selection.held else selection


def select(items: Sequence[Block], content: str, visible: int) -> Selection:
    """The blocks of `items` that `content` (the extractor's text) holds, in page order;
    all of them, flagged thin, when those are under `THIN_SHARE` of `visible`, the
    length of the page's text outside links (menus and link lists are not what it says),
    and short (`THIN_MAX_HELD`)."""
    kept = _with_title(items, _titling(items, _with_tables(items, _aligned(items, content))))
    held = sum(len(items[i].text) for i in kept)
    if visible >= THIN_MIN_VISIBLE and held < min(THIN_SHARE * visible, THIN_MAX_HELD):
        return Selection(list(items), True, [], held)
    chosen = set(kept)
    return Selection(
        [items[i] for i in sorted(chosen)],
        False,
        [item for i, item in enumerate(items) if i not in chosen],
        held,
    )


def _aligned(items: Sequence[Block], content: str) -> list[int]:
    """Indexes of the blocks found in `content`: a whole line of it, else in reading order
    after the previous block found, else (a long block) anywhere or mostly. A block found
    further ahead than its length allows (`SKIP_PER_CHARACTER`, `MAX_SKIP`) is kept but
    does not move the reading on: the page's name repeated at the content's end, or a
    tab's label repeated above its panel, must not hide the lines before it.

    Words are compared run together: extractors join list items and table cells with
    or without a space ("yksiListan"), and a block's words must be found in order."""
    folded = [_run_together(line) for line in content.casefold().splitlines()]
    stream = "".join(folded)
    lines = Counter(folded)
    triples: set[tuple[str, ...]] | None = None  # only a long block not found needs them
    cursor = 0
    kept: list[int] = []
    for index, item in enumerate(items):
        needle = _run_together(item.text.casefold())
        if not needle:
            continue
        at = stream.find(needle, cursor)
        if lines[needle] > 0:  # as often as the content has the line, anywhere
            lines[needle] -= 1
            at = at if at >= 0 else stream.find(needle)
        elif at < 0 and _length_in_words(own := words(item.text)) >= _ANYWHERE_WORDS:
            at = stream.find(needle)
            if at < 0 and len(own) >= _PARTIAL_WORDS:
                triples = triples if triples is not None else _triples(words(content))
                if _mostly_in(own, triples):  # kept, but no position to read on from
                    kept.append(index)
        if at >= 0:
            kept.append(index)
            if at - cursor <= min(MAX_SKIP, SKIP_PER_CHARACTER * len(needle)):
                cursor = max(cursor, at + len(needle))
    return kept


def _length_in_words(own: list[str]) -> int:
    """How many words `own` holds, a character of an unspaced script one word."""
    return sum(max(1, len(_UNSPACED.findall(word))) for word in own)


def _run_together(text: str) -> str:
    """The words of `text` with nothing between them."""
    return _NON_WORD.sub("", text)


def _triples(tokens: list[str]) -> set[tuple[str, ...]]:
    return set(zip(tokens, tokens[1:], tokens[2:], strict=False))


def internal_link_texts(links: Sequence[Link], page_url: str) -> set[str]:
    """The texts of the page's links to other pages of its own site."""
    host = urlsplit(page_url).netloc
    return {
        link.text
        for link in links
        if link.text and link.kind == "page" and urlsplit(link.url).netloc == host
    }


def without_link_lists(items: list[Block], inner: set[str]) -> list[Block]:
    """The blocks without runs of `LINK_LIST_RUN` or more lines that are each one link to
    another page of the site: the latest news, related articles, a tag cloud. A list of
    links elsewhere (sources, bugs, laws) is what the page says, and stays."""
    out: list[Block] = []
    run: list[Block] = []
    for item in [*items, Block(0, "")]:
        if not item.level and item.text in inner:
            run.append(item)
            continue
        if len(run) < LINK_LIST_RUN:
            out.extend(run)
        run = []
        if item.text:
            out.append(item)
    return out


def _with_tables(items: Sequence[Block], kept: list[int]) -> list[int]:
    """With the table rows between two kept blocks: extractors often leave a data table
    out of the passage around it (a list of sub-processors, of contacts per county).
    A table has two rows or more: one line with a pipe in it is a caption or a byline
    ("Kuva: Timur | flickr", "Freitag | 14. Juni 2019 | 15:49")."""
    out: list[int] = []
    for index in kept:
        if out and index - out[-1] > 1:
            gap = range(out[-1] + 1, index)
            rows = sum(TABLE_CELLS in items[i].text for i in gap)
            if rows >= 2 and rows > len(gap) / 2:  # a caption, a row of one cell: still a table
                out.extend(gap)
        out.append(index)
    return out


def _titling(items: Sequence[Block], kept: list[int]) -> list[int]:
    """Without the headings that title nothing kept: a heading whose every block up to
    the next heading of its level or above was left out titled chrome (a box of the
    latest news, a sidebar widget), whatever the extractor kept of it. A heading that
    is a sentence is prose set large (a standfirst, a pull quote), and stays."""
    chosen = set(kept)
    out: list[int] = []
    for index in kept:
        level, text = items[index]
        prose = text.endswith(_SENTENCE_ENDS)
        if level and not prose and not _titles_something(items, index, level, chosen):
            continue
        out.append(index)
    return out


def _titles_something(items: Sequence[Block], index: int, level: int, kept: set[int]) -> bool:
    for below in range(index + 1, len(items)):
        if items[below].level and items[below].level <= level:
            return False
        if not items[below].level and below in kept:
            return True
    return False


def _mostly_in(own: list[str], triples: set[tuple[str, ...]]) -> bool:
    mine = list(zip(own, own[1:], own[2:], strict=False))
    return sum(triple in triples for triple in mine) >= _PARTIAL_SHARE * len(mine)


def _with_title(items: Sequence[Block], kept: list[int]) -> list[int]:
    """The page's first h1 stays: sections hang under it, whatever the extractor thought
    of it (most drop it as the title, which is metadata to them)."""
    first = next((i for i, item in enumerate(items) if item.level == 1), None)
    if first is None or first in kept:
        return kept
    return sorted([first, *kept])
