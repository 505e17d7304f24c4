"""A real local webhook receiver for Apprise's json:// URLs (Teams-style channels).

It answers on 127.0.0.1 with an ephemeral port, and behaves as `mode` says:
"ok" (200 and the digest counts as received), "fail" (500), or "hang" (reads the
request, says so through `arrived`, then waits, without answering, until `release`).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Receiver:
    mode: str = "ok"
    received: list[dict] = field(default_factory=list)  # answered with 200: delivered
    attempts: list[dict] = field(default_factory=list)  # every request that arrived
    arrived: threading.Event = field(default_factory=threading.Event)
    release: threading.Event = field(default_factory=threading.Event)
    port: int = 0

    def url(self, query: str = "") -> str:
        return f"json://127.0.0.1:{self.port}/" + (f"?{query}" if query else "")


def _handler(receiver: Receiver) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            receiver.attempts.append(body)
            if receiver.mode == "hang":
                receiver.arrived.set()
                receiver.release.wait(timeout=300)  # a guard, not a measurement
                self.close_connection = True
                return
            status = 200 if receiver.mode == "ok" else 500
            if status == 200:
                receiver.received.append(body)
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: object) -> None:
            return None

    return Handler


@contextmanager
def webhook_receiver(mode: str = "ok") -> Iterator[Receiver]:
    receiver = Receiver(mode)
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(receiver))
    server.daemon_threads = True
    receiver.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        receiver.release.set()
        server.shutdown()
        server.server_close()
        thread.join()
