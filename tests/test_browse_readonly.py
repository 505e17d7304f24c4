"""`browse` only reads: it never migrates or indexes the database it serves. It says
what is behind (schema, search index) and that `sotewatch index` brings it up to date."""

from __future__ import annotations

import hashlib
import sqlite3
from pathlib import Path

import pytest
from bs4 import BeautifulSoup
from click.testing import CliRunner
from datasette_history import HistoryDb, _fill, build
from test_migrations import first_release_db

from sotewatch.pipeline.browsing.browse import make_app, readiness
from sotewatch.pipeline.cli import cli
from sotewatch.pipeline.storage.migrations import MIGRATIONS
from sotewatch.pipeline.storage.store import Store


def unindexed_db(tmp: Path) -> Path:
    """A history as `run` leaves it: stored, migrated, not yet indexed for search."""
    history = HistoryDb(tmp / "sotewatch.db", tmp / "sotewatch-private.db")
    store = Store.open(history.path)
    try:
        _fill(store, history.ids, history.titles)
    finally:
        store.close()
    return history.path


def fingerprint(path: Path) -> str:
    """The bytes of the database and of any WAL beside it."""
    digest = hashlib.sha256()
    for part in (path, path.with_name(path.name + "-wal")):
        if part.exists():
            digest.update(part.read_bytes())
    return digest.hexdigest()


@pytest.fixture
def served(monkeypatch: pytest.MonkeyPatch) -> list[list[str]]:
    """The command `browse` would exec, recorded instead of run."""
    calls: list[list[str]] = []

    def execv(path: str, args: list[str]) -> None:
        calls.append(args)
        raise SystemExit(0)

    monkeypatch.setattr("sotewatch.pipeline.commands.database.os.execv", execv)
    return calls


def browse(db: Path) -> tuple[int, str]:
    result = CliRunner().invoke(cli, ["--db", str(db), "browse"])
    return result.exit_code, result.output


def test_browse_serves_a_stale_index_as_it_is_and_says_to_run_index(
    tmp_path: Path, served: list[list[str]]
) -> None:
    db = unindexed_db(tmp_path)
    before = fingerprint(db)
    code, output = browse(db)
    assert code == 0, output
    assert served, "browse did not start Datasette"
    assert "search index is behind" in output and "`sotewatch index`" in output
    assert fingerprint(db) == before  # nothing indexed, nothing written


def test_browse_refuses_a_database_whose_schema_is_behind_and_leaves_it_as_it_was(
    tmp_path: Path, served: list[list[str]]
) -> None:
    db = tmp_path / "sotewatch.db"
    first_release_db(db)
    before = fingerprint(db)
    code, output = browse(db)
    assert code == 2, output
    assert not served
    assert "schema is behind" in output and "run `sotewatch index`" in output
    assert fingerprint(db) == before


def test_index_migrates_and_indexes_so_that_browse_has_nothing_to_say(
    tmp_path: Path, served: list[list[str]]
) -> None:
    db = tmp_path / "sotewatch.db"
    first_release_db(db)
    result = CliRunner().invoke(cli, ["--db", str(db), "index"])
    assert result.exit_code == 0, result.output
    conn = sqlite3.connect(db)
    try:
        done = [row[0] for row in conn.execute("select name from _migrations order by name")]
    finally:
        conn.close()
    assert done == [name for name, _ in MIGRATIONS]
    assert readiness(db) == []
    code, output = browse(db)
    assert code == 0 and "warning" not in output, output


async def test_the_search_page_says_the_index_is_behind(tmp_path: Path) -> None:
    app = make_app(unindexed_db(tmp_path))
    response = await app.client.get("/-/sotewatch/search?q=Lappi")
    assert response.status_code == 200, response.text
    notice = BeautifulSoup(response.text, "html.parser").select_one(".sw-behind")
    assert notice is not None
    assert "sotewatch index" in notice.get_text()


async def test_an_indexed_database_has_no_such_notice(tmp_path: Path) -> None:
    app = make_app(build(tmp_path).path)
    response = await app.client.get("/-/sotewatch/search?q=Lappi")
    assert response.status_code == 200, response.text
    assert BeautifulSoup(response.text, "html.parser").select_one(".sw-behind") is None
