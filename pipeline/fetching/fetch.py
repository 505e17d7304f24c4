"""Fetching pages politely, fast, and without trusting the network.

One `Fetcher` is one run: one httpx.AsyncClient (connection reuse, HTTP/2 where
offered), a per-host gate (at most `per_host_limit` requests in flight and
`per_host_delay` seconds between request starts), robots.txt read once per
host, conditional requests, retries with backoff (stamina) and a time budget
for the whole run. Per-page problems never raise: they come back as a
`FetchResult` whose `outcome` is ERROR and whose `error` says what went wrong,
because one failing page must never stop a run.

Redirects are followed by hand so each hop's scheme is checked (a redirect to
file:// or ftp:// is refused) and each hop passes robots.txt and the host gate.
Bodies are read as a stream and cut at `max_bytes` of *decompressed* data.
Every connection is checked against the address policy (pipeline/fetching/addresses.py) on
the address it is made to; a refused one comes back as a BLOCKED result.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import ssl
import time
from collections.abc import AsyncIterator, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from types import TracebackType
from urllib.parse import urljoin, urlsplit

import httpx

from sotewatch.pipeline.config import Settings
from sotewatch.pipeline.fetching import addresses
from sotewatch.pipeline.fetching.addresses import AddressRefused, Network, guarded_transport
from sotewatch.pipeline.fetching.decode import (
    BodyTooLarge,
    BoundedDecoder,
    UnsupportedEncoding,
    parse_content_type,
    sniff_type,
)
from sotewatch.pipeline.fetching.fetched import FetchRequest, FetchResult, Outcome
from sotewatch.pipeline.fetching.robots import RobotsCache

_REDIRECTS = {301, 302, 303, 307, 308}
_GONE = {404, 410}
_WINDOW = 2000  # pending fetches in fetch_all; the rest wait in the caller's iterable
# ... at first: the window doubles with each result. Started all at once, a thousand
# fetches took the run 50-70 ms before the first page came back (each task runs until
# it waits for robots.txt, and again for its host's gate), while analysis waited.
_FIRST_WINDOW = 16
# Whether the request being fetched may reach loopback and private addresses: set by
# `Fetcher.fetch` in its own task, read where the connection is chosen.
_INTERNAL_OK: contextvars.ContextVar[bool] = contextvars.ContextVar("internal_ok", default=False)


@dataclass(frozen=True)
class Tuning:
    """Retry timings; the defaults suit the web, tests shrink them."""

    backoff_initial: float = 1.0
    backoff_max: float = 30.0
    backoff_jitter: float = 1.0
    retry_after_cap: float = 60.0
    crawl_delay_cap: float = 30.0  # a robots.txt Crawl-delay is honoured up to this


class _RetryableStatus(Exception):
    """A 429 or 5xx answer: worth another attempt, maybe after Retry-After."""

    def __init__(self, response: _Response, retry_after: float | None) -> None:
        super().__init__(f"HTTP {response.status}")
        self.response = response
        self.retry_after = retry_after


class _Refused(Exception):
    """A redirect we will not follow (scheme, loop, count); never retried."""


@dataclass(frozen=True)
class _Response:
    url: str
    status: int
    headers: httpx.Headers
    content: bytes


@dataclass
class _HostGate:
    """At most `limit` requests in flight to one host, starts `delay` apart."""

    limit: int
    delay: float
    semaphore: asyncio.Semaphore = field(init=False)
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    last_start: float = float("-inf")

    def __post_init__(self) -> None:
        self.semaphore = asyncio.Semaphore(max(1, self.limit))

    @contextlib.asynccontextmanager
    async def slot(self) -> AsyncIterator[None]:
        async with self.semaphore:
            if self.delay > 0:
                async with self.lock:
                    wait = self.last_start + self.delay - time.monotonic()
                    if wait > 0:
                        await asyncio.sleep(wait)
                    self.last_start = time.monotonic()
            yield


class _TLSOnDemand(httpx.AsyncBaseTransport):
    """The https transport, made for the first https request: its TLS context (the CA
    bundle read and parsed, some 20 ms) is not paid by a run of plain http pages."""

    def __init__(self, make: Callable[[], httpx.AsyncBaseTransport]) -> None:
        self._make = make
        self._transport: httpx.AsyncBaseTransport | None = None

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if self._transport is None:
            self._transport = self._make()
        return await self._transport.handle_async_request(request)

    async def aclose(self) -> None:
        if self._transport is not None:
            await self._transport.aclose()


class Fetcher:
    """One run's worth of HTTP: use as `async with Fetcher(settings) as f`."""

    def __init__(
        self,
        settings: Settings,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        tuning: Tuning | None = None,
        origins: Mapping[str, str] | None = None,
        network: Network | None = None,
    ) -> None:
        """`origins` maps a source id to its configured URL: a source on a loopback or
        private address may fetch such addresses (a request of an unknown source is
        judged by its own URL). `network` is the resolver and connector to use. A given
        `transport` (a test's MockTransport) replaces the network, and with it the policy."""
        self.settings = settings
        self.tuning = tuning or Tuning()
        self._transport = transport
        self._origins = dict(origins or {})
        self._network = network or addresses.SYSTEM
        self._internal_hosts: dict[tuple[str, int], bool] = {}
        self._client: httpx.AsyncClient | None = None
        self._clients: dict[bool, httpx.AsyncClient] = {}
        self._gates: dict[str, _HostGate] = {}
        self._robots = RobotsCache(settings.user_agent)
        self._deadline = float("inf")

    async def __aenter__(self) -> Fetcher:
        self._client = self._make_client(self.settings.allow_internal_addresses)
        self._deadline = time.monotonic() + self.settings.run_budget
        return self

    def _make_client(self, allow_internal: bool) -> httpx.AsyncClient:
        s = self.settings
        limits = httpx.Limits(max_connections=None, max_keepalive_connections=100)
        mounts: dict[str, httpx.AsyncBaseTransport] = {}
        transport = self._transport
        if transport is None:
            network = self._network
            transport = _TLSOnDemand(
                lambda: guarded_transport(
                    network, allow_internal=allow_internal, http2=True, limits=limits
                )
            )
            # Plain http never does TLS: this transport's context is never used, and is
            # made without reading the CA bundle.
            plain = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
            mounts["http://"] = guarded_transport(
                network, allow_internal=allow_internal, verify=plain, limits=limits
            )
        client = httpx.AsyncClient(
            transport=transport,
            mounts=mounts,
            follow_redirects=False,
            timeout=httpx.Timeout(
                connect=s.connect_timeout, read=s.read_timeout, write=s.read_timeout, pool=None
            ),
            headers={"User-Agent": s.user_agent, "Accept-Encoding": "gzip, deflate"},
            trust_env=False,
        )
        self._clients[allow_internal] = client
        return client

    def _current_client(self) -> httpx.AsyncClient:
        """The client of the request being fetched: one pool per policy, so a connection
        opened for a source allowed internal addresses never serves another source."""
        assert self._client is not None, "use `async with Fetcher(...)`"
        if self._transport is not None or self.settings.allow_internal_addresses:
            return self._client
        internal = _INTERNAL_OK.get()
        return self._clients.get(internal) or self._make_client(internal)

    async def _internal_ok(self, request: FetchRequest) -> bool:
        """Whether the request's source is itself on a loopback or private address."""
        parts = urlsplit(self._origins.get(request.source_id, request.url))
        try:
            key = (parts.hostname or "", parts.port or (443 if parts.scheme == "https" else 80))
        except ValueError:
            return False
        if key not in self._internal_hosts:
            self._internal_hosts[key] = await self._network.is_internal(*key)
        return self._internal_hosts[key]

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        for client in self._clients.values():
            await client.aclose()
        self._clients.clear()
        self._client = None

    async def fetch_all(self, requests: Iterable[FetchRequest]) -> AsyncIterator[FetchResult]:
        """Fetch everything concurrently (the host gates keep it polite); yield as completed.

        Results pass through a queue and are dropped once yielded, so memory holds
        the pages not yet consumed rather than every body of the run. At most
        `_WINDOW` fetches are pending at once (fewer at first: `_FIRST_WINDOW`); the
        host gates order them.
        """
        queue: asyncio.Queue[FetchResult] = asyncio.Queue()
        pending: set[asyncio.Task[None]] = set()

        async def run(request: FetchRequest) -> None:
            await queue.put(await self.fetch(request))

        source = iter(requests)
        unyielded = 0  # started and not yet handed out; `pending` lags behind queue.put
        window = min(_FIRST_WINDOW, _WINDOW)
        try:
            while True:
                for request in source:
                    task = asyncio.ensure_future(run(request))
                    pending.add(task)
                    task.add_done_callback(pending.discard)
                    unyielded += 1
                    if unyielded >= window:
                        break
                if not unyielded:
                    return
                result = await queue.get()
                unyielded -= 1
                window = min(2 * window, _WINDOW)
                yield result
        finally:
            for task in list(pending):
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)

    async def fetch(self, request: FetchRequest) -> FetchResult:
        """Fetch one page; per-page problems come back as outcome ERROR, never raised."""
        started = time.monotonic()
        counter = _Counter()
        remaining = self._deadline - started
        if remaining <= 0:
            return self._failed(request, started, counter, None, self._budget_message())
        token = _INTERNAL_OK.set(False)
        try:
            async with asyncio.timeout(remaining):
                _INTERNAL_OK.set(await self._internal_ok(request))
                return await self._fetch_chain(request, started, counter)
        except TimeoutError:
            return self._failed(request, started, counter, None, self._budget_message())
        except _RetryableStatus as exc:
            return self._from_response(request, exc.response, started, counter)
        except _Refused as exc:
            return self._failed(request, started, counter, None, str(exc))
        except (BodyTooLarge, UnsupportedEncoding) as exc:
            return self._failed(request, started, counter, None, str(exc))
        except httpx.TimeoutException as exc:
            return self._failed(request, started, counter, None, _timeout_message(exc, counter))
        except httpx.HTTPError as exc:
            message = f"{type(exc).__name__}: {exc or 'connection failed'}"
            return self._failed(
                request, started, counter, None, f"{message} (after {counter.n} attempts)"
            )
        finally:
            _INTERNAL_OK.reset(token)

    async def _fetch_chain(
        self, request: FetchRequest, started: float, counter: _Counter
    ) -> FetchResult:
        url = request.url
        seen = {url}
        for hop in range(self.settings.max_redirects + 1):
            _check_scheme(url, redirected=hop > 0)
            if self.settings.respect_robots and not await self._allowed(url):
                return self._blocked(request, url, started, counter)
            try:
                response = await self._get(url, request, counter)
            except AddressRefused as exc:
                return self._blocked(request, url, started, counter, f"{url}: {exc}")
            location = response.headers.get("location")
            if response.status not in _REDIRECTS or not location:
                return self._from_response(request, response, started, counter)
            url = urljoin(url, location)
            if url in seen:
                raise _Refused(f"redirect loop: {response.url} redirects back to {url}")
            seen.add(url)
        raise _Refused(f"too many redirects (more than {self.settings.max_redirects})")

    async def _allowed(self, url: str) -> bool:
        """robots.txt's verdict; its Crawl-delay, if longer than ours, slows that host
        (set by the requests that waited for robots.txt: the host's gate keeps it)."""
        known = self._robots.verdict(url)
        if known is not None:
            return known
        allowed = await self._robots.allowed(url, self._robots_fetch)
        crawl_delay = self._robots.crawl_delay(url)
        if crawl_delay:
            gate = self._gate(url)
            gate.delay = max(gate.delay, min(crawl_delay, self.tuning.crawl_delay_cap))
        return allowed

    async def _robots_fetch(self, robots_url: str) -> tuple[int, str]:
        """robots.txt through the same gate and client, following redirects (http to
        https is common); transport errors and refused redirects count as absent."""
        counter = _Counter()
        url = robots_url
        try:
            for hop in range(self.settings.max_redirects + 1):
                _check_scheme(url, redirected=hop > 0)
                response = await self._get(url, None, counter, retry=False)
                location = response.headers.get("location")
                if response.status not in _REDIRECTS or not location:
                    return response.status, response.content.decode("utf-8", errors="replace")
                url = urljoin(url, location)
        except (
            httpx.HTTPError,
            BodyTooLarge,
            UnsupportedEncoding,
            _RetryableStatus,
            _Refused,
            AddressRefused,
        ):
            pass
        return 0, ""

    async def _get(
        self,
        url: str,
        request: FetchRequest | None,
        counter: _Counter,
        *,
        retry: bool = True,
    ) -> _Response:
        headers = _conditional_headers(request)
        attempts = max(1, self.settings.retries + 1) if retry else 1
        try:
            counter.n += 1
            return await self._get_once(url, headers)
        except Exception as exc:
            if attempts == 1 or not self._backoff_hook(exc):
                raise
            failed: Exception | None = exc
        # Most requests succeed at once, and setting up stamina costs more than a 304, so
        # it is entered only after a failure, which it is handed as its first attempt:
        # the backoff, Retry-After and the attempt count stay stamina's.
        import stamina

        t = self.tuning
        async for attempt in stamina.retry_context(
            on=self._backoff_hook,
            attempts=attempts,
            timeout=None,
            wait_initial=t.backoff_initial,
            wait_max=t.backoff_max,
            wait_jitter=t.backoff_jitter,
        ):
            with attempt:
                if failed is not None:
                    error, failed = failed, None
                    raise error
                counter.n += 1
                return await self._get_once(url, headers)
        raise AssertionError("unreachable: stamina re-raises the last error")

    def _backoff_hook(self, exc: Exception) -> bool | float:
        if isinstance(exc, _RetryableStatus):
            if exc.retry_after is not None:
                return min(exc.retry_after, self.tuning.retry_after_cap)
            return True
        return isinstance(exc, httpx.TransportError)

    async def _get_once(self, url: str, headers: dict[str, str]) -> _Response:
        client = self._current_client()
        async with self._gate(url).slot(), client.stream("GET", url, headers=headers) as r:
            content = await self._read_limited(r)
            response = _Response(str(r.url), r.status_code, r.headers, content)
        if r.status_code == 429 or r.status_code >= 500:
            raise _RetryableStatus(response, _retry_after(r.headers.get("retry-after")))
        return response

    async def _read_limited(self, response: httpx.Response) -> bytes:
        """The body, decompressed by us so the limit holds on what we keep in memory."""
        limit = self.settings.max_bytes
        encoding = response.headers.get("content-encoding")
        declared = response.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > limit and not encoding:
            raise BodyTooLarge(f"body too large: {declared} bytes declared, limit {limit}")
        decoder = BoundedDecoder(encoding, limit)
        chunks = [decoder.feed(chunk) async for chunk in response.aiter_raw()]
        return b"".join(chunks)

    def _gate(self, url: str) -> _HostGate:
        host = _host_key(url)
        gate = self._gates.get(host)
        if gate is None:
            gate = _HostGate(self.settings.per_host_limit, self.settings.per_host_delay)
            self._gates[host] = gate
        return gate

    def _budget_message(self) -> str:
        return f"run time budget of {self.settings.run_budget:g} s used up; not fetched"

    def _from_response(
        self, request: FetchRequest, response: _Response, started: float, counter: _Counter
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
            elapsed_ms=_ms_since(started),
            attempts=counter.n,
            error=error,
        )

    def _failed(
        self,
        request: FetchRequest,
        started: float,
        counter: _Counter,
        status: int | None,
        error: str,
    ) -> FetchResult:
        return FetchResult(
            request=request,
            url=request.url,
            outcome=Outcome.ERROR,
            status=status,
            elapsed_ms=_ms_since(started),
            attempts=counter.n,
            error=error,
        )

    def _blocked(
        self,
        request: FetchRequest,
        url: str,
        started: float,
        counter: _Counter,
        reason: str | None = None,
    ) -> FetchResult:
        return FetchResult(
            request=request,
            url=url,
            outcome=Outcome.BLOCKED,
            status=None,
            elapsed_ms=_ms_since(started),
            attempts=counter.n,
            error=reason or f"robots.txt disallows {url} for our user agent",
        )


@dataclass
class _Counter:
    n: int = 0


def _conditional_headers(request: FetchRequest | None) -> dict[str, str]:
    headers: dict[str, str] = {}
    if request is not None and request.etag:
        headers["If-None-Match"] = request.etag
    if request is not None and request.last_modified:
        headers["If-Modified-Since"] = request.last_modified
    return headers


def _check_scheme(url: str, *, redirected: bool) -> None:
    scheme = urlsplit(url).scheme.lower()
    if scheme in ("http", "https"):
        return
    if redirected:
        raise _Refused(f"refused to follow a redirect to {scheme}:// (only http and https): {url}")
    raise _Refused(f"refused to fetch a {scheme}:// URL (only http and https): {url}")


def _host_key(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()


def _retry_after(value: str | None) -> float | None:
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


def _timeout_message(exc: httpx.TimeoutException, counter: _Counter) -> str:
    kind = {
        httpx.ConnectTimeout: "connect",
        httpx.ReadTimeout: "read",
        httpx.WriteTimeout: "write",
        httpx.PoolTimeout: "pool",
    }.get(type(exc), "")
    return f"timed out ({kind} timeout) after {counter.n} attempts".replace("( ", "(")


def _ms_since(started: float) -> float:
    return (time.monotonic() - started) * 1000.0
