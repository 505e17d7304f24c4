"""Loading and validating sources.toml (or a plain list of URLs).

Errors name the file and the line of the offending entry, because the operator
reads them in a cron mail and must find the line without reading our code.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from pipeline.errors import ConfigError

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DATA_DIR = PROJECT_ROOT / "data"
DEFAULT_SOURCES = DATA_DIR / "sources.toml"

_SCHEDULE_INTERVAL = re.compile(r"^(\d+)([mhdw])$")
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
    and family sets, when given, are checked so a typo fails at load time.
    """
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read sources file: {exc.strerror}") from exc
    if path.suffix != ".toml":
        return SourcesConfig(path, Settings(), _sources_from_url_list(path, text))
    if site is not None:
        text = text.replace("{site}", site.rstrip("/"))
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: {exc}") from exc
    _reject_unknown(path, text, raw, {"settings", "source"}, "top level")
    settings = _settings(path, text, raw.get("settings", {}))
    sources: list[Source] = []
    seen: dict[str, int] = {}
    for index, entry in enumerate(raw.get("source", [])):
        line = _entry_line(text, index)
        source = _source(path, text, line, entry, regions, networks, families)
        id_line = _line_in_entry(text, line, "id")
        if source.id in seen:
            raise ConfigError(
                f"{path}:{id_line}: source id {source.id!r} already used on line {seen[source.id]}"
            )
        seen[source.id] = id_line
        sources.append(source)
    return SourcesConfig(path, settings, tuple(sources))


def _settings(path: Path, text: str, raw: dict[str, Any]) -> Settings:
    allowed = {f.name for f in fields(Settings)}
    _reject_unknown(path, text, raw, allowed, "[settings]")
    try:
        return Settings(**{k: _coerce(Settings, k, v) for k, v in raw.items()})
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"{path}:{_key_line(text, 'settings')}: [settings]: {exc}") from exc


def _source(
    path: Path,
    text: str,
    line: int,
    entry: dict[str, Any],
    regions: set[str] | None,
    networks: set[str] | None,
    families: set[str] | None,
) -> Source:
    def at(key: str) -> str:
        return f"{path}:{_line_in_entry(text, line, key)}"

    allowed = {f.name for f in fields(Source)} - {"line"}
    for key in entry:
        if key not in allowed:
            raise ConfigError(f"{at(key)}: unknown key {key!r} in [[source]]")
    for key in ("id", "url"):
        if not isinstance(entry.get(key), str) or not entry[key]:
            raise ConfigError(f"{path}:{line}: [[source]] needs a string {key!r}")
    if not _ID.match(entry["id"]):
        raise ConfigError(f"{at('id')}: source id {entry['id']!r} must be lower-case a-z, 0-9, '-'")
    _check_url(at("url"), entry["url"])
    values = {}
    for key, value in entry.items():
        try:
            values[key] = _coerce(Source, key, value)
        except ValueError as exc:
            raise ConfigError(f"{at(key)}: {exc}") from exc
    source = Source(**values, line=line)
    _check_slugs(at("regions"), "region", source.regions, regions)
    _check_slugs(at("networks"), "network", source.networks, networks)
    for key in ("family", "item_family"):
        family = getattr(source, key)
        if families is not None and family not in families:
            raise ConfigError(f"{at(key)}: unknown scraper family {family!r}")
    check_schedule(source.schedule, where=at("schedule"))
    for key in ("ignore", "url_include", "url_exclude"):
        for pattern in getattr(source, key):
            try:
                re.compile(pattern)
            except re.error as exc:
                raise ConfigError(f"{at(key)}: bad regular expression {pattern!r}: {exc}") from exc
    return source


def _coerce(cls: type, key: str, value: Any) -> Any:
    """Lists become tuples; scalar types are checked against the field's default."""
    default = next(f for f in fields(cls) if f.name == key).default
    if isinstance(default, tuple):
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise ValueError(f"{key!r} must be a list of strings")
        return tuple(value)
    if isinstance(default, bool):
        if not isinstance(value, bool):
            raise ValueError(f"{key!r} must be true or false")
        return value
    if isinstance(default, int | float) and not isinstance(default, bool):
        if not isinstance(value, int | float) or isinstance(value, bool) or value < 0:
            raise ValueError(f"{key!r} must be a non-negative number")
        return type(default)(value)
    if not isinstance(value, str):
        raise ValueError(f"{key!r} must be a string")
    return value


def _check_url(where: str, url: str) -> None:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError(f"{where}: bad URL {url!r}: only absolute http(s) URLs can be watched")


def _check_slugs(where: str, kind: str, given: tuple[str, ...], known: set[str] | None) -> None:
    if known is None:
        return
    for slug in given:
        if slug not in known:
            raise ConfigError(f"{where}: unknown {kind} slug {slug!r}")


def check_schedule(schedule: str, *, where: str) -> None:
    """An interval ("30m", "6h", "1d", "1w") or a five-field cron expression."""
    if _SCHEDULE_INTERVAL.match(schedule):
        return
    from croniter import croniter

    if len(schedule.split()) != 5 or not croniter.is_valid(schedule):
        raise ConfigError(f"{where}: bad schedule {schedule!r} (use 6h, 1d or a cron expression)")


def _reject_unknown(path: Path, text: str, raw: dict, allowed: set[str], where: str) -> None:
    for key in raw:
        if key not in allowed:
            raise ConfigError(f"{path}:{_key_line(text, key)}: unknown key {key!r} in {where}")


def _entry_line(text: str, index: int) -> int:
    """Line number of the index-th `[[source]]` header."""
    count = -1
    for number, line in enumerate(text.splitlines(), start=1):
        if line.strip().startswith("[[source]]"):
            count += 1
            if count == index:
                return number
    return 0


def _line_in_entry(text: str, header_line: int, key: str) -> int:
    """Line of `key = ...` inside the table that starts at `header_line`."""
    pattern = re.compile(rf"^\s*{re.escape(key)}\s*=")
    lines = text.splitlines()
    for number in range(header_line + 1, len(lines) + 1):
        line = lines[number - 1]
        if line.lstrip().startswith("["):
            break
        if pattern.match(line):
            return number
    return header_line


def _key_line(text: str, key: str) -> int:
    pattern = re.compile(rf"^\s*\[?\[?{re.escape(key)}\b")
    for number, line in enumerate(text.splitlines(), start=1):
        if pattern.match(line):
            return number
    return 0


def _sources_from_url_list(path: Path, text: str) -> tuple[Source, ...]:
    """A plain file: one URL per line, '#' comments; each URL its own generic source."""
    sources = []
    for number, line in enumerate(text.splitlines(), start=1):
        url = line.split("#", 1)[0].strip()
        if not url:
            continue
        _check_url(f"{path}:{number}", url)
        sources.append(Source(id=url_source_id(url), url=url, line=number))
    return tuple(sources)


def url_source_id(url: str) -> str:
    """A stable id for a bare URL: host and path, slugified."""
    parts = urlsplit(url)
    slug = re.sub(r"[^a-z0-9]+", "-", f"{parts.hostname}{parts.path}?{parts.query}".lower())
    return slug.strip("-")[:120] or "url"
