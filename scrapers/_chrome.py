"""Chrome: site furniture dropped from the tree before the main content is looked for.

By tag (navigation, forms, scripts), by attribute in one pass (hidden, display:none,
roles, class and id parts: cookie, share, breadcrumb, counter, related ...), by a
"Katso myös" heading and the box it opens, plus the source's own `exclude` selectors.
Unread <meta>/<link> go too.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from lxml import etree

from sotewatch.scrapers._reading import HEADINGS
from sotewatch.scrapers._select import select_all
from sotewatch.scrapers._text import RELATED_HEADING, clean
from sotewatch.scrapers._tree import Element, drop, first_below, is_element, text

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
# An inline style that hides the element: a browser shows none of its text (a formula's
# MathML beside its image, a tooltip), and trafilatura reads none of it either.
_DISPLAY_NONE = re.compile(r"display\s*:\s*none", re.IGNORECASE)
_PROTECTED = {"html", "body", "main", "article"}


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
# (a theme's "documentContent__sharingContainer"; a page a script reveals from behind
# display:none). Banners and hidden text go anyway.
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
        return is_alternate(element)
    return any(element.get(attribute) == value for attribute, value in READ_META)


def is_alternate(link: Element) -> bool:
    """A <link rel="alternate">: where `links` finds a page's feeds."""
    return "alternate" in link.get("rel", "").split()


def _is_chrome(element: Element) -> str:
    """Which attribute marks an element as site furniture (see CHROME_*), or ""."""
    attrs = element.attrib
    if not attrs:
        return ""
    if "hidden" in attrs or attrs.get("aria-hidden", "").lower() == "true":
        return "hidden"
    if _DISPLAY_NONE.search(attrs.get("style", "")):
        return "style display:none"
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


def _inside_content(element: Element) -> bool:
    return any(
        parent.tag in ("main", "article") or parent.get("role") == "main"
        for parent in element.iterancestors()
    )


def link_text(element: Element) -> int:
    """The length of the text of the links below `element`."""
    return sum(len(text(a, " ", strip=True)) for a in element.iterdescendants("a"))
