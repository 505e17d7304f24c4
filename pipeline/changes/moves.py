"""Paragraphs that moved: from one place to another, under another heading, or from one
owner to another in a list of groups (changes.owners). Pure; used by changes.diff.
"""

from __future__ import annotations

from collections import defaultdict, deque
from dataclasses import dataclass, replace

from sotewatch.pipeline.changes.contactdiff import PageRef, section_label
from sotewatch.pipeline.changes.owners import OwnerMove
from sotewatch.pipeline.changes.worddiff import meaningful_key
from sotewatch.pipeline.document.models import Change, ChangeKind

SNIPPET = 120  # characters of a quoted paragraph in a summary


@dataclass(frozen=True)
class Loose:
    """A paragraph removed from or added to a matched section, before moves are found."""

    section: str
    position: int
    text: str
    context: str = (
        ""  # the wrapped lines around it (sotewatch.pipeline.changes.passages), for tagging
    )


def pair_moves(
    gone: list[Loose], came: list[Loose]
) -> tuple[list[tuple[Loose, Loose]], list[Loose], list[Loose]]:
    """A paragraph removed in one place and said again in another is one move."""
    by_key: dict[str, deque[int]] = defaultdict(deque)
    for index, loose in enumerate(gone):
        by_key[meaningful_key(loose.text)].append(index)
    moves = []
    moved_old: set[int] = set()
    still_new = []
    for loose in came:
        candidates = by_key.get(meaningful_key(loose.text))
        if candidates:
            index = candidates.popleft()
            moved_old.add(index)
            moves.append((gone[index], loose))
        else:
            still_new.append(loose)
    still_old = [loose for index, loose in enumerate(gone) if index not in moved_old]
    return moves, still_old, still_new


def moved(
    page: PageRef, old: Loose, new: Loose, handovers: dict[tuple[str, str], OwnerMove]
) -> Change:
    """One line saying what moved, and from where to where. Inside a list of groups
    (changes.owners) that is from one owner to another: "Kanta-Häme: Tero Mäkelä →
    Hanna Koskinen", and before / after name the owners, so both are tagged.
    Otherwise neighbouring paragraphs are not named: a neighbour's county is not what
    changed."""
    handover = handovers.get((new.section, meaningful_key(new.text)))
    if old.section == new.section and handover is not None:
        return handover_change(page, new.section, handover)
    label = section_label(new.section)
    if old.section != new.section:  # under another heading: from which to which
        was = section_label(old.section) if old.section else "(top)"
        summary = f"“{snip(new.text)}”: {was} → {label}"
    else:
        summary = f"{label}: “{snip(new.text)}” moved within the section"
    return page.change(ChangeKind.TEXT_MOVED, new.section, old.text, new.text, summary)


def handover_change(page: PageRef, section: str, move: OwnerMove) -> Change:
    line = snip(move.line, 60)
    before, after = snip(move.before, 60), snip(move.after, 60)
    summary = f"{line}: {before} → {after}"
    change = page.change(
        ChangeKind.TEXT_MOVED, section, f"{line}: {before}", f"{line}: {after}", summary
    )
    return replace(change, context=move.context)


def handovers_in_place(
    page: PageRef,
    handovers: dict[tuple[str, str], OwnerMove],
    moves: list[tuple[Loose, Loose]],
    gone: list[Loose],
    came: list[Loose],
) -> list[Change]:
    """Lines that stayed where they were while their owner changed around them (the
    neighbours moved, not they): still a move from one owner to another."""
    told = {(b.section, meaningful_key(b.text)) for _, b in moves}
    told |= {(p.section, meaningful_key(p.text)) for p in [*gone, *came]}
    return [
        handover_change(page, section, move)
        for (section, key), move in handovers.items()
        if (section, key) not in told
    ]


def snip(text: str, limit: int = SNIPPET) -> str:
    """`text` on one line, cut with "…" at `limit` characters."""
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1].rstrip() + "…"
