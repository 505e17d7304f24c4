"""The exceptions sotewatch raises, and the exit code each maps to.

    SotewatchError                 exit 1 unless a subclass says otherwise
    ├── ConfigError                exit 2: a config file is wrong (names file and line)
    ├── RunLockedError             exit 3: another run holds the lock
    ├── DeliveryError              exit 4: a digest could not be delivered
    │   └── PermanentDeliveryError  the server refused for good (5xx); retried N times only
    ├── StorageError               exit 5: disk full, I/O error: nothing more could be stored
    ├── FetchError                 per page: recorded in `fetches`, never raised past the run
    └── ExtractionError            per page: the scraper could not read the response

Per-page errors are caught at the page boundary and recorded; only the CLI turns
what is left into an exit code. See README "Exit codes".
"""

from __future__ import annotations

EXIT_OK = 0
EXIT_SOURCES_FAILED = 1
EXIT_CONFIG = 2
EXIT_LOCKED = 3
EXIT_DELIVERY = 4
EXIT_STORAGE = 5


class SotewatchError(Exception):
    """Base of every error sotewatch raises on purpose."""

    exit_code = EXIT_SOURCES_FAILED

    def __init__(self, message: str, *, source: str | None = None, url: str | None = None):
        self.source = source
        self.url = url
        where = " ".join(x for x in (f"[{source}]" if source else "", url or "") if x)
        super().__init__(f"{where}: {message}" if where else message)


class ConfigError(SotewatchError):
    """A configuration file is invalid; the message names the file and line."""

    exit_code = EXIT_CONFIG


class RunLockedError(SotewatchError):
    """Another `sotewatch run` holds the lock on this database."""

    exit_code = EXIT_LOCKED


class DeliveryError(SotewatchError):
    """A digest could not be sent; it stays undelivered and is retried next run."""

    exit_code = EXIT_DELIVERY


class PermanentDeliveryError(DeliveryError):
    """The mail server refused for good (SMTP 5xx): the same message will fail the same way."""


class StorageError(SotewatchError):
    """A database could not be written (disk full, I/O error); the run stopped cleanly."""

    exit_code = EXIT_STORAGE


class FetchError(SotewatchError):
    """A page could not be fetched (network, status, size, scheme, robots.txt)."""


class ExtractionError(SotewatchError):
    """A response could not be turned into a Document."""
