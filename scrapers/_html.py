"""HTML to Document parts: drop chrome, find the main content, read it in order.

The steps, in the order `extract` runs them:
1. decode the bytes (the HTTP charset, else what the page declares, else sniffed);
2. drop chrome by selector (navigation, banners, cookie and share widgets, forms,
   counters, related-links boxes, plus the source's own `exclude` selectors);
3. pick the main content: the source's `include` selectors, else <main> /
   [role=main] / a lone <article>, else the block with the most paragraph text;
4. read it as a flat list of headings and paragraphs (every list item, table row,
   <br>-separated line its own paragraph), dropping chrome lines by their words;
5. group paragraphs into Sections by heading path (h1..h4).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import NamedTuple
from urllib.parse import urljoin, urlsplit, urlunsplit

from lxml import etree

from sotewatch.pipeline.document.models import Link, Section
from sotewatch.scrapers import _tree
from sotewatch.scrapers._select import select_all
from sotewatch.scrapers._text import RELATED_HEADING, clean, clean_lines, is_chrome_line
from sotewatch.scrapers._tree import (
    Element,
    drop,
    first,
    first_below,
    is_element,
    length_bound,
    strings,
    text,
)

# The <meta> elements any reader reads: a title, and the publication dates of
# scrapers/generic.py (Open Graph, Dublin Core).
PUBLISHED_META = (("property", "article:published_time"), ("name", "dcterms.date"))
READ_META = (("property", "og:title"), *PUBLISHED_META)
CHROME_TAGS = [
    "script",
    "style",
    "noscript",
    "template",
    "iframe",
    "object",
    "embed",
    "svg",
    "canvas",
    "form",
    "button",
    "input",
    "select",
    "textarea",
    "nav",
    "aside",
    "dialog",
]
# Chrome recognised by attributes, matched in one pass over the tree (a CSS selector
# per pattern made 48 passes and was most of the parsing time). Each entry reads as the
# CSS it replaces: [role=navigation], [class*=cookie i], [id^=cookie i], ...
CHROME_ROLES = frozenset(
    ["navigation", "banner", "contentinfo", "search", "complementary", "dialog", "alertdialog"]
)
CHROME_CLASS_PARTS = (
    "cookie", "consent", "gdpr", "breadcrumb", "murupolku", "share", "sharing", "social",
    "addthis", "skip-link", "skiplink", "sr-only", "visually-hidden", "screen-reader",
    "counter", "visitor", "hitcount", "related", "see-also", "lang-select", "language-select",
    "language-switch", "kielivalinta", "last-modified", "updated", "paivitetty", "pagination",
    "pager", "feedback", "tags", "keywords", "asiasanat",
)  # fmt: skip
CHROME_CLASSES = frozenset(["some"])  # whole class names: .some
CHROME_ID_PARTS = ("consent", "breadcrumb", "counter")
CHROME_ID_PREFIXES = ("cookie",)
CHROME_LABEL_PARTS = ("breadcrumb", "murupolku")
_CLASS_PART = re.compile("|".join(map(re.escape, CHROME_CLASS_PARTS)))
_ID_PART = re.compile("|".join(map(re.escape, CHROME_ID_PARTS)))
_LABEL_PART = re.compile("|".join(map(re.escape, CHROME_LABEL_PARTS)))
_PROTECTED = {"html", "body", "main", "article"}
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
TEXT_HOLDERS = ("p", "li", "td", "pre", "blockquote", "dd", "h2", "h3", "h4")
_BLOCKISH = tuple(BLOCKS | set(HEADINGS))
_TITLE_SUFFIX = re.compile(r"\s+[|–—-]\s+[^|–—-]+$")


class Block(NamedTuple):
    """One heading (level 1-4) or paragraph (level 0) in reading order. (Immutable as a
    frozen dataclass, and cheaper to make: every line of every page becomes one.)"""

    level: int
    text: str


def parse(content: bytes, text: str, content_type: str) -> Element:
    """The page's tree; decoding is deterministic for the same bytes."""
    return _tree.parse(content, text, _charset(content_type))


def strip_chrome(
    root: Element, exclude: tuple[str, ...] = (), report: Report | None = None
) -> None:
    """Remove site furniture in place; the source's `exclude` selectors go too.
    `report(rule, element)` hears of each element before it goes (`sotewatch preview`).

    Comments stay: every reader below skips them, as it skipped bs4's Comments."""
    tell = report or _silent
    for element in list(root.iter(*CHROME_TAGS)):
        if element.tag == "aside" and first_below(element, "main", "h1", "article") is not None:
            continue  # an unclosed <aside> swallowed the article that follows it
        tell(f"<{element.tag}>", element)
        drop(element)
    for element in list(root.iter("meta", "link")):
        if not _read_metadata(element):
            drop(element)
    for element in list(root.iter("header", "footer")):
        if not _inside_content(element) and first_below(element, "h1") is None:
            tell(f"<{element.tag}> outside the content", element)
            drop(element)
    _drop_related_boxes(root, tell)
    # iter(etree.Element): elements only, comments and the like left out in C
    chrome = [(e, r) for e in root.iter(etree.Element) if e.attrib and (r := _is_chrome(e))]
    chrome = [(e, r) for e, r in chrome if not _holds_prose(e, r)]
    for selector, found in zip(exclude, select_all(root, exclude), strict=True):
        chrome.extend((element, f"exclude {selector!r}") for element in found)
    for element, rule in chrome:
        if element.tag in _PROTECTED or first_below(element, "main", "h1", "article") is not None:
            continue
        tell(rule, element)
        drop(element)


Report = Callable[[str, Element], None]
# Furniture is short or made of links: an element named like furniture ("sharing",
# "related", "tags") that holds this much text outside links is where the content is
# (a theme's "documentContent__sharingContainer"). Banners and hidden text go anyway.
PROSE_CHARS = 1000
_ALWAYS_CHROME = ("hidden", "class *cookie*", "class *consent*", "class *gdpr*")


def _holds_prose(element: Element, rule: str) -> bool:
    if rule in _ALWAYS_CHROME or rule.startswith(("id cookie", "role=")):
        return False
    return len(text(element, " ", strip=True)) - link_text(element) >= PROSE_CHARS


def _is_prose(element: Element) -> bool:
    """A paragraph of text, not of links: a sentence or more, under a third of it links."""
    length = len(text(element, " ", strip=True))
    return element.tag == "p" and length >= 80 and link_text(element) < length / 3


def _silent(rule: str, element: Element) -> None:
    """No one listens: a run strips chrome without saying why."""


def _read_metadata(element: Element) -> bool:
    """Whether a <meta> or <link> is one a reader reads (`READ_META`, feeds' links).

    No other has text, nor says anything a Document holds; dropped, a generator's
    version, a form token or a stylesheet's cache-busting address cannot make a rebuilt
    page read as new (scrapers/base.py, `Reading`)."""
    if element.tag == "link":
        return _is_alternate(element)
    return any(element.get(attribute) == value for attribute, value in READ_META)


def _is_alternate(link: Element) -> bool:
    """A <link rel="alternate">: where `links` finds a page's feeds."""
    return "alternate" in link.get("rel", "").split()


def _is_chrome(element: Element) -> str:
    """Which attribute marks an element as site furniture (see CHROME_*), or ""."""
    attrs = element.attrib
    if not attrs:
        return ""
    if "hidden" in attrs or attrs.get("aria-hidden", "").lower() == "true":
        return "hidden"
    role = attrs.get("role", "").lower()
    if role in CHROME_ROLES:
        return f"role={role}"
    names = attrs.get("class", "").split()
    if names and CHROME_CLASSES.intersection(names):
        return f"class {' '.join(sorted(CHROME_CLASSES.intersection(names)))}"
    if names and (part := _CLASS_PART.search(" ".join(names).lower())):
        return f"class *{part.group(0)}*"
    ident = attrs.get("id", "").lower()
    if ident and (ident.startswith(CHROME_ID_PREFIXES) or _ID_PART.search(ident)):
        return f"id {ident}"
    label = attrs.get("aria-label", "").lower()
    return f"aria-label {label}" if label and _LABEL_PART.search(label) else ""


def _drop_related_boxes(root: Element, tell: Report = _silent) -> None:
    """A "Katso myös" heading takes its box with it: the box if it opens one, else what
    follows it up to the next heading of the same or a higher level.

    (A heading already dropped with an earlier box is read again, harmlessly: what it
    removes is no longer part of the page.)"""
    for heading in list(root.iter("h2", "h3", "h4", "h5", "h6")):
        if not RELATED_HEADING.match(clean(text(heading, " "))):
            continue
        box = heading.getparent()
        if (
            box is not None
            and box.tag not in _PROTECTED
            and _opening(box) is heading
            and not _holds_prose(box, "related-links box")
        ):
            tell("related-links box", box)
            drop(box)
            continue
        level = HEADINGS[heading.tag]
        for sibling in list(heading.itersiblings()):
            if not is_element(sibling):
                continue
            if sibling.tag in HEADINGS and HEADINGS[sibling.tag] <= level:
                break
            if _is_prose(sibling):
                break  # the article goes on: the links box ended above
            tell("related-links box", sibling)
            drop(sibling)
        tell("related-links box", heading)
        drop(heading)


def _opening(box: Element) -> Element | None:
    """The first heading or element with text inside `box`."""
    for element in box.iterdescendants():
        if is_element(element) and (element.tag in HEADINGS or clean(text(element, " "))):
            return element
    return None


def find_main(root: Element, include: tuple[str, ...] = ()) -> Element:
    """The element that holds the page's own content."""
    for found in select_all(root, include):
        if found:
            return found[0]
    body = first(root, "body")
    body = root if body is None else body
    main = first(root, "main")
    if main is None:
        main = next((e for e in root.iter() if is_element(e) and e.get("role") == "main"), None)
    if main is None:
        articles = list(root.iter("article"))
        main = articles[0] if len(articles) == 1 else None
    if main is not None:
        inner = len(text(main, " ", strip=True))
        # the bound of the whole page's text settles most pages without reading it
        if inner >= 0.2 * length_bound(body) or inner >= 0.2 * len(text(body, " ", strip=True)):
            return main
    return densest_block(body)


def densest_block(body: Element) -> Element:
    """The container with the most paragraph text, readability-style: each text
    holder credits its parent fully and its grandparent half."""
    scores: dict[Element, float] = {}
    for holder in body.iterdescendants(*TEXT_HOLDERS):
        length = len(text(holder, " ", strip=True)) - link_text(holder) * 0.5
        for weight, ancestor in zip((1.0, 0.5), holder.iterancestors(), strict=False):
            scores[ancestor] = scores.get(ancestor, 0.0) + length * weight
    if not scores:
        return body
    best = max(scores, key=lambda key: scores[key])
    parent = best.getparent()
    if parent is not None and parent is not body.getparent():
        siblings = [scores.get(c, 0.0) for c in parent.iterchildren() if is_element(c)]
        if sum(s > 0.3 * scores[best] for s in siblings) >= 2:
            return parent
    return best


def page_title(root: Element, main: Element) -> tuple[str, bool]:
    """(title, whether it is an h1 outside `main`, which sections should still hang under)."""
    inner = first_below(main, "h1")
    if inner is not None and clean(text(inner, " ")):
        return clean(text(inner, " ")), False
    outer = first(root, "h1")
    if outer is not None and clean(text(outer, " ")):
        return clean(text(outer, " ")), True
    title = first(root, "title")
    if title is not None and clean(text(title, " ")):
        return _TITLE_SUFFIX.sub("", clean(text(title, " "))), False
    meta = next((m for m in root.iter("meta") if m.get("property") == "og:title"), None)
    if meta is not None:
        return clean(meta.get("content", "")), False
    return "", False


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


def links(main: Element, root: Element, page_url: str) -> tuple[Link, ...]:
    """Every distinct link in `main`, absolute; PDFs are attachments, RSS/Atom are feeds."""
    base = page_url
    base_tag = next((b for b in root.iter("base") if b.get("href") is not None), None)
    if base_tag is not None:
        base = urljoin(page_url, base_tag.get("href", ""))
    found: dict[str, Link] = {}
    for anchor in main.iterdescendants("a"):
        href = anchor.get("href")
        url = absolute(base, href) if href is not None else ""
        if url and url not in found:
            kind = "attachment" if is_attachment(url, anchor.get("type", "")) else "page"
            found[url] = Link(url=url, text=clean(text(anchor, " ")), kind=kind)
    for feed in root.iter("link"):
        href = feed.get("href")
        if href is None or not _is_alternate(feed):
            continue
        if re.search(r"rss|atom", feed.get("type", "")):
            url = absolute(base, href)
            if url and url not in found:
                found[url] = Link(url=url, text=clean(feed.get("title", "")), kind="feed")
    return tuple(found.values())


def absolute(base: str, href: str) -> str:
    """An absolute http(s) URL without fragment, or "" for mailto:, javascript:, #top..."""
    href = href.strip()
    if not href or href.startswith("#"):
        return ""
    try:
        parts = urlsplit(urljoin(base, href))
    except ValueError:
        return ""
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return ""
    return urlunsplit((parts.scheme, parts.netloc, parts.path or "/", parts.query, ""))


def is_attachment(url: str, mime: str = "") -> bool:
    return urlsplit(url).path.lower().endswith(".pdf") or "pdf" in mime.lower()


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
        buffer.append("\n")
    elif name in HEADINGS:
        _flush(buffer, out)
        out.append(_Line(HEADINGS[name], text(child, " ")))
    elif name == "tr" and first_below(child, "table", "ul", "ol", "p") is None:
        _flush(buffer, out)
        cells = [clean(text(cell, " ")) for cell in child.iterchildren("td", "th")]
        out.append(_Line(0, " | ".join(c for c in cells if c), clean=True))
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
    for line in "".join(buffer).split("\n"):
        if line and not line.isspace():
            out.append(_Line(0, line))
    buffer.clear()


def _inline_text(element: Element) -> str:
    """Every string below `element` (ruby text too), a <br> as a line break."""
    if first_below(element, "br") is None:
        return "".join(element.itertext())
    return "".join(string for _, string in strings(element, br="\n"))


def _inside_content(element: Element) -> bool:
    return any(
        parent.tag in ("main", "article") or parent.get("role") == "main"
        for parent in element.iterancestors()
    )


def link_text(element: Element) -> int:
    """The length of the text of the links below `element`."""
    return sum(len(text(a, " ", strip=True)) for a in element.iterdescendants("a"))


def _charset(content_type: str) -> str | None:
    match = re.search(r"charset=[\"']?([\w.:-]+)", content_type or "", re.IGNORECASE)
    return match.group(1) if match else None
