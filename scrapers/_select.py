"""CSS selectors of a family or a source (`include`/`exclude`) on the lxml tree.

The selectors families ship and sources mostly use are simple: `ul`, `.some-share`,
`#vn-language-bar`, `div.news`, lists of those. They are matched here in one pass
over the tree. Anything richer (combinators, attributes, pseudo-classes) goes to
soupsieve, the selector engine the scrapers always used, over a BeautifulSoup copy
of the tree: slower, but the same answer, and only for the sources that ask.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sotewatch.scrapers._tree import DROPPED, Element, is_element

if TYPE_CHECKING:  # imported by `_soup_of`, for the sources that ask for soupsieve
    from bs4 import BeautifulSoup

_COMPOUND = re.compile(r"(\*|[a-zA-Z][a-zA-Z0-9-]*)?((?:[.#][a-zA-Z_][a-zA-Z0-9_-]*)*)")
_PART = re.compile(r"([.#])([a-zA-Z_][a-zA-Z0-9_-]*)")


@dataclass(frozen=True)
class _Simple:
    """One compound selector such as `div.news#top`."""

    tag: str | None
    classes: frozenset[str]
    ident: str | None

    def matches(self, element: Element) -> bool:
        if self.tag is not None and element.tag != self.tag:
            return False
        if self.ident is not None and element.get("id") != self.ident:
            return False
        return not self.classes or self.classes <= set(element.get("class", "").split())


def select_all(root: Element, selectors: tuple[str, ...]) -> list[list[Element]]:
    """For each selector, the elements it matches in document order ([] if invalid)."""
    simple = {s: _parse_simple(s) for s in selectors}
    found: dict[str, list[Element]] = {s: [] for s in selectors}
    fast = [(s, parsed) for s, parsed in simple.items() if parsed is not None]
    if fast:
        for element in root.iter():
            if not is_element(element):
                continue
            for selector, parsed in fast:
                if any(part.matches(element) for part in parsed):
                    found[selector].append(element)
    rich = [s for s, parsed in simple.items() if parsed is None]
    if rich:
        soup, elements = _soup_of(root)
        for selector in rich:
            try:
                found[selector] = [elements[id(tag)] for tag in soup.select(selector)]
            except Exception:  # soupsieve raises its own error types for a bad selector
                found[selector] = []
    return [found[s] for s in selectors]


def _parse_simple(selector: str) -> tuple[_Simple, ...] | None:
    """A list of compound selectors, or None when the selector needs soupsieve."""
    parts = []
    for text in selector.split(","):
        match = _COMPOUND.fullmatch(text.strip())
        if match is None or not match.group(0):
            return None
        tag, rest = match.groups()
        pairs = _PART.findall(rest)
        idents = {value for kind, value in pairs if kind == "#"}
        if len(idents) > 1:
            return None
        classes = frozenset(value for kind, value in pairs if kind == ".")
        name = None if tag in (None, "*") else tag.lower()
        parts.append(_Simple(name, classes, next(iter(idents), None)))
    return tuple(parts)


def _soup_of(root: Element) -> tuple[BeautifulSoup, dict[int, Element]]:
    """A BeautifulSoup copy of the tree, and each copied tag's lxml element (built in
    document order without recursion: a parent is always copied before its children)."""
    from bs4 import BeautifulSoup, NavigableString, Tag

    soup = BeautifulSoup("", "lxml")
    tags: dict[Element, Tag] = {}
    elements: dict[int, Element] = {}
    for node in root.iter():
        parent = soup if node is root else tags[node.getparent()]
        if is_element(node) and node.tag != DROPPED:  # bs4 had no trace of a dropped tag
            tag = soup.new_tag(node.tag, attrs=dict(node.items()))
            tags[node] = tag
            elements[id(tag)] = node
            parent.append(tag)
            if node.text:
                tag.append(NavigableString(node.text))
        if node.tail and node is not root:
            parent.append(NavigableString(node.tail))
    return soup, elements
