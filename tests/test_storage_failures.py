"""A full disk ends a run or a delivery cleanly: its own exit code (5), a message that
says what happened, the run marked failed, nothing stored before lost, and no mail
sent that is not recorded (or, past the point of no return, reported as such).

A full disk is SQLite's `max_page_count` on the connection: the database cannot
grow, exactly as on a full file system, without filling one.
"""

from __future__ import annotations

import json
import random
import sqlite3
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import stamina
from click.testing import CliRunner
from digest_fixtures import SmtpSink, cases, make_main_db, names, smtp_server

from sotewatch.pipeline.cli import cli
from sotewatch.pipeline.config import Settings, Source, SourcesConfig
from sotewatch.pipeline.delivery import deliver as deliver_module
from sotewatch.pipeline.delivery.deliver import StateDB, deliver_due, state_path_for
from sotewatch.pipeline.delivery.mail import MailSettings, SMTPMailer, SMTPSettings
from sotewatch.pipeline.delivery.subscribers import Follow, Subscriber
from sotewatch.pipeline.errors import EXIT_STORAGE, StorageError
from sotewatch.pipeline.runs import runner as runner_module
from sotewatch.pipeline.runs.run import run_sources
from sotewatch.pipeline.runs.runner import prepare_store
from sotewatch.pipeline.storage.store import Store
from sotewatch.pipeline.tagging.tag import Tagger
from sotewatch.pipeline.tagging.taxonomy import load_taxonomy

SETTINGS = Settings(per_host_delay=0.0, connect_timeout=1.0, read_timeout=1.0, retries=0)


def fill_disk(conn: sqlite3.Connection) -> None:
    """From now on this connection's database cannot grow by a single page."""
    pages = conn.execute("pragma page_count").fetchone()[0]
    conn.execute(f"pragma max_page_count = {pages}")


class _Pages(BaseHTTPRequestHandler):
    """Serves the server's current `body` at any path."""

    def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
        body = self.server.body.encode()  # type: ignore[attr-defined]
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        pass


def article(seed: int, words: int) -> str:
    """A page of `words` words that compress badly: storing it needs new pages."""
    rng = random.Random(seed)
    text = " ".join(f"{rng.getrandbits(40):x}" for _ in range(words))
    return (
        "<!doctype html><html lang='fi'><head><meta charset='utf-8'><title>Verkostot</title>"
        f"</head><body><main><h1>Verkostot</h1><p>Hyvinvointialueet {text}.</p></main></body>"
        "</html>"
    )


@pytest.fixture
def site() -> Iterator[ThreadingHTTPServer]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Pages)
    server.body = article(1, 50)  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    yield server
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


def _url(server: ThreadingHTTPServer) -> str:
    return f"http://127.0.0.1:{server.server_address[1]}/verkostot"


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    store = prepare_store(tmp_path / "watch.db", load_taxonomy())
    yield store
    store.close()


def _run(store: Store, server: ThreadingHTTPServer, tmp_path: Path):
    source = Source(id="watched", url=_url(server), language="fi")
    config = SourcesConfig(tmp_path / "sources.toml", SETTINGS, (source,))
    tagger = Tagger(load_taxonomy(), lemmatiser=lambda word, lang: word)
    with stamina.set_testing(True, attempts=1):
        return run_sources(store, config, tagger, settings=SETTINGS, force=True)


def test_a_full_disk_stops_the_run_marked_failed_keeping_what_was_stored(
    store: Store, site: ThreadingHTTPServer, tmp_path: Path
) -> None:
    first = _run(store, site, tmp_path)
    snapshots = store.conn.execute("select id, doc_hash from snapshots").fetchall()
    assert len(snapshots) == 1

    site.body = article(2, 20_000)  # type: ignore[attr-defined]
    fill_disk(store.conn)
    with pytest.raises(StorageError) as stopped:
        _run(store, site, tmp_path)
    assert stopped.value.exit_code == EXIT_STORAGE == 5
    assert "the database or the disk is full" in str(stopped.value)
    assert str(store.path) in str(stopped.value)

    runs = store.conn.execute("select id, status, exit_code from runs order by id").fetchall()
    assert runs[0] == (first.run_id, "ok", 0)
    assert runs[-1][1:] == ("failed", 5)
    assert store.conn.execute("select id, doc_hash from snapshots").fetchall() == snapshots


def test_run_exits_5_with_a_message_not_a_traceback(
    site: ThreadingHTTPServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    site.body = article(3, 20_000)  # type: ignore[attr-defined]
    sources = tmp_path / "sources.toml"
    sources.write_text(
        f'[settings]\nper_host_delay = 0\n\n[[source]]\nid = "watched"\n'
        f'url = "{_url(site)}"\nlanguage = "fi"\n',
        encoding="utf-8",
    )
    real_prepare = runner_module.prepare_store

    def full(path: Path, taxonomy: object) -> Store:
        store = real_prepare(path, taxonomy)
        fill_disk(store.conn)
        return store

    monkeypatch.setattr(runner_module, "prepare_store", full)
    db = tmp_path / "watch.db"
    args = ["--db", str(db), "run", "--sources", str(sources), "--no-send"]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 5, result.output
    assert "disk is full" in result.output
    assert "Traceback" not in result.output


READER = Subscriber("lappi", "aino@example.org", "Aino", "fi", Follow.everything())
MAIL = MailSettings(sender="sotewatch@example.org")


def _deliver(db, state: Path, port: int):
    from datetime import UTC, datetime

    mailer = SMTPMailer(SMTPSettings("127.0.0.1", port, tls="none"))
    now = datetime(2026, 11, 23, 7, 0, tzinfo=UTC)
    return deliver_due(db, state, [READER], mailer, now=now, names=names(), settings=MAIL)


@pytest.fixture
def main_db(tmp_path: Path):
    return make_main_db(tmp_path / "sotewatch.db", cases()["change"])


def test_a_full_private_database_sends_nothing_and_loses_nothing(
    main_db, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    state = state_path_for(tmp_path / "sotewatch.db")
    real_init = StateDB.__init__

    def full(self: StateDB, path: Path | str) -> None:
        real_init(self, path)
        fill_disk(self.db.conn)

    sink = SmtpSink()
    with smtp_server(sink) as server:
        monkeypatch.setattr(StateDB, "__init__", full)
        with pytest.raises(StorageError, match="delivery stopped at lappi, nothing unrecorded"):
            _deliver(main_db, state, server.port)
        assert sink.to("aino@example.org") == []
        monkeypatch.setattr(StateDB, "__init__", real_init)  # space freed
        report = _deliver(main_db, state, server.port)
    assert [o.subscriber_id for o in report.sent] == ["lappi"]
    assert len(sink.to("aino@example.org")) == 1


def test_a_message_accepted_but_not_recorded_is_reported(
    main_db, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def disk_full(self: StateDB) -> None:
        error = sqlite3.OperationalError("database or disk is full")
        error.sqlite_errorcode = 13  # type: ignore[attr-defined]
        raise error

    monkeypatch.setattr(deliver_module.StateDB, "_commit", disk_full)
    sink = SmtpSink()
    with smtp_server(sink) as server, pytest.raises(StorageError) as stopped:
        _deliver(main_db, state_path_for(tmp_path / "sotewatch.db"), server.port)
    message = str(stopped.value)
    assert "ACCEPTED digest 1 for lappi but it could not be recorded as sent" in message
    assert stopped.value.exit_code == 5
    assert len(sink.to("aino@example.org")) == 1


@pytest.mark.parametrize("log_format", ["text", "json"])
def test_any_command_meeting_a_full_disk_exits_5(
    store: Store, monkeypatch: pytest.MonkeyPatch, log_format: str
) -> None:
    def full(store: Store) -> str:
        error = sqlite3.OperationalError("database or disk is full")
        error.sqlite_errorcode = 13  # type: ignore[attr-defined]
        raise error

    monkeypatch.setattr(runner_module, "index_search", full)
    command = ["--db", str(store.path), "--log-format", log_format, "index"]
    result = CliRunner().invoke(cli, command)
    assert result.exit_code == 5
    assert "the database or the disk is full" in result.output
    assert "Traceback" not in result.output
    if log_format == "json":  # a log shipper reads this line as it reads every other
        line = json.loads(result.output.strip().splitlines()[-1])
        assert line["level"] == "error" and line["exit_code"] == 5
