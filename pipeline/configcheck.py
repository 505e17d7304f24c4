"""The rules a config value must meet, and where in its file a key is written.

Kept apart from pipeline/config.py (the dataclasses and the loading order) so each
rule is a small pure function returning an error message or None: the loader runs
them all and reports every error in the file at once, not only the first.
"""

from __future__ import annotations

import difflib
import math
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

LANGUAGES = ("fi", "sv", "en")
_SCHEDULE_INTERVAL = re.compile(r"^(\d+)([mhdw])$")
_HEADER = re.compile(r"^\s*(\[\[?)\s*([A-Za-z0-9_.\"' -]+?)\s*(\]\]?)")
_KEY = re.compile(r"^\s*(\"[^\"]*\"|'[^']*'|[A-Za-z0-9_-]+)\s*=")
_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    """' (did you mean 'x'?)' for the closest choice, or ''."""
    close = difflib.get_close_matches(word, sorted(choices), n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


@dataclass
class Table:
    """A `[name]` or `[[name]]` header and the lines of the keys under it."""

    name: str
    array: bool
    line: int
    keys: dict[str, int] = field(default_factory=dict)


@dataclass
class Layout:
    """Where each table and key is written, read in one pass over the file."""

    top: dict[str, int] = field(default_factory=dict)  # keys before any header
    tables: list[Table] = field(default_factory=list)

    @classmethod
    def of(cls, text: str) -> Layout:
        layout = cls()
        keys = layout.top
        for number, line in enumerate(text.splitlines(), start=1):
            header = _HEADER.match(line)
            if header:
                name = header.group(2).strip("\"'")
                table = Table(name, header.group(1) == "[[", number)
                layout.tables.append(table)
                keys = table.keys
                continue
            key = _KEY.match(line)
            if key:
                keys.setdefault(key.group(1).strip("\"'"), number)
        return layout

    def entries(self, name: str) -> list[Table]:
        return [t for t in self.tables if t.name == name and t.array]

    def table(self, name: str) -> Table | None:
        return next((t for t in self.tables if t.name == name and not t.array), None)

    def line_of(self, name: str) -> int:
        """The first line that names `name`, as a header or a top-level key."""
        found = [t.line for t in self.tables if t.name == name]
        if name in self.top:
            found.append(self.top[name])
        return min(found, default=1)


def number_error(key: str, value: Any, default: int | float, minimum: float, above: bool) -> str:
    """Why `value` is not a number this key takes (finite, whole where whole), or ''."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return f"{key!r} must be a number, not {value!r}"
    if not math.isfinite(value):
        return f"{key!r} must be a finite number, not {value!r}"
    if isinstance(default, int) and not isinstance(value, int):
        return f"{key!r} must be a whole number, not {value!r}"
    if value < minimum or (above and value == minimum):
        bound = f"more than {minimum:g}" if above else f"at least {minimum:g}"
        return f"{key!r} must be {bound}, not {value!r}"
    return ""


def url_error(url: str) -> str:
    """Why `url` cannot be watched (scheme, host, port), or ''."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        return f"bad URL {url!r}: {exc}"
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return f"bad URL {url!r}: only absolute http(s) URLs can be watched"
    if port == 0:
        return f"bad URL {url!r}: port 0 is not a port"
    host = parts.hostname
    if parts.netloc.rsplit("@", 1)[-1].startswith("["):
        return ""  # an IPv6 literal: urlsplit has checked it
    if not _valid_host(host):
        return f"bad URL {url!r}: {host!r} is not a valid host name"
    return ""


def _valid_host(host: str) -> bool:
    try:
        ascii_host = host.encode("idna").decode("ascii")
    except UnicodeError:
        return False
    labels = ascii_host.rstrip(".").split(".")
    return all(_LABEL.match(label) for label in labels)


def schedule_error(schedule: str) -> str:
    """An interval ("30m", "6h", "1d", "1w", more than zero) or a five-field cron line."""
    interval = _SCHEDULE_INTERVAL.match(schedule)
    if interval:
        if int(interval.group(1)) == 0:
            return f"schedule {schedule!r} is zero: a source must wait some time between checks"
        return ""
    from croniter import croniter

    if len(schedule.split()) != 5 or not croniter.is_valid(schedule):
        return f"bad schedule {schedule!r} (use 6h, 1d or a cron expression)"
    return ""


def regex_error(pattern: str) -> str:
    try:
        re.compile(pattern)
    except re.error as exc:
        return f"bad regular expression {pattern!r}: {exc}"
    return ""


def selector_error(selector: str) -> str:
    """A CSS selector compiled as the scrapers will use it (soupsieve)."""
    import soupsieve

    try:
        soupsieve.compile(selector)
    except Exception as exc:  # soupsieve's SelectorSyntaxError, or a ValueError
        reason = str(exc).splitlines()[0]
        return f"bad CSS selector {selector!r}: {reason}"
    return ""


def language_error(language: str | None) -> str:
    if language is None or language in LANGUAGES:
        return ""
    return f"unknown language {language!r}: use one of {', '.join(LANGUAGES)}" + did_you_mean(
        language, LANGUAGES
    )
