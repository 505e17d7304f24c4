"""The regions and networks a change can concern, loaded from data/taxonomy.toml.

The taxonomy is data a reviewer reads by eye; this module only turns it into frozen
values and refuses a file that would make the tagger silently wrong (unknown keys,
duplicate or malformed slugs, an umbrella covering a region that does not exist).
Errors name the file and the line, so `sotewatch check` can point at them.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, fields
from importlib.resources import files
from pathlib import Path
from typing import Any

from sotewatch.pipeline.errors import ConfigError

DEFAULT_PATH = Path(str(files("sotewatch.data"))) / "taxonomy.toml"
_SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")


@dataclass(frozen=True)
class Region:
    """A wellbeing services county, Helsinki or HUS."""

    slug: str
    name_fi: str
    name_sv: str
    brands: tuple[str, ...] = ()
    aliases: tuple[str, ...] = ()
    aliases_sv: tuple[str, ...] = ()
    people: tuple[str, ...] = ()
    ambiguous_brands: tuple[str, ...] = ()  # brands that are also ordinary words
    organiser_only: bool = False  # Helsinki: counts only as the organiser of its services
    verified: str = ""  # where the brand names were checked


@dataclass(frozen=True)
class Umbrella:
    """A name that stands for several regions at once ("Uusimaa")."""

    slug: str
    name_fi: str
    name_sv: str
    covers: tuple[str, ...]
    forms: tuple[str, ...] = ()  # listed Finnish forms where generation cannot do it
    people: tuple[str, ...] = ()


@dataclass(frozen=True)
class Network:
    """A network or group of the reform; `names` always count, `weak`/`bare` need context."""

    slug: str
    name: str
    names: tuple[str, ...] = ()
    weak: tuple[str, ...] = ()
    bare: tuple[str, ...] = ()
    topic: tuple[str, ...] = ()  # what a jaosto of this slug is about
    ties: tuple[str, ...] = ()  # extra words that tie a bare name to this network
    ties_only: bool = False  # only `ties` (not the general reform ties) count

    @property
    def aliases(self) -> tuple[str, ...]:
        return self.names + self.weak + self.bare


@dataclass(frozen=True)
class Exclusion:
    """A phrase that contains a county's name but is not about the county."""

    phrase: str
    why: str = ""
    case_sensitive: bool = True
    singular_only: bool = False


@dataclass(frozen=True)
class Rules:
    """Word lists the tagger's rules use; see the comment block of the taxonomy file."""

    shared_head_prefixes: tuple[str, ...] = ()
    shared_head_prefixes_sv: tuple[str, ...] = ()
    coordinators: tuple[str, ...] = ()
    reform_ties: tuple[str, ...] = ()
    national_actors: tuple[str, ...] = ()
    local_owners: tuple[str, ...] = ()
    helsinki_organiser_heads: tuple[str, ...] = ()
    helsinki_organiser_verbs: tuple[str, ...] = ()
    helsinki_peer_words: tuple[str, ...] = ()


@dataclass(frozen=True)
class Taxonomy:
    regions: tuple[Region, ...]
    networks: tuple[Network, ...]
    umbrellas: tuple[Umbrella, ...] = ()
    exclusions: tuple[Exclusion, ...] = ()
    rules: Rules = Rules()

    @property
    def region_slugs(self) -> tuple[str, ...]:
        return tuple(r.slug for r in self.regions)

    @property
    def network_slugs(self) -> tuple[str, ...]:
        return tuple(n.slug for n in self.networks)


def load_taxonomy(path: Path | None = None) -> Taxonomy:
    """Read and validate the taxonomy; ConfigError names the file and line of a fault."""
    path = Path(path) if path is not None else DEFAULT_PATH
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read taxonomy: {exc}", source=str(path)) from exc
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: {exc}", source=str(path)) from exc
    return _Builder(path, text).build(raw)


class _Builder:
    """Turns parsed TOML into values, with the line of each table for error messages."""

    def __init__(self, path: Path, text: str) -> None:
        self.path = path
        self.lines = text.splitlines()

    def fail(self, message: str, table: str | None = None, index: int = 0) -> ConfigError:
        line = self._line_of(table, index) if table else None
        where = f"{self.path}:{line}" if line else str(self.path)
        return ConfigError(f"{where}: {message}", source=str(self.path))

    def _line_of(self, table: str, index: int) -> int | None:
        header = f"[[{table}]]" if table != "rules" else "[rules]"
        seen = -1
        for number, line in enumerate(self.lines, 1):
            if line.strip() == header:
                seen += 1
                if seen == index:
                    return number
        return None

    def build(self, raw: dict[str, Any]) -> Taxonomy:
        unknown = set(raw) - {"rules", "region", "network", "umbrella", "exclude"}
        if unknown:
            raise self.fail(f"unknown top-level key(s): {', '.join(sorted(unknown))}")
        regions = tuple(self._value(Region, "region", i, t) for i, t in self._list(raw, "region"))
        networks = tuple(
            self._value(Network, "network", i, t) for i, t in self._list(raw, "network")
        )
        umbrellas = tuple(
            self._value(Umbrella, "umbrella", i, t) for i, t in self._list(raw, "umbrella")
        )
        exclusions = tuple(
            self._value(Exclusion, "exclude", i, t) for i, t in self._list(raw, "exclude")
        )
        rules = self._value(Rules, "rules", 0, raw.get("rules", {}))
        if not regions:
            raise self.fail("no [[region]] tables")
        self._check_slugs("region", [r.slug for r in regions] + [u.slug for u in umbrellas])
        self._check_slugs("network", [n.slug for n in networks])
        known = {r.slug for r in regions}
        for i, umbrella in enumerate(umbrellas):
            missing = [s for s in umbrella.covers if s not in known]
            if missing:
                raise self.fail(f"umbrella covers unknown region(s) {missing}", "umbrella", i)
        for i, region in enumerate(regions):
            if not region.name_fi.strip() or not region.name_sv.strip():
                raise self.fail(f"region {region.slug!r} needs name_fi and name_sv", "region", i)
        return Taxonomy(regions, networks, umbrellas, exclusions, rules)

    def _list(self, raw: dict[str, Any], key: str) -> list[tuple[int, dict[str, Any]]]:
        value = raw.get(key, [])
        if not isinstance(value, list):
            raise self.fail(f"{key!r} must be an array of tables ([[{key}]])")
        return list(enumerate(value))

    def _value(self, cls: type, table: str, index: int, data: dict[str, Any]) -> Any:
        """Build one dataclass, converting lists to tuples and checking names and types."""
        allowed = {f.name: f for f in fields(cls)}
        unknown = set(data) - set(allowed)
        if unknown:
            raise self.fail(
                f"unknown key(s) in [{table}]: {', '.join(sorted(unknown))}", table, index
            )
        kwargs: dict[str, Any] = {}
        for name, value in data.items():
            kwargs[name] = self._convert(value, str(allowed[name].type), name, table, index)
        try:
            return cls(**kwargs)
        except TypeError as exc:
            raise self.fail(f"[{table}] is missing a required key: {exc}", table, index) from exc

    def _convert(self, value: Any, type_name: str, name: str, table: str, index: int) -> Any:
        if type_name.startswith("tuple"):
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise self.fail(f"{name!r} must be a list of strings", table, index)
            return tuple(value)
        if type_name == "bool":
            if not isinstance(value, bool):
                raise self.fail(f"{name!r} must be true or false", table, index)
            return value
        if not isinstance(value, str):
            raise self.fail(f"{name!r} must be a string", table, index)
        return value

    def _check_slugs(self, table: str, slugs: list[str]) -> None:
        seen: set[str] = set()
        for i, slug in enumerate(slugs):
            if not _SLUG.match(slug):
                raise self.fail(
                    f"bad slug {slug!r}: lower-case ASCII words joined by '-'", table, i
                )
            if slug in seen:
                raise self.fail(f"duplicate slug {slug!r}", table, i)
            seen.add(slug)
