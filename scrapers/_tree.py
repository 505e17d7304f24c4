"""The parsed page as an lxml tree, and the few tree operations extraction needs.

lxml builds the tree in C; BeautifulSoup over the same lxml parser spent most of
extraction's time building Python objects per tag and string. The behaviour the
scrapers were written against is BeautifulSoup's, so these helpers keep it:
- the bytes are decoded the way bs4 asked lxml to decode them (the HTTP charset,
  else bs4's own detector's candidates in order);
- `drop` removes an element but keeps the text after it, and leaves an empty
  comment in its place so that the texts on either side stay separate strings
  (bs4's get_text(" ") put a space between them; joining them would not);
- `text` is get_text(): comments are skipped, and text inside <rt>/<rp> only
  counts for the <rt>/<rp> element itself (bs4 typed those strings apart).
"""

from __future__ import annotations

from collections.abc import Iterator

from bs4.dammit import EncodingDetector
from lxml import etree

Element = etree._Element
RUBY = ("rt", "rp")
_FAILED = (UnicodeDecodeError, LookupError, etree.ParserError)


def parse(content: bytes, text: str, charset: str | None) -> Element:
    """The document's root element (an empty <html> for an empty document)."""
    root = _parse_bytes(content, charset) if content else _feed(text.removeprefix("\ufeff"), None)
    return root if root is not None else etree.Element("html")


def _parse_bytes(content: bytes, charset: str | None) -> Element | None:
    """Each encoding bs4 would try, in its order, until lxml accepts one."""
    detector = EncodingDetector(
        content, known_definite_encodings=[charset] if charset else [], is_html=True
    )
    for encoding in detector.encodings:
        try:
            return _feed(detector.markup, encoding)
        except _FAILED:
            continue
    return None


def _feed(markup: str | bytes, encoding: str | None) -> Element | None:
    parser = etree.HTMLParser(recover=True, encoding=encoding)
    parser.feed(markup)
    return parser.close()


def drop(element: Element) -> None:
    """Remove `element` and its subtree; the text after it stays where it was."""
    parent = element.getparent()
    if parent is None:
        return
    mark = etree.Comment("")
    mark.tail = element.tail
    parent.replace(element, mark)


def is_element(node: Element) -> bool:
    """False for comments and processing instructions (their tag is a function)."""
    return isinstance(node.tag, str)


def first(root: Element, *tags: str) -> Element | None:
    """The first element named one of `tags` at or under `root`, in document order."""
    return next(root.iter(*tags), None)


def first_below(element: Element, *tags: str) -> Element | None:
    """The first descendant named one of `tags` (bs4's tag.find: not the tag itself)."""
    return next(element.iterdescendants(*tags), None)


def text(element: Element, separator: str = "", strip: bool = False) -> str:
    """bs4's get_text(separator, strip): the element's strings, joined."""
    strings = _strings(element)
    if strip:
        return separator.join(s for s in (s.strip() for s in strings) if s)
    return separator.join(strings)


def _strings(element: Element) -> Iterator[str] | list[str]:
    if first(element, *RUBY) is None and next(element.iterancestors(*RUBY), None) is None:
        return element.itertext()
    wanted = element.tag if element.tag in RUBY else None
    kind = next(element.iterancestors(*RUBY), None)
    out: list[str] = []
    _ruby_strings(element, kind.tag if kind is not None else None, wanted, out)
    return out


def _ruby_strings(element: Element, kind: str | None, wanted: str | None, out: list[str]) -> None:
    """Strings typed by their innermost <rt>/<rp>, kept when the type is `wanted`."""
    inner = element.tag if element.tag in RUBY else kind
    if element.text and inner == wanted:
        out.append(element.text)
    for child in element:
        if is_element(child):
            _ruby_strings(child, inner, wanted, out)
        if child.tail and inner == wanted:
            out.append(child.tail)
