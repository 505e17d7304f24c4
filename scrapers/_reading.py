"""Reading the main content: headings and paragraphs in order, grouped into Sections.

Every list item, table row and <br>-separated line is its own paragraph; chrome lines
(by their words) and "Katso myös" boxes are left out when the Sections are grouped.
"""

from __future__ import annotations

from typing import NamedTuple

from sotewatch.pipeline.document.models import Section
from sotewatch.scrapers._text import RELATED_HEADING, clean, clean_lines, is_chrome_line
from sotewatch.scrapers._tree import Element, first_below, is_element, strings, text

HEADINGS = {"h1": 1, "h2": 2, "h3": 3, "h4": 4, "h5": 4, "h6": 4, "summary": 3}
BLOCKS = set(
    [
        "address",
        "article",
        "aside",
        "blockquote",
        "body",
        "caption",
        "center",
        "dd",
        "details",
        "dialog",
        "dir",
        "div",
        "dl",
        "dt",
        "fieldset",
        "figcaption",
        "figure",
        "footer",
        "form",
        "header",
        "hr",
        "legend",
        "li",
        "main",
        "menu",
        "nav",
        "ol",
        "p",
        "pre",
        "section",
        "table",
        "tbody",
        "td",
        "tfoot",
        "th",
        "thead",
        "tr",
        "ul",
    ]
)
_BLOCKISH = tuple(BLOCKS | set(HEADINGS))
TABLE_CELLS = " | "  # between a table row's cells, in one paragraph
# A <br> in gathered text: a line break. A newline of the page's source is a space, as a
# browser shows it (but in <pre>, where it is a line break too).
_BREAK = "\x0b"


class Block(NamedTuple):
    """One heading (level 1-4) or paragraph (level 0) in reading order. (Immutable as a
    frozen dataclass, and cheaper to make: every line of every page becomes one.)"""

    level: int
    text: str


def blocks(main: Element) -> list[Block]:
    """Headings and paragraphs of `main` in reading order.

    The walk gathers raw lines; they are cleaned together at the end, which for the
    common page (Latin-1 text, already tidy) is one scan of them all (`clean_lines`)."""
    found: list[_Line] = []
    _walk(main, found)
    cleaned = iter(clean_lines([line.text for line in found if not line.clean]))
    out = []
    for line in found:
        text = line.text if line.clean else next(cleaned)
        if text:
            out.append(Block(line.level, text))
    return out


def sections(items: list[Block]) -> tuple[Section, ...]:
    """Group paragraphs by heading path, dropping chrome lines and related-links boxes."""
    built: list[tuple[tuple[str, ...], list[str]]] = [((), [])]
    stack: list[tuple[int, str]] = []
    skip_below: int | None = None
    for item in items:
        if item.level:
            if skip_below is not None and item.level > skip_below:
                continue
            skip_below = None
            while stack and stack[-1][0] >= item.level:
                stack.pop()
            if RELATED_HEADING.match(item.text):
                skip_below = item.level
                continue
            stack.append((item.level, item.text))
            built.append((tuple(text for _, text in stack), []))
        elif skip_below is None and not is_chrome_line(item.text):
            built[-1][1].append(item.text)
    result = []
    for index, (path, paragraphs) in enumerate(built):
        following = built[index + 1][0] if index + 1 < len(built) else None
        is_parent = following is not None and following[: len(path)] == path
        if paragraphs or (path and not is_parent):
            result.append(Section(path, tuple(paragraphs)))
    return tuple(result)


class _Line(NamedTuple):
    """A heading or paragraph line as found; `clean` once it went through clean().
    (A tuple: one is made per line of every page, and a frozen dataclass costs more.)"""

    level: int
    text: str
    clean: bool = False


def _walk(element: Element, out: list[_Line], buffer: list[str] | None = None) -> None:
    """Read `element`'s children; inline text gathers in `buffer` until a block ends it."""
    own = buffer is None
    buffer = [] if buffer is None else buffer
    if element.text:
        buffer.append(element.text)
    for child in element:
        if is_element(child):
            _visit(child, buffer, out)
        if child.tail:
            buffer.append(child.tail)
    if own:
        _flush(buffer, out)


def _visit(child: Element, buffer: list[str], out: list[_Line]) -> None:
    name = child.tag
    if name == "br":
        buffer.append(_BREAK)
    elif name in HEADINGS:
        _flush(buffer, out)
        out.append(_Line(HEADINGS[name], text(child, " ")))
    elif name == "tr" and first_below(child, "table", "ul", "ol", "p") is None:
        _flush(buffer, out)
        cells = [clean(text(cell, " ")) for cell in child.iterchildren("td", "th")]
        out.append(_Line(0, TABLE_CELLS.join(c for c in cells if c), clean=True))
    elif name == "pre":
        _flush(buffer, out)
        _flush([_inline_text(child).replace("\n", _BREAK)], out)
    elif name in BLOCKS:
        _flush(buffer, out)
        if len(child):
            _walk(child, out)
        elif child.text:  # a childless block (most paragraphs): its text alone
            _flush([child.text], out)
    elif first_below(child, *_BLOCKISH) is not None:  # an unclosed <b> or <a> around blocks
        _walk(child, out, buffer)
    else:
        buffer.append(_inline_text(child))


def _flush(buffer: list[str], out: list[_Line]) -> None:
    """The gathered text as lines; a blank one would clean to nothing, so it is left out."""
    if not buffer:  # every block boundary flushes; most find nothing gathered
        return
    for line in "".join(buffer).split(_BREAK):
        if line and not line.isspace():
            out.append(_Line(0, line.replace("\n", " ")))
    buffer.clear()


def _inline_text(element: Element) -> str:
    """Every string below `element` (ruby text too), a <br> as a line break."""
    if first_below(element, "br") is None:
        return "".join(element.itertext())
    return "".join(string for _, string in strings(element, br=_BREAK))
