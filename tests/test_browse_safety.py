"""`browse` serves only a sotewatch database, never changes another, never serves private tables."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from sotewatch.pipeline.browsing.browse import PRIVATE_TABLES, check_servable, readiness
from sotewatch.pipeline.delivery.deliver import StateDB
from sotewatch.pipeline.errors import ConfigError
from sotewatch.pipeline.storage.store import Store


def tables(path: Path) -> set[str]:
    conn = sqlite3.connect(path)
    try:
        return {r[0] for r in conn.execute("select name from sqlite_master where type = 'table'")}
    finally:
        conn.close()


def test_every_table_of_the_private_database_is_listed_as_private(tmp_path: Path) -> None:
    """The list is checked against what the private database really holds, so a private
    table added later (`digests` holds whole messages) cannot be forgotten."""
    StateDB(tmp_path / "x-private.db").close()
    private = {t for t in tables(tmp_path / "x-private.db") if not t.startswith("sqlite_")}
    assert private and private <= PRIVATE_TABLES


def test_no_table_of_the_public_database_is_listed_as_private(tmp_path: Path) -> None:
    Store.open(tmp_path / "x.db").close()
    assert not tables(tmp_path / "x.db") & PRIVATE_TABLES
    check_servable(tmp_path / "x.db")


def test_a_database_holding_digests_is_refused(tmp_path: Path) -> None:
    StateDB(tmp_path / "x-private.db").close()
    with pytest.raises(ConfigError, match=r"private tables \(deliveries, digests\)"):
        check_servable(tmp_path / "x-private.db")


def test_an_unrelated_sqlite_file_is_refused_and_left_as_it_was(tmp_path: Path) -> None:
    path = tmp_path / "notes.db"
    conn = sqlite3.connect(path)
    conn.execute("create table notes (id integer primary key, text text)")
    conn.execute("insert into notes (text) values ('ostoslista')")
    conn.commit()
    conn.close()
    before = path.read_bytes()
    with pytest.raises(ConfigError, match="not a sotewatch database"):
        readiness(path)
    assert tables(path) == {"notes"}
    assert path.read_bytes() == before
