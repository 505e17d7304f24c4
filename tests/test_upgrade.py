"""The first run of a new sotewatch reports what the pages changed, not what the code did.

A new sotewatch may read the same page into a different Document. Its first run reads
each page's previous version again, from the stored body, with the new code, and
compares with that (pipeline/runs/reread.py). Here an "older sotewatch" is the running
code with another code digest, and with a footer it read as content on every page.
"""

from __future__ import annotations

import logging
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from sotewatch.pipeline.changes.noise import apply_noise
from sotewatch.pipeline.config import SourcesConfig
from sotewatch.pipeline.demo.sample_site import SITE_ROOT, SampleSite, sample_sources_path
from sotewatch.pipeline.document.models import Document, Section
from sotewatch.pipeline.runs import analyse, inputkey
from sotewatch.pipeline.runs.reread import Upgrade, stored_page
from sotewatch.pipeline.runs.run import RunReport, run_sources
from sotewatch.pipeline.runs.runner import load_config, prepare_store
from sotewatch.pipeline.tagging.tag import Tagger
from sotewatch.pipeline.tagging.taxonomy import load_taxonomy

FOOTER = Section(("Sivun alatunniste",), ("Tämän sivuston ylläpitää ministeriön verkkotiimi.",))


def read_as_older_code(doc: Document, ignore: tuple[str, ...]) -> Document:
    """What the older sotewatch made of a page: the footer read as a section."""
    doc = apply_noise(doc, ignore)
    return replace(doc, sections=(*doc.sections, FOOTER))


@contextmanager
def older_sotewatch(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    with monkeypatch.context() as patch:
        patch.setattr(inputkey, "code_digest", lambda: b"an older sotewatch")
        patch.setattr(analyse, "apply_noise", read_as_older_code)
        yield


class Watcher:
    """A database and the sample site (or a copy of it), run edition by edition."""

    def __init__(self, db: Path, site: SampleSite) -> None:
        taxonomy = load_taxonomy()
        self.tagger = Tagger(taxonomy)
        self.store = prepare_store(db, taxonomy)
        self.site = site
        self.config: SourcesConfig = load_config(
            sample_sources_path(), taxonomy, site=site.base_url
        )

    def run(self, edition: int) -> RunReport:
        self.site.edition = edition
        report = run_sources(self.store, self.config, self.tagger, force=True)
        assert report.failed == 0, report.errors
        return report

    def changes(self, report: RunReport) -> list[tuple[str, str, str, str, str]]:
        rows = self.store.db.execute(
            """select pages.url, kind, coalesce(section, ''), coalesce(before, ''),
                      coalesce(after, '')
               from changes join pages on pages.id = changes.page_id
               where run_id = ? order by changes.id""",
            [report.run_id],
        ).fetchall()
        return [(urlsplit(url).path, *rest) for url, *rest in rows]

    def answer_in_full(self) -> None:
        """Forget the pages' ETags and dates: the next run's every page answers 200, as on
        a site that ignores conditional requests (a 304 needs no reading at all)."""
        self.store.conn.execute("update pages set etag = null, last_modified = null")

    def pages(self) -> int:
        return self.store.db.execute("select count(*) from pages").fetchone()[0]


@pytest.fixture
def sample(tmp_path: Path) -> Iterator[Watcher]:
    with SampleSite(edition=1) as site:
        watcher = Watcher(tmp_path / "upgrade.db", site)
        yield watcher
        watcher.store.close()


@pytest.fixture
def one_edit(tmp_path: Path) -> Iterator[Watcher]:
    """The sample site whose edition 2 is edition 1 with one phone number changed."""
    root = tmp_path / "site"
    shutil.copytree(SITE_ROOT, root)
    shutil.rmtree(root / "edition-2")
    shutil.copytree(root / "edition-1", root / "edition-2")
    page = root / "edition-2" / "stm" / "verkostot.html"
    text = page.read_text("utf-8")
    assert text.count("0295 163 221") == 1
    page.write_text(text.replace("0295 163 221", "0295 163 299"), "utf-8")
    with SampleSite(edition=1, root=root) as site:
        watcher = Watcher(tmp_path / "upgrade.db", site)
        yield watcher
        watcher.store.close()


def test_the_seam_reads_pages_differently_from_the_running_code(
    sample: Watcher, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without the re-read, the run after this upgrade would report the footer gone."""
    with older_sotewatch(monkeypatch):
        sample.run(1)
    stored = sample.store.db.execute("select document from snapshots limit 1").fetchone()[0]
    assert FOOTER.paragraphs[0] in stored


def test_the_first_run_after_an_upgrade_reports_no_change_on_unchanged_pages(
    sample: Watcher, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    with older_sotewatch(monkeypatch):
        sample.run(1)
    sample.answer_in_full()
    with caplog.at_level(logging.INFO, logger="sotewatch.run"):
        upgraded = sample.run(1)
    assert upgraded.changes == 0
    assert sample.changes(upgraded) == []
    assert upgraded.upgrade.counts == {Upgrade.SAME: sample.pages()}
    assert (
        f"re-read after upgrade: {sample.pages()} pages, 0 changed, "
        "0 without a stored body, baseline reset"
    ) in caplog.messages


def test_a_run_after_the_upgrade_compares_with_what_the_new_code_stored(
    sample: Watcher, monkeypatch: pytest.MonkeyPatch
) -> None:
    with older_sotewatch(monkeypatch):
        sample.run(1)
    sample.answer_in_full()
    sample.run(1)
    sample.answer_in_full()
    again = sample.run(1)
    assert again.upgrade.line() is None
    assert again.changes == 0


def test_a_page_the_new_code_reads_as_the_old_one_did_keeps_its_version(
    sample: Watcher, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Same Document, other code: no new version, and the version is now this code's."""
    with monkeypatch.context() as patch:
        patch.setattr(inputkey, "code_digest", lambda: b"an older sotewatch")
        sample.run(1)
    versions = sample.store.db.execute("select count(*) from snapshots").fetchone()
    sample.answer_in_full()
    upgraded = sample.run(1)
    assert upgraded.changes == 0
    assert upgraded.upgrade.counts == {Upgrade.SAME: sample.pages()}
    assert sample.store.db.execute("select count(*) from snapshots").fetchone() == versions
    codes = sample.store.db.execute("select distinct code_key from snapshots").fetchall()
    assert codes == [(inputkey.code_key(),)]


def test_an_edit_made_across_the_upgrade_is_reported_and_nothing_else(
    one_edit: Watcher, monkeypatch: pytest.MonkeyPatch
) -> None:
    with older_sotewatch(monkeypatch):
        one_edit.run(1)
    one_edit.answer_in_full()
    upgraded = one_edit.run(2)
    [(path, _kind, _section, before, after)] = one_edit.changes(upgraded)
    assert path == "/stm/verkostot"
    assert "163221" in before and "163299" in after
    assert upgraded.upgrade.counts == {Upgrade.SAME: one_edit.pages() - 1, Upgrade.CHANGED: 1}


def test_the_sample_sites_edits_across_an_upgrade_are_those_reported_without_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with SampleSite(edition=1) as site:
        plain = Watcher(tmp_path / "plain.db", site)
        plain.run(1)
        expected = plain.changes(plain.run(2))
        upgrading = Watcher(tmp_path / "upgrading.db", site)
        with older_sotewatch(monkeypatch):
            upgrading.run(1)
        produced = upgrading.changes(upgrading.run(2))
    assert expected  # edition 2 has edits
    assert sorted(produced) == sorted(expected)  # pages are fetched in parallel


def test_a_page_without_its_stored_body_starts_afresh_without_a_change(
    one_edit: Watcher, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """Nothing to read again: the edit made meanwhile cannot be told from the new code's
    reading, so the new version is the baseline, and said so in the log."""
    with older_sotewatch(monkeypatch):
        one_edit.run(1)
    one_edit.store.conn.execute("update snapshots set body_hash = null")  # as if pruned
    one_edit.answer_in_full()
    with caplog.at_level(logging.INFO, logger="sotewatch.run"):
        upgraded = one_edit.run(2)
    pages = one_edit.pages()
    assert one_edit.changes(upgraded) == []
    assert upgraded.upgrade.counts == {Upgrade.RESET: pages}
    [logged] = [r for r in caplog.records if r.getMessage().startswith("re-read after upgrade")]
    assert logged.getMessage() == (
        f"re-read after upgrade: {pages} pages, 0 changed, "
        f"{pages} without a stored body, baseline reset"
    )
    assert logged.levelno == logging.WARNING  # an edit made meanwhile may be unreported
    assert one_edit.run(2).changes == 0


def test_a_stored_body_is_read_again_with_the_charset_it_was_decoded_with() -> None:
    body = "<h1>Yhteystiedot</h1><p>Pohjois-Karjalassa</p>".encode("iso-8859-1")
    page = stored_page(("http://127.0.0.1/a", body, "text/html; charset=iso-8859-1"))
    assert "Pohjois-Karjalassa" in page.text
    assert page.url == "http://127.0.0.1/a"


def test_every_version_records_the_code_that_extracted_it(sample: Watcher) -> None:
    sample.run(1)
    codes = sample.store.db.execute("select distinct code_key from snapshots").fetchall()
    assert codes == [(inputkey.code_key(),)]
