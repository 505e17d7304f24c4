"""The bundled sample site: two editions of the reform's pages, served on loopback.

`sotewatch demo` and the end-to-end tests fetch these pages like real ones. Each
request renders the page's content (data/sample_site/edition-N/<path>.html, the
page's main content only) inside its site's layout, so the chrome a scraper must
ignore (cookie banner, menu, "Sivua päivitetty" date, form token, visitor
counter) changes on every request and between editions, while the content only
changes where data/sample_site/expected.toml says so.

    with SampleSite(edition=1) as site:
        httpx.get(site.base_url + "/stm/verkostot")
        site.edition = 2

`python -m sotewatch.pipeline.demo.sample_site --edition 2` serves one edition until Ctrl-C.
"""

from __future__ import annotations

import argparse
import contextlib
import email.utils
import hashlib
import re
import secrets
import threading
import tomllib
import zlib
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import cached_property
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib.resources import files
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined
from markupsafe import Markup

SITE_ROOT = Path(str(files("sotewatch.data"))) / "sample_site"
EDITIONS = (1, 2)

HTML_TYPE = "text/html; charset=utf-8"
STATIC_TYPES = {
    ".pdf": "application/pdf",
    ".rss": "application/rss+xml; charset=utf-8",
}
ROBOTS = "User-agent: *\nDisallow: /admin/\n"
NOT_FOUND = (
    '<!DOCTYPE html>\n<html lang="fi"><head><meta charset="utf-8">'
    "<title>Sivua ei löytynyt</title></head>\n<body><h1>Sivua ei löytynyt</h1>"
    "<p>Hakemaasi sivua ei löytynyt. Se on ehkä poistettu tai siirretty.</p>"
    '<p><a href="/">Etusivulle</a></p></body></html>\n'
)
_SAFE_PATH = re.compile(r"^(/[a-z0-9][a-z0-9._-]*)+$")
_H1 = re.compile(r"<h1[^>]*>(.*?)</h1>", re.S)
_TAG = re.compile(r"<[^>]+>")


def sample_sources_path() -> Path:
    """The demo's sources.toml; its URLs start with the `{site}` placeholder."""
    return SITE_ROOT / "sources.toml"


def expected_path() -> Path:
    """The ground truth: every meaningful change between edition 1 and 2."""
    return SITE_ROOT / "expected.toml"


def subscribers_path() -> Path:
    """Invented sample subscribers for the demo digest."""
    return SITE_ROOT / "subscribers.toml"


def sample_sources_text(base_url: str) -> str:
    """sources.toml with `{site}` replaced by a running server's base URL."""
    return sample_sources_path().read_text(encoding="utf-8").replace("{site}", base_url)


@dataclass(frozen=True)
class Resource:
    """What one path resolves to in one edition."""

    file: Path
    content_type: str
    etag: str
    last_modified: datetime

    @property
    def is_page(self) -> bool:
        return self.content_type == HTML_TYPE


def resolve(root: Path, edition: int, url_path: str, last_modified: datetime) -> Resource | None:
    """Map a URL path to its file in one edition, or None (404). Never leaves `root`."""
    if not _SAFE_PATH.match(url_path) or ".." in url_path:
        return None
    suffix = Path(url_path).suffix
    if suffix in STATIC_TYPES:
        file, content_type = root / f"edition-{edition}" / url_path[1:], STATIC_TYPES[suffix]
    elif suffix == "":
        file, content_type = root / f"edition-{edition}" / f"{url_path[1:]}.html", HTML_TYPE
    else:
        return None
    if not file.is_file():
        return None
    digest = hashlib.sha256(file.read_bytes() + f"|edition={edition}".encode()).hexdigest()
    return Resource(file, content_type, f'"{digest[:24]}"', last_modified)


def not_modified(resource: Resource, headers: Any) -> bool:
    """RFC 9110 conditional GET: If-None-Match wins; else If-Modified-Since."""
    if_none_match = headers.get("If-None-Match")
    if if_none_match is not None:
        tags = {tag.strip().removeprefix("W/") for tag in if_none_match.split(",")}
        return "*" in tags or resource.etag in tags
    if_modified_since = headers.get("If-Modified-Since")
    if if_modified_since:
        try:
            since = email.utils.parsedate_to_datetime(if_modified_since)
        except (TypeError, ValueError):
            return False
        if since.tzinfo is None:
            return False
        return resource.last_modified <= since
    return False


class Renderer:
    """Wraps a content fragment in its site's layout with fresh chrome (Jinja, autoescape)."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.chrome = tomllib.loads((root / "chrome.toml").read_text(encoding="utf-8"))
        self.env = Environment(
            loader=FileSystemLoader(root / "layouts"),
            autoescape=True,
            undefined=StrictUndefined,
            keep_trailing_newline=True,
        )

    def last_modified(self, edition: int) -> datetime:
        return datetime.fromisoformat(self.chrome["edition"][str(edition)]["last_modified"])

    def render(self, edition: int, url_path: str, content: str, base_url: str) -> str:
        site = url_path.strip("/").split("/")[0]
        lang = "sv" if "/sv/" in f"{url_path}/" else "fi"
        settings = self.chrome["edition"][str(edition)]
        title = page_title(content)
        return self.env.get_template(f"{site}.html").render(
            content=Markup(content),
            title=title,
            lang=lang,
            site=site,
            edition=edition,
            page_url=base_url + url_path,
            s=self.chrome["strings"][lang],
            cookie=settings["cookie_sv" if lang == "sv" else "cookie"],
            notice=settings["notice"],
            nav_extra=settings["nav_extra"],
            related=settings["related"],
            year=settings["year"],
            updated=updated_date(settings["updated"], url_path),
            crumbs=breadcrumbs(url_path, self.chrome["crumbs"]),
            token=secrets.token_hex(16),
            visitors=10_000 + secrets.randbelow(90_000),
        )


def page_title(content: str) -> str:
    """The text of the content's first <h1>."""
    match = _H1.search(content)
    return " ".join(_TAG.sub("", match.group(1)).split()) if match else ""


def updated_date(base: str, url_path: str) -> str:
    """A "Sivua päivitetty" date (D.M.YYYY): the edition's date minus a per-page offset."""
    day = date.fromisoformat(base) - timedelta(days=zlib.crc32(url_path.encode()) % 21)
    return f"{day.day}.{day.month}.{day.year}"


def breadcrumbs(url_path: str, labels: dict[str, str]) -> list[dict[str, str]]:
    """Links for the path segments between the site and the page that have a label."""
    parts = url_path.strip("/").split("/")
    crumbs = []
    for index in range(1, len(parts) - 1):
        if parts[index] in labels:
            crumbs.append(
                {"href": "/" + "/".join(parts[: index + 1]) + "/", "text": labels[parts[index]]}
            )
    return crumbs


def _has_page_without_slash(root: Path, edition: int, path: str) -> bool:
    """'/stm/verkostot/' names a page that exists as '/stm/verkostot': redirect, as CMSs do."""
    if len(path) < 2 or not path.endswith("/"):
        return False
    return resolve(root, edition, path.rstrip("/"), datetime.now()) is not None


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body go out as separate writes

    def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
        self._respond(send_body=True)

    def do_HEAD(self) -> None:  # noqa: N802
        self._respond(send_body=False)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        """Quiet: tests and the demo print nothing per request."""

    def _respond(self, send_body: bool) -> None:
        site = self.server.site
        path = self.path.split("?", 1)[0].split("#", 1)[0]
        site.record(self.command, path)
        if path == "/robots.txt":
            return self._send(200, "text/plain; charset=utf-8", ROBOTS.encode(), send_body)
        edition = site.edition
        resource = resolve(site.root, edition, path, site.renderer.last_modified(edition))
        if resource is None and _has_page_without_slash(site.root, edition, path):
            return self._send(301, HTML_TYPE, b"", send_body, Location=path.rstrip("/"))
        if resource is None:
            return self._send(404, HTML_TYPE, NOT_FOUND.encode(), send_body)
        validators = {
            "ETag": resource.etag,
            "Last-Modified": email.utils.format_datetime(resource.last_modified, usegmt=True),
        }
        if not_modified(resource, self.headers):
            return self._send(304, None, b"", False, **validators)
        body = resource.file.read_bytes()
        if resource.is_page:
            body = site.renderer.render(edition, path, body.decode(), site.base_url).encode()
        elif resource.content_type.startswith("application/rss"):
            body = body.replace(b"{site}", site.base_url.encode())
        self._send(200, resource.content_type, body, send_body, **validators)

    def _send(
        self, status: int, content_type: str | None, body: bytes, send_body: bool, **headers: str
    ) -> None:
        self.send_response(status, HTTPStatus(status).phrase)
        if content_type:
            self.send_header("Content-Type", content_type)
        if status != 304:
            self.send_header("Content-Length", str(len(body)))
        for name, value in headers.items():
            self.send_header(name.replace("_", "-"), value)
        self.send_header("Cache-Control", "no-cache")
        self.end_headers()
        if send_body and body:
            self.wfile.write(body)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    site: SampleSite


class SampleSite:
    """Context manager serving data/sample_site on 127.0.0.1 (ephemeral port) in a thread.

    `edition` may be switched at any time; the next request sees the new edition.
    `requests` lists (method, path) of every request, for tests of politeness.
    """

    def __init__(self, edition: int = 1, root: Path = SITE_ROOT, port: int = 0) -> None:
        self.root = root
        self.edition = edition
        self.requests: list[tuple[str, str]] = []
        self._lock = threading.Lock()
        self._port = port
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def edition(self) -> int:
        return self._edition

    @edition.setter
    def edition(self, value: int) -> None:
        if value not in EDITIONS:
            raise ValueError(f"the sample site has editions {EDITIONS}, not {value!r}")
        self._edition = value

    @cached_property
    def renderer(self) -> Renderer:
        return Renderer(self.root)

    @property
    def base_url(self) -> str:
        if self._server is None:
            raise RuntimeError("the sample site is not running (use it as a context manager)")
        return f"http://127.0.0.1:{self._server.server_port}"  # the address __enter__ binds

    def record(self, method: str, path: str) -> None:
        with self._lock:
            self.requests.append((method, path))

    def __enter__(self) -> SampleSite:
        self.renderer  # noqa: B018 (load chrome and layouts before the first request)
        self._server = _Server(("127.0.0.1", self._port), _Handler)
        self._server.site = self
        self._thread = threading.Thread(
            target=self._server.serve_forever, args=(0.05,), name="sample-site", daemon=True
        )
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join()
        self._server = None
        self._thread = None


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m sotewatch.pipeline.demo.sample_site",
        description="Serve one edition of the bundled sample site on 127.0.0.1 until Ctrl-C.",
    )
    parser.add_argument("--edition", type=int, choices=EDITIONS, default=1)
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    args = parser.parse_args(argv)
    with SampleSite(edition=args.edition, port=args.port) as site:
        print(f"Sample site, edition {site.edition}: {site.base_url}/stm/verkostot")
        print("Press Ctrl-C to stop.", flush=True)
        with contextlib.suppress(KeyboardInterrupt):
            threading.Event().wait()


if __name__ == "__main__":
    main()
