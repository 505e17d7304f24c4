"""Scraper families: one module per family of source pages, one class each.

`REGISTRY` maps the `family` named in sources.toml to its class.
"""

from __future__ import annotations

from functools import cache

from scrapers.base import Page, Scraper, ScraperOptions

REGISTRY: dict[str, type[Scraper]] = {}


def register(cls: type[Scraper]) -> type[Scraper]:
    """Class decorator: make a family available under its `name`."""
    REGISTRY[cls.name] = cls
    return cls


def get_scraper(family: str, options: ScraperOptions | None = None) -> Scraper:
    _load_families()
    try:
        return REGISTRY[family](options)
    except KeyError:
        known = ", ".join(sorted(REGISTRY))
        raise KeyError(f"unknown scraper family {family!r} (known: {known})") from None


@cache
def _load_families() -> None:
    """Import every family module so their @register decorators run (once: listing the
    package directory cost more than extracting a small page)."""
    import importlib
    import pkgutil

    import scrapers

    for info in pkgutil.iter_modules(scrapers.__path__):
        if info.name not in ("base",) and not info.name.startswith("_"):
            importlib.import_module(f"scrapers.{info.name}")


__all__ = ["Page", "REGISTRY", "Scraper", "ScraperOptions", "get_scraper", "register"]
