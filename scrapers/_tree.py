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
_MAX_DEPTH = 2048  # libxml2's deepest level in a tree it builds (XML_PARSE_HUGE)
_AT_MAX_DEPTH = etree.XPath("boolean(" + "/*" * _MAX_DEPTH + ")")


def parse(content: bytes, text: str, charset: str | None) -> Element:
    """The document's root element (an empty <html> for an empty document)."""
    root = _parse_bytes(content, charset) if content else _parse_text(text)
    return root if root is not None else etree.Element("html")


def _parse_text(text: str) -> Element | None:
    """Decoded text as bs4 handed it to lxml: as it is, else as UTF-8 bytes."""
    text = text.removeprefix("\ufeff")
    try:
        return _feed(text, None)
    except _FAILED:
        return _feed(text.encode("utf8"), "utf8")


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
    """libxml2 builds the tree itself (fast) but stops nesting at depth 2048, where the
    rest of a page of unclosed <font>s would be lost; fed as events to a TreeBuilder,
    as bs4 was fed, it keeps every level. So a page that deep is read again that way."""
    root = _parse(markup, encoding)
    could_be_deep = markup.count(b"<" if isinstance(markup, bytes) else "<") >= _MAX_DEPTH
    if root is not None and could_be_deep and _AT_MAX_DEPTH(root):
        return _parse(markup, encoding, etree.TreeBuilder())
    return root


def _parse(
    markup: str | bytes, encoding: str | None, target: etree.TreeBuilder | None = None
) -> Element | None:
    parser = etree.HTMLParser(recover=True, encoding=encoding, huge_tree=True, target=target)
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
    return [string for holder, string in strings(element) if _ruby_kind(holder) == wanted]


def _ruby_kind(holder: Element) -> str | None:
    """ "rt"/"rp" for a string inside one (the innermost decides), as bs4 typed it."""
    if holder.tag in RUBY:
        return holder.tag
    inner = next(holder.iterancestors(*RUBY), None)
    return None if inner is None else inner.tag


def strings(element: Element, br: str | None = None) -> Iterator[tuple[Element, str]]:
    """(the element holding it, string) for every string below `element` in document
    order, comments' own text left out, `br` for each <br> if given. Without recursion:
    a page of ten thousand unclosed tags is read like any other."""
    opened: list[Element] = []
    for node in element.iter():
        parent = node.getparent()
        while opened and opened[-1] is not parent:
            closed = opened.pop()
            if closed.tail and opened:  # the tail of `element` itself is not below it
                yield opened[-1], closed.tail
        if br is not None and node.tag == "br":
            yield node, br
        elif node.text and is_element(node):
            yield node, node.text
        opened.append(node)
    while len(opened) > 1:
        closed = opened.pop()
        if closed.tail:
            yield opened[-1], closed.tail
