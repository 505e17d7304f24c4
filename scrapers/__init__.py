"""Scraper families: one module per family of source pages, one class each.

`REGISTRY` maps the `family` named in sources.toml to its class. The family names and
their modules are listed in `FAMILIES`, so a family's module (and the parsers it
brings: lxml, bs4, pypdf, feedparser) is imported only when a page of that family is
first read. Checking a sources file, or a run in which no page changed, imports none.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator, Mapping
from functools import cache

from sotewatch.scrapers.base import Page, Scraper, ScraperOptions

# family name -> module whose @register defines it (tests/test_scrapers_registry.py
# checks that the two agree, so this list cannot drift from the modules)
FAMILIES: dict[str, str] = {
    "generic": "sotewatch.scrapers.generic",
    "ministry": "sotewatch.scrapers.ministry",
    "ngo": "sotewatch.scrapers.ngo",
    "county": "sotewatch.scrapers.county",
    "pdf": "sotewatch.scrapers.pdf",
    "listing": "sotewatch.scrapers.listing",
    "feed": "sotewatch.scrapers.feed",
    "sitemap": "sotewatch.scrapers.sitemap",
}


class Registry(Mapping[str, type[Scraper]]):
    """Family name -> Scraper class; looking a family up imports its module first.

    Its keys are known without importing anything: `FAMILIES` plus whatever else
    registered itself (a test's own scraper)."""

    def __init__(self, modules: Mapping[str, str]) -> None:
        self._modules = dict(modules)
        self._classes: dict[str, type[Scraper]] = {}

    def add(self, cls: type[Scraper]) -> None:
        self._classes[cls.name] = cls

    def __getitem__(self, name: str) -> type[Scraper]:
        if name not in self._classes and name in self._modules:
            importlib.import_module(self._modules[name])
        return self._classes[name]

    def __contains__(self, name: object) -> bool:
        return name in self._modules or name in self._classes

    def __iter__(self) -> Iterator[str]:
        return iter(dict.fromkeys([*self._modules, *self._classes]))

    def __len__(self) -> int:
        return len(self._modules.keys() | self._classes.keys())


REGISTRY = Registry(FAMILIES)


def register(cls: type[Scraper]) -> type[Scraper]:
    """Class decorator: make a family available under its `name`."""
    REGISTRY.add(cls)
    return cls


def get_scraper(family: str, options: ScraperOptions | None = None) -> Scraper:
    """A scraper of `family`; imports that family's module on first use, and no other."""
    if family not in REGISTRY:
        known = ", ".join(sorted(REGISTRY))
        raise KeyError(f"unknown scraper family {family!r} (known: {known})")
    return REGISTRY[family](options)


@cache
def load_families() -> None:
    """Import every family module: what listing every family's description needs."""
    for module in FAMILIES.values():
        importlib.import_module(module)


_load_families = load_families  # the name pipeline/commands/watching.py calls

__all__ = [
    "FAMILIES",
    "Page",
    "REGISTRY",
    "Registry",
    "Scraper",
    "ScraperOptions",
    "get_scraper",
    "load_families",
    "register",
]
