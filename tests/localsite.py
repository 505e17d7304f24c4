"""A real HTTP server on 127.0.0.1 (an ephemeral port) serving fixed pages by path."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@contextmanager
def serving(
    pages: dict[str, bytes],
    content_type: str = "text/html; charset=utf-8",
    types: dict[str, str] | None = None,
) -> Iterator[str]:
    """Serve `pages` (path -> body; `types`: path -> its own Content-Type) and yield the
    base URL; 404 for any other path."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 (http.server's name)
            path = self.path.split("?")[0]
            body = pages.get(path)
            self.send_response(200 if body is not None else 404)
            self.send_header("Content-Type", (types or {}).get(path, content_type))
            self.send_header("Content-Length", str(len(body or b"")))
            self.end_headers()
            self.wfile.write(body or b"")

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
