"""Raw bodies are stored once, compressed against the page's earlier version."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from sotewatch.pipeline.config import Settings, Source, SourcesConfig
from sotewatch.pipeline.document.models import Document
from sotewatch.pipeline.storage.bodies import pack, unpack
from sotewatch.pipeline.storage.store import Store

SOURCE = Source(id="stm", url="http://127.0.0.1:9/stm", name="STM")


def page_html(seed: int, paragraph: str) -> bytes:
    """A page of 30 KB or so: a large menu shared by every version, one paragraph of its own."""
    rng = random.Random(seed)
    menu = "".join(f"<li><a href='/{rng.getrandbits(40):x}'>{rng.getrandbits(60):x}</a></li>"
                   for _ in range(600))  # fmt: skip
    return f"<html><nav><ul>{menu}</ul></nav><main><p>{paragraph}</p></main></html>".encode()


@pytest.fixture
def store(tmp_path):
    store = Store.open(tmp_path / "watch.db")
    store.sync_sources(SourcesConfig(Path("sources.toml"), Settings(), (SOURCE,)))
    yield store
    store.close()


def store_version(store: Store, page_id: int, content: bytes) -> str:
    with store.transaction():
        digest = store.store_body(content, "text/html", page_id)
        fetch = store.record_fetch(page_id=page_id, url="u", outcome="ok", body_hash=digest)
        doc = Document(url="u", title=digest[:8])
        store.add_snapshot(page_id, fetch, doc, digest, digest)
    return digest


def row(store: Store, digest: str) -> dict:
    return store.db["bodies"].get(digest)


def test_a_pages_next_version_is_stored_against_the_first_and_reads_back_exactly(store):
    page = store.page(SOURCE, SOURCE.url, "generic", None).id
    first = store_version(store, page, page_html(1, "Ensimmäinen versio."))
    second = store_version(store, page, page_html(1, "Toinen versio, yksi lause lisää."))
    third = store_version(store, page, page_html(1, "Kolmas versio."))
    assert row(store, first)["base"] is None
    assert row(store, second)["base"] == first
    assert row(store, third)["base"] == first, "always the key, never a chain"
    assert store.body(third) == page_html(1, "Kolmas versio.")
    assert len(row(store, second)["data"]) * 10 < len(row(store, first)["data"])


def test_a_body_unlike_the_pages_key_becomes_a_new_key(store):
    page = store.page(SOURCE, SOURCE.url, "generic", None).id
    store_version(store, page, page_html(1, "Vanha sivusto."))
    redesigned = store_version(store, page, page_html(2, "Uusi sivusto."))
    after = store_version(store, page, page_html(2, "Uusi sivusto, päivitetty."))
    assert row(store, redesigned)["base"] is None
    assert row(store, after)["base"] == redesigned


def test_the_same_bytes_are_stored_once_whichever_page_fetched_them(store):
    one = store.page(SOURCE, SOURCE.url + "/a", "generic", None).id
    two = store.page(SOURCE, SOURCE.url + "/b", "generic", None).id
    content = page_html(3, "Sama liite.")
    assert store_version(store, one, content) == store_version(store, two, content)
    assert store.db["bodies"].count == 1


def test_pack_without_a_key_and_unpack_round_trip():
    content = page_html(4, "Äiti, öljy ja åäö.")
    packed = pack(content)
    assert (packed.compression, packed.base) == ("zstd", None)
    assert unpack(packed.data, packed.compression) == content


def test_a_delta_without_its_key_is_an_error_not_garbage():
    key = page_html(5, "Avain.")
    packed = pack(page_html(5, "Muutos."), ("k" * 64, key))
    assert packed.compression == "zstd-delta"
    with pytest.raises(ValueError, match="without its key"):
        unpack(packed.data, packed.compression)
