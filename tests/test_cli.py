"""The command line: every command explains itself, errors map to documented exit codes."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from sotewatch.pipeline.cli import cli
from sotewatch.scrapers import REGISTRY


def all_commands() -> list[str]:
    return sorted(cli.commands)


@pytest.mark.parametrize("name", all_commands())
def test_every_command_has_help_text(name: str) -> None:
    result = CliRunner().invoke(cli, [name, "--help"])
    assert result.exit_code == 0, result.output
    assert cli.commands[name].help, f"{name} has no help text"


def test_main_help_lists_exit_codes() -> None:
    result = CliRunner().invoke(cli, ["--help"])
    assert result.exit_code == 0
    for code in ("0", "1", "2", "3", "4"):
        assert f"  {code}  " in result.output


def test_check_reports_a_bad_sources_file_with_file_and_line(tmp_path: Path) -> None:
    bad = tmp_path / "sources.toml"
    bad.write_text(
        '[[source]]\nid = "ok"\nurl = "https://example.org/a"\n\n'
        '[[source]]\nid = "typo"\nurl = "https://example.org/b"\nregoins = ["lappi"]\n',
        encoding="utf-8",
    )
    result = CliRunner().invoke(cli, ["check", "--sources", str(bad)])
    assert result.exit_code == 2
    assert f"{bad}:8" in result.output
    assert "regoins" in result.output


def test_check_validates_the_shipped_config() -> None:
    result = CliRunner().invoke(cli, ["check"])
    assert result.exit_code == 0, result.output
    assert "sources" in result.output


def test_scrapers_lists_every_family_with_one_line() -> None:
    result = CliRunner().invoke(cli, ["scrapers"])
    assert result.exit_code == 0
    names = [line.split()[0] for line in result.output.splitlines() if line.strip()]
    for family in ("generic", "ministry", "ngo", "county", "pdf", "listing", "feed"):
        assert family in names


# -- the installed script: the command's exit code and all its output --------------------


def script(*args: str) -> subprocess.CompletedProcess[str]:
    sotewatch = Path(sys.executable).with_name("sotewatch")
    return subprocess.run([str(sotewatch), *args], capture_output=True, text=True, timeout=60)


def test_the_script_exits_with_the_command_s_code_and_all_its_output(tmp_path: Path) -> None:
    listed = script("scrapers")
    assert listed.returncode == 0
    assert len(listed.stdout.splitlines()) == len(REGISTRY)

    bad = tmp_path / "sources.toml"
    bad.write_text('[[source]]\nid = "a"\nurl = "ftp://x"\n', encoding="utf-8")
    refused = script("check", "--sources", str(bad))
    assert refused.returncode == 2
    assert "sources.toml" in refused.stderr
