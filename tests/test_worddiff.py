"""Word-level diff: what an edited paragraph's reader sees marked, and what counts as an edit.

Cases in tests/data/diff_cases.toml: [[meaningful]] (is it a change at all?) and
[[token]] (what a reader sees as one word).
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sotewatch.pipeline.changes.worddiff import (
    changed_phrases,
    has_meaningful_difference,
    tokens,
    word_diff,
)

CASES = tomllib.loads((Path(__file__).parent / "data" / "diff_cases.toml").read_text("utf-8"))

finnish_text = st.text(alphabet=st.sampled_from(list("aäoösStT- .,:@()0123456789\n")), max_size=60)


@pytest.mark.parametrize("case", CASES["meaningful"], ids=lambda case: case["id"])
def test_meaningful_difference(case: dict[str, Any]) -> None:
    assert has_meaningful_difference(case["before"], case["after"]) is case["differs"]
    assert has_meaningful_difference(case["after"], case["before"]) is case["differs"]


@pytest.mark.parametrize("case", CASES["token"], ids=lambda case: case["id"])
def test_words_a_reader_sees_as_one(case: dict[str, Any]) -> None:
    words = [t for t in tokens(case["text"]) if t.strip() and (t[0].isalnum() or t[0] == "+")]
    assert words == case["words"]


def test_a_replaced_name_is_one_phrase_not_two_words() -> None:
    ops = word_diff(
        "Yhteyshenkilö on Maija Virtanen, STM.", "Yhteyshenkilö on Antti Korhonen, STM."
    )
    assert ops == [
        ("equal", "Yhteyshenkilö on "),
        ("delete", "Maija Virtanen"),
        ("insert", "Antti Korhonen"),
        ("equal", ", STM."),
    ]


def test_a_changed_compound_is_marked_whole() -> None:
    ops = word_diff(
        "Asiantuntija vastaa Pohjois-Karjalasta.", "Asiantuntija vastaa Etelä-Karjalasta."
    )
    assert changed_phrases(ops) == [("Pohjois-Karjalasta", "Etelä-Karjalasta")]


def test_an_insertion_alone_is_an_insert() -> None:
    ops = word_diff("Verkosto kokoontuu.", "Verkosto kokoontuu etänä.")
    assert ops == [("equal", "Verkosto kokoontuu"), ("insert", " etänä"), ("equal", ".")]


def test_identical_texts_are_one_equal_run() -> None:
    assert word_diff("Sama teksti.", "Sama teksti.") == [("equal", "Sama teksti.")]
    assert word_diff("", "") == []


@given(finnish_text, finnish_text)
def test_ops_rebuild_both_texts(before: str, after: str) -> None:
    ops = word_diff(before, after)
    assert "".join(text for op, text in ops if op != "insert") == before
    assert "".join(text for op, text in ops if op != "delete") == after
    assert all(text for _, text in ops)
    assert all(a[0] != b[0] or a[0] != "equal" for a, b in zip(ops, ops[1:], strict=False))


@given(finnish_text)
def test_a_text_has_no_meaningful_difference_from_its_recasing_or_respacing(text: str) -> None:
    assert not has_meaningful_difference(text, text.upper().lower())
    assert not has_meaningful_difference(text, " ".join(text.split()))


@given(finnish_text, st.integers(0, 9))
def test_a_digit_added_is_always_meaningful(text: str, digit: int) -> None:
    assert has_meaningful_difference(text, f"{text} {digit}")
