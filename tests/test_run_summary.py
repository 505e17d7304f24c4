"""What a run tells the operator, and when it bothers cron.

One summary line per run (due of total sources, fetched, 304, failed, changes); when
nothing is due, which source is due next and when; which sources are still down.
`sotewatch sources` lists each source's schedule, last check, next due and health;
`sotewatch changes` prints the stored changes as the digest groups them. A failing
source is retried with backoff within its schedule, and the exit code is 1 only when
a page newly fails or reaches `failing_after`. Under `--log-format json` every line
is JSON.
"""

from __future__ import annotations

import json
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from faultserver import FaultServer, fault_server  # noqa: F401 (a fixture)

from sotewatch.pipeline.cli import cli
from sotewatch.pipeline.config import Source
from sotewatch.pipeline.demo.sample_site import SampleSite
from sotewatch.pipeline.runs.sourcestate import SourceState

T0 = datetime(2026, 12, 1, 6, 17, tzinfo=UTC)


def sources_file(tmp_path: Path, base: str, *entries: tuple[str, str, str]) -> Path:
    """sources.toml with failing_after = 3 and (id, path, schedule) entries."""
    text = "[settings]\nper_host_delay = 0\nfailing_after = 3\nretries = 1\n"
    for id_, path, schedule in entries:
        text += f'\n[[source]]\nid = "{id_}"\nurl = "{base}{path}"\nschedule = "{schedule}"\n'
    path = tmp_path / "sources.toml"
    path.write_text(text, encoding="utf-8")
    return path


def sotewatch(db: Path, *args: str):
    return CliRunner().invoke(cli, ["--db", str(db), *args])


def run(db: Path, sources: Path, *args: str):
    return sotewatch(db, "run", "--no-send", "--sources", str(sources), *args)


# -- the summary line ---------------------------------------------------------------


def test_a_run_ends_with_one_summary_line_and_a_quiet_run_says_what_is_due_next(
    tmp_path: Path,
) -> None:
    db = tmp_path / "w.db"
    with SampleSite(edition=1) as site:
        sources = sources_file(
            tmp_path, site.base_url, ("verkostot", "/stm/verkostot", "1d"),
            ("tiedotteet", "/valtioneuvosto/tiedotteet", "6h"),
        )  # fmt: skip
        first = run(db, sources)
        quiet = run(db, sources)

    assert first.exit_code == 0, first.output
    assert first.stdout.startswith("run 1: 2 of 2 sources due, ")
    assert quiet.exit_code == 0, quiet.output
    line = quiet.stdout.strip()
    assert line.startswith("run 2: 0 of 2 sources due, 0 fetched, 0 not modified, 0 failed")
    assert "next due: tiedotteet at " in line and "(in 5 h 5" in line


def test_a_url_list_s_pages_are_due_on_every_run(tmp_path: Path) -> None:
    db, urls = tmp_path / "w.db", tmp_path / "urls.txt"
    with SampleSite(edition=1) as site:
        urls.write_text(f"{site.base_url}/stm/verkostot\n{site.base_url}/thl/aluekoordinaattorit\n")
        run(db, urls)
        again = run(db, urls)
    assert again.exit_code == 0, again.output
    assert again.stdout.startswith("run 2: 2 of 2 sources due, ")
    assert "2 fetched" in again.stdout or "2 not modified" in again.stdout


# -- sotewatch sources, sotewatch changes -------------------------------------------


def test_sources_lists_schedule_last_check_next_due_and_health(
    tmp_path: Path,
    fault_server: FaultServer,  # noqa: F811
) -> None:
    db = tmp_path / "w.db"
    sources = sources_file(
        tmp_path, fault_server.base_url, ("hyva", "/page/hyva", "1d"),
        ("rikki", "/status/503", "1d"),
    )  # fmt: skip
    before = sotewatch(db, "sources", "--sources", str(sources))
    run(db, sources)
    after = sotewatch(db, "sources", "--sources", str(sources))

    assert before.exit_code == 0, before.output
    assert [ln.split()[-2:] for ln in before.stdout.splitlines()[1:]] == [
        ["never", "checked"],
        ["never", "checked"],
    ]
    header, hyva, rikki = after.stdout.splitlines()
    assert header.split()[:2] == ["source", "schedule"]
    assert hyva.split()[:2] == ["hyva", "1d"] and hyva.endswith(" ok")
    assert rikki.split()[:2] == ["rikki", "1d"]
    assert "failed 1 run in a row: HTTP 503" in rikki


def test_changes_prints_stored_changes_grouped_as_the_digest(tmp_path: Path) -> None:
    db = tmp_path / "w.db"
    with SampleSite(edition=1) as site:
        sources = sources_file(tmp_path, site.base_url, ("verkostot", "/stm/verkostot", "1d"))
        run(db, sources)
        site.edition = 2
        run(db, sources, "--force")
    printed = sotewatch(db, "changes", "--since", "2000-01-01")
    later = sotewatch(db, "changes", "--since", "2999-01-01")

    assert printed.exit_code == 0, printed.output
    headings = [ln for ln in printed.stdout.splitlines() if ln.startswith("== ")]
    assert {"== Viestintäverkosto ==", "== Vastuuhenkilöiden verkosto =="} <= set(headings)
    under_viestinta = printed.stdout.split("== Viestintäverkosto ==")[1].split("\n== ")[0]
    assert "Korhonen" in under_viestinta
    assert later.stdout.strip() == "no changes since 2999-01-01 00:00"


# -- failing sources: backoff within the schedule, exit code only when it is news ---


def state(schedule: str, failures: int, attempt: datetime, checked: datetime | None):
    source = Source(id="s", url="https://example.org/", schedule=schedule)
    return SourceState(source, checked, attempt, failures, "HTTP 503")


@pytest.mark.parametrize(
    ("schedule", "failures", "wait"),
    [
        pytest.param("1d", 1, timedelta(hours=1), id="first-failure-retried-after-an-hour"),
        pytest.param("1d", 2, timedelta(hours=2), id="second-after-two"),
        pytest.param("1d", 4, timedelta(hours=8), id="fourth-after-eight"),
        pytest.param("1d", 9, timedelta(hours=23, minutes=55), id="never-later-than-schedule"),
        pytest.param("6h", 5, timedelta(hours=5, minutes=55), id="six-hourly-capped-at-6h"),
    ],
)
def test_a_failing_source_is_retried_with_backoff_within_its_schedule(
    schedule: str, failures: int, wait: timedelta
) -> None:
    failing = state(schedule, failures, attempt=T0, checked=T0 - timedelta(days=1))
    assert failing.due_at() == T0 + wait
    assert not failing.is_due(T0 + wait - timedelta(minutes=1))
    assert failing.is_due(T0 + wait)


def test_a_healthy_source_is_due_by_its_schedule_and_a_new_one_at_once() -> None:
    healthy = state("1d", 0, attempt=T0, checked=T0)
    assert healthy.due_at() == T0 + timedelta(days=1) - timedelta(minutes=5)
    assert state("1d", 0, attempt=None, checked=None).is_due(T0)  # type: ignore[arg-type]


def test_exit_1_only_when_a_page_newly_fails_or_reaches_failing_after(
    tmp_path: Path,
    fault_server: FaultServer,  # noqa: F811
) -> None:
    db = tmp_path / "w.db"
    sources = sources_file(
        tmp_path, fault_server.base_url, ("hyva", "/page/hyva", "1d"),
        ("rikki", "/status/503", "1d"),
    )  # fmt: skip
    codes, outputs = [], []
    for _ in range(4):
        result = run(db, sources, "--only", "rikki")
        codes.append(result.exit_code)
        outputs.append(result.stdout)
    assert codes == [1, 0, 1, 0]  # new, still down, reaches failing_after = 3, still down
    assert "still down: rikki: failed 2 runs in a row: HTTP 503" in outputs[1]
    assert "still down: rikki: FAILING 4 runs in a row: HTTP 503" in outputs[3]


def test_a_failing_source_is_not_fetched_again_until_its_backoff_ends(
    tmp_path: Path,
    fault_server: FaultServer,  # noqa: F811
) -> None:
    db = tmp_path / "w.db"
    sources = sources_file(tmp_path, fault_server.base_url, ("rikki", "/status/503", "1d"))
    first = run(db, sources)
    hits = fault_server.hits("/status/503")
    second = run(db, sources)
    assert first.exit_code == 1
    assert second.exit_code == 0, second.output
    assert fault_server.hits("/status/503") == hits
    assert "0 of 1 sources due" in second.stdout and "next due: rikki at " in second.stdout
    assert "(in 59 min)" in second.stdout or "(in 1 h" in second.stdout


# -- JSON logs ------------------------------------------------------------------------


def test_every_line_is_json_under_log_format_json(
    tmp_path: Path,
    fault_server: FaultServer,  # noqa: F811
) -> None:
    db = tmp_path / "w.db"
    sources = sources_file(
        tmp_path, fault_server.base_url, ("hidas", "/flaky/hidas?fail=1&status=503", "1d"),
        ("rikki", "/status/404", "1d"),
    )  # fmt: skip
    result = sotewatch(db, "--log-format", "json", "run", "--no-send", "--sources", str(sources))
    bad_config = tmp_path / "bad.toml"
    bad_config.write_text("[[source]]\nid = 1\n", encoding="utf-8")
    error = sotewatch(db, "--log-format", "json", "run", "--sources", str(bad_config))

    lines = [*result.output.splitlines(), *error.output.splitlines()]
    entries = [json.loads(line) for line in lines]  # fails on any plain line
    events = {e.get("event") or e["message"] for e in entries}
    assert "stamina.retry_scheduled" in events
    assert {"run_summary", "source_down", "error"} <= events
    summary = next(e for e in entries if e.get("event") == "run_summary")
    assert (summary["due"], summary["sources"], summary["failed"]) == (2, 2, 1)
    assert summary["still_down"] == ["rikki"]
    assert error.exit_code == 2


def test_status_records_the_exit_code_the_run_gave(
    tmp_path: Path,
    fault_server: FaultServer,  # noqa: F811
) -> None:
    db = tmp_path / "w.db"
    sources = sources_file(tmp_path, fault_server.base_url, ("rikki", "/status/503", "1d"))
    codes = [run(db, sources, "--force").exit_code for _ in range(2)]
    status = sotewatch(db, "status")
    assert codes == [1, 0]
    conn = sqlite3.connect(db)
    try:
        recorded = [row[0] for row in conn.execute("select exit_code from runs order by id")]
    finally:
        conn.close()
    assert recorded == codes, status.output
