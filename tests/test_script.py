"""The `sotewatch` script reads, before click, whether a command line is a `run` and
which database and worker count it names (pipeline/script.py); in doubt, it says None."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeline.script import DEFAULT_DB, run_options


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["run"], (DEFAULT_DB, None)),
        (["--db", "w.db", "run", "--sources", "s.toml"], (Path("w.db"), None)),
        (["--db=w.db", "-v", "run", "--workers", "3"], (Path("w.db"), 3)),
        (["--log-format", "json", "--db", "w.db", "run", "--workers=1"], (Path("w.db"), 1)),
        (["run", "--sources", "urls.txt", "--no-send", "--workers", "2"], (DEFAULT_DB, 2)),
    ],
)
def test_a_run_command_line_names_its_database_and_workers(
    argv: list[str], expected: tuple[Path, int | None]
) -> None:
    assert run_options(argv, {}) == expected


def test_the_database_may_come_from_the_environment_as_click_reads_it() -> None:
    assert run_options(["run"], {"SOTEWATCH_DB": "/srv/w.db"}) == (Path("/srv/w.db"), None)
    assert run_options(["--db", "w.db", "run"], {"SOTEWATCH_DB": "/srv/w.db"}) == (
        Path("w.db"),
        None,
    )
    assert run_options(["run"], {"SOTEWATCH_DB": ""}) == (DEFAULT_DB, None)


@pytest.mark.parametrize(
    "argv",
    [
        [],
        ["status"],
        ["--db", "w.db", "digest"],
        ["--db"],  # click will say what is missing
        ["--version"],
        ["--unknown-option", "run"],
        ["run", "--help"],
        ["run", "--workers", "many"],
        ["run", "--workers"],
        ["demo", "run"],  # "run" as another command's argument
    ],
)
def test_anything_else_is_left_to_click(argv: list[str]) -> None:
    assert run_options(argv, {}) is None


def test_the_script_forks_the_server_for_a_run_before_the_command_line_takes_over(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import pipeline.cli
    import pipeline.warmup
    from pipeline import script

    calls: list[object] = []
    monkeypatch.setattr(pipeline.warmup, "prestart_workers", lambda *a: calls.append(a))
    monkeypatch.setattr(pipeline.cli, "main", lambda: calls.append("command line"))
    monkeypatch.setattr("sys.argv", ["sotewatch", "--db", str(tmp_path / "w.db"), "run"])
    script.main()
    assert calls == [(tmp_path / "w.db", None), "command line"]
    calls.clear()
    monkeypatch.setattr("sys.argv", ["sotewatch", "status"])
    script.main()
    assert calls == ["command line"]
