"""Noise rules: "last updated" lines, counters and form tokens never reach the diff.

Each global rule has cases in tests/data/diff_cases.toml ([[noise]]): what it
removes and what it must leave alone.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

import pytest

from sotewatch.pipeline.changes.diff import diff_documents
from sotewatch.pipeline.changes.noise import GLOBAL_RULES, apply_noise, clean_text, compile_patterns
from sotewatch.pipeline.document.models import Document, Section
from sotewatch.pipeline.errors import ConfigError

CASES = tomllib.loads((Path(__file__).parent / "data" / "diff_cases.toml").read_text("utf-8"))


@pytest.mark.parametrize("case", CASES["noise"], ids=lambda case: case["id"])
def test_global_rules(case: dict[str, Any]) -> None:
    assert clean_text(case["text"], GLOBAL_RULES) == case["cleaned"]


@pytest.mark.parametrize("case", CASES["noise"], ids=lambda case: case["id"])
def test_the_named_rule_is_the_one_that_acts(case: dict[str, Any]) -> None:
    rule = next(r for r in GLOBAL_RULES if r.name == case["rule"])
    touched = rule.apply(case["text"]) != case["text"]
    assert touched is (case["cleaned"] != case["text"])


def test_every_global_rule_has_a_case() -> None:
    assert {rule.name for rule in GLOBAL_RULES} == {case["rule"] for case in CASES["noise"]}


def page(*paragraphs: str, title: str = "Verkostot") -> Document:
    return Document(url="u", title=title, sections=(Section(("Verkostot",), paragraphs),))


def test_a_paragraph_that_is_only_noise_is_dropped() -> None:
    cleaned = apply_noise(page("Verkosto kokoontuu.", "Sivua päivitetty 12.3.2024"))
    assert cleaned.sections[0].paragraphs == ("Verkosto kokoontuu.",)


def test_noise_is_removed_from_the_title() -> None:
    assert apply_noise(page(title="Verkostot | Päivitetty 1.2.2024")).title == "Verkostot"


def test_a_clean_document_comes_back_as_it_was() -> None:
    doc = page("Verkosto kokoontuu.")
    assert apply_noise(doc) is doc


def test_two_editions_differing_only_in_noise_have_no_changes() -> None:
    first = page("Verkosto kokoontuu.", "Kävijöitä: 120 · Sivua päivitetty 12.3.2024")
    second = page("Verkosto kokoontuu.", "Kävijöitä: 131 · Sivua päivitetty 2.4.2024")
    assert diff_documents(first, second, page_url="u", page_title="t") != []
    assert (
        diff_documents(apply_noise(first), apply_noise(second), page_url="u", page_title="t") == []
    )


def test_source_patterns_remove_their_matches() -> None:
    doc = page("Verkosto kokoontuu. Istunto nro 4411 alkaa.", "Istunto nro 9")
    cleaned = apply_noise(doc, [r"Istunto nro \d+( alkaa\.)?"])
    assert cleaned.sections[0].paragraphs == ("Verkosto kokoontuu.",)


def test_a_bad_source_pattern_names_the_source_and_pattern() -> None:
    with pytest.raises(ConfigError) as error:
        compile_patterns([r"ok", r"(unclosed"], source="stm-verkostot")
    assert error.value.source == "stm-verkostot"
    assert "(unclosed" in str(error.value)


def test_good_source_patterns_compile() -> None:
    assert [p.pattern for p in compile_patterns([r"\d+ kävijää"], source="s")] == [r"\d+ kävijää"]
