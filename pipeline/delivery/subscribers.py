"""Who gets a digest, in which language, about what, and how often.

Subscribers live in a TOML file kept next to the private state database, never in
the database Datasette serves. Errors name the file and the line of the entry,
because the operator reads them in a cron mail:

    [[subscriber]]
    id = "lappi-viestinta"          # optional; defaults to the address, lower-cased
    name = "Aino Mäkelä"
    email = "aino.makela@example.org"
    language = "fi"                 # fi | sv | en: the digest's headings and subject
    regions = ["lappi"]             # region slugs, or "*" for every region
    networks = ["viestintaverkosto"]  # network slugs, or "*" for every network
    national = true                 # also changes tagged with no region and no network
    frequency = "weekly"            # daily | weekly
    weekday = "monday"              # for weekly: monday..sunday, mon..sun or ma..su
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sotewatch.pipeline.configcheck import did_you_mean
from sotewatch.pipeline.errors import ConfigError

LANGUAGES = ("fi", "sv", "en")
FREQUENCIES = ("daily", "weekly")
_DAYS = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
_WEEKDAYS = {
    **{d: i for i, d in enumerate(_DAYS)},
    **{d[:3]: i for i, d in enumerate(_DAYS)},
    **{d: i for i, d in enumerate(("ma", "ti", "ke", "to", "pe", "la", "su"))},
}
# Deliberately strict: one @, a dotted domain, no spaces, quotes, brackets or controls.
_ADDRESS = re.compile(
    r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@([A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+|localhost)$"
)
_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@+-]*$")
_KEYS = {"id", "name", "email", "language", "regions", "networks", "national", "frequency"}
_KEYS |= {"weekday"}
_KEYS |= {"apprise"}  # Apprise URLs: pipeline/delivery/channels.py reads them


@dataclass(frozen=True)
class Follow:
    """What a reader follows; None means "every one" for that axis."""

    regions: frozenset[str] | None = frozenset()
    networks: frozenset[str] | None = frozenset()
    national: bool = True

    @classmethod
    def everything(cls) -> Follow:
        return cls(regions=None, networks=None, national=True)

    def region(self, slug: str) -> bool:
        return self.regions is None or slug in self.regions

    def network(self, slug: str) -> bool:
        return self.networks is None or slug in self.networks


@dataclass(frozen=True)
class Subscriber:
    id: str
    email: str
    name: str = ""
    language: str = "fi"
    follow: Follow = Follow.everything()
    frequency: str = "daily"
    weekday: int = 0  # Monday; used when frequency is weekly
    line: int = 0

    @property
    def follows_label(self) -> str:
        """A one-line description for `sotewatch subscribers`."""
        parts = []
        for axis, values in (("regions", self.follow.regions), ("networks", self.follow.networks)):
            if values is None:
                parts.append(f"{axis}=*")
            elif values:
                parts.append(f"{axis}={','.join(sorted(values))}")
        if self.follow.national:
            parts.append("national")
        return " ".join(parts) or "nothing"


def load_subscribers(
    path: Path,
    *,
    taxonomy: Any = None,
    regions: Iterable[str] | None = None,
    networks: Iterable[str] | None = None,
) -> tuple[Subscriber, ...]:
    """Read and validate a subscribers file.

    Slugs are checked against `taxonomy` (anything with `.regions`/`.networks` of
    objects with a `.slug`) or the given sets; with neither, they are not checked.
    """
    if taxonomy is not None:
        regions = [r.slug for r in taxonomy.regions]
        networks = [n.slug for n in taxonomy.networks]
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read subscribers file: {exc.strerror}") from exc
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: {exc}") from exc
    unknown = sorted(
        set(raw) - {"subscriber", "channel"}
    )  # [[channel]]: pipeline/delivery/channels.py
    if unknown:
        raise ConfigError(f"{path}: unknown top-level key {', '.join(unknown)}")
    known = (
        set(regions) if regions is not None else None,
        set(networks) if networks is not None else None,
    )
    entries = raw.get("subscriber", [])
    if not isinstance(entries, list):
        raise ConfigError(f"{path}: 'subscriber' must be an array of tables ([[subscriber]])")
    lines = _entry_lines(text)
    result: list[Subscriber] = []
    seen: dict[str, int] = {}
    addresses: dict[str, int] = {}  # case-folded: Aino@Example.org is aino@example.org
    errors: list[str] = []  # every entry is checked: `check` reports all their mistakes
    for index, entry in enumerate(entries):
        line = lines[index] if index < len(lines) else 0
        try:
            subscriber = parse_subscriber(entry, where=f"{path}:{line}", known=known, line=line)
        except ConfigError as exc:
            errors.append(str(exc))
            continue
        if subscriber.id.casefold() in seen:
            errors.append(
                f"{path}:{line}: subscriber id {subscriber.id!r} already used on line "
                f"{seen[subscriber.id.casefold()]}"
            )
            continue
        address = subscriber.email.casefold()
        if address in addresses:
            errors.append(
                f"{path}:{line}: address {subscriber.email!r} already has an entry on line "
                f"{addresses[address]} (addresses are compared ignoring case; one reader, "
                "one entry: list everything they follow there)"
            )
            continue
        seen[subscriber.id.casefold()] = addresses[address] = line
        result.append(subscriber)
    if errors:
        count = [f"{path}: {len(errors)} errors"] if len(errors) > 1 else []
        raise ConfigError("\n".join(errors + count))
    return tuple(result)


def parse_subscriber(
    entry: dict[str, Any],
    *,
    where: str,
    known: tuple[set[str] | None, set[str] | None] = (None, None),
    line: int = 0,
) -> Subscriber:
    """One [[subscriber]] table to a Subscriber, or a ConfigError saying `where`."""
    unknown = sorted(set(entry) - _KEYS)
    if unknown:
        hint = did_you_mean(unknown[0], _KEYS)
        raise ConfigError(f"{where}: unknown key {', '.join(unknown)} in [[subscriber]]{hint}")
    email = _string(entry, "email", where, required=True)
    if not is_valid_address(email):
        raise ConfigError(f"{where}: invalid e-mail address {email!r}")
    sub_id = _string(entry, "id", where) or email.lower()
    if not _ID.match(sub_id):
        raise ConfigError(f"{where}: subscriber id {sub_id!r} may use letters, digits, . _ @ + -")
    name = _string(entry, "name", where)
    if any(ch in name for ch in "\r\n\t\x00"):
        raise ConfigError(f"{where}: name must be one line")
    language = _string(entry, "language", where) or "fi"
    if language not in LANGUAGES:
        raise ConfigError(f"{where}: language {language!r} is not one of {', '.join(LANGUAGES)}")
    follow = Follow(
        regions=_slugs(entry, "regions", where, known[0]),
        networks=_slugs(entry, "networks", where, known[1]),
        national=_bool(entry, "national", where, default=True),
    )
    frequency, weekday = _frequency(entry, where)
    return Subscriber(sub_id, email, name, language, follow, frequency, weekday, line)


def is_valid_address(address: str) -> bool:
    """An address we are willing to put in an envelope: no display part, no controls."""
    return bool(_ADDRESS.match(address)) and len(address) <= 254


def _string(entry: dict[str, Any], key: str, where: str, *, required: bool = False) -> str:
    value = entry.get(key, "")
    if not isinstance(value, str):
        raise ConfigError(f"{where}: {key!r} must be a string")
    if required and not value:
        raise ConfigError(f"{where}: [[subscriber]] needs {key!r}")
    return value.strip()


def _bool(entry: dict[str, Any], key: str, where: str, *, default: bool) -> bool:
    value = entry.get(key, default)
    if not isinstance(value, bool):
        raise ConfigError(f"{where}: {key!r} must be true or false")
    return value


def _slugs(
    entry: dict[str, Any], key: str, where: str, known: set[str] | None
) -> frozenset[str] | None:
    value = entry.get(key, [])
    if value == "*" or value == ["*"]:
        return None
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfigError(f'{where}: {key!r} must be a list of slugs or "*"')
    singular = key.rstrip("s")
    for slug in value:
        if known is not None and slug not in known:
            hint = did_you_mean(slug, known)
            raise ConfigError(f"{where}: unknown {singular} slug {slug!r}{hint}")
    return frozenset(value)


def _frequency(entry: dict[str, Any], where: str) -> tuple[str, int]:
    frequency = _string(entry, "frequency", where) or "daily"
    if frequency not in FREQUENCIES:
        raise ConfigError(f"{where}: frequency {frequency!r} is not daily or weekly")
    day = _string(entry, "weekday", where).lower() or "mon"
    if day not in _WEEKDAYS:
        raise ConfigError(f"{where}: weekday {day!r} is not one of mon..sun (or ma..su)")
    if frequency == "daily" and "weekday" in entry:
        raise ConfigError(f"{where}: 'weekday' only applies to frequency = \"weekly\"")
    return frequency, _WEEKDAYS[day]


def _entry_lines(text: str) -> list[int]:
    """Line numbers of each `[[subscriber]]` header, in order."""
    return [
        number
        for number, line in enumerate(text.splitlines(), start=1)
        if line.strip().startswith("[[subscriber]]")
    ]


def describe(subscribers: Iterable[Subscriber]) -> list[str]:
    """`sotewatch subscribers`: one line per reader, for the operator's eyes only."""
    days = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
    lines = []
    for s in subscribers:
        when = f"weekly/{days[s.weekday]}" if s.frequency == "weekly" else "daily"
        lines.append(f"{s.id:28} {s.email:34} {s.language}  {when:10} {s.follows_label}")
    return lines
