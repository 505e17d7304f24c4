"""robots.txt, read once per host per run, parsed by protego.

The cache is keyed by scheme and host; concurrent first requests to one host
wait for the single robots.txt fetch instead of each fetching it. What an
answer means follows Google's reading: 2xx is parsed, 4xx (no file) allows
everything, and an unreachable robots.txt also allows (we would rather watch a
page than go silent because robots.txt had a bad moment).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from urllib.parse import urlsplit

from protego import Protego

RobotsGetter = Callable[[str], Awaitable[tuple[int, str]]]


class RobotsCache:
    def __init__(self, user_agent: str) -> None:
        self.user_agent = user_agent
        self._rules: dict[str, Protego | None] = {}
        self._locks: dict[str, asyncio.Lock] = {}

    async def allowed(self, url: str, get: RobotsGetter) -> bool:
        """Whether our user agent may fetch `url`; fetches robots.txt on first use."""
        rules = await self._rules_for(url, get)
        return rules is None or rules.can_fetch(url, self.user_agent)

    def verdict(self, url: str) -> bool | None:
        """`allowed` without waiting, once the host's robots.txt is read; None before."""
        origin = _origin(url)
        if origin not in self._rules:
            return None
        rules = self._rules[origin]
        return rules is None or rules.can_fetch(url, self.user_agent)

    def crawl_delay(self, url: str) -> float | None:
        """The Crawl-delay robots.txt asks of us, once `allowed` has read it."""
        rules = self._rules.get(_origin(url))
        delay = rules.crawl_delay(self.user_agent) if rules is not None else None
        return float(delay) if delay else None

    async def _rules_for(self, url: str, get: RobotsGetter) -> Protego | None:
        origin = _origin(url)
        if origin in self._rules:
            return self._rules[origin]
        lock = self._locks.setdefault(origin, asyncio.Lock())
        async with lock:
            if origin not in self._rules:
                status, text = await get(f"{origin}/robots.txt")
                self._rules[origin] = Protego.parse(text) if 200 <= status < 300 else None
        return self._rules[origin]


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()
