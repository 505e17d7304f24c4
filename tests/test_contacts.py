"""Contacts are parsed into records from every format the reform's pages use."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from sotewatch.pipeline.document.contacts import (
    address_from_pattern,
    normalise_phone,
    parse_contacts,
    resolve_at,
)
from sotewatch.pipeline.document.models import Contact

CASES = tomllib.loads((Path(__file__).parent / "data" / "contacts.toml").read_text("utf-8"))["case"]


@pytest.mark.parametrize("case", CASES, ids=[c["id"] for c in CASES])
def test_contact_formats(case: dict) -> None:
    expected = [Contact(section="Verkostot / Viestintäverkosto", **c) for c in case["expected"]]
    assert parse_contacts(case["lines"], "Verkostot / Viestintäverkosto") == expected


def test_each_contact_keeps_the_section_it_was_found_in() -> None:
    line = "Veera Vuorela, viestintäjohtaja, STM, 0295 163 900, veera.vuorela(at)gov.fi"
    assert parse_contacts([line], "Verkostot / Sidosryhmäverkosto")[0].section == (
        "Verkostot / Sidosryhmäverkosto"
    )


@pytest.mark.parametrize(
    ("written", "e164"),
    [("0295 163 900", "+358295163900"), ("050 558 0000", "+358505580000"),
     ("+358 40 123 4567", "+358401234567"), ("12", "12")],
)  # fmt: skip
def test_phones_are_normalised_to_e164(written: str, e164: str) -> None:
    assert normalise_phone(written) == e164


def test_at_is_resolved_and_patterns_become_real_addresses() -> None:
    assert resolve_at("x.y(at)gov.fi, z[at]vm.fi") == "x.y@gov.fi, z@vm.fi"
    assert address_from_pattern("Åsa Ärling", "etunimi.sukunimi@stm.fi") == "asa.arling@stm.fi"
    assert address_from_pattern("Åsa Ärling", "asa@stm.fi") == "asa@stm.fi"
