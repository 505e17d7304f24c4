"""Numeric flags are checked by the config file's rules: a bad one is a usage error (2)."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from sotewatch.pipeline.cli import cli
from sotewatch.pipeline.commands.clitypes import ConfigNumber


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["run", "--per-host-delay", "nan"], "finite"),
        (["run", "--per-host-delay", "inf"], "finite"),
        (["run", "--per-host-delay", "-1"], "at least 0"),
        (["run", "--per-host-delay", "soon"], "not a number"),
        (["run", "--per-host-limit", "0"], "at least 1"),
        (["run", "--per-host-limit", "1.5"], "not a whole number"),
        (["prune", "--keep-days", "-1"], "at least 0"),
        (["prune", "--keep-days", "nan"], "not a whole number"),
        (["browse", "--port", "99999"], "99999"),
        (["browse", "--port", "0"], "0"),
    ],
    ids=lambda v: " ".join(v) if isinstance(v, list) else v,
)
def test_a_bad_number_is_a_usage_error_naming_the_flag(
    tmp_path: Path, args: list[str], says: str
) -> None:
    db = tmp_path / "watch.db"
    result = CliRunner().invoke(cli, ["--db", str(db), *args])
    assert result.exit_code == 2, result.output
    assert f"Invalid value for '{args[1]}'" in result.output
    assert says in result.output
    assert not db.exists()  # refused before anything was opened


def test_good_numbers_pass_as_the_config_would_hold_them() -> None:
    assert ConfigNumber("per_host_delay").convert("0.5", None, None) == 0.5
    assert ConfigNumber("per_host_delay").convert("0", None, None) == 0.0
    assert ConfigNumber("per_host_limit", whole=True).convert("4", None, None) == 4
    assert ConfigNumber("keep_days", whole=True, minimum=0).convert("0", None, None) == 0
