"""The garbage collector during a run: paused while it sets up, the set-up frozen out of
its way while it runs, and everything as it was afterwards (pipeline/heap.py)."""

from __future__ import annotations

import gc
from pathlib import Path

import pytest
from click.testing import CliRunner

from pipeline import heap
from pipeline.cli import cli
from pipeline.sample_site import SampleSite


def collector_state() -> tuple[bool, tuple[int, int, int], int]:
    return gc.isenabled(), gc.get_threshold(), gc.get_freeze_count()


def test_no_collection_runs_while_paused_and_the_collector_is_back_after() -> None:
    before = collector_state()
    with heap.paused():
        assert not gc.isenabled()
    assert collector_state() == before


def test_a_failure_while_paused_still_turns_the_collector_back_on() -> None:
    with pytest.raises(RuntimeError), heap.paused():
        raise RuntimeError("config error")
    assert gc.isenabled()


def test_a_collector_turned_off_before_stays_off() -> None:
    gc.disable()
    try:
        with heap.paused():
            pass
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_the_script_freezes_what_its_set_up_kept(monkeypatch: pytest.MonkeyPatch) -> None:
    """In the `sotewatch` script the process ends with its command: nothing set up
    while paused will be garbage before then."""
    monkeypatch.setattr(heap, "_process_ends_after_command", True)
    frozen_before = gc.get_freeze_count()
    try:
        with heap.paused():
            kept = [object() for _ in range(10)]  # noqa: F841  (alive as paused ends)
        assert gc.get_freeze_count() > frozen_before + 10
        assert gc.isenabled()
    finally:
        gc.unfreeze()


def test_frozen_keeps_what_is_alive_out_of_collections_and_collects_young_less_often() -> None:
    before = collector_state()
    kept = [object() for _ in range(10)]
    with heap.frozen():
        assert gc.get_freeze_count() > before[2] + len(kept)
        assert gc.get_threshold()[0] == heap.YOUNG_THRESHOLD
        assert gc.get_threshold()[1:] == before[1][1:]
    assert collector_state() == before


def test_a_run_in_this_process_leaves_the_collector_as_it_found_it(tmp_path: Path) -> None:
    urls = tmp_path / "urls.txt"
    before = collector_state()
    with SampleSite(edition=1) as site:
        urls.write_text(f"{site.base_url}/stm/verkostot\n", encoding="utf-8")
        result = CliRunner().invoke(
            cli,
            ["--db", str(tmp_path / "w.db"), "run", "--sources", str(urls), "--no-send",
             "--per-host-delay", "0", "--workers", "1"],
        )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert collector_state() == before


def test_a_run_that_fails_to_start_leaves_the_collector_on(tmp_path: Path) -> None:
    missing = tmp_path / "no-such-sources.toml"
    result = CliRunner().invoke(
        cli, ["--db", str(tmp_path / "w.db"), "run", "--sources", str(missing)]
    )
    assert result.exit_code != 0
    assert gc.isenabled()
