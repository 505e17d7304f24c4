"""Is mail wired end to end? Which subscribers file a run or send reads, and what
`sotewatch check` warns about before the first digest goes out with wrong links.

Pure functions over a path and the environment: the CLI and the runner decide what
to do with their answers.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from pathlib import Path
from urllib.parse import urlsplit

from sotewatch.pipeline.errors import ConfigError

LOOPBACK_NAMES = frozenset({"localhost", "localhost.localdomain", "ip6-localhost"})


def mail_configured(env: Mapping[str, str]) -> bool:
    """Mail is configured when an SMTP host is set: then readers are expected."""
    return bool(env.get("SOTEWATCH_SMTP_HOST", "").strip())


def default_subscribers(db: Path) -> Path:
    """`subscribers.toml` beside the database (and its private state database): an
    installed sotewatch has no data folder of the operator's to look in."""
    return Path(db).resolve().parent / "subscribers.toml"


def subscribers_to_send(given: Path | None, default: Path, env: Mapping[str, str]) -> Path | None:
    """The subscribers file to send to, or None when there is nothing to send to.

    A file that was named (option or $SOTEWATCH_SUBSCRIBERS) must exist. Without one,
    the default file is used if it exists; if it does not and mail is configured, the
    operator clearly meant to send, so that is a configuration error naming the file
    looked for rather than a quiet "nothing to send" every hour."""
    path = given or default
    if path.exists():
        return path
    if given is not None:
        raise ConfigError(
            f"{path}: no such subscribers file (--subscribers or $SOTEWATCH_SUBSCRIBERS)"
        )
    if mail_configured(env):
        raise ConfigError(
            f"SOTEWATCH_SMTP_HOST is set but there is no subscribers file at {path}: "
            "set SOTEWATCH_SUBSCRIBERS (or --subscribers) to the readers' file, or use --no-send"
        )
    return None


def is_loopback_url(url: str) -> bool:
    """True for http://127.0.0.1:8001 and the like: links only the server itself can open."""
    host = (urlsplit(url).hostname or "").lower()
    if host in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def mail_warnings(env: Mapping[str, str]) -> list[str]:
    """What `check` warns about before a digest goes out: links no reader can open
    (SOTEWATCH_DATASETTE_URL unset, so on its loopback default, or loopback), and
    unsubscribe links anyone could forge."""
    return _loopback_warnings(env) + _guessable_unsubscribe(env)


def _loopback_warnings(env: Mapping[str, str]) -> list[str]:
    if not mail_configured(env):
        return []
    base = env.get("SOTEWATCH_DATASETTE_URL", "")
    if not base or is_loopback_url(base):
        where = base or "the default http://127.0.0.1:8001"
        return [
            f"warning: mail is configured but the digest's links go to {where}, which only "
            "this machine can open: set SOTEWATCH_DATASETTE_URL to your Datasette's public URL"
        ]
    return []


def _guessable_unsubscribe(env: Mapping[str, str]) -> list[str]:
    """An http(s) unsubscribe link with "{id}": whoever knows or guesses a reader's id
    can unsubscribe them. (A mailto: reaches the operator, who sees who wrote.)"""
    link = env.get("SOTEWATCH_UNSUBSCRIBE", "")
    if "{id}" not in link or urlsplit(link).scheme not in ("http", "https"):
        return []
    return [
        "warning: SOTEWATCH_UNSUBSCRIBE puts the subscriber id ({id}) in the link, which "
        "anyone can guess to unsubscribe a reader: use {token} instead and set "
        "SOTEWATCH_UNSUBSCRIBE_SECRET (the token is signed with it)"
    ]
