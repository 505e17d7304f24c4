"""What listings, feeds and sitemaps share: which discovered URLs a source wants."""

from __future__ import annotations

import re
from collections.abc import Iterable

from sotewatch.pipeline.document.models import Link
from sotewatch.scrapers.base import ScraperOptions


def wanted(links: Iterable[Link], options: ScraperOptions) -> list[Link]:
    """Distinct links that match any `url_include` (if given) and no `url_exclude`,
    at most `max_items`, in the order the page lists them."""
    include = [_compile(p) for p in options.url_include]
    exclude = [_compile(p) for p in options.url_exclude]
    kept: dict[str, Link] = {}
    for link in links:
        if link.url in kept or len(kept) >= options.max_items:
            continue
        if include and not any(p is not None and p.search(link.url) for p in include):
            continue
        if any(p is not None and p.search(link.url) for p in exclude):
            continue
        kept[link.url] = link
    return list(kept.values())


def _compile(pattern: str) -> re.Pattern[str] | None:
    try:
        return re.compile(pattern)
    except re.error:  # the config loader validates patterns; never fail a page on one
        return None
