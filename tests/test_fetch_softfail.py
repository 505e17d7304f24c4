"""soft_failure: a 200 that is really a failure never becomes a snapshot.

The cases live in tests/data/softfail_cases.toml, one readable id each.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from sotewatch.pipeline.changes.softfail import soft_failure
from sotewatch.pipeline.document.models import Contact, Document, Link, Section

CASES = tomllib.loads((Path(__file__).parent / "data" / "softfail_cases.toml").read_text())["case"]


def document(title: str, paragraphs: list[str], repeat: int = 1, **extra: list[str]) -> Document:
    sections = (Section((title,), tuple(paragraphs) * repeat),) if paragraphs else ()
    return Document(
        url="https://stm.fi/sivu",
        title=title,
        sections=sections,
        contacts=tuple(Contact(name=name) for name in extra.get("contacts", [])),
        links=tuple(Link(url=url, text="", kind="item") for url in extra.get("items", [])),
    )


@pytest.mark.parametrize("case", CASES, ids=[c["id"] for c in CASES])
def test_soft_failure(case: dict) -> None:
    new = document(
        case["title"],
        case["paragraphs"],
        case.get("repeat", 1),
        contacts=case.get("contacts", []),
        items=case.get("items", []),
    )
    previous = None
    if "previous_paragraphs" in case:
        previous = document(
            case["title"], case["previous_paragraphs"], case.get("previous_repeat", 1)
        )
    reason = soft_failure(new, previous)
    if case["expect"]:
        assert reason is not None and case["expect"] in reason.lower()
    else:
        assert reason is None


def test_the_reason_names_the_share_that_is_left() -> None:
    before = document("Sivu", ["Pitkä kappale hyvinvointialueista ja niiden verkostoista. "], 20)
    after = document("Sivu", ["Lyhyt."])
    assert soft_failure(after, before) == (
        "main content shrank to 1% of the previous version (6 of 1159 characters)"
    )
