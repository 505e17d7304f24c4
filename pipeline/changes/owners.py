"""Who a line belongs to in a list of groups, and which lines changed hands.

Slides and overview pages list groups as short lines: an owner's line (an expert's
name, a heading-like label) followed by its members (the counties they cover).
Once extracted, the bold face that told them apart is gone, so the lines are told
apart by their shape: members are the lines of the section's most common shape
(a county: one capitalised word), owners the short lines of any other shape
("Tero Mäkelä": two). A member belongs to the nearest owner above it.

Pure and string-only. A section of prose (a long line, or no repeated shape) has no
owners, and nothing here applies to it.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from sotewatch.pipeline.changes.worddiff import meaningful_key

MAX_LINE = 80  # characters: a longer line is prose, and its section is not a list of groups


@dataclass(frozen=True)
class OwnerMove:
    """A line that belongs to another owner in the new version ("Kanta-Häme")."""

    line: str
    before: str  # the owner it had ("Tero Mäkelä")
    after: str  # the owner it has now ("Hanna Koskinen")
    before_group: tuple[str, ...] = ()  # the old owner's members, in the old version
    after_group: tuple[str, ...] = ()  # the new owner's members, in the new version

    @property
    def context(self) -> str:
        """Both owners with their groups: what the move concerns, for tagging."""
        return "\n".join((self.before, *self.before_group, self.after, *self.after_group))


def shape(line: str) -> str:
    """One letter per word: "A" capitalised, "a" lower case, "9" a number, "." the rest."""
    letters = []
    for word in line.split():
        first = word.lstrip("([\"'“")[:1]
        if first.isdigit():
            letters.append("9")
        elif first.isupper():
            letters.append("A")
        elif first.isalpha():
            letters.append("a")
        else:
            letters.append(".")
    return "".join(letters)


def owners(paragraphs: Sequence[str]) -> list[str | None]:
    """For each paragraph, the owner line it sits under, or None (an owner itself, a line
    above the first owner, or a section that is not a list of groups)."""
    if not paragraphs or any(len(p) > MAX_LINE for p in paragraphs):
        return [None] * len(paragraphs)
    shapes = [shape(p) for p in paragraphs]
    member, count = Counter(shapes).most_common(1)[0]
    heads = len(shapes) - count
    if heads < 2 or count < heads:
        return [None] * len(paragraphs)
    result: list[str | None] = []
    current: str | None = None
    for paragraph, line_shape in zip(paragraphs, shapes, strict=True):
        if line_shape == member:
            result.append(current)
        else:
            current = paragraph
            result.append(None)
    return result


def owner_moves(old: Sequence[str], new: Sequence[str]) -> list[OwnerMove]:
    """Members found once in each version that went from one owner to another, both
    owners standing in both versions (an owner reworded is not a handover)."""
    old_owners, new_owners = owners(old), owners(new)
    if not any(old_owners) or not any(new_owners):  # prose: nothing to compare, and cheap
        return []
    before, old_groups = _owned(old, old_owners), _groups(old, old_owners)
    after, new_groups = _owned(new, new_owners), _groups(new, new_owners)
    standing = {meaningful_key(o) for o in old_groups} & {meaningful_key(o) for o in new_groups}
    moves = []
    for key, (line, owner) in after.items():
        if key not in before:
            continue
        was = before[key][1]
        both_stand = meaningful_key(was) in standing and meaningful_key(owner) in standing
        if both_stand and meaningful_key(was) != meaningful_key(owner):
            moves.append(OwnerMove(line, was, owner, old_groups[was], new_groups[owner]))
    return moves


def _groups(
    paragraphs: Sequence[str], owned_by: Sequence[str | None]
) -> dict[str, tuple[str, ...]]:
    """owner line -> its members."""
    groups: dict[str, list[str]] = {}
    for paragraph, owner in zip(paragraphs, owned_by, strict=True):
        if owner is not None:
            groups.setdefault(owner, []).append(paragraph)
    return {owner: tuple(members) for owner, members in groups.items()}


def _owned(paragraphs: Sequence[str], owned_by: Sequence[str | None]) -> dict[str, tuple[str, str]]:
    """meaningful key -> (line, owner) of the members that occur once."""
    seen = Counter(meaningful_key(p) for p in paragraphs)
    return {
        meaningful_key(p): (p, owner)
        for p, owner in zip(paragraphs, owned_by, strict=True)
        if owner is not None and seen[meaningful_key(p)] == 1
    }


def row_handover(
    before: str, after: str, old: Sequence[str], new: Sequence[str]
) -> OwnerMove | None:
    """A table row ("Kanta-Häme | Tero Mäkelä") whose one changed cell now names another
    owner, both owners standing in other rows of both versions: a handover, not an edit.
    The row is known by its first cell; a cell that changed to a new value (a phone, a
    date) is an edit."""
    was, now = _cells(before), _cells(after)
    if len(was) < 2 or len(was) != len(now) or meaningful_key(was[0]) != meaningful_key(now[0]):
        return None
    differ = [i for i, (a, b) in enumerate(zip(was, now, strict=True)) if a != b]
    if len(differ) != 1 or differ[0] == 0:
        return None
    column = differ[0]
    old_rows = _rows_with(old, column, was[column], before)
    new_rows = _rows_with(new, column, now[column], after)
    stands = _rows_with(new, column, was[column], after) and _rows_with(
        old, column, now[column], before
    )
    if not (old_rows and new_rows and stands):
        return None
    return OwnerMove(was[0], was[column], now[column], old_rows, new_rows)


def _cells(row: str) -> list[str]:
    return [cell.strip() for cell in row.split(" | ")] if " | " in row else []


def _rows_with(rows: Sequence[str], column: int, value: str, besides: str) -> tuple[str, ...]:
    """The other rows of a table that have `value` in `column`."""
    key = meaningful_key(value)
    found = []
    for row in rows:
        cells = _cells(row)
        if row != besides and len(cells) > column and meaningful_key(cells[column]) == key:
            found.append(row)
    return tuple(found)
