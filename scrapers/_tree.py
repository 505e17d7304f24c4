"""The parsed page as an lxml tree, and the few tree operations extraction needs.

lxml builds the tree in C; BeautifulSoup over the same lxml parser spent most of
extraction's time building Python objects per tag and string. The behaviour the
scrapers were written against is BeautifulSoup's, so these helpers keep it:
- the bytes are decoded the way bs4 asked lxml to decode them (the HTTP charset,
  else bs4's own detector's candidates in order);
- `drop` removes an element but keeps the text after it, and leaves an empty
  element in its place so that the texts on either side stay separate strings
  (bs4's get_text(" ") put a space between them; joining them would not);
- `text` is get_text(): comments are skipped, and text inside <rt>/<rp> only
  counts for the <rt>/<rp> element itself (bs4 typed those strings apart).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, AnyStr, TypeAlias

from lxml import etree

if TYPE_CHECKING:
    from bs4.dammit import EncodingDetector

Element: TypeAlias = etree._Element
RUBY = ("rt", "rp")
DROPPED = "sotewatch-dropped"
_FAILED = (UnicodeDecodeError, LookupError, etree.ParserError)
_MAX_DEPTH = 2048  # libxml2's deepest level in a tree it builds (XML_PARSE_HUGE)
_AT_MAX_DEPTH = etree.XPath("boolean(" + "/*" * _MAX_DEPTH + ")")
_LENGTH_BOUND = etree.XPath("string-length(.) + count(.//text())")
# Byte-order marks as bs4's EncodingDetector strips them (UTF-8, UTF-32, UTF-16).
_BOMS = (b"\xef\xbb\xbf", b"\x00\x00\xfe\xff", b"\xff\xfe\x00\x00", b"\xfe\xff", b"\xff\xfe")


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
    """Each encoding bs4 would try, in its order, until lxml accepts one.

    The first is the HTTP charset, if any, and lxml mostly accepts it: then bs4 (and the
    CSS engine it imports) is not needed at all."""
    if charset and not content.startswith(_BOMS):
        try:
            return _feed(content, charset.lower())  # bs4's first candidate, as it asks
        except _FAILED:
            pass
    detector = _detector(content, charset)
    for encoding in detector.encodings:
        try:
            return _feed(detector.markup, encoding)
        except _FAILED:
            continue
    return None


def _detector(content: bytes, charset: str | None) -> EncodingDetector:
    from bs4.dammit import EncodingDetector

    return EncodingDetector(
        content, known_definite_encodings=[charset] if charset else [], is_html=True
    )


def _feed(markup: str | bytes, encoding: str | None) -> Element | None:
    """libxml2 builds the tree itself, fast; bs4 got the parser's events instead. The two
    differ on two kinds of page, read again from the events as bs4 read them: past depth
    2048 libxml2's own tree stops nesting (a page of unclosed <font>s loses its end), and
    a <!DOCTYPE> amid the page leaves no trace in it (bs4 kept it as a node between the
    texts on either side, and joined them with a space)."""
    root = _parse(markup, encoding)
    if root is None:
        return None
    tags = markup.count(b"<") if isinstance(markup, bytes) else markup.count("<")
    could_be_deep = tags >= _MAX_DEPTH
    if _stray_doctype(markup) or (could_be_deep and _AT_MAX_DEPTH(root)):
        try:
            return _parse(markup, encoding, _Events())
        except (ValueError, etree.LxmlError):  # a tag like <o:p>, a text with control bytes
            return root  # lxml's API refuses what libxml2's own tree builder accepts
    return root


def _parse(
    markup: str | bytes, encoding: str | None, target: etree.TreeBuilder | None = None
) -> Element | None:
    parser = etree.HTMLParser(recover=True, encoding=encoding, huge_tree=True, target=target)
    parser.feed(markup)
    return parser.close()


class _Events(etree.TreeBuilder):
    """The tree from the parser's events, a <!DOCTYPE> left as an empty element."""

    def doctype(self, *declaration: object) -> None:
        self.start(DROPPED, {})
        self.end(DROPPED)


def _stray_doctype(markup: str | bytes) -> bool:
    """Whether a <!DOCTYPE> stands anywhere but at the start."""
    if isinstance(markup, bytes):
        return _stray(markup, b"<", b"!", b"doctype")
    return _stray(markup, "<", "!", "doctype")


def _stray(markup: AnyStr, opener: AnyStr, bang: AnyStr, name: AnyStr) -> bool:
    """Every "<!" is found by its "!", rare in a page (memchr), not by its "<"."""
    seen = False
    at = markup.find(bang, 1) - 1
    while at != -2:
        if markup[at : at + 1] == opener and markup[at + 2 : at + 9].lower() == name:
            if seen or markup[:at].strip():
                return True
            seen = True
        at = markup.find(bang, at + 2) - 1
    return False


def drop(element: Element) -> None:
    """Remove `element`'s subtree; the text after it stays where it was, a string apart.

    The element stays as an empty <sotewatch-dropped/>: moving its tail to a neighbour
    would join two strings, and lxml refuses to set a text holding control characters,
    which pages do hold. Empty and unknown, it reads as nothing everywhere."""
    if element.getparent() is not None:
        element.clear(keep_tail=True)
        element.tag = DROPPED


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
    if not len(element) and is_element(element):  # no children: its own text or none
        if element.tag not in RUBY and next(element.iterancestors(*RUBY), None) is not None:
            return ""  # a string inside <rt>/<rp> counts only for that element
        own = element.text or ""
        return own.strip() if strip else own
    strings = _strings(element)
    if strip:
        return separator.join(filter(None, map(str.strip, strings)))
    return separator.join(strings)


def length_bound(element: Element) -> float:
    """At least len(text(element, any one-character separator, strip)), counted in C:
    every string whole, plus one separator per string."""
    return _LENGTH_BOUND(element)


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
