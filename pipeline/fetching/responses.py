"""An HTTP exchange's small parts: the answer as read, the request's conditional headers,
the refusals and retryable statuses that steer `Fetcher`, and the wording of its errors."""

from __future__ import annotations

import time
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from urllib.parse import urlsplit

import httpx

from sotewatch.pipeline.fetching.decode import parse_content_type, sniff_type
from sotewatch.pipeline.fetching.fetched import FetchRequest, FetchResult, Outcome

_GONE = {404, 410}


class RetryableStatus(Exception):
    """A 429 or 5xx answer: worth another attempt, maybe after Retry-After."""

    def __init__(self, response: Response, retry_after: float | None) -> None:
        super().__init__(f"HTTP {response.status}")
        self.response = response
        self.retry_after = retry_after


class Refused(Exception):
    """A redirect we will not follow (scheme, loop, count); never retried."""


@dataclass(frozen=True)
class Response:
    url: str
    status: int
    headers: httpx.Headers
    content: bytes


@dataclass
class AttemptCount:
    n: int = 0


def conditional_headers(request: FetchRequest | None) -> dict[str, str]:
    headers: dict[str, str] = {}
    if request is not None and request.etag:
        headers["If-None-Match"] = request.etag
    if request is not None and request.last_modified:
        headers["If-Modified-Since"] = request.last_modified
    return headers


def check_scheme(url: str, *, redirected: bool) -> None:
    scheme = urlsplit(url).scheme.lower()
    if scheme in ("http", "https"):
        return
    if redirected:
        raise Refused(f"refused to follow a redirect to {scheme}:// (only http and https): {url}")
    raise Refused(f"refused to fetch a {scheme}:// URL (only http and https): {url}")


def retry_after(value: str | None) -> float | None:
    """Retry-After as seconds: either delta-seconds or an HTTP date."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def timeout_message(exc: httpx.TimeoutException, counter: AttemptCount) -> str:
    kind = {
        httpx.ConnectTimeout: "connect",
        httpx.ReadTimeout: "read",
        httpx.WriteTimeout: "write",
        httpx.PoolTimeout: "pool",
    }.get(type(exc), "")
    return f"timed out ({kind} timeout) after {counter.n} attempts".replace("( ", "(")


def ms_since(started: float) -> float:
    return (time.monotonic() - started) * 1000.0


def result_from(
    request: FetchRequest, response: Response, started: float, counter: AttemptCount
) -> FetchResult:
    status = response.status
    mime, charset = parse_content_type(response.headers.get("content-type"))
    if status == 304:
        outcome, error = Outcome.NOT_MODIFIED, None
    elif status in _GONE:
        outcome, error = Outcome.GONE, f"HTTP {status}"
    elif 200 <= status < 300:
        outcome, error = Outcome.OK, None
    else:
        outcome, error = Outcome.ERROR, f"HTTP {status} (after {counter.n} attempts)"
    content = response.content if outcome is Outcome.OK else b""
    return FetchResult(
        request=request,
        url=response.url,
        outcome=outcome,
        status=status,
        content=content,
        mime=mime or (sniff_type(content) if content else ""),
        header_charset=charset,
        etag=response.headers.get("etag"),
        last_modified=response.headers.get("last-modified"),
        bytes=len(response.content),
        elapsed_ms=ms_since(started),
        attempts=counter.n,
        error=error,
    )


def failed_result(
    request: FetchRequest,
    started: float,
    counter: AttemptCount,
    status: int | None,
    error: str,
) -> FetchResult:
    return FetchResult(
        request=request,
        url=request.url,
        outcome=Outcome.ERROR,
        status=status,
        elapsed_ms=ms_since(started),
        attempts=counter.n,
        error=error,
    )


def blocked_result(
    request: FetchRequest,
    url: str,
    started: float,
    counter: AttemptCount,
    reason: str | None = None,
) -> FetchResult:
    return FetchResult(
        request=request,
        url=url,
        outcome=Outcome.BLOCKED,
        status=None,
        elapsed_ms=ms_since(started),
        attempts=counter.n,
        error=reason or f"robots.txt disallows {url} for our user agent",
    )
