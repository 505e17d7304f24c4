"""The address policy: no internal address is fetched for a source that is not internal.

The "internet" here is a resolver and a connector (the `Network` seam): invented
public addresses are routed to a loopback fault server, and every other non-loopback
connection is refused by the test before a packet leaves, so a test that fails
(today's code following a redirect to 169.254.169.254) still sends nothing outside.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import httpcore
import pytest
import stamina
from faultserver import FaultServer, fault_server

from sotewatch.pipeline.config import Settings, Source, SourcesConfig
from sotewatch.pipeline.fetching import addresses
from sotewatch.pipeline.fetching.addresses import Network, parse_ip, refusal
from sotewatch.pipeline.fetching.fetch import Fetcher
from sotewatch.pipeline.fetching.fetched import FetchRequest, Outcome
from sotewatch.pipeline.runs.run import run_sources
from sotewatch.pipeline.runs.runner import prepare_store
from sotewatch.pipeline.tagging.tag import Tagger
from sotewatch.pipeline.tagging.taxonomy import load_taxonomy

__all__ = ["fault_server"]

FAST = Settings(per_host_delay=0.0, connect_timeout=1.0, read_timeout=1.0, retries=0)
PUBLIC_IP = "93.184.215.14"  # never dialled: routed to the loopback fault server


@pytest.fixture(autouse=True)
def _nothing_leaves_loopback(monkeypatch: pytest.MonkeyPatch) -> None:
    """Any connection or name lookup beyond loopback fails the test instead of happening."""
    real_connect = socket.socket.connect
    real_getaddrinfo = socket.getaddrinfo

    def connect(self: socket.socket, address: Any) -> Any:
        if isinstance(address, tuple) and not parse_ip(address[0]).is_loopback:
            raise AssertionError(f"a test tried to connect to {address}")
        return real_connect(self, address)

    def getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
        if host not in ("localhost", "127.0.0.1", "::1", None):
            raise AssertionError(f"a test tried to resolve {host!r}")
        return real_getaddrinfo(host, *args, **kwargs)

    monkeypatch.setattr(socket.socket, "connect", connect)
    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)


class _Routes(httpcore.AsyncNetworkBackend):
    """Connects PUBLIC_IP to the fault server and loopback to itself; records each dial."""

    def __init__(self, server: FaultServer) -> None:
        self.ports = {PUBLIC_IP: server.server_address[1]}
        self.dialled: list[str] = []
        self.real = httpcore.AnyIOBackend()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        self.dialled.append(host)
        if host in self.ports:
            return await self.real.connect_tcp("127.0.0.1", self.ports[host], timeout)
        if parse_ip(host).is_loopback:
            return await self.real.connect_tcp(host, port, timeout)
        raise httpcore.ConnectError(f"{host} is not routed in this test")

    async def sleep(self, seconds: float) -> None:
        await self.real.sleep(seconds)


TLS_IP = "93.184.215.15"  # routed to a loopback TLS server
NAMES = {
    "news.test": [PUBLIC_IP],
    "secure.test": [TLS_IP],
    "metadata.test": ["169.254.169.254"],
    "rebound.test": ["127.0.0.1"],  # a public-looking name that resolves to loopback
    "intranet.test": ["10.1.2.3"],
}


@pytest.fixture
def routes(fault_server: FaultServer) -> _Routes:
    return _Routes(fault_server)


@pytest.fixture
def network(routes: _Routes) -> Network:
    async def resolve(host: str, port: int) -> list[str]:
        if host not in NAMES:
            raise OSError(f"unknown test host {host}")
        return NAMES[host]

    return Network(resolve=resolve, connect=routes)


def _public(path: str) -> str:
    return f"http://news.test{path}"


async def _fetch(
    network: Network, url: str, origin: str, settings: Settings = FAST
) -> tuple[Outcome, str]:
    async with Fetcher(settings, network=network, origins={"news": origin}) as fetcher:
        result = await fetcher.fetch(FetchRequest(url=url, source_id="news"))
    return result.outcome, result.error or ""


@pytest.mark.parametrize(
    ("address", "never", "internal"),
    [
        ("169.254.169.254", True, True),
        ("::ffff:169.254.169.254", True, True),
        ("fe80::1", True, True),
        ("224.0.0.251", True, True),
        ("ff02::1", True, True),
        ("0.0.0.0", True, True),
        ("::", True, True),
        ("255.255.255.255", True, True),
        ("127.0.0.1", False, True),
        ("127.8.9.10", False, True),
        ("::1", False, True),
        ("10.0.0.1", False, True),
        ("172.16.5.4", False, True),
        ("192.168.1.1", False, True),
        ("100.64.0.1", False, True),
        ("fd00::1", False, True),
        ("::ffff:127.0.0.1", False, True),
        ("64:ff9b::a9fe:a9fe", True, True),  # NAT64 of 169.254.169.254
        ("64:ff9b::7f00:1", False, True),  # NAT64 of 127.0.0.1
        ("2002:a9fe:a9fe::1", True, True),  # 6to4 of 169.254.169.254
        ("2002:5db8:d70e::1", False, False),  # 6to4 of a public address
        (PUBLIC_IP, False, False),
        ("2606:4700::1111", False, False),
    ],
)
def test_which_addresses_are_refused(address: str, never: bool, internal: bool) -> None:
    ip = parse_ip(address)
    assert (refusal(ip, allow_internal=True) is not None) is never
    assert (refusal(ip, allow_internal=False) is not None) is internal


async def test_a_public_page_is_fetched_through_the_checked_address(network, routes) -> None:
    outcome, error = await _fetch(network, _public("/page/a"), _public("/page/a"))
    assert outcome is Outcome.OK, error
    assert set(routes.dialled) == {PUBLIC_IP}


@pytest.mark.parametrize(
    ("target", "says"),
    [
        ("http://127.0.0.1:{port}/page/secret", "loopback"),
        ("http://rebound.test:{port}/page/secret", "rebound.test (127.0.0.1): a loopback"),
        ("http://metadata.test/latest/meta-data/", "link-local"),
        ("http://169.254.169.254/latest/meta-data/", "link-local"),
        ("http://[::ffff:169.254.169.254]/latest/", "link-local"),
        ("http://intranet.test/admin", "private"),
        ("http://0.0.0.0:{port}/page/secret", "unspecified"),
    ],
)
async def test_a_redirect_to_an_internal_address_is_blocked(
    network, routes, fault_server, target: str, says: str
) -> None:
    target = target.format(port=fault_server.server_address[1])
    url = _public(f"/redirect?to={target}")
    outcome, error = await _fetch(network, url, _public("/"))
    assert outcome is Outcome.BLOCKED
    assert says in error and target in error
    assert fault_server.hits("/page/secret") == 0
    assert set(routes.dialled) == {PUBLIC_IP}  # the redirect target is never dialled


async def test_a_discovered_link_to_loopback_is_blocked(network, fault_server) -> None:
    """A feed item or listing link is fetched for its source: the source decides."""
    outcome, error = await _fetch(network, fault_server.url("/page/secret"), _public("/feed"))
    assert outcome is Outcome.BLOCKED
    assert "loopback" in error
    assert fault_server.hits("/page/secret") == 0
    assert fault_server.hits("/robots.txt") == 0


async def test_a_source_on_loopback_may_fetch_loopback(network, fault_server) -> None:
    url = fault_server.url("/redirect?to=/page/local")
    outcome, error = await _fetch(network, url, fault_server.url("/"))
    assert outcome is Outcome.OK, error
    assert fault_server.hits("/page/local") == 1


async def test_a_source_on_loopback_still_never_reaches_link_local(network) -> None:
    outcome, error = await _fetch(
        network, "http://metadata.test/latest/", "http://127.0.0.1:1/", FAST
    )
    assert outcome is Outcome.BLOCKED
    assert "link-local" in error


async def test_the_operator_may_allow_internal_addresses(network, fault_server) -> None:
    settings = Settings(**{**FAST.__dict__, "allow_internal_addresses": True})
    url = _public(f"/redirect?to={fault_server.url('/page/secret')}")
    outcome, error = await _fetch(network, url, _public("/"), settings)
    assert outcome is Outcome.OK, error
    outcome, error = await _fetch(network, "http://metadata.test/", _public("/"), settings)
    assert outcome is Outcome.BLOCKED and "link-local" in error


async def test_connections_are_not_shared_between_policies(network, fault_server) -> None:
    """A connection kept alive for a loopback source never serves a public source."""
    local = fault_server.url("/page/one")
    async with Fetcher(
        FAST, network=network, origins={"local": local, "news": _public("/")}
    ) as fetcher:
        first = await fetcher.fetch(FetchRequest(url=local, source_id="local"))
        second = await fetcher.fetch(FetchRequest(url=local, source_id="news"))
    assert first.outcome is Outcome.OK
    assert second.outcome is Outcome.BLOCKED


@pytest.fixture
def public_run(
    network: Network, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[SourcesConfig, Any]]:
    monkeypatch.setattr(addresses, "SYSTEM", network)
    taxonomy = load_taxonomy()
    store = prepare_store(tmp_path / "watch.db", taxonomy)
    yield store, taxonomy
    store.close()


def test_a_run_records_the_refusal_and_stores_nothing(public_run, fault_server, tmp_path) -> None:
    store, taxonomy = public_run
    secret = fault_server.url("/page/secret")
    url = _public(f"/redirect?to={secret}")
    source = Source(id="news", url=url, family="generic", language="fi")
    config = SourcesConfig(tmp_path / "sources.toml", FAST, (source,))
    tagger = Tagger(taxonomy, lemmatiser=lambda word, lang: word)
    with stamina.set_testing(True, attempts=1):
        report = run_sources(store, config, tagger, settings=FAST, force=True)
    rows = [dict(r) for r in store.db.query("select outcome, error from fetches")]
    assert [r["outcome"] for r in rows] == ["blocked"]
    assert "refused to connect to 127.0.0.1" in rows[0]["error"]
    assert store.db.execute("select count(*) from snapshots").fetchone()[0] == 0
    assert fault_server.hits("/page/secret") == 0
    assert report.failed == 1


def test_parse_ip_reads_scoped_and_mapped_addresses() -> None:
    assert parse_ip("fe80::1%eth0") == ipaddress.ip_address("fe80::1")
    assert parse_ip("::ffff:10.0.0.1") == ipaddress.ip_address("10.0.0.1")


@pytest.fixture
def tls_site(routes: _Routes, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """An https server for secure.test (a test CA's certificate), at TLS_IP."""
    import ssl
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    import httpx
    import trustme

    ca = trustme.CA()
    server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("secure.test").configure_cert(server_context)

    class Page(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802
            body = b"<html><body><h1>Suojattu sivu</h1></body></html>"
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:  # noqa: A002
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Page)
    server.socket = server_context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    routes.ports[TLS_IP] = server.server_address[1]
    client_context = ssl.create_default_context()
    ca.configure_trust(client_context)
    monkeypatch.setattr(httpx, "create_ssl_context", lambda **kwargs: client_context)
    yield
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


async def test_https_keeps_the_host_name_for_sni_and_the_certificate(network, tls_site) -> None:
    """The connection goes to the checked IP, the TLS handshake still names the host."""
    outcome, error = await _fetch(network, "https://secure.test/sivu", "https://secure.test/")
    assert outcome is Outcome.OK, error


async def test_https_to_an_address_whose_certificate_names_another_host_fails(
    network, tls_site
) -> None:
    NAMES["impostor.test"] = [TLS_IP]
    try:
        outcome, error = await _fetch(network, "https://impostor.test/", "https://impostor.test/")
    finally:
        del NAMES["impostor.test"]
    assert outcome is Outcome.ERROR
    assert "CERTIFICATE_VERIFY_FAILED" in error or "certificate" in error.lower()


async def test_a_name_rebound_to_loopback_between_lookups_is_still_refused(routes) -> None:
    """The source's host looked public when first resolved; at connect time it answers
    127.0.0.1. The address connected to is the one checked, so it is refused."""
    answers = iter([[PUBLIC_IP], ["127.0.0.1"], ["127.0.0.1"], ["127.0.0.1"]])

    async def rebinding(host: str, port: int) -> list[str]:
        return next(answers)

    network = Network(resolve=rebinding, connect=routes)
    outcome, error = await _fetch(network, "http://rebind.test/", "http://rebind.test/")
    assert outcome is Outcome.BLOCKED
    assert "rebind.test (127.0.0.1): a loopback address" in error
    assert "127.0.0.1" not in routes.dialled
