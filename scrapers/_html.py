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
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit, urlunsplit

from bs4 import BeautifulSoup, Comment, NavigableString, Tag
from bs4.element import CData, Declaration, Doctype, ProcessingInstruction

from pipeline.models import Link, Section
from scrapers._text import RELATED_HEADING, clean, is_chrome_line

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
_SKIP_STRINGS = (Comment, Doctype, CData, ProcessingInstruction, Declaration)
_TITLE_SUFFIX = re.compile(r"\s+[|–—-]\s+[^|–—-]+$")


@dataclass(frozen=True)
class Block:
    """One heading (level 1-4) or paragraph (level 0) in reading order."""

    level: int
    text: str


def parse(content: bytes, text: str, content_type: str) -> BeautifulSoup:
    """A soup of the response; decoding is deterministic for the same bytes."""
    charset = _charset(content_type)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # bs4 warns on odd input; odd input is our daily bread
        if content:
            try:
                return BeautifulSoup(content, "lxml", from_encoding=charset)
            except (LookupError, ValueError):
                return BeautifulSoup(content, "lxml")
        return BeautifulSoup(text, "lxml")


def strip_chrome(soup: BeautifulSoup, exclude: tuple[str, ...] = ()) -> None:
    """Remove site furniture in place; the source's `exclude` selectors go too."""
    for comment in soup.find_all(string=lambda s: isinstance(s, Comment)):
        comment.extract()
    for tag in soup.find_all(CHROME_TAGS):
        if not tag.decomposed:
            tag.decompose()
    for tag in soup.find_all(["header", "footer"]):
        if not tag.decomposed and not _inside_content(tag) and not tag.find("h1"):
            tag.decompose()
    _drop_related_boxes(soup)
    chrome = [tag for tag in soup.find_all(True) if _is_chrome(tag)]
    for selector in exclude:
        chrome.extend(_select(soup, selector))
    for tag in chrome:
        if tag.decomposed or tag.name in _PROTECTED or tag.find(["main", "h1", "article"]):
            continue
        tag.decompose()


def _is_chrome(tag: Tag) -> bool:
    """Whether an element's attributes mark it as site furniture (see CHROME_*)."""
    attrs = tag.attrs
    if not attrs:
        return False
    if "hidden" in attrs or str(attrs.get("aria-hidden", "")).lower() == "true":
        return True
    if str(attrs.get("role", "")).lower() in CHROME_ROLES:
        return True
    classes = attrs.get("class")
    if classes:
        names = classes if isinstance(classes, list) else str(classes).split()
        if CHROME_CLASSES.intersection(names) or _CLASS_PART.search(" ".join(names).lower()):
            return True
    ident = str(attrs.get("id", "")).lower()
    if ident and (ident.startswith(CHROME_ID_PREFIXES) or _ID_PART.search(ident)):
        return True
    label = str(attrs.get("aria-label", "")).lower()
    return bool(label and _LABEL_PART.search(label))


def _drop_related_boxes(soup: BeautifulSoup) -> None:
    """A "Katso myös" heading takes its box with it: the box if it opens one, else what
    follows it up to the next heading of the same or a higher level."""
    for heading in soup.find_all(["h2", "h3", "h4", "h5", "h6"]):
        if heading.decomposed or not RELATED_HEADING.match(clean(heading.get_text(" "))):
            continue
        box = heading.parent
        first = box.find(lambda t: t.name in HEADINGS or clean(t.get_text(" "))) if box else None
        if isinstance(box, Tag) and box.name not in _PROTECTED and first is heading:
            box.decompose()
            continue
        level = HEADINGS[heading.name]
        for sibling in list(heading.find_next_siblings()):
            if sibling.name in HEADINGS and HEADINGS[sibling.name] <= level:
                break
            sibling.decompose()
        heading.decompose()


def find_main(soup: BeautifulSoup, include: tuple[str, ...] = ()) -> Tag:
    """The element that holds the page's own content."""
    for selector in include:
        found = _select(soup, selector)
        if found:
            return found[0]
    body = soup.body or soup
    main = soup.find("main") or _first(soup, "[role=main]")
    if main is None:
        articles = soup.find_all("article")
        main = articles[0] if len(articles) == 1 else None
    total = len(body.get_text(" ", strip=True))
    if isinstance(main, Tag) and len(main.get_text(" ", strip=True)) >= 0.2 * total:
        return main
    return densest_block(body)


def densest_block(body: Tag) -> Tag:
    """The container with the most paragraph text, readability-style: each text
    holder credits its parent fully and its grandparent half."""
    scores: dict[int, float] = {}
    tags: dict[int, Tag] = {}
    for holder in body.find_all(["p", "li", "td", "pre", "blockquote", "dd", "h2", "h3", "h4"]):
        length = len(holder.get_text(" ", strip=True)) - _link_text(holder) * 0.5
        for weight, ancestor in zip((1.0, 0.5), _ancestors(holder), strict=False):
            scores[id(ancestor)] = scores.get(id(ancestor), 0.0) + length * weight
            tags[id(ancestor)] = ancestor
    if not scores:
        return body
    best = tags[max(scores, key=lambda key: scores[key])]
    parent = best.parent
    if isinstance(parent, Tag) and parent is not body.parent:
        siblings = [scores.get(id(c), 0.0) for c in parent.find_all(recursive=False)]
        if sum(s > 0.3 * scores[id(best)] for s in siblings) >= 2:
            return parent
    return best


def page_title(soup: BeautifulSoup, main: Tag) -> tuple[str, bool]:
    """(title, whether it is an h1 outside `main`, which sections should still hang under)."""
    inner = main.find("h1")
    if inner is not None and clean(inner.get_text(" ")):
        return clean(inner.get_text(" ")), False
    outer = soup.find("h1")
    if outer is not None and clean(outer.get_text(" ")):
        return clean(outer.get_text(" ")), True
    meta = _first(soup, "meta[property='og:title']")
    if soup.title is not None and clean(soup.title.get_text(" ")):
        return _TITLE_SUFFIX.sub("", clean(soup.title.get_text(" "))), False
    if meta is not None:
        return clean(str(meta.get("content", ""))), False
    return "", False


def blocks(main: Tag) -> list[Block]:
    """Headings and paragraphs of `main` in reading order."""
    out: list[Block] = []
    _walk(main, out)
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


def links(root: Tag, soup: BeautifulSoup, page_url: str) -> tuple[Link, ...]:
    """Every distinct link in `root`, absolute; PDFs are attachments, RSS/Atom are feeds."""
    base = page_url
    base_tag = soup.find("base", href=True)
    if isinstance(base_tag, Tag):
        base = urljoin(page_url, str(base_tag["href"]))
    found: dict[str, Link] = {}
    for anchor in root.find_all("a", href=True):
        url = absolute(base, str(anchor["href"]))
        if url and url not in found:
            kind = "attachment" if is_attachment(url, str(anchor.get("type", ""))) else "page"
            found[url] = Link(url=url, text=clean(anchor.get_text(" ")), kind=kind)
    for feed in soup.find_all("link", rel="alternate", href=True):
        if re.search(r"rss|atom", str(feed.get("type", ""))):
            url = absolute(base, str(feed["href"]))
            if url and url not in found:
                found[url] = Link(url=url, text=clean(str(feed.get("title", ""))), kind="feed")
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


def _walk(element: Tag, out: list[Block], buffer: list[str] | None = None) -> None:
    """Read `element`'s children; inline text gathers in `buffer` until a block ends it."""
    own = buffer is None
    buffer = [] if buffer is None else buffer
    for child in element.children:
        if isinstance(child, _SKIP_STRINGS):
            continue
        if isinstance(child, NavigableString):
            buffer.append(str(child))
        elif isinstance(child, Tag):
            _visit(child, buffer, out)
    if own:
        _flush(buffer, out)


def _visit(child: Tag, buffer: list[str], out: list[Block]) -> None:
    name = child.name
    if name == "br":
        buffer.append("\n")
    elif name in HEADINGS:
        _flush(buffer, out)
        text = clean(child.get_text(" "))
        if text:
            out.append(Block(HEADINGS[name], text))
    elif name == "tr" and not child.find(["table", "ul", "ol", "p"]):
        _flush(buffer, out)
        cells = [clean(c.get_text(" ")) for c in child.find_all(["td", "th"], recursive=False)]
        row = " | ".join(c for c in cells if c)
        if row:
            out.append(Block(0, row))
    elif name in BLOCKS:
        _flush(buffer, out)
        _walk(child, out)
    elif _has_block(child):  # an unclosed <b> or <a> around blocks: read through it
        _walk(child, out, buffer)
    else:
        buffer.append(_inline_text(child))


def _flush(buffer: list[str], out: list[Block]) -> None:
    for line in "".join(buffer).split("\n"):
        text = clean(line)
        if text:
            out.append(Block(0, text))
    buffer.clear()


def _inline_text(tag: Tag) -> str:
    parts = []
    for node in tag.descendants:
        if isinstance(node, Tag) and node.name == "br":
            parts.append("\n")
        elif isinstance(node, NavigableString) and not isinstance(node, _SKIP_STRINGS):
            parts.append(str(node))
    return "".join(parts)


def _has_block(tag: Tag) -> bool:
    return tag.find(lambda t: t.name in BLOCKS or t.name in HEADINGS) is not None


def _inside_content(tag: Tag) -> bool:
    return any(
        parent.name in ("main", "article") or parent.get("role") == "main"
        for parent in tag.parents
        if isinstance(parent, Tag)
    )


def _ancestors(tag: Tag) -> Iterator[Tag]:
    parent = tag.parent
    while isinstance(parent, Tag):
        yield parent
        parent = parent.parent


def _link_text(tag: Tag) -> int:
    return sum(len(a.get_text(" ", strip=True)) for a in tag.find_all("a"))


def _select(soup: BeautifulSoup, selector: str) -> list[Tag]:
    try:
        return list(soup.select(selector))
    except Exception:  # soupsieve raises its own error types for a bad selector
        return []


def _first(soup: BeautifulSoup, selector: str) -> Tag | None:
    found = _select(soup, selector)
    return found[0] if found else None


def _charset(content_type: str) -> str | None:
    match = re.search(r"charset=[\"']?([\w.:-]+)", content_type or "", re.IGNORECASE)
    return match.group(1) if match else None
