"""HTML to Document parts: drop chrome, find the main content, read it in order.

Chrome is scrapers/_chrome.py, reading scrapers/_reading.py; the scrapers call all
steps through this module. The steps, in the order they run:
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
from urllib.parse import urljoin, urlsplit, urlunsplit

from sotewatch.pipeline.document.models import Link
from sotewatch.scrapers import _tree
from sotewatch.scrapers._chrome import PUBLISHED_META as PUBLISHED_META
from sotewatch.scrapers._chrome import is_alternate
from sotewatch.scrapers._chrome import link_text as link_text
from sotewatch.scrapers._chrome import strip_chrome as strip_chrome
from sotewatch.scrapers._emails import may_hide_emails, reveal_emails
from sotewatch.scrapers._reading import Block as Block
from sotewatch.scrapers._reading import blocks as blocks
from sotewatch.scrapers._reading import sections as sections
from sotewatch.scrapers._select import select_all
from sotewatch.scrapers._text import clean
from sotewatch.scrapers._tree import Element, first, first_below, is_element, length_bound, text

TEXT_HOLDERS = ("p", "li", "td", "pre", "blockquote", "dd", "h2", "h3", "h4")
_TITLE_SUFFIX = re.compile(r"\s+[|–—-]\s+[^|–—-]+$")


def parse(content: bytes, text: str, content_type: str) -> Element:
    """The page's tree, with the e-mail addresses a CDN hid read back (`_emails`);
    decoding is deterministic for the same bytes."""
    root = _tree.parse(content, text, _charset(content_type))
    if may_hide_emails(content, text):
        reveal_emails(root)
    return root


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
        if href is None or not is_alternate(feed):
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
    path, query = without_session_ids(parts.path or "/", parts.query)
    return urlunsplit((parts.scheme, parts.netloc, path, query, ""))


# Session ids a server writes into its links for a client without its cookie, as every
# run of a fetcher is (the rules of Heritrix's StripSessionIDs and StripSessionCFIDs, and
# Liferay's per-session p_auth token): a new one each run would make every link,
# attachment and listed item look new.
_SESSION_PATH = re.compile(r";jsessionid=[^/?;]*", re.IGNORECASE)
_SESSION_PARAMS = re.compile(
    r"^(?:jsessionid|phpsessid|aspsessionid[a-z]{8}|cfid|cftoken|p_auth|sid(?==[0-9a-f]{32}$))=",
    re.IGNORECASE,
)


def without_session_ids(path: str, query: str) -> tuple[str, str]:
    """`path` and `query` without the session ids a server put in them."""
    if ";" in path:
        path = _SESSION_PATH.sub("", path)
    if query and "=" in query:
        params = [param for param in re.split("[&;]", query) if param]
        kept = [param for param in params if not _SESSION_PARAMS.match(param)]
        query = "&".join(kept) if len(kept) < len(params) else query
    return path, query


def is_attachment(url: str, mime: str = "") -> bool:
    return urlsplit(url).path.lower().endswith(".pdf") or "pdf" in mime.lower()


def _charset(content_type: str) -> str | None:
    match = re.search(r"charset=[\"']?([\w.:-]+)", content_type or "", re.IGNORECASE)
    return match.group(1) if match else None
