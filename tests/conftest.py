"""Fixtures shared by every test: no proxies, no mail settings, nothing from outside."""

from __future__ import annotations

import pytest
from hypothesis import settings

# Hypothesis keeps no example database: tests must not write into the repository.
settings.register_profile("sotewatch", database=None, deadline=None)
settings.load_profile("sotewatch")

_OUTSIDE_ENV = (
    "HTTP_PROXY",
    "HTTPS_PROXY",
    "ALL_PROXY",
    "http_proxy",
    "https_proxy",
    "all_proxy",
    "NO_PROXY",
    "no_proxy",
    "SOTEWATCH_DB",
    "SOTEWATCH_SMTP_HOST",
    "SOTEWATCH_SMTP_PORT",
    "SOTEWATCH_SMTP_USER",
    "SOTEWATCH_SMTP_PASSWORD",
    "SOTEWATCH_SMTP_TLS",
    "SOTEWATCH_SMTP_CAFILE",
    "SOTEWATCH_MAIL_FROM",
    "SOTEWATCH_MAIL_FROM_NAME",
    "SOTEWATCH_UNSUBSCRIBE",
    "SOTEWATCH_UNSUBSCRIBE_SECRET",
    "SOTEWATCH_PRIVATE_DB",
    "SOTEWATCH_DATASETTE_URL",
    "SOTEWATCH_SUBSCRIBERS",
)


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """A test never reaches a proxy or a real mail server through the environment."""
    for name in _OUTSIDE_ENV:
        monkeypatch.delenv(name, raising=False)
