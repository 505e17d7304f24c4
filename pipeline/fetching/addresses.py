"""Which addresses a fetch may connect to, checked on the resolved IP at connect time.

A watched page can redirect, or link, to an internal address (a cloud metadata
service at 169.254.169.254, an admin page on 127.0.0.1): whatever answers would be
stored and published in the database Datasette serves. So every connection the
fetcher opens (first fetch, each redirect hop, discovered links, robots.txt, PDFs)
goes through `GuardedBackend`, an httpcore network backend that resolves the host
itself, checks each address, and connects to the address it checked: a name that
resolves to a public address when looked at and to an internal one when connected
to (DNS rebinding) cannot slip through.

- link-local, multicast, unspecified and broadcast addresses: never;
- loopback and private ranges: only for a source whose own configured URL is on
  such an address (the sample site, a test server, an intranet page), or when the
  operator sets `allow_internal_addresses = true` in [settings].

`Network` is the seam: tests give it a resolver and a connector that route invented
public addresses to loopback servers, so no test reaches a real internal address.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
import ssl
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import httpcore
import httpx

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Resolver = Callable[[str, int], Awaitable[list[str]]]

_UNSPECIFIED_V4 = ipaddress.ip_network("0.0.0.0/8")  # "this network": never a server
_BROADCAST = ipaddress.ip_address("255.255.255.255")
_NAT64 = ipaddress.ip_network("64:ff9b::/96")  # RFC 6052's well-known prefix


class AddressRefused(Exception):
    """A connection the address policy forbids: recorded as a blocked fetch, never retried."""


def never_reason(ip: IPAddress) -> str | None:
    """Why `ip` is never fetched (link-local, multicast, unspecified), or None."""
    if isinstance(ip, ipaddress.IPv4Address) and ip in _UNSPECIFIED_V4 or ip.is_unspecified:
        return "an unspecified address"
    if ip.is_link_local:
        return "a link-local address (cloud metadata services live there)"
    if ip.is_multicast or ip == _BROADCAST:
        return "a multicast or broadcast address"
    return None


def internal_reason(ip: IPAddress) -> str | None:
    """Why `ip` counts as internal (loopback, private, reserved), or None if it is public."""
    if ip.is_loopback:
        return "a loopback address"
    if not ip.is_global:
        return "a private or reserved address"
    return None


def parse_ip(text: str) -> IPAddress:
    """An address as given by a resolver. IPv6 that carries an IPv4 address (mapped,
    NAT64, 6to4) is judged as that IPv4: it is where the packets end up."""
    ip = ipaddress.ip_address(text.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return ip.ipv4_mapped
        if ip in _NAT64:
            return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
        if ip.sixtofour is not None:
            return ip.sixtofour
    return ip


def refusal(ip: IPAddress, *, allow_internal: bool) -> str | None:
    """Why connecting to `ip` is refused under this policy, or None when it is allowed."""
    reason = never_reason(ip)
    if reason is None and not allow_internal:
        reason = internal_reason(ip)
    return reason


async def system_resolve(host: str, port: int) -> list[str]:
    """The host's addresses from the operating system's resolver, in its order."""
    loop = asyncio.get_running_loop()
    infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


@dataclass(frozen=True)
class Network:
    """How names are resolved and checked addresses connected to (a seam for tests)."""

    resolve: Resolver = system_resolve
    connect: httpcore.AsyncNetworkBackend = field(default_factory=httpcore.AnyIOBackend)

    async def addresses(self, host: str, port: int) -> list[IPAddress]:
        try:
            return [parse_ip(host.strip("[]"))]
        except ValueError:
            pass
        try:
            return [parse_ip(a) for a in await self.resolve(host, port)]
        except OSError as exc:
            raise httpcore.ConnectError(f"cannot resolve {host}: {exc}") from exc

    async def is_internal(self, host: str, port: int) -> bool:
        """Whether `host` is on a loopback or private address (a source's own URL)."""
        try:
            found = await self.addresses(host, port)
        except httpcore.ConnectError:
            return False
        return any(internal_reason(ip) and not never_reason(ip) for ip in found)


SYSTEM = Network()  # what a Fetcher uses unless given another; tests may replace it


class GuardedBackend(httpcore.AsyncNetworkBackend):
    """Resolves, checks every address against the policy, connects to a checked one."""

    def __init__(self, network: Network, *, allow_internal: bool) -> None:
        self.network = network
        self.allow_internal = allow_internal

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        try:
            async with asyncio.timeout(timeout):
                allowed = await self._allowed(host, port)
        except TimeoutError as exc:
            raise httpcore.ConnectTimeout(f"resolving {host} timed out") from exc
        failure: Exception | None = None
        for ip in allowed:
            try:
                return await self.network.connect.connect_tcp(
                    str(ip), port, timeout, local_address, socket_options
                )
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                failure = exc
        assert failure is not None
        raise failure

    async def _allowed(self, host: str, port: int) -> list[IPAddress]:
        found = await self.network.addresses(host, port)
        if not found:
            raise httpcore.ConnectError(f"{host} has no address")
        allowed = [ip for ip in found if not refusal(ip, allow_internal=self.allow_internal)]
        if allowed:
            return allowed
        ip = found[0]
        reason = refusal(ip, allow_internal=self.allow_internal)
        shown = host if host == str(ip) else f"{host} ({ip})"
        raise AddressRefused(f"refused to connect to {shown}: {reason}")

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        raise AddressRefused(f"refused to connect to the unix socket {path}")

    async def sleep(self, seconds: float) -> None:
        await self.network.connect.sleep(seconds)


def guarded_transport(
    network: Network,
    *,
    allow_internal: bool,
    verify: ssl.SSLContext | bool = True,
    limits: httpx.Limits | None = None,
    http2: bool = False,
) -> httpx.AsyncHTTPTransport:
    """An httpx transport whose every connection goes through `GuardedBackend`.

    httpx takes no network backend, so the pool it made is replaced by one made with
    the same options and ours (httpx's request and error mapping stay in use).
    """
    context = verify if isinstance(verify, ssl.SSLContext) else None
    context = context or httpx.create_ssl_context(verify=verify, trust_env=False)
    limits = limits or httpx.Limits()
    transport = httpx.AsyncHTTPTransport(verify=context, limits=limits, http2=http2)
    transport._pool = httpcore.AsyncConnectionPool(
        ssl_context=context,
        max_connections=limits.max_connections,
        max_keepalive_connections=limits.max_keepalive_connections,
        keepalive_expiry=limits.keepalive_expiry,
        http2=http2,
        network_backend=GuardedBackend(network, allow_internal=allow_internal),
    )
    return transport
