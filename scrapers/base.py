"""The shape of a scraper: a name, the page it reads, one `parse` method.

`pipeline.fetch` hands a scraper a `Page` (the decoded response); the scraper
returns a `Document`. Scrapers do no I/O: everything they need is in the Page
and in the source's options, so they are tested on bytes alone.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar

from pipeline.models import Document


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


class Scraper:
    """Base class: subclasses set `name` and implement `parse`. The docstring's first
    line is what `sotewatch scrapers` prints."""

    name: ClassVar[str] = ""

    def __init__(self, options: ScraperOptions | None = None) -> None:
        self.options = options or ScraperOptions()

    def parse(self, page: Page) -> Document:
        raise NotImplementedError
