"""Never watch nothing in silence: a page whose main content the extractor misses is
read whole, flagged "thin extraction" (run log, `status`, digest note), and the switch
between the two readings is never reported as a change."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
import sqlite_utils
from click.testing import CliRunner
from localsite import serving

from sotewatch.pipeline.changes.diff import diff_documents
from sotewatch.pipeline.cli import cli
from sotewatch.pipeline.config import Source
from sotewatch.pipeline.delivery.subscribers import Follow
from sotewatch.pipeline.digests.digest import Names, build_digest
from sotewatch.pipeline.digests.health import source_health
from sotewatch.pipeline.digests.render import render_digest
from sotewatch.pipeline.document.models import THIN_NOTE, Document, Section
from sotewatch.pipeline.ops.preview import page_from_file
from sotewatch.pipeline.ops.status import format_status, status_report
from sotewatch.pipeline.runs.analyse import Task, prepare
from sotewatch.pipeline.tagging.tag import Tagger
from sotewatch.pipeline.tagging.taxonomy import load_taxonomy
from sotewatch.scrapers import Page, get_scraper

FIXTURES = Path(__file__).parent / "fixtures" / "realistic"
THIN_PAGE = FIXTURES / "thin_page.html"
NORMAL_PAGE = FIXTURES / "news_release.html"
STATEMENT = (
    "Verkkosivusto täyttää saavutettavuusvaatimukset osittain. Puutteet on lueteltu alla, "
    "ja ne korjataan vuoden loppuun mennessä."
)


def read(path: Path) -> Document:
    return get_scraper("generic").parse(page_from_file(path, "https://alue.example/seloste"))


def test_a_page_whose_content_the_extractor_misses_is_read_whole_and_flagged() -> None:
    doc = read(THIN_PAGE)
    assert doc.extraction == "thin"
    assert STATEMENT in doc.text
    assert "040 123 4567" in doc.text
    assert doc.title == "Saavutettavuusseloste"


def test_a_page_whose_content_is_found_is_not_flagged() -> None:
    doc = read(NORMAL_PAGE)
    assert doc.extraction == ""
    assert "Neuvoston puheenjohtajana jatkaa Aino Esimerkki" in doc.text
    assert "Lue myös" not in doc.text and "Valtioneuvosto" not in doc.text
    assert '"extraction"' not in doc.to_json()  # documents stored before it hash the same


def test_the_switch_to_reading_a_page_whole_is_not_reported_as_a_change() -> None:
    url = "https://alue.example/seloste"
    source = Source(id="alue", url=url)
    # What the extractor found before the page's theme changed: the heading alone.
    heading = Section(("Saavutettavuusseloste",), ("Seloste päivitetään.",))
    before = Document(url=url, title="Saavutettavuusseloste", sections=(heading,))
    content = THIN_PAGE.read_bytes()
    page = Page(url, content, "text/html; charset=utf-8", content.decode("utf-8"))
    task = Task(page, "generic", source, False, before.to_json(), "previous-digest")
    found = prepare(task, Tagger(load_taxonomy()))
    assert found.failure is None and not found.unchanged  # stored as the new version
    assert found.thin
    assert found.changes == ()
    # the diff of the two readings has plenty to say: the silence is the switch rule's
    assert diff_documents(before, read(THIN_PAGE), page_url=url, page_title=before.title)


@pytest.mark.filterwarnings("ignore::ResourceWarning")
def test_a_thin_page_is_named_in_the_run_log_status_and_digest_note(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    db, urls = tmp_path / "watch.db", tmp_path / "urls.txt"
    with serving(
        {"/seloste": THIN_PAGE.read_bytes(), "/tiedote": NORMAL_PAGE.read_bytes()}
    ) as base:
        urls.write_text(f"{base}/seloste\n{base}/tiedote\n", encoding="utf-8")
        with caplog.at_level(logging.WARNING):
            result = CliRunner().invoke(
                cli,
                ["--db", str(db), "run", "--sources", str(urls), "--no-send", "--force",
                 "--per-host-delay", "0"],
            )  # fmt: skip
    assert result.exit_code == 0, result.output
    logged = caplog.text + result.output
    assert f"{base}/seloste: {THIN_NOTE}" in logged
    assert f"{base}/tiedote: {THIN_NOTE}" not in logged

    report = status_report(db)
    assert sorted(s.thin_pages for s in report.sources) == [(), (f"{base}/seloste",)]
    assert f"{base}/seloste: {THIN_NOTE}" in format_status(report)

    notes = source_health(sqlite_utils.Database(db))
    assert [(note.failures, note.error) for note in notes] == [(0, f"{base}/seloste")]
    empty = build_digest([], Follow.everything(), "fi", Names())
    digest = render_digest(empty, names=Names(), health=notes).text
    assert f"(lähteelle kannattaa asettaa include): {base}/seloste" in digest
