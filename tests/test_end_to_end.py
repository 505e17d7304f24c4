"""The sample site's two editions through the whole pipeline, checked against its ground truth.

data/sample_site/expected.toml lists every meaningful change between edition 1 and
edition 2. The pipeline must report each one, with its kind and tags, and nothing
else: no chrome, no dates, no counters.
"""

from __future__ import annotations

import json
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass
from urllib.parse import urlsplit

import pytest

from sotewatch.pipeline.demo.sample_site import SampleSite, expected_path, sample_sources_path
from sotewatch.pipeline.document.models import Document
from sotewatch.pipeline.runs.run import RunReport, run_sources
from sotewatch.pipeline.runs.runner import load_config, prepare_store
from sotewatch.pipeline.storage.store import Store
from sotewatch.pipeline.tagging.tag import Tagger
from sotewatch.pipeline.tagging.taxonomy import load_taxonomy


@dataclass(frozen=True)
class Produced:
    path: str
    kind: str
    section: str
    text: str
    regions: tuple[str, ...]
    networks: tuple[str, ...]

    def __str__(self) -> str:
        return f"{self.kind} {self.path} [{self.section}] {self.text[:120]!r}"


@dataclass
class DemoRuns:
    store: Store
    reports: list[RunReport]


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoRuns]:
    """Edition 1, edition 2, then edition 2 once more, into one fresh database."""
    taxonomy = load_taxonomy()
    tagger = Tagger(taxonomy)
    store = prepare_store(tmp_path_factory.mktemp("e2e") / "demo.db", taxonomy)
    reports = []
    with SampleSite(edition=1) as site:
        config = load_config(sample_sources_path(), taxonomy, site=site.base_url)
        for edition in (1, 2, 2):
            site.edition = edition
            reports.append(run_sources(store, config, tagger, force=True))
    yield DemoRuns(store, reports)
    store.close()


def expected_changes() -> list[dict]:
    return tomllib.loads(expected_path().read_text("utf-8"))["change"]


def produced_changes(store: Store, run_id: int) -> list[Produced]:
    sql = """select pages.url, changes.kind, changes.section, changes.before, changes.after,
                    changes.summary, changes.regions, changes.networks
             from changes join pages on pages.id = changes.page_id
             where changes.run_id = ? order by changes.id"""
    return [
        Produced(
            path=urlsplit(url).path,
            kind=kind,
            section=section or "",
            text="\n".join((before or "", after or "", summary or "")),
            regions=tuple(sorted(json.loads(regions))),
            networks=tuple(sorted(json.loads(networks))),
        )
        for url, kind, section, before, after, summary, regions, networks in store.db.execute(
            sql, [run_id]
        ).fetchall()
    ]


def matches(expected: dict, change: Produced) -> bool:
    if change.path != expected["page"] or change.kind != expected["kind"]:
        return False
    if "section" in expected and change.section.split(" / ")[-1] != expected["section"]:
        return False
    return all(word in change.text for word in expected.get("mentions", []))


def test_the_first_edition_is_a_baseline_without_changes(demo: DemoRuns) -> None:
    assert demo.reports[0].failed == 0, demo.reports[0].errors
    assert demo.reports[0].changes == 0
    assert demo.store.db["snapshots"].count >= 10


@pytest.mark.parametrize("expected", expected_changes(), ids=lambda e: e["id"])
def test_every_meaningful_change_is_reported_with_its_tags(demo: DemoRuns, expected: dict) -> None:
    produced = produced_changes(demo.store, demo.reports[1].run_id)
    found = [c for c in produced if matches(expected, c)]
    assert len(found) == 1, "\n".join(["found:", *map(str, found), "all:", *map(str, produced)])
    assert found[0].regions == tuple(sorted(expected["regions"])), str(found[0])
    assert found[0].networks == tuple(sorted(expected["networks"])), str(found[0])


def test_nothing_is_reported_but_the_meaningful_changes(demo: DemoRuns) -> None:
    produced = produced_changes(demo.store, demo.reports[1].run_id)
    unexpected = [c for c in produced if not any(matches(e, c) for e in expected_changes())]
    assert unexpected == [], "\n".join(map(str, unexpected))


def test_a_removed_page_is_a_removal_not_a_failure(demo: DemoRuns) -> None:
    assert demo.reports[1].failed == 0, demo.reports[1].errors


def test_running_edition_two_again_yields_no_new_change(demo: DemoRuns) -> None:
    assert demo.reports[2].changes == 0
    assert produced_changes(demo.store, demo.reports[2].run_id) == []


def test_an_unchanged_run_stores_no_version_and_only_counts_its_checks(demo: DemoRuns) -> None:
    run_id = demo.reports[2].run_id
    db = demo.store.db
    assert db.execute("select count(*) from fetches where run_id = ?", [run_id]).fetchone() == (0,)
    checked = db.execute(
        "select sum(unchanged + not_modified) from source_checks where run_id = ?", [run_id]
    ).fetchone()[0]
    assert checked == db.execute("select count(*) from pages where status = 'active'").fetchone()[0]


def test_the_raw_body_of_a_version_is_kept_compressed_and_reads_back(demo: DemoRuns) -> None:
    (body_hash,) = demo.store.db.execute(
        """select snapshots.body_hash from snapshots join pages on pages.id = snapshots.page_id
           where pages.url like '%/soste/webinaari-2021.pdf' order by snapshots.id limit 1"""
    ).fetchone()
    assert demo.store.body(body_hash).startswith(b"%PDF")


def test_the_second_version_of_a_page_is_stored_against_the_first(demo: DemoRuns) -> None:
    rows = demo.store.db.execute(
        """select b.compression, b.base = first.body_hash
           from pages p
           join snapshots first on first.id = (select min(id) from snapshots where page_id = p.id)
           join snapshots last on last.id = (select max(id) from snapshots where page_id = p.id)
           join bodies b on b.hash = last.body_hash
           where p.url like '%/stm/verkostot' and last.id != first.id"""
    ).fetchall()
    assert rows == [("zstd-delta", 1)]


def test_the_text_view_reads_every_version_as_the_document_does(demo: DemoRuns) -> None:
    rows = demo.store.db.execute(
        "select s.document, t.text from snapshots s join snapshot_texts t on t.snapshot_id = s.id"
    ).fetchall()
    assert len(rows) > 20
    for document, text in rows:
        assert (text or "") == Document.from_json(document).text
