"""What a fetch gives back: the request, its outcome, the undecoded body.

Kept apart from pipeline/fetching/fetch.py, which imports httpx, asyncio and the retry
machinery: analysing a page needs only this.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from functools import cached_property

from sotewatch.pipeline.fetching.decode import decode_text
from sotewatch.scrapers.base import Page


class Outcome(StrEnum):
    OK = "ok"
    NOT_MODIFIED = "not_modified"
    GONE = "gone"  # a definite 404 or 410
    ERROR = "error"
    BLOCKED = "blocked"  # robots.txt disallows it, or the address policy refuses it


@dataclass(frozen=True)
class FetchRequest:
    url: str
    source_id: str
    etag: str | None = None
    last_modified: str | None = None  # the server's own Last-Modified, sent back verbatim
    key: object = None  # opaque to the fetcher, handed back in the result


@dataclass(frozen=True)
class FetchResult:
    request: FetchRequest
    url: str  # final URL, after redirects
    outcome: Outcome
    status: int | None
    content: bytes = b""
    mime: str = ""  # the media type the server sent, or the one sniffed from the body
    header_charset: str | None = None  # the charset the header claimed, maybe wrongly
    etag: str | None = None
    last_modified: str | None = None  # verbatim from the server
    bytes: int = 0
    elapsed_ms: float = 0.0
    attempts: int = 0
    error: str | None = None

    # Decoded on first use: a page whose bytes alone decide (a 304, the same input key)
    # is never decoded.
    @cached_property
    def _decoded(self) -> tuple[str, str | None]:
        return decode_text(self.content, self.mime, self.header_charset)

    @property
    def text(self) -> str:
        """The decoded body for text types; "" for binaries."""
        return self._decoded[0]

    @property
    def content_type(self) -> str:
        """ "text/html; charset=<what `text` was decoded with>", "application/pdf": the
        charset we decoded with, not the server's claim, so whoever re-reads the bytes
        (a scraper, a stored body) decodes them as we did."""
        used = self._decoded[1]
        return f"{self.mime}; charset={used}" if used else self.mime

    def page(self) -> Page:
        return Page(
            url=self.url,
            content=self.content,
            content_type=self.content_type or "text/html",
            text=self.text,
            status=self.status or 0,
        )
