"""Which family reads a response: its content type (and first bytes) decide, not only the
source's family, so a plain URL list can hold feeds, PDFs and sitemaps."""

from __future__ import annotations

import re

from sotewatch.scrapers.base import Page

PDF_TYPES = ("application/pdf", "application/x-pdf")
FEED_TYPES = ("application/rss+xml", "application/atom+xml", "application/rdf+xml")
XML_TYPES = ("application/xml", "text/xml")
# Families that read one HTML page: an answer of another type is read by its own reader.
PAGE_FAMILIES = ("generic", "ministry", "ngo", "county")
_ROOT = re.compile(rb"<(?!\?|!)([A-Za-z][\w.:-]*)")  # the first element's name
_FEED_ROOTS = (b"rss", b"feed", b"rdf:rdf")
_SITEMAP_ROOTS = (b"urlset", b"sitemapindex")


def reader_for(page: Page, family: str) -> str:
    """The family that reads `page`: a PDF is read as a PDF whatever the source says; a
    page family's answer that is an RSS/Atom feed or a sitemap is read as one."""
    mime = page.content_type.split(";")[0].strip().lower()
    if mime in PDF_TYPES:
        return "pdf"
    if family not in PAGE_FAMILIES:
        return family
    if mime in FEED_TYPES:
        return "feed"
    if (
        mime in XML_TYPES
        or mime.endswith("+xml")
        or page.content[:64].lstrip().startswith(b"<?xml")
    ):
        root = _root(page.content)
        if root in _FEED_ROOTS:
            return "feed"
        if root in _SITEMAP_ROOTS:
            return "sitemap"
    return family


def _root(content: bytes) -> bytes:
    """The lower-cased name of the document's first element, past the XML declaration,
    comments and doctype ("" when none is in the first 2 KB)."""
    head = re.sub(rb"<!--.*?-->", b"", content[:2048], flags=re.DOTALL)
    match = _ROOT.search(head)
    return match.group(1).lower() if match else b""
