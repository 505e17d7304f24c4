"""The shape of a scraper: a name, the page it reads, one `parse` method.

`sotewatch.pipeline.fetching.fetch` hands a scraper a `Page` (the decoded response); the scraper
returns a `Document`. Scrapers do no I/O: everything they need is in the Page
and in the source's options, so they are tested on bytes alone.

`read` is `parse` in two steps, for a run that may not need the second: first what
the Document depends on, and its digest (`Reading.key`), then the Document itself.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import ClassVar

from sotewatch.pipeline.document.models import Document


@dataclass(frozen=True)
class Page:
    """One fetched response, as a scraper sees it."""

    url: str  # the final URL, after redirects
    content: bytes
    content_type: str = "text/html"
    text: str = ""  # decoded body for text types ("" for PDFs)
    status: int = 200


@dataclass(frozen=True)
class ScraperOptions:
    """Per-source options from sources.toml."""

    include: tuple[str, ...] = ()  # CSS selectors of the main content (first match wins)
    exclude: tuple[str, ...] = ()  # CSS selectors dropped before extraction
    language: str | None = None  # force a language instead of detecting it
    url_include: tuple[str, ...] = ()  # regexes a discovered URL must match (any)
    url_exclude: tuple[str, ...] = ()  # regexes that reject a discovered URL
    max_items: int = 50  # cap on pages a listing or feed may add
    extra: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Reading:
    """A page read as far as what its Document depends on.

    `key` digests all of it: two readings with the same key give the same Document, so
    a page read to the key of the version it already has needs no extraction. An HTML
    page's key is that of its tree without the site's chrome, which a new footer date, a
    cookie banner or a session token in a dropped element leave as it was."""

    key: bytes
    document: Callable[[], Document]  # call it once: it may read on from where `key` stood


class Scraper:
    """Base class: subclasses set `name` and implement `parse`. The docstring's first
    line is what `sotewatch scrapers` prints."""

    name: ClassVar[str] = ""

    def __init__(self, options: ScraperOptions | None = None) -> None:
        self.options = options or ScraperOptions()

    def parse(self, page: Page) -> Document:
        raise NotImplementedError

    def read(self, page: Page) -> Reading:
        """The body as it came is what the Document depends on, unless a family knows
        better (HTML pages: scrapers/generic.py)."""
        return Reading(self.input_key(page, page.content), lambda: self.parse(page))

    def input_key(self, page: Page, *inputs: bytes) -> bytes:
        """The digest of `inputs` with what else a Document depends on: the family, its
        options, the page's final URL and content type. Each part is length-prefixed, so
        no two different lists of parts run together into the same bytes."""
        digest = hashlib.sha256()
        parts = (self.name, repr(self.options), page.url, page.content_type)
        for part in (*(p.encode("utf-8", "surrogatepass") for p in parts), *inputs):
            digest.update(len(part).to_bytes(8, "big"))
            digest.update(part)
        return digest.digest()
