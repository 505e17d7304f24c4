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
The host gate is in fetching.hostgate; answers, refusals and results in fetching.responses.
"""

from __future__ import annotations

import asyncio
import contextvars
import ssl
import time
from collections.abc import AsyncIterator, Callable, Iterable, Mapping
from dataclasses import dataclass
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
)
from sotewatch.pipeline.fetching.fetched import FetchRequest, FetchResult
from sotewatch.pipeline.fetching.hostgate import HostGate, host_key
from sotewatch.pipeline.fetching.responses import (
    AttemptCount,
    Refused,
    Response,
    RetryableStatus,
    blocked_result,
    check_scheme,
    conditional_headers,
    failed_result,
    result_from,
    retry_after,
    timeout_message,
)
from sotewatch.pipeline.fetching.robots import RobotsCache

_REDIRECTS = {301, 302, 303, 307, 308}
_WINDOW = 2000  # pending fetches in fetch_all; the rest wait in the caller's iterable
# ... at first: the window doubles with each result. Started all at once, every task
# runs until it waits for robots.txt and for its host's gate before the first page
# comes back, while analysis waits.
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


class _TLSOnDemand(httpx.AsyncBaseTransport):
    """The https transport, made for the first https request: its TLS context (the CA
    bundle read and parsed) is not paid by a run of plain http pages."""

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
        self._gates: dict[str, HostGate] = {}
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
        counter = AttemptCount()
        remaining = self._deadline - started
        if remaining <= 0:
            return failed_result(request, started, counter, None, self._budget_message())
        token = _INTERNAL_OK.set(False)
        try:
            async with asyncio.timeout(remaining):
                _INTERNAL_OK.set(await self._internal_ok(request))
                return await self._fetch_chain(request, started, counter)
        except TimeoutError:
            return failed_result(request, started, counter, None, self._budget_message())
        except RetryableStatus as exc:
            return result_from(request, exc.response, started, counter)
        except (Refused, BodyTooLarge, UnsupportedEncoding) as exc:
            return failed_result(request, started, counter, None, str(exc))
        except httpx.TimeoutException as exc:
            return failed_result(request, started, counter, None, timeout_message(exc, counter))
        except httpx.HTTPError as exc:
            message = f"{type(exc).__name__}: {exc or 'connection failed'}"
            return failed_result(
                request, started, counter, None, f"{message} (after {counter.n} attempts)"
            )
        finally:
            _INTERNAL_OK.reset(token)

    async def _fetch_chain(
        self, request: FetchRequest, started: float, counter: AttemptCount
    ) -> FetchResult:
        url = request.url
        seen = {url}
        for hop in range(self.settings.max_redirects + 1):
            check_scheme(url, redirected=hop > 0)
            if self.settings.respect_robots and not await self._allowed(url):
                return blocked_result(request, url, started, counter)
            try:
                response = await self._get(url, request, counter)
            except AddressRefused as exc:
                return blocked_result(request, url, started, counter, f"{url}: {exc}")
            location = response.headers.get("location")
            if response.status not in _REDIRECTS or not location:
                return result_from(request, response, started, counter)
            url = urljoin(url, location)
            if url in seen:
                raise Refused(f"redirect loop: {response.url} redirects back to {url}")
            seen.add(url)
        raise Refused(f"too many redirects (more than {self.settings.max_redirects})")

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
        counter = AttemptCount()
        url = robots_url
        try:
            for hop in range(self.settings.max_redirects + 1):
                check_scheme(url, redirected=hop > 0)
                response = await self._get(url, None, counter, retry=False)
                location = response.headers.get("location")
                if response.status not in _REDIRECTS or not location:
                    return response.status, response.content.decode("utf-8", errors="replace")
                url = urljoin(url, location)
        except (
            httpx.HTTPError,
            BodyTooLarge,
            UnsupportedEncoding,
            RetryableStatus,
            Refused,
            AddressRefused,
        ):
            pass
        return 0, ""

    async def _get(
        self,
        url: str,
        request: FetchRequest | None,
        counter: AttemptCount,
        *,
        retry: bool = True,
    ) -> Response:
        headers = conditional_headers(request)
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
        if isinstance(exc, RetryableStatus):
            if exc.retry_after is not None:
                return min(exc.retry_after, self.tuning.retry_after_cap)
            return True
        return isinstance(exc, httpx.TransportError)

    async def _get_once(self, url: str, headers: dict[str, str]) -> Response:
        client = self._current_client()
        async with self._gate(url).slot(), client.stream("GET", url, headers=headers) as r:
            content = await self._read_limited(r)
            response = Response(str(r.url), r.status_code, r.headers, content)
        if r.status_code == 429 or r.status_code >= 500:
            raise RetryableStatus(response, retry_after(r.headers.get("retry-after")))
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

    def _gate(self, url: str) -> HostGate:
        host = host_key(url)
        gate = self._gates.get(host)
        if gate is None:
            gate = HostGate(self.settings.per_host_limit, self.settings.per_host_delay)
            self._gates[host] = gate
        return gate

    def _budget_message(self) -> str:
        return f"run time budget of {self.settings.run_budget:g} s used up; not fetched"
