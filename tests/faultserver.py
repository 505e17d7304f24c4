"""A real HTTP server on 127.0.0.1 that fails in every way the web does.

Each fault is a route, so a test reads like the fault it checks:

    /page/<name>                 200 HTML with ETag and Last-Modified; answers 304 to either
    /slow?seconds=S              waits S seconds before answering
    /reset                       drops the connection with a TCP reset, no answer
    /flaky/<name>?fail=N&status=C   answers C (default 500) N times, then 200
    /retry-after/<name>?seconds=S[&date=1]  429 with Retry-After (seconds or a date) once, then 200
    /loop/a, /loop/b             redirect to each other forever
    /chain/<n>                   redirects n times, then 200
    /redirect?to=URL             one 302 to any URL (file://, ftp://, ...)
    /big?mb=M[&chunked=1]        M megabytes of HTML, streamed (chunked: no Content-Length)
    /bomb?mb=M                   a gzip body that inflates to M megabytes
    /charset/<case>              bodies in other encodings (see CHARSET_CASES)
    /gzipped/<name>, /deflated/zlib, /deflated/raw   compressed pages
    /brotli                      a Content-Encoding we never asked for
    /article/<name>              a page with three sections of real-looking text
    /rebuilt/<name>?build=N[&edit=W]  that article as built the Nth time: a new build date
                                 in its footer (and ETag); W replaces its first word
    /empty                       200 with no body
    /maintenance                 200 with a Finnish service-break notice
    /status/<code>               that status, with a small body
    /private/<name>              disallowed by /robots.txt (see ROBOTS_TXT)
    /concurrent/<name>?seconds=S counts requests in flight (see max_in_flight)

Use it through the `fault_server` pytest fixture (import it into conftest.py):
`fault_server.url("/slow?seconds=1")`, `fault_server.hits("/robots.txt")`,
`fault_server.max_in_flight`, `fault_server.serve_as("/watched", "/reset")`.
"""

from __future__ import annotations

import gzip
import hashlib
import socket
import struct
import threading
import time
import zlib
from collections import Counter
from collections.abc import Iterator
from email.utils import formatdate
from functools import lru_cache
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import pytest

LAST_MODIFIED = "Mon, 03 Mar 2025 08:00:00 GMT"
ROBOTS_TXT = "User-agent: *\nDisallow: /private/\n"
MAINTENANCE_HTML = (
    "<!doctype html><html lang='fi'><head><meta charset='utf-8'><title>Huoltokatko</title>"
    "</head><body><main><h1>Sivusto on huollossa</h1><p>Palvelu on tilapäisesti poissa "
    "käytöstä. Yritä myöhemmin uudelleen.</p></main></body></html>"
)
ARTICLE_HTML = (
    "<!doctype html><html lang='fi'><head><meta charset='utf-8'><title>Verkostot ({name})"
    "</title></head><body><nav><a href='/'>Etusivu</a></nav><main><h1>Verkostot ({name})</h1>"
    "<h2>Viestintäverkosto</h2><p>Viestintäverkosto tukee hyvinvointialueiden viestintää ja "
    "kokoontuu kerran kuukaudessa. Verkoston työtä koordinoi ministeriön viestintäyksikkö.</p>"
    "<h2>Sidosryhmäverkosto</h2><p>Sidosryhmäverkostossa järjestöt, kunnat ja "
    "hyvinvointialueet vaihtavat tietoa valmistelun etenemisestä. Verkosto kokoontuu "
    "neljännesvuosittain, ja sen muistiot julkaistaan tällä sivulla.</p>"
    "<h2>Yhteystiedot</h2><p>Erityisasiantuntija Aino Esimerkki, puh. 0295 000 001, "
    "aino.esimerkki@example.fi</p></main><footer>Sivua päivitetty</footer></body></html>"
)
FINNISH = "Hyvinvointialueiden yhteistyö: Pohjois-Pohjanmaa, Etelä-Savo ja Åland – „päätös“"
LATIN1 = "Yhteistyö ja päätös: Etelä-Savo, Åland. Samarbete över gränserna."

# case -> (header charset or None, body encoding, meta charset or None, text)
CHARSET_CASES: dict[str, tuple[str | None, str, str | None, str]] = {
    "latin1": ("iso-8859-1", "iso-8859-1", None, LATIN1),
    "latin1-no-declaration": (None, "iso-8859-1", None, LATIN1),
    "cp1252": ("windows-1252", "windows-1252", None, FINNISH),
    "utf8-said-latin1": ("iso-8859-1", "utf-8", "utf-8", FINNISH),
    "latin1-said-utf8": ("utf-8", "iso-8859-1", "iso-8859-1", LATIN1),
    "cp1252-said-utf8": ("utf-8", "windows-1252", "windows-1252", FINNISH),
    "cp1252-no-header": (None, "windows-1252", "windows-1252", FINNISH),
    "utf8-no-declaration": (None, "utf-8", None, FINNISH),
    "utf8-latin1-text": ("utf-8", "utf-8", "utf-8", LATIN1),
}


def page_html(name: str, text: str = FINNISH, meta: str | None = "utf-8") -> str:
    head = f"<meta charset='{meta}'>" if meta else ""
    return (
        f"<!doctype html><html lang='fi'><head>{head}<title>{name}</title></head>"
        f"<body><main><h1>{name}</h1><p>{text}</p></main></body></html>"
    )


@lru_cache(maxsize=4)
def gzip_bomb(megabytes: int) -> bytes:
    """Zeros, gzip-compressed about 1000:1."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, 31)
    block = bytes(1 << 20)
    parts = [compressor.compress(block) for _ in range(megabytes)]
    parts.append(compressor.flush())
    return b"".join(parts)


class FaultServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.lock = threading.Lock()
        self.counts: Counter[str] = Counter()
        self.seen_headers: dict[str, list[dict[str, str]]] = {}
        self.in_flight = 0
        self.max_in_flight = 0
        self.starts: list[float] = []
        self.robots_txt = ROBOTS_TXT  # a test may set its own before fetching
        self.aliases: dict[str, str] = {}  # path -> the route (with query) that answers it

    def serve_as(self, path: str, route: str) -> None:
        """From now on `path` answers like `route`: one watched URL, a new fault each run."""
        with self.lock:
            self.aliases[path] = route

    @property
    def base_url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host}:{port}"

    def url(self, path: str) -> str:
        return self.base_url + path

    def hits(self, path: str) -> int:
        """How many requests reached `path` (without its query string)."""
        with self.lock:
            return self.counts[path]

    def headers_for(self, path: str) -> list[dict[str, str]]:
        with self.lock:
            return list(self.seen_headers.get(path, []))

    def record(self, path: str, headers: dict[str, str]) -> int:
        with self.lock:
            self.counts[path] += 1
            self.seen_headers.setdefault(path, []).append(headers)
            self.starts.append(time.monotonic())
            return self.counts[path]

    def enter(self) -> None:
        with self.lock:
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)

    def leave(self) -> None:
        with self.lock:
            self.in_flight -= 1


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: FaultServer

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        """Quiet: pytest shows the failing assertion, not an access log."""

    def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
        parts = urlsplit(self.path)
        count = self.server.record(parts.path, {k.lower(): v for k, v in self.headers.items()})
        with self.server.lock:
            alias = self.server.aliases.get(parts.path)
        if alias is not None:
            parts = urlsplit(alias)
        path, query = parts.path, {k: v[-1] for k, v in parse_qs(parts.query).items()}
        self.server.enter()
        try:
            self._route(path, query, count)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True  # the client gave up (a timeout test): expected
        finally:
            self.server.leave()

    def _route(self, path: str, query: dict[str, str], count: int) -> None:
        head, _, rest = path.lstrip("/").partition("/")
        if path == "/robots.txt":
            return self._send(200, self.server.robots_txt.encode(), "text/plain")
        handler = _ROUTES.get(head)
        if handler is None:
            return self._send(404, b"<h1>not found</h1>", "text/html")
        handler(self, rest, query, count)

    def _send(
        self,
        status: int,
        body: bytes,
        content_type: str | None,
        headers: dict[str, str] | None = None,
    ) -> None:
        self.send_response(status)
        if content_type:
            self.send_header("Content-Type", content_type)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _redirect(self, location: str) -> None:
        self._send(302, b"", None, {"Location": location})

    # Routes ---------------------------------------------------------------

    def page(self, name: str, query: dict[str, str], count: int) -> None:
        body = page_html(name).encode()
        etag = '"' + hashlib.sha256(body).hexdigest()[:16] + '"'
        validators = {"ETag": etag, "Last-Modified": LAST_MODIFIED}
        if self.headers.get("If-None-Match") == etag or (
            self.headers.get("If-Modified-Since") == LAST_MODIFIED
            and "If-None-Match" not in self.headers
        ):
            self.send_response(304)
            for key, value in validators.items():
                self.send_header(key, value)
            self.end_headers()
            return
        self._send(200, body, "text/html; charset=utf-8", validators)

    def slow(self, rest: str, query: dict[str, str], count: int) -> None:
        time.sleep(float(query.get("seconds", "5")))
        self._send(200, page_html("slow").encode(), "text/html; charset=utf-8")

    def reset(self, rest: str, query: dict[str, str], count: int) -> None:
        # SO_LINGER with a zero timeout makes close() send RST instead of FIN.
        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.connection.close()
        self.close_connection = True

    def flaky(self, name: str, query: dict[str, str], count: int) -> None:
        if count <= int(query.get("fail", "1")):
            status = int(query.get("status", "500"))
            return self._send(status, b"<h1>server error</h1>", "text/html")
        self._send(200, page_html(name).encode(), "text/html; charset=utf-8")

    def retry_after(self, name: str, query: dict[str, str], count: int) -> None:
        """?seconds=S sends delta-seconds; ?date=1 sends the same as an HTTP date."""
        if count == 1:
            seconds = query.get("seconds", "1")
            value = seconds
            if query.get("date") == "1":
                value = formatdate(time.time() + float(seconds), usegmt=True)
            retry = {"Retry-After": value}
            return self._send(429, b"<h1>slow down</h1>", "text/html", retry)
        self._send(200, page_html(name).encode(), "text/html; charset=utf-8")

    def loop(self, name: str, query: dict[str, str], count: int) -> None:
        self._redirect("/loop/b" if name == "a" else "/loop/a")

    def chain(self, n: str, query: dict[str, str], count: int) -> None:
        if int(n) > 0:
            return self._redirect(f"/chain/{int(n) - 1}")
        self._send(200, page_html("end of chain").encode(), "text/html; charset=utf-8")

    def redirect(self, rest: str, query: dict[str, str], count: int) -> None:
        self._redirect(query["to"])

    def big(self, rest: str, query: dict[str, str], count: int) -> None:
        """With ?chunked=1 no Content-Length warns the client: it must count as it reads."""
        size = int(float(query.get("mb", "30")) * (1 << 20))
        chunked = query.get("chunked") == "1"
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        if chunked:
            self.send_header("Transfer-Encoding", "chunked")
        else:
            self.send_header("Content-Length", str(size))
        self.end_headers()
        block = b"<p>" + b"x" * 65529 + b"</p>"
        frame = b"%x\r\n%s\r\n" % (len(block), block) if chunked else block
        try:
            for _ in range(size // len(block)):
                self.wfile.write(frame)
            if chunked:
                self.wfile.write(b"0\r\n\r\n")
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True  # the client stopped reading: expected

    def bomb(self, rest: str, query: dict[str, str], count: int) -> None:
        body = gzip_bomb(int(query.get("mb", "100")))
        headers = {"Content-Encoding": "gzip"}
        try:
            self._send(200, body, "text/html; charset=utf-8", headers)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True

    def charset(self, case: str, query: dict[str, str], count: int) -> None:
        header, encoding, meta, text = CHARSET_CASES[case]
        body = page_html("Merkistöt", text, meta=meta).encode(encoding)
        content_type = f"text/html; charset={header}" if header else "text/html"
        self._send(200, body, content_type)

    def article(self, name: str, query: dict[str, str], count: int) -> None:
        """A page with enough text that a later short answer reads as a collapse."""
        body = ARTICLE_HTML.format(name=name).encode()
        self._send(200, body, "text/html; charset=utf-8")

    def rebuilt(self, name: str, query: dict[str, str], count: int) -> None:
        """The article with a footer that changes at every build, as a site generator's."""
        body = ARTICLE_HTML.format(name=name)
        body = body.replace("Sivua päivitetty", f"Sivusto koottu {query.get('build', '1')}.12.2026")
        if "edit" in query:
            body = body.replace("Viestintäverkosto tukee", f"{query['edit']} tukee")
        data = body.encode()
        self._send(200, data, "text/html; charset=utf-8", {"ETag": f'"{hash(data)}"'})

    def empty(self, rest: str, query: dict[str, str], count: int) -> None:
        self._send(200, b"", "text/html; charset=utf-8")

    def maintenance(self, rest: str, query: dict[str, str], count: int) -> None:
        self._send(200, MAINTENANCE_HTML.encode(), "text/html; charset=utf-8")

    def status(self, code: str, query: dict[str, str], count: int) -> None:
        self._send(int(code), f"<h1>status {code}</h1>".encode(), "text/html")

    def private(self, name: str, query: dict[str, str], count: int) -> None:
        self._send(200, page_html(name).encode(), "text/html; charset=utf-8")

    def concurrent(self, name: str, query: dict[str, str], count: int) -> None:
        time.sleep(float(query.get("seconds", "0.1")))
        self._send(200, page_html(name).encode(), "text/html; charset=utf-8")

    def gzipped(self, name: str, query: dict[str, str], count: int) -> None:
        body = gzip.compress(page_html(name).encode())
        self._send(200, body, "text/html; charset=utf-8", {"Content-Encoding": "gzip"})

    def deflated(self, kind: str, query: dict[str, str], count: int) -> None:
        """/deflated/zlib is RFC 'deflate'; /deflated/raw is what some IIS servers send."""
        wbits = zlib.MAX_WBITS if kind == "zlib" else -zlib.MAX_WBITS
        compressor = zlib.compressobj(6, zlib.DEFLATED, wbits)
        body = compressor.compress(page_html(kind).encode()) + compressor.flush()
        self._send(200, body, "text/html; charset=utf-8", {"Content-Encoding": "deflate"})

    def brotli(self, name: str, query: dict[str, str], count: int) -> None:
        """An encoding we never asked for (the bytes are not even brotli)."""
        self._send(200, b"\x1b\x00\x00", "text/html", {"Content-Encoding": "br"})


_ROUTES = {
    "page": _Handler.page,
    "rebuilt": _Handler.rebuilt,
    "slow": _Handler.slow,
    "reset": _Handler.reset,
    "flaky": _Handler.flaky,
    "retry-after": _Handler.retry_after,
    "loop": _Handler.loop,
    "chain": _Handler.chain,
    "redirect": _Handler.redirect,
    "big": _Handler.big,
    "bomb": _Handler.bomb,
    "charset": _Handler.charset,
    "article": _Handler.article,
    "empty": _Handler.empty,
    "maintenance": _Handler.maintenance,
    "status": _Handler.status,
    "private": _Handler.private,
    "concurrent": _Handler.concurrent,
    "gzipped": _Handler.gzipped,
    "deflated": _Handler.deflated,
    "brotli": _Handler.brotli,
}


@pytest.fixture
def fault_server() -> Iterator[FaultServer]:
    """A fresh fault-injecting server per test, so hit counts start at zero."""
    server = FaultServer()
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.daemon = True
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
