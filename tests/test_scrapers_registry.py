"""The registry knows every family by name without importing it, and imports only what is used.

`sotewatch.scrapers.FAMILIES` is a hand-written map from family name to module, so that checking a
sources file or running without a changed page imports no parser. These tests keep the
map honest: each module registers exactly the family the map gives it, and every family
module in the package is in the map.
"""

from __future__ import annotations

import importlib
import json
import os
import pkgutil
import subprocess
import sys

import pytest

import sotewatch.scrapers
from sotewatch.scrapers import FAMILIES, REGISTRY, Registry, Scraper, get_scraper


def fresh_python(code: str) -> object:
    """What `code` prints as JSON, run in a new interpreter (a clean `sys.modules`)."""
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True
    )
    return json.loads(done.stdout)


def family_modules_loaded() -> str:
    return "sorted(m for m in sys.modules if m in set(scrapers.FAMILIES.values()))"


@pytest.mark.parametrize("family", sorted(FAMILIES))
def test_each_module_registers_the_family_the_map_names(family: str) -> None:
    importlib.import_module(FAMILIES[family])
    cls = REGISTRY[family]
    assert cls.name == family
    assert cls.__module__ == FAMILIES[family]


def test_every_family_module_of_the_package_is_in_the_map() -> None:
    modules = {
        f"sotewatch.scrapers.{info.name}"
        for info in pkgutil.iter_modules(sotewatch.scrapers.__path__)
        if info.name != "base" and not info.name.startswith("_")
    }
    assert modules == set(FAMILIES.values())


def test_names_are_known_and_listed_without_importing_any_family() -> None:
    loaded = fresh_python(
        "import json, sys\nfrom sotewatch import scrapers\n"
        "assert 'ministry' in scrapers.REGISTRY and 'nope' not in scrapers.REGISTRY\n"
        "assert sorted(scrapers.REGISTRY) == sorted(scrapers.FAMILIES)\n"
        f"print(json.dumps({family_modules_loaded()}))"
    )
    assert loaded == []


def test_a_scraper_imports_its_own_family_and_what_it_builds_on_only() -> None:
    loaded = fresh_python(
        "import json, sys\nfrom sotewatch import scrapers\n"
        "scrapers.get_scraper('ngo')\n"
        f"print(json.dumps({family_modules_loaded()}))"
    )
    # ngo builds on generic and borrows ministry's header reader; no pdf, feed, sitemap
    assert loaded == [
        "sotewatch.scrapers.generic",
        "sotewatch.scrapers.ministry",
        "sotewatch.scrapers.ngo",
    ]


def test_load_families_imports_them_all() -> None:
    loaded = fresh_python(
        "import json, sys\nfrom sotewatch import scrapers\n"
        "scrapers.load_families()\n"
        f"print(json.dumps({family_modules_loaded()}))"
    )
    assert loaded == sorted(FAMILIES.values())


def test_an_unknown_family_is_a_key_error_that_lists_the_known_ones() -> None:
    with pytest.raises(KeyError, match="unknown scraper family 'nope'.*generic, listing"):
        get_scraper("nope")


def test_a_family_added_outside_the_map_is_found_and_listed_after_the_mapped_ones() -> None:
    class EchoScraper(Scraper):
        """Test family: registered by a test, in no module of the map."""

        name = "test-echo"

    registry = Registry({"generic": "sotewatch.scrapers.generic"})
    registry.add(EchoScraper)
    assert list(registry) == ["generic", "test-echo"] and len(registry) == 2
    assert "test-echo" in registry and "ministry" not in registry
    assert registry["test-echo"] is EchoScraper
    with pytest.raises(KeyError):
        registry["ministry"]
