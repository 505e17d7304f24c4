"""A small history for the Datasette tests: three pages, several versions, tagged changes.

Written through `Store` exactly as a run writes, then dated (the store stamps rows
with the wall clock) so the activity chart has weeks to show. Invented people;
real county and network names. One edit carries a `<script>` in scraped text.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field
from pathlib import Path

from sotewatch.pipeline.config import Settings, Source, SourcesConfig
from sotewatch.pipeline.document.models import Change, ChangeKind, Contact, Document, Section
from sotewatch.pipeline.storage.search import index_new
from sotewatch.pipeline.storage.store import Store, doc_hash

SCRIPT = "<script>alert('scraped')</script>"
SUBSCRIBER_EMAIL = "salainen.tilaaja@example.org"

REGIONS = [
    {"slug": "lappi", "name_fi": "Lapin hyvinvointialue", "name_sv": "Lapplands välfärdsområde"},
    {"slug": "kainuu", "name_fi": "Kainuun hyvinvointialue", "name_sv": "Kajanalands"},
    {"slug": "pohjanmaa", "name_fi": "Pohjanmaan hyvinvointialue", "name_sv": "Österbottens"},
    {"slug": "kanta-hame", "name_fi": "Kanta-Hämeen hyvinvointialue", "name_sv": "Egentliga"},
]
NETWORKS = [{"slug": "viestintaverkosto", "name": "Viestintäverkosto", "aliases": "[]"}]

MAIJA = Contact(
    "Maija Testinen",
    "viestintäpäällikkö",
    "STM",
    "+358295160001",
    "maija.testinen@stm.fi",
    "Viestintäverkosto",
)
ANTTI = Contact(
    "Antti Esimerkki",
    "erityisasiantuntija",
    "STM",
    "+358295160002",
    "antti.esimerkki@stm.fi",
    "Viestintäverkosto",
)


def _networks_page(contact: Contact, lapland: str) -> Document:
    return Document(
        url="https://stm.example/verkostot",
        title="Sote-uudistuksen verkostot",
        sections=(
            Section(("Verkostot", "Viestintäverkosto"), ("Verkosto kokoontuu kuukausittain.",)),
            Section(("Verkostot", "Alueellinen valmistelu"), (lapland,)),
        ),
        contacts=(contact,),
    )


KAINUU_DOC = Document(
    url="https://soste.example/kainuu",
    title="Järjestöyhteistyö Kainuussa",
    sections=(Section(("Alueet",), ("Järjestöt osallistuvat valmisteluun Kainuussa.",)),),
)
HAME_DOC = Document(
    url="https://soste.example/hame",
    title="Järjestöt Kanta-Hämeessä",
    sections=(Section(("Järjestöt",), ("Hämeenlinnassa ja Hämeessä toimii järjestöjä.",)),),
)
OSTERBOTTEN_DOC = Document(
    url="https://stm.example/sv/valfard",
    title="Beredningen i Österbottens kommuner",
    language="sv",
    sections=(Section(("Beredning",), ("Välfärdsområdets beredning fortsätter.",)),),
)


@dataclass
class HistoryDb:
    """The public database (path) and the private one beside it, with ids to link to."""

    path: Path
    private: Path
    ids: dict[str, int] = field(default_factory=dict)
    titles: dict[str, str] = field(default_factory=dict)


def build(tmp: Path) -> HistoryDb:
    """The public database plus a private one, as a deployment has them side by side."""
    history = HistoryDb(tmp / "sotewatch.db", tmp / "sotewatch-private.db")
    store = Store.open(history.path)
    try:
        _fill(store, history.ids, history.titles)
        index_new(store.db)
    finally:
        store.close()
    _private_db(history.private)
    return history


def _fill(store: Store, ids: dict[str, int], titles: dict[str, str]) -> None:
    sources = (
        Source(
            id="stm-verkostot",
            url="https://stm.example/verkostot",
            family="ministry",
            name="STM: verkostot",
        ),
        Source(id="soste", url="https://soste.example/", family="ngo", name="SOSTE"),
    )
    store.sync_sources(SourcesConfig(Path("sources.toml"), Settings(), sources))
    store.sync_taxonomy(REGIONS, NETWORKS)
    run = store.start_run()
    stm, soste = sources
    first = _networks_page(MAIJA, "Valmistelu etenee Lapissa ja Lapin kunnissa.")
    second = _networks_page(ANTTI, f"Valmistelu etenee Lapissa nopeasti. {SCRIPT}")
    page, one = _version(store, stm, first, run, [], "2026-03-02T08:00:00Z")
    edits = [
        Change(
            ChangeKind.CONTACT_REPLACED,
            page.url,
            first.title,
            "Verkostot / Viestintäverkosto",
            "Maija Testinen, viestintäpäällikkö",
            "Antti Esimerkki, erityisasiantuntija",
            "Maija Testinen replaced by Antti Esimerkki",
            networks=("viestintaverkosto",),
        ),
        Change(
            ChangeKind.TEXT_EDITED,
            page.url,
            first.title,
            "Verkostot / Alueellinen valmistelu",
            "Valmistelu etenee Lapissa ja Lapin kunnissa.",
            f"Valmistelu etenee Lapissa nopeasti. {SCRIPT}",
            "Paragraph reworded",
            regions=("lappi",),
        ),
    ]
    _, two = _version(store, stm, second, run, edits, "2026-03-16T08:00:00Z", one)
    ids.update(networks_page=page.id, first_version=one, second_version=two)
    titles["networks"] = second.title
    ids["contact_change"], ids["text_change"] = _change_ids(store, two)
    for key, doc, regions, when in (
        ("kainuu", KAINUU_DOC, ("kainuu",), "2026-03-31T09:00:00Z"),
        ("hame", HAME_DOC, ("kanta-hame",), "2026-04-08T09:00:00Z"),
        ("osterbotten", OSTERBOTTEN_DOC, ("pohjanmaa",), "2026-03-17T09:00:00Z"),
    ):
        added = Change(
            ChangeKind.PAGE_ADDED,
            doc.url,
            doc.title,
            after=doc.text,
            summary="New page",
            regions=regions,
        )
        p, snap = _version(store, soste, doc, run, [added], when)
        ids[f"{key}_page"], ids[f"{key}_version"] = p.id, snap
        titles[key] = doc.title


def _version(store, source, doc, run, changes, when, previous=None):
    """One page fetched with new content: fetch, snapshot and changes in one transaction."""
    page = store.page(source, doc.url, source.family, None)
    with store.transaction():
        fetch = store.record_fetch(
            run_id=run,
            page_id=page.id,
            source_id=source.id,
            url=doc.url,
            status_code=200,
            outcome="ok",
        )
        snap = store.add_snapshot(page.id, fetch, doc, doc_hash(doc), None)
        store.add_changes(run, page.id, snap, previous, changes)
        store.update_page(page.id, title=doc.title, last_seen=when)
    store.db.execute("update snapshots set taken_at = ? where id = ?", [when, snap])
    store.db.execute("update changes set detected_at = ? where snapshot_id = ?", [when, snap])
    return page, snap


def _change_ids(store: Store, snapshot_id: int) -> list[int]:
    sql = "select id from changes where snapshot_id = ? order by id"
    return [r[0] for r in store.db.execute(sql, [snapshot_id]).fetchall()]


def _private_db(path: Path) -> None:
    """What the mailer keeps: never to be served."""
    conn = sqlite3.connect(path)
    with conn:
        conn.execute("create table subscribers (id text primary key, email text, name text)")
        conn.execute(
            "insert into subscribers values ('s1', ?, 'Salainen Tilaaja')", [SUBSCRIBER_EMAIL]
        )
    conn.close()
