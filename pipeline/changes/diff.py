"""What changed between two versions of a page, as a reader would say it.

Pure: two Documents in, a list of `Change`s out; no I/O, no clock.

Steps (sections in changes.sections, paragraph alignment in changes.align, contact
records in changes.contactdiff, attachments in changes.attachments, what repeats
another change in changes.covered):
1. Sections are matched by heading path. An unmatched old section and an
   unmatched new one whose wording is mostly the same are one *renamed* section;
   the rest are *added* or *removed* (one change each, with the section's text).
2. Inside a matched section the paragraphs are aligned (SequenceMatcher over
   the paragraph strings, only on the stretch between the common head and tail).
   In each replaced block, paragraphs that say the same thing (whitespace,
   punctuation or case aside) are not changes, nor is a paragraph split into
   consecutive ones or joined from them; the others are paired by
   similarity into *edits* (a lone paragraph replaced by a lone paragraph needs
   less shared wording); the leftovers are added or removed.
3. A removed and an added paragraph that say the same thing, anywhere on the
   page, are one *moved* paragraph (changes.moves). In a list of groups or a table,
   a line whose owner changed is a move from one owner to the other, even when its
   neighbours moved rather than it (sotewatch.pipeline.changes.owners).
4. Contacts are records compared per section: same person with another title,
   organisation, phone or e-mail is *changed*; a person gone and another come in
   the same section is one *replaced* (paired by the same title first, then in
   order); the rest are *added* / *removed*.
5. Attachments (links of kind "attachment") by URL: added, removed, or changed
   (same URL with another text, or same text at another URL).

Contact / paragraph rule (scrapers also keep contact lines as paragraph text):
a text change is covered by a contact change, and dropped, when its section is
the contact's section or one of them contains the other (heading-path prefix),
and its before or after text contains the name or e-mail ("(at)" read as "@")
of a person in that contact change, or it is a contact block's label
("Lisätietoja", "Mer information") added or removed there. Contacts of an added
or removed section are covered by the section change in the same way. So each
fact is told once, as the record, whatever markup the page used for its
contact block.

Listing / feed rule: a text change whose before and after each name an item of
the list (a Link of kind "item", old side for before, new side for after) is
dropped: the item is its own page, reported as added or removed there.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import replace

from sotewatch.pipeline.changes.align import align_paragraphs
from sotewatch.pipeline.changes.attachments import attachment_changes
from sotewatch.pipeline.changes.contactdiff import PageRef, contact_changes, section_label
from sotewatch.pipeline.changes.covered import covered_by_sections, drop_covered, drop_item_lines
from sotewatch.pipeline.changes.moves import (
    Loose,
    handover_change,
    handovers_in_place,
    moved,
    pair_moves,
)
from sotewatch.pipeline.changes.moves import snip as _snip
from sotewatch.pipeline.changes.owners import OwnerMove, owner_moves, row_handover
from sotewatch.pipeline.changes.passages import passage_of, positions, wrapped_around
from sotewatch.pipeline.changes.sections import match_sections, section_changes, title_changes
from sotewatch.pipeline.changes.worddiff import (
    changed_phrases,
    has_meaningful_difference,
    meaningful_key,
    word_diff,
)
from sotewatch.pipeline.document.models import Change, ChangeKind, Document, Section


def diff_documents(
    old: Document | None, new: Document | None, *, page_url: str, page_title: str
) -> list[Change]:
    """The changes that turn `old` into `new`; a missing side means the page came or went."""
    if new is None:
        if old is None:
            return []
        page = PageRef(page_url, page_title, old.language)
        return [
            page.change(
                ChangeKind.PAGE_REMOVED, before=old.text, summary=f"Page removed: {page_title}"
            )
        ]
    page = PageRef(page_url, page_title, new.language)
    if old is None:
        return [
            page.change(ChangeKind.PAGE_ADDED, after=new.text, summary=f"New page: {page_title}")
        ]
    if old == new:
        return []
    pairs, added, removed, renamed = match_sections(old.sections, new.sections)
    by_section = section_changes(page, added, removed, renamed, old.sections)
    text_changes = _text_changes(page, pairs + [(o, n) for o, n in renamed])
    rename_map = {o.heading: n.heading for o, n in renamed}
    covered = [c for c in by_section if c.kind != ChangeKind.SECTION_RENAMED]
    people = [
        c
        for c in contact_changes(page, old.contacts, new.contacts, rename_map)
        if not covered_by_sections(c, covered)
    ]
    text_changes = drop_covered(text_changes, people, old.contacts + new.contacts)
    text_changes = drop_item_lines(text_changes, old.links, new.links)
    changes = title_changes(page, old.title, new.title) + by_section + text_changes
    changes += people + attachment_changes(page, old.links, new.links)
    return _in_page_order(changes, new.sections, old.sections)


# --- paragraphs -------------------------------------------------------------------------


def _text_changes(page: PageRef, pairs: Iterable[tuple[Section, Section]]) -> list[Change]:
    changes: list[Change] = []
    gone: list[Loose] = []
    came: list[Loose] = []
    handovers: dict[tuple[str, str], OwnerMove] = {}
    for old, new in pairs:
        if old.paragraphs == new.paragraphs:
            continue
        edits, removed, added = align_paragraphs(old.paragraphs, new.paragraphs)
        label = section_label(new.heading)
        where_old = positions(old.paragraphs) if edits else {}
        where_new = positions(new.paragraphs) if edits else {}
        for a, b in edits:
            handover = row_handover(a, b, old.paragraphs, new.paragraphs)
            if handover is not None:
                changes.append(handover_change(page, new.heading, handover))
                continue
            edited = page.change(
                ChangeKind.TEXT_EDITED, new.heading, a, b, f"{label}: {edit_summary(a, b)}"
            )
            context = _join(
                passage_of(old.paragraphs, a, where_old), passage_of(new.paragraphs, b, where_new)
            )
            changes.append(replace(edited, context=context))
        gone += [Loose(new.heading, i, t, wrapped_around(old.paragraphs, i)) for i, t in removed]
        came += [Loose(new.heading, j, t, wrapped_around(new.paragraphs, j)) for j, t in added]
        for move in owner_moves(old.paragraphs, new.paragraphs):
            handovers[(new.heading, meaningful_key(move.line))] = move
    moves, gone, came = pair_moves(gone, came)
    changes += [moved(page, a, b, handovers) for a, b in moves]
    changes += handovers_in_place(page, handovers, moves, gone, came)
    changes += [
        replace(
            page.change(
                ChangeKind.TEXT_REMOVED,
                p.section,
                before=p.text,
                summary=f"{section_label(p.section)}: removed “{_snip(p.text)}”",
            ),
            context=p.context,
        )
        for p in gone
    ]
    changes += [
        replace(
            page.change(
                ChangeKind.TEXT_ADDED,
                p.section,
                after=p.text,
                summary=f"{section_label(p.section)}: added “{_snip(p.text)}”",
            ),
            context=p.context,
        )
        for p in came
    ]
    return changes


def _join(*texts: str) -> str:
    return "\n".join(t for t in texts if t)


def edit_summary(before: str, after: str, limit: int = 3) -> str:
    """The changed phrases of an edit, "old → new; ...", for a one-line digest entry.

    Phrases that change only case or punctuation are left out; when there are more
    than `limit`, those with a number, date, phone or e-mail are named first, then
    short word-for-word substitutions ("neljä" → "kuusi"), in the order of the text."""
    phrases = [
        (deleted, inserted)
        for deleted, inserted in changed_phrases(word_diff(before, after))
        if has_meaningful_difference(deleted, inserted)
    ]
    chosen = sorted(sorted(range(len(phrases)), key=lambda i: _salience(*phrases[i]))[:limit])
    parts = []
    for deleted, inserted in (phrases[i] for i in chosen):
        if deleted and inserted:
            parts.append(f"“{_snip(deleted, 60)}” → “{_snip(inserted, 60)}”")
        elif inserted:
            parts.append(f"added “{_snip(inserted, 60)}”")
        else:
            parts.append(f"removed “{_snip(deleted, 60)}”")
    more = f" (+{len(phrases) - limit} more)" if len(phrases) > limit else ""
    return "; ".join(parts) + more if parts else "reworded"


def _salience(deleted: str, inserted: str) -> tuple[bool, bool, int]:
    """Sort key: what a reader most needs named in a one-line summary comes first."""
    figures = any(c.isdigit() or c == "@" for c in deleted + inserted)
    words = len(deleted.split()) + len(inserted.split())
    return (not figures, not (deleted and inserted and words <= 4), words)


# --- presentation -----------------------------------------------------------------------


def _in_page_order(
    changes: list[Change], new: Sequence[Section], old: Sequence[Section]
) -> list[Change]:
    """Stable order a reader can follow: page-level first, then sections as the page lists them."""
    rank: dict[str, int] = {"": -1}
    for section in [*new, *old]:
        rank.setdefault(section.heading, len(rank))
    return sorted(changes, key=lambda c: rank.get(c.section, len(rank)))
