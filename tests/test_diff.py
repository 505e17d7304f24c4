"""The diff reports what a page says differently, once, in the kinds a reader filters by.

Table cases live in tests/data/diff_cases.toml ([[diff]]); the properties below
hold for any pair of Documents hypothesis invents.
"""

from __future__ import annotations

import tomllib
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sotewatch.pipeline.changes.diff import diff_documents
from sotewatch.pipeline.changes.worddiff import meaningful_key
from sotewatch.pipeline.document.models import Change, ChangeKind, Contact, Document, Link, Section

CASES = tomllib.loads((Path(__file__).parent / "data" / "diff_cases.toml").read_text("utf-8"))
URL = "https://example.org/sivu"


def document(raw: dict[str, Any] | None) -> Document | None:
    if raw is None:
        return None
    return Document(
        url=URL,
        title=raw.get("title", ""),
        language=raw.get("language", "fi"),
        sections=tuple(
            Section(tuple(s["path"]), tuple(s["paragraphs"])) for s in raw.get("sections", ())
        ),
        contacts=tuple(Contact(**c) for c in raw.get("contacts", ())),
        links=tuple(Link(**link) for link in raw.get("links", ())),
    )


def diff(old: Document | None, new: Document | None) -> list[Change]:
    return diff_documents(old, new, page_url=URL, page_title="Sivu")


def fits(expected: dict[str, Any], change: Change) -> bool:
    if change.kind != expected["kind"] or change.section != expected["section"]:
        return False
    if any(
        getattr(change, f) != expected[f] for f in ("summary", "before", "after") if f in expected
    ):
        return False
    said = "\n".join((change.before, change.after, change.summary))
    return all(word in said for word in expected.get("mentions", ()))


@pytest.mark.parametrize("case", CASES["diff"], ids=lambda case: case["id"])
def test_table_case(case: dict[str, Any]) -> None:
    changes = diff(document(case.get("old")), document(case.get("new")))
    shown = "\n".join(
        f"{c.kind} [{c.section}] {c.summary!r} {c.before!r} -> {c.after!r}" for c in changes
    )
    assert len(changes) == len(case["expect"]), shown
    for expected in case["expect"]:
        assert any(fits(expected, change) for change in changes), f"{expected}\nnot in:\n{shown}"


def test_every_change_kind_has_a_table_case() -> None:
    covered = {e["kind"] for case in CASES["diff"] for e in case["expect"]}
    assert covered == set(ChangeKind)


def test_no_document_on_either_side_is_no_change() -> None:
    assert diff(None, None) == []


# --- properties ------------------------------------------------------------------------

SENTENCES = [
    "Verkosto kokoaa alueiden viestijät.",
    "Johtoryhmä johtaa valmistelua.",
    "Sote-uudistus etenee Pohjois-Karjalassa.",
    "Kokous pidetään 12.3.2024.",
    "Avustusta myönnetään 1,5 miljoonaa euroa.",
    "Neuvonta palvelee numerossa 0295 163 000.",
    "Palaute osoitteeseen palaute(at)example.fi.",
    "Seurantaryhmä tukee toimeenpanoa alueilla.",
]
HEADINGS = ["Verkostot", "Viestintäverkosto", "Johtoryhmä", "Jaostot", "Seurantaryhmä", "Rahoitus"]


TWISTS = ["as-is", "upper", "no-dot", "word", "number"]


@st.composite
def paragraphs(draw: st.DrawFn, twists: list[str]) -> str:
    """A sentence, sometimes re-cased, re-punctuated, given a word of its own or joined."""
    text = draw(st.sampled_from(SENTENCES))
    twist = draw(st.sampled_from(twists))
    if twist == "upper":
        return text.upper()
    if twist == "no-dot":
        return text.rstrip(".")
    if twist == "word":
        return f"{text} {draw(st.sampled_from(['Lisäksi', 'tarvittaessa', 'Kainuussa']))}"
    if twist == "number":
        return f"{text} {draw(st.integers(0, 20))}"
    if twist == "joined":  # two sentences as one paragraph: the other page may split them
        return f"{text} {draw(st.sampled_from(SENTENCES))}"
    return text


@st.composite
def documents(draw: st.DrawFn, twists: list[str] = [*TWISTS, "joined"]) -> Document:  # noqa: B006
    """Contact-free pages with unique one-level headings (what the apply property speaks of;
    renames of a parent heading are table cases)."""
    headings = draw(st.lists(st.sampled_from(HEADINGS), unique=True, max_size=4))
    sections = tuple(
        Section((heading,), tuple(draw(st.lists(paragraphs(twists), max_size=5))))
        for heading in headings
    )
    return Document(url=URL, title="Sivu", sections=sections)


PEOPLE = ["Maija Virtanen", "Antti Korhonen", "Salla Mäkinen", "Kalle Nieminen"]


@st.composite
def full_documents(draw: st.DrawFn) -> Document:
    """Pages with contacts (in their sections, also as paragraph text) and attachments."""
    doc = draw(documents())
    headings = [s.heading for s in doc.sections] or [""]
    contacts = tuple(
        Contact(
            name=name,
            title=draw(st.sampled_from(["erityisasiantuntija", "viestintäpäällikkö"])),
            phone=draw(st.sampled_from(["", "+358295163290", "+358295163999"])),
            email=f"{name.split()[0].lower()}@example.fi",
            section=draw(st.sampled_from(headings)),
        )
        for name in draw(st.lists(st.sampled_from(PEOPLE), unique=True, max_size=3))
    )
    sections = tuple(
        Section(s.path, s.paragraphs + tuple(c.name for c in contacts if c.section == s.heading))
        for s in doc.sections
    )
    links = tuple(
        Link(
            f"https://example.org/{name}.pdf",
            draw(st.sampled_from(["Kalvot", "Muistio"])),
            "attachment",
        )
        for name in draw(st.lists(st.sampled_from(["a", "b", "c"]), unique=True, max_size=2))
    )
    return Document(url=URL, title="Sivu", sections=sections, contacts=contacts, links=links)


@given(full_documents())
def test_a_document_does_not_differ_from_itself(doc: Document) -> None:
    assert diff(doc, doc) == []
    assert diff(doc, Document.from_json(doc.to_json())) == []


@given(full_documents(), full_documents())
def test_the_diff_is_deterministic(old: Document, new: Document) -> None:
    assert diff(old, new) == diff(old, new)


@given(full_documents(), full_documents())
def test_no_contact_is_reported_twice(old: Document, new: Document) -> None:
    """A person's change is one contact change, never also a text change about them."""
    changes = diff(old, new)
    people = [c for c in changes if c.kind.startswith("contact_")]
    named = {name for c in people for name in PEOPLE if name in c.before + c.after}
    texts = [c for c in changes if c.kind.startswith("text_")]
    assert not [t for t in texts for name in named if name in t.before + t.after]


def paragraphs_of(text: str) -> list[str]:
    """A change's text may span consecutive paragraphs (one split in two), blank-line joined."""
    return [meaningful_key(p) for p in text.split("\n\n")] if text else []


def apply_changes(
    old: Document, changes: list[Change]
) -> tuple[dict[str, Counter[str]], Counter[str]]:
    """What `changes` say the new page holds: per section heading, the multiset of what its
    paragraphs say (meaningful_key: case, spacing and punctuation aside), moved paragraphs
    left where they were; and the moves, as a multiset of (destination heading, key).
    """
    sections = {s.heading: Counter(meaningful_key(p) for p in s.paragraphs) for s in old.sections}
    moves: Counter[tuple[str, str]] = Counter()
    for change in changes:
        before, after = meaningful_key(change.before), meaningful_key(change.after)
        if change.kind == ChangeKind.SECTION_REMOVED:
            del sections[change.section]
        elif change.kind == ChangeKind.SECTION_ADDED:
            sections[change.section] = Counter(paragraphs_of(change.after))
        elif change.kind == ChangeKind.SECTION_RENAMED:  # a heading, or a parent of some
            for heading in [h for h in sections if f"{h} / ".startswith(f"{change.before} / ")]:
                sections[change.after + heading[len(change.before) :]] = sections.pop(heading)
        elif change.kind == ChangeKind.TEXT_MOVED:
            assert before == after, change
            moves[(change.section, after)] += 1
        else:
            assert change.kind in (
                ChangeKind.TEXT_REMOVED,
                ChangeKind.TEXT_ADDED,
                ChangeKind.TEXT_EDITED,
            )
            assert before != after, f"a change that says nothing new: {change}"
            target = sections[change.section]
            for paragraph in paragraphs_of(change.before):
                assert target[paragraph] > 0, change
                target[paragraph] -= 1
            target.update(paragraphs_of(change.after))
    return sections, moves


def lacking_and_surplus(
    said: dict[str, Counter[str]], actual: dict[str, Counter[str]], moves: Counter[tuple[str, str]]
) -> None:
    """The page as a whole says the same; each section lacks only what moves brought in."""
    assert set(said) == set(actual)
    assert sum(said.values(), Counter()) == sum(actual.values(), Counter())
    lacking = Counter(
        {
            (heading, key): n
            for heading in actual
            for key, n in (actual[heading] - said[heading]).items()
        }
    )
    assert lacking - moves == Counter()
    for heading, key in moves:
        assert actual[heading][key] > 0


def paragraph_keys(doc: Document) -> dict[str, Counter[str]]:
    return {s.heading: Counter(meaningful_key(p) for p in s.paragraphs) for s in doc.sections}


def letters(sections: dict[str, Counter[str]]) -> dict[str, Counter[str]]:
    return {h: Counter("".join(k * n for k, n in keys.items())) for h, keys in sections.items()}


@settings(max_examples=200)
@given(documents(TWISTS), documents(TWISTS))
def test_applying_the_changes_to_the_old_page_gives_the_new_one(
    old: Document, new: Document
) -> None:
    """Applying every change but the moves to the old page gives the new page's sections,
    each holding the same paragraphs as the new one (case, spacing, punctuation aside), except
    where a paragraph moved between sections: the page as a whole holds the same paragraphs,
    and every paragraph a section still lacks is one a move brought into that section."""
    said, moves = apply_changes(old, diff(old, new))
    lacking_and_surplus(said, paragraph_keys(new), moves)


@settings(max_examples=200)
@given(documents(), documents())
def test_applying_the_changes_holds_up_to_paragraph_breaks(old: Document, new: Document) -> None:
    """Where paragraphs were split or joined (no change of their own), the same holds for
    what each section says letter by letter rather than paragraph by paragraph."""
    said, moves = apply_changes(old, diff(old, new))
    letter_moves: Counter[tuple[str, str]] = Counter()
    for (heading, key), count in moves.items():
        letter_moves.update({(heading, char): n * count for char, n in Counter(key).items()})
    lacking_and_surplus(letters(said), letters(paragraph_keys(new)), letter_moves)
