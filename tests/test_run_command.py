"""`sotewatch run` as cron and scripts use it: a plain URL list, a JSON summary, exit codes."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from sotewatch.pipeline.cli import cli
from sotewatch.pipeline.demo.sample_site import SampleSite

WATCHED = ("/stm/verkostot", "/stm/sote-uudistus", "/thl/aluekoordinaattorit")


def run(db: Path, sources: Path, summary: Path) -> tuple[int, dict]:
    result = CliRunner().invoke(
        cli,
        ["--db", str(db), "run", "--sources", str(sources), "--no-send", "--force",
         "--per-host-delay", "0", "--summary-json", str(summary)],
    )  # fmt: skip
    return result.exit_code, json.loads(summary.read_text("utf-8"))


def test_a_url_list_is_watched_and_summarised_as_json(tmp_path: Path) -> None:
    db, urls, summary = tmp_path / "watch.db", tmp_path / "urls.txt", tmp_path / "summary.json"
    with SampleSite(edition=1) as site:
        urls.write_text("\n".join(site.base_url + path for path in WATCHED), encoding="utf-8")
        first_code, first = run(db, urls, summary)
        site.edition = 2
        second_code, second = run(db, urls, summary)
        third_code, third = run(db, urls, summary)

    assert (first_code, second_code, third_code) == (0, 0, 0)
    assert first == {"fetched": 3, "not_modified": 0, "failed": 0, "changed": []}
    changed = {
        urlparts["url"].split("/", 3)[3]: urlparts["changes"] for urlparts in second["changed"]
    }
    assert set(changed) == {"stm/verkostot", "thl/aluekoordinaattorit"}
    assert all(count >= 1 for count in changed.values())
    assert second["failed"] == 0
    assert third["changed"] == []
    assert third["fetched"] + third["not_modified"] == 3


def test_a_url_that_was_never_there_fails_the_run_with_exit_1(tmp_path: Path) -> None:
    db, urls, summary = tmp_path / "watch.db", tmp_path / "urls.txt", tmp_path / "summary.json"
    with SampleSite(edition=1) as site:
        urls.write_text(f"{site.base_url}/stm/verkostot\n{site.base_url}/ei-ole\n", "utf-8")
        code, report = run(db, urls, summary)
    assert code == 1
    assert (report["fetched"], report["failed"]) == (1, 1)
