"""What changed between two versions of a page, as a reader would say it.

Pure: two Documents in, a list of `Change`s out; no I/O, no clock.

Steps (paragraph alignment in changes.align, contact records in changes.contactdiff):
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

from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import replace

from sotewatch.pipeline.changes.align import align_paragraphs
from sotewatch.pipeline.changes.contactdiff import (
    CONTACT_BLOCK_HEADINGS,
    PageRef,
    contact_changes,
    contact_line,
    section_label,
)
from sotewatch.pipeline.changes.moves import (
    Loose,
    handover_change,
    handovers_in_place,
    moved,
    pair_moves,
)
from sotewatch.pipeline.changes.moves import snip as _snip
from sotewatch.pipeline.changes.owners import OwnerMove, owner_moves, row_handover
from sotewatch.pipeline.changes.passages import passage, passage_of, positions
from sotewatch.pipeline.changes.worddiff import (
    changed_phrases,
    has_meaningful_difference,
    meaningful_key,
    similarity,
    word_diff,
)
from sotewatch.pipeline.document.models import Change, ChangeKind, Contact, Document, Link, Section

RENAME_SIMILARITY = 0.5  # share of wording a renamed section keeps
# Sections are compared by shared paragraphs (cheap), and also word by word while
# candidates x characters stay under this budget (SequenceMatcher is quadratic at worst).
_RENAME_WORD_BUDGET = 200_000


def diff_documents(
    old: Document | None, new: Document | None, *, page_url: str, page_title: str
) -> list[Change]:
    """The changes that turn `old` into `new`; a missing side means the page came or went."""
    if old is None and new is None:
        return []
    page = PageRef(page_url, page_title, (new or old).language)  # type: ignore[union-attr]
    if old is None:
        assert new is not None
        return [
            page.change(ChangeKind.PAGE_ADDED, after=new.text, summary=f"New page: {page_title}")
        ]
    if new is None:
        return [
            page.change(
                ChangeKind.PAGE_REMOVED, before=old.text, summary=f"Page removed: {page_title}"
            )
        ]
    if old == new:
        return []
    pairs, added, removed, renamed = match_sections(old.sections, new.sections)
    section_changes = _section_changes(page, added, removed, renamed, old.sections)
    text_changes = _text_changes(page, pairs + [(o, n) for o, n in renamed])
    rename_map = {o.heading: n.heading for o, n in renamed}
    covered = [c for c in section_changes if c.kind != ChangeKind.SECTION_RENAMED]
    people = [
        c
        for c in contact_changes(page, old.contacts, new.contacts, rename_map)
        if not _covered_by_sections(c, covered)
    ]
    text_changes = _drop_covered(text_changes, people, old.contacts + new.contacts)
    text_changes = _drop_item_lines(text_changes, old.links, new.links)
    changes = _title_changes(page, old.title, new.title) + section_changes + text_changes
    changes += people + _attachment_changes(page, old.links, new.links)
    return _in_page_order(changes, new.sections, old.sections)


# --- sections ---------------------------------------------------------------------------


def match_sections(
    old: Sequence[Section], new: Sequence[Section]
) -> tuple[
    list[tuple[Section, Section]], list[Section], list[Section], list[tuple[Section, Section]]
]:
    """(same path pairs, added, removed, renamed pairs). Repeated paths pair up in order."""
    old_by_key = dict(_keyed(old))
    new_keys = _keyed(new)
    pairs = [(old_by_key[key], section) for key, section in new_keys if key in old_by_key]
    matched = {key for key, _ in new_keys if key in old_by_key}
    removed = [s for key, s in _keyed(old) if key not in matched]
    added = [s for key, s in new_keys if key not in matched]
    renamed = _pair_renames(removed, added)
    renamed_ids = {id(s) for pair in renamed for s in pair}
    added = [s for s in added if id(s) not in renamed_ids]
    removed = [s for s in removed if id(s) not in renamed_ids]
    return pairs, added, removed, renamed


def _keyed(sections: Sequence[Section]) -> list[tuple[tuple[tuple[str, ...], int], Section]]:
    seen: dict[tuple[str, ...], int] = defaultdict(int)
    keyed = []
    for section in sections:
        path = tuple(_fold(part) for part in section.path)
        keyed.append(((path, seen[path]), section))
        seen[path] += 1
    return keyed


def _pair_renames(removed: list[Section], added: list[Section]) -> list[tuple[Section, Section]]:
    """Greedy best-first pairing of sections whose wording is mostly the same."""
    if not removed or not added:
        return []
    keys_old = [Counter(meaningful_key(p) for p in s.paragraphs) for s in removed]
    keys_new = [Counter(meaningful_key(p) for p in s.paragraphs) for s in added]
    wordwise = len(removed) * len(added) * max(len(s.text) for s in added) <= _RENAME_WORD_BUDGET
    scored = []
    for i, old in enumerate(removed):
        for j, new in enumerate(added):
            if not old.paragraphs or not new.paragraphs:
                continue
            shared = sum((keys_old[i] & keys_new[j]).values())
            score = shared / max(len(old.paragraphs), len(new.paragraphs))
            if score < RENAME_SIMILARITY and wordwise:
                score = max(score, similarity(old.text, new.text))
            if score >= RENAME_SIMILARITY:
                scored.append((-score, i, j))
    used_old: set[int] = set()
    used_new: set[int] = set()
    pairs = []
    for _, i, j in sorted(scored):
        if i not in used_old and j not in used_new:
            used_old.add(i)
            used_new.add(j)
            pairs.append((removed[i], added[j]))
    return pairs


def _section_changes(
    page: PageRef,
    added: list[Section],
    removed: list[Section],
    renamed: list[tuple[Section, Section]],
    old_sections: Sequence[Section],
) -> list[Change]:
    changes = [
        page.change(
            ChangeKind.SECTION_RENAMED, after, before, after, f"Section renamed: {before} → {after}"
        )
        for before, after in _renamed_headings(renamed, old_sections)
    ]
    changes += [
        page.change(
            ChangeKind.SECTION_ADDED, s.heading, after=s.text, summary=f"New section: {s.heading}"
        )
        for s in added
    ]
    changes += [
        page.change(
            ChangeKind.SECTION_REMOVED,
            s.heading,
            before=s.text,
            summary=f"Section removed: {s.heading}",
        )
        for s in removed
    ]
    return changes


def _renamed_headings(
    renamed: list[tuple[Section, Section]], old_sections: Sequence[Section]
) -> list[tuple[str, str]]:
    """(old, new) heading of each rename a reader sees: when only a parent heading changed
    ("Verkostot / X" → "Sote-verkostot / X" for every X under it), that one parent rename."""
    parents: dict[tuple[str, str], list[tuple[Section, Section]]] = defaultdict(list)
    for old, new in renamed:
        parents[_parent_rename(old.path, new.path) or (old.heading, new.heading)].append((old, new))
    seen: dict[tuple[str, str], None] = {}
    for (before, after), pairs in parents.items():
        under = [s for s in old_sections if f"{s.heading} / ".startswith(f"{before} / ")]
        if len(under) == len(pairs):
            seen.setdefault((before, after))
        else:  # some of the parent's sections kept its name: each rename stands alone
            seen.update(dict.fromkeys((o.heading, n.heading) for o, n in pairs))
    return list(seen)


def _parent_rename(old: tuple[str, ...], new: tuple[str, ...]) -> tuple[str, str] | None:
    """The (old, new) heading of the one ancestor renamed, if the paths differ only there."""
    if len(old) != len(new):
        return None
    differ = [i for i, (a, b) in enumerate(zip(old, new, strict=True)) if _fold(a) != _fold(b)]
    if len(differ) != 1 or differ[0] == len(old) - 1:
        return None
    return " / ".join(old[: differ[0] + 1]), " / ".join(new[: differ[0] + 1])


def _fold(heading: str) -> str:
    return " ".join(heading.split()).casefold()


def _title_changes(page: PageRef, old: str, new: str) -> list[Change]:
    if not has_meaningful_difference(old, new):
        return []
    return [page.change(ChangeKind.TEXT_EDITED, "", old, new, f"Title: {old} → {new}")]


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
        gone += [Loose(new.heading, i, t, _around(old.paragraphs, i)) for i, t in removed]
        came += [Loose(new.heading, j, t, _around(new.paragraphs, j)) for j, t in added]
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


def _around(paragraphs: Sequence[str], index: int) -> str:
    """The wrapped lines around a paragraph, when there are any (else "")."""
    whole = passage(paragraphs, index)
    return whole if whole != paragraphs[index] else ""


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


# --- contact / text de-duplication ------------------------------------------------------


def _related(a: str, b: str) -> bool:
    """Sections that are the same, or one inside the other, by heading path."""
    pa, pb = _path(a), _path(b)
    shorter = min(len(pa), len(pb))
    return pa[:shorter] == pb[:shorter]


def _path(heading: str) -> tuple[str, ...]:
    return tuple(p.strip().casefold() for p in heading.split(" / ")) if heading else ()


def _markers(lines: Iterable[str], contacts: Sequence[Contact]) -> set[str]:
    """Names and e-mails of the contacts whose one-line form is among `lines`."""
    wanted = set(lines)
    markers = set()
    for contact in contacts:
        if contact_line(contact) in wanted:
            markers.add(" ".join(contact.name.split()).casefold())
            if contact.email:
                markers.add(contact.email.casefold().replace("(at)", "@"))
    return {m for m in markers if m}


def _mentions(text: str, markers: set[str]) -> bool:
    plain = " ".join(text.split()).casefold().replace("(at)", "@")
    return any(marker in plain for marker in markers)


def _drop_covered(
    texts: list[Change], contacts: list[Change], everyone: Sequence[Contact]
) -> list[Change]:
    """Text changes that only repeat a contact change (see the module docstring)."""
    covers = [(c.section, _markers((c.before, c.after), everyone)) for c in contacts]
    return [
        t
        for t in texts
        if not any(
            _related(section, t.section)
            and (_mentions(t.before, m) or _mentions(t.after, m) or _is_label(t))
            for section, m in covers
        )
    ]


def _drop_item_lines(texts: list[Change], old: Sequence[Link], new: Sequence[Link]) -> list[Change]:
    """A listing's or feed's line announcing an item (a Link of kind "item") is no news of its
    own: the item is a page, reported when it is added or removed."""
    before = {meaningful_key(link.text) for link in old if link.kind == "item" and link.text}
    after = {meaningful_key(link.text) for link in new if link.kind == "item" and link.text}
    if not before and not after:
        return texts
    return [
        t
        for t in texts
        if not (
            (not t.before or _names_one_of(t.before, before))
            and (not t.after or _names_one_of(t.after, after))
        )
    ]


def _names_one_of(text: str, keys: set[str]) -> bool:
    key = meaningful_key(text)
    return any(item in key for item in keys)


def _is_label(change: Change) -> bool:
    """A contact block's own label ("Lisätietoja:") that came or went with its contacts."""
    text = change.after if change.kind == ChangeKind.TEXT_ADDED else change.before
    if change.kind not in (ChangeKind.TEXT_ADDED, ChangeKind.TEXT_REMOVED):
        return False
    return " ".join(text.split()).casefold().rstrip(":") in CONTACT_BLOCK_HEADINGS


def _covered_by_sections(contact: Change, sections: list[Change]) -> bool:
    return any(
        _related(s.section, contact.section)
        and len(_path(s.section)) <= len(_path(contact.section))
        for s in sections
    )


# --- attachments ------------------------------------------------------------------------


def _attachment_changes(page: PageRef, old: Sequence[Link], new: Sequence[Link]) -> list[Change]:
    before = {link.url: link for link in old if link.kind == "attachment"}
    after = {link.url: link for link in new if link.kind == "attachment"}
    changes = []
    for url, link in after.items():
        if url in before and has_meaningful_difference(before[url].text, link.text):
            changes.append(_attachment(page, ChangeKind.ATTACHMENT_CHANGED, before[url], link))
    gone = [link for url, link in before.items() if url not in after]
    came = [link for url, link in after.items() if url not in before]
    for link in list(came):
        same_text = next(
            (g for g in gone if g.text and meaningful_key(g.text) == meaningful_key(link.text)),
            None,
        )
        if same_text is not None:
            gone.remove(same_text)
            came.remove(link)
            changes.append(_attachment(page, ChangeKind.ATTACHMENT_CHANGED, same_text, link))
    changes += [_attachment(page, ChangeKind.ATTACHMENT_REMOVED, link, None) for link in gone]
    changes += [_attachment(page, ChangeKind.ATTACHMENT_ADDED, None, link) for link in came]
    return changes


_ATTACHMENT_VERBS = {
    ChangeKind.ATTACHMENT_ADDED: "New attachment",
    ChangeKind.ATTACHMENT_REMOVED: "Attachment removed",
    ChangeKind.ATTACHMENT_CHANGED: "Attachment changed",
}


def _attachment(page: PageRef, kind: ChangeKind, old: Link | None, new: Link | None) -> Change:
    before = f"{old.text} <{old.url}>" if old else ""
    after = f"{new.text} <{new.url}>" if new else ""
    name = (new or old).text or (new or old).url  # type: ignore[union-attr]
    verb = _ATTACHMENT_VERBS[kind]
    return page.change(kind, "", before, after, f"{verb}: {name}")


# --- presentation -----------------------------------------------------------------------


def _in_page_order(
    changes: list[Change], new: Sequence[Section], old: Sequence[Section]
) -> list[Change]:
    """Stable order a reader can follow: page-level first, then sections as the page lists them."""
    rank: dict[str, int] = {"": -1}
    for section in [*new, *old]:
        rank.setdefault(section.heading, len(rank))
    return sorted(changes, key=lambda c: rank.get(c.section, len(rank)))
