"""Loading and validating sources.toml (or a plain list of URLs).

Errors name the file and the line of the offending entry, because the operator
reads them in a cron mail and must find the line without reading our code.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, fields
from importlib.resources import files
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from sotewatch.pipeline.configcheck import (
    Layout,
    Table,
    did_you_mean,
    language_error,
    number_error,
    regex_error,
    schedule_error,
    selector_error,
    url_error,
)
from sotewatch.pipeline.errors import ConfigError
from sotewatch.pipeline.runs.schedule import EVERY_RUN

# Package data, beside the code both in a checkout and in an installed wheel.
DATA_DIR = Path(str(files("sotewatch.data")))
DEFAULT_SOURCES = DATA_DIR / "sources.toml"

_ID = re.compile(r"^[a-z0-9][a-z0-9-]*$")


@dataclass(frozen=True)
class Settings:
    """Politeness and run-wide settings; CLI flags override them for one run."""

    user_agent: str = "sotewatch/0.1 (+https://example.org/sotewatch; sotewatch@example.org)"
    per_host_limit: int = 2
    per_host_delay: float = 1.0
    removed_after: int = 2
    connect_timeout: float = 10.0
    read_timeout: float = 30.0
    max_bytes: int = 10_000_000
    max_redirects: int = 5
    retries: int = 3
    run_budget: float = 900.0
    failing_after: int = 3
    respect_robots: bool = True
    allow_internal_addresses: bool = False  # loopback/private for every source, not only own


@dataclass(frozen=True)
class Source:
    """One watched page (and whatever it discovers), with a stable id."""

    id: str
    url: str
    family: str = "generic"
    name: str = ""
    regions: tuple[str, ...] = ()
    networks: tuple[str, ...] = ()
    schedule: str = "1d"
    include: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    ignore: tuple[str, ...] = ()
    item_family: str = "generic"
    url_include: tuple[str, ...] = ()
    url_exclude: tuple[str, ...] = ()
    max_items: int = 50
    language: str | None = None
    line: int = 0  # where the entry starts in its file, for error messages

    @property
    def label(self) -> str:
        return self.name or self.id


_SETTING_FIELDS = frozenset(f.name for f in fields(Settings))
_SOURCE_FIELDS = frozenset(f.name for f in fields(Source)) - {"line"}


@dataclass(frozen=True)
class SourcesConfig:
    path: Path
    settings: Settings
    sources: tuple[Source, ...] = field(default=())

    def only(self, ids: list[str]) -> SourcesConfig:
        known = {s.id for s in self.sources}
        unknown = [i for i in ids if i not in known]
        if unknown:
            raise ConfigError(f"{self.path}: no source with id {', '.join(unknown)}")
        chosen = tuple(s for s in self.sources if s.id in ids)
        return SourcesConfig(self.path, self.settings, chosen)


def load_sources(
    path: Path,
    *,
    site: str | None = None,
    regions: set[str] | None = None,
    networks: set[str] | None = None,
    families: set[str] | None = None,
) -> SourcesConfig:
    """Read a sources file: TOML, or plain text with one URL per line.

    `site` replaces the `{site}` placeholder (the demo's local server). The slug
    and family sets, when given, are checked so a typo fails at load time. Every
    mistake in the file is reported, each with its line, in one ConfigError.
    """
    text = _read_text(path)
    if path.suffix != ".toml":
        return SourcesConfig(path, Settings(), _sources_from_url_list(path, text))
    if site is not None:
        text = text.replace("{site}", site.rstrip("/"))
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        where = re.search(r"\(at line (\d+)", str(exc))
        raise ConfigError(f"{path}:{where.group(1) if where else 1}: {exc}") from exc
    layout = Layout.of(text)
    errors = _Errors(path)
    known = _Known(regions, networks, families)
    for key in raw:
        if key not in _TOP:
            errors.add(layout.line_of(key), f"unknown key {key!r} at top level", key, _TOP)
    settings = _settings(errors, layout, raw.get("settings", {}))
    sources = _sources(errors, layout, raw.get("source", []), known)
    errors.raise_any()
    return SourcesConfig(path, settings, tuple(sources))


_TOP = ("settings", "source")


@dataclass(frozen=True)
class _Known:
    regions: set[str] | None
    networks: set[str] | None
    families: set[str] | None


class _Errors:
    """Every error found in one file, each `path:line: message`."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.lines: list[tuple[int, str]] = []

    def add(self, line: int, message: str, word: str = "", choices: Iterable[str] = ()) -> None:
        self.lines.append((line, message + (did_you_mean(word, choices) if word else "")))

    def raise_any(self) -> None:
        if not self.lines:
            return
        shown = [f"{self.path}:{line}: {message}" for line, message in sorted(self.lines)]
        if len(shown) > 1:
            shown.append(f"{self.path}: {len(shown)} errors")
        raise ConfigError("\n".join(shown))


def _read_text(path: Path) -> str:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read sources file: {exc.strerror}") from exc
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        byte = data[exc.start]
        raise ConfigError(
            f"{path}:{line}: not UTF-8 text (byte 0x{byte:02x}); save the file as UTF-8"
        ) from None


def _settings(errors: _Errors, layout: Layout, raw: Any) -> Settings:
    table = layout.table("settings")
    if not isinstance(raw, dict):
        errors.add(layout.line_of("settings"), "[[settings]] must be a single [settings] table")
        return Settings()
    keys = table.keys if table else {}
    at = table.line if table else 1
    values = {}
    for key, value in raw.items():
        line = keys.get(key, at)
        if key not in _SETTING_FIELDS:
            errors.add(line, f"unknown key {key!r} in [settings]", key, _SETTING_FIELDS)
            continue
        problem = _value_error(Settings, key, value)
        if problem:
            errors.add(line, f"[settings]: {problem}")
        else:
            values[key] = _coerce(Settings, key, value)
    return Settings(**values)


def _sources(errors: _Errors, layout: Layout, raw: Any, known: _Known) -> list[Source]:
    if isinstance(raw, dict):
        line = next((t.line for t in layout.tables if t.name == "source"), 1)
        errors.add(line, "[source] must be written [[source]]: each source is one [[source]] entry")
        return []
    entries = layout.entries("source")
    sources: list[Source] = []
    seen: dict[str, int] = {}
    for index, entry in enumerate(raw):
        table = entries[index] if index < len(entries) else Table("source", True, 1)
        source = _source(errors, table, entry, known)
        if source is None:
            continue
        id_line = table.keys.get("id", table.line)
        if source.id in seen:
            errors.add(id_line, f"source id {source.id!r} already used on line {seen[source.id]}")
            continue
        seen[source.id] = id_line
        sources.append(source)
    return sources


def _source(errors: _Errors, table: Table, entry: dict[str, Any], known: _Known) -> Source | None:
    def at(key: str) -> int:
        return table.keys.get(key, table.line)

    found = len(errors.lines)
    for key in ("id", "url"):
        if not isinstance(entry.get(key), str) or not entry[key]:
            errors.add(table.line, f"[[source]] needs a string {key!r}")
    values = {}
    for key, value in entry.items():
        if key not in _SOURCE_FIELDS:
            errors.add(at(key), f"unknown key {key!r} in [[source]]", key, _SOURCE_FIELDS)
            continue
        problem = _value_error(Source, key, value) or _source_rule(key, value, known)
        if problem:
            errors.add(at(key), problem)
        else:
            values[key] = _coerce(Source, key, value)
    if len(errors.lines) > found:
        return None
    return Source(**values, line=table.line)


def _source_rule(key: str, value: Any, known: _Known) -> str:
    """The rule of one [[source]] key beyond its type: '' when the value is fine."""
    if key == "id" and not _ID.match(value):
        return f"source id {value!r} must be lower-case a-z, 0-9, '-'"
    if key == "url":
        return url_error(value)
    families = known.families
    if key in ("family", "item_family") and families is not None and value not in families:
        return f"unknown scraper family {value!r}" + did_you_mean(value, families)
    if key == "schedule":
        return schedule_error(value)
    if key == "language":
        return language_error(value)
    slugs = {"regions": ("region", known.regions), "networks": ("network", known.networks)}
    kind, choices = slugs.get(key, ("", None))
    if choices is not None:  # None: not a slug key, or no taxonomy to check against
        for slug in value:
            if slug not in choices:
                return f"unknown {kind} slug {slug!r}" + did_you_mean(slug, choices)
    checks: dict[str, Callable[[str], str]] = dict.fromkeys(("include", "exclude"), selector_error)
    checks |= dict.fromkeys(("ignore", "url_include", "url_exclude"), regex_error)
    if key in checks:
        return next((p for p in map(checks[key], value) if p), "")
    return ""


# Numbers a key takes: (minimum, whether the minimum itself is excluded).
_NUMBER_RULES: dict[str, tuple[float, bool]] = {
    "per_host_limit": (1, False),
    "per_host_delay": (0, False),
    "removed_after": (1, False),
    "connect_timeout": (0, True),
    "read_timeout": (0, True),
    "max_bytes": (1, False),
    "max_redirects": (0, False),
    "retries": (0, False),
    "run_budget": (0, True),
    "failing_after": (1, False),
    "max_items": (1, False),
}


def setting_number_error(key: str, value: Any) -> str:
    """Why `value` cannot stand for the number setting `key` (a CLI flag overriding it),
    checked by the same rule as the config file's, or ''."""
    return _value_error(Settings, key, value)


def _value_error(cls: type, key: str, value: Any) -> str:
    """Why `value` does not fit the field's type (and, for numbers, its range), or ''."""
    default = next(f for f in fields(cls) if f.name == key).default
    if isinstance(default, tuple):
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            return f"{key!r} must be a list of strings"
        return ""
    if isinstance(default, bool):
        return "" if isinstance(value, bool) else f"{key!r} must be true or false"
    if isinstance(default, int | float):
        minimum, above = _NUMBER_RULES.get(key, (0, False))
        return number_error(key, value, default, minimum, above)
    if not isinstance(value, str):
        return f"{key!r} must be a string"
    return ""


def _coerce(cls: type, key: str, value: Any) -> Any:
    """A checked value as the field holds it: lists become tuples, ints floats where due."""
    default = next(f for f in fields(cls) if f.name == key).default
    if isinstance(default, tuple):
        return tuple(value)
    if isinstance(default, float):
        return float(value)
    return value


def _sources_from_url_list(path: Path, text: str) -> tuple[Source, ...]:
    """A plain file: one URL per line, '#' comments; each URL its own generic source,
    checked on every run (the file has no schedule to say otherwise)."""
    sources = []
    errors = _Errors(path)
    for number, line in enumerate(text.splitlines(), start=1):
        url = line.split("#", 1)[0].strip()
        if not url:
            continue
        problem = url_error(url)
        if problem:
            errors.add(number, problem)
        sources.append(Source(id=url_source_id(url), url=url, schedule=EVERY_RUN, line=number))
    errors.raise_any()
    return tuple(sources)


def url_source_id(url: str) -> str:
    """A stable id for a bare URL: host and path, slugified."""
    parts = urlsplit(url)
    slug = re.sub(r"[^a-z0-9]+", "-", f"{parts.hostname}{parts.path}?{parts.query}".lower())
    return slug.strip("-")[:120] or "url"
