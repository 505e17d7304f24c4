"""When a source is due: the table of cases in tests/data/schedule_cases.toml."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from sotewatch.pipeline.runs.schedule import is_due

CASES = tomllib.loads((Path(__file__).parent / "data" / "schedule_cases.toml").read_text("utf-8"))


@pytest.mark.parametrize("case", CASES["case"], ids=[c["id"] for c in CASES["case"]])
def test_is_due(case: dict) -> None:
    assert is_due(case["schedule"], case.get("last"), case["now"]) is case["due"]
