"""Politeness per host: at most `limit` requests in flight, starts `delay` apart."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from urllib.parse import urlsplit


@dataclass
class HostGate:
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


def host_key(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()
