"""What changed between two versions of a page, as a reader would say it.

Pure: two Documents in, a list of `Change`s out; no I/O, no clock.

Steps, each a small function below:
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
   page, are one *moved* paragraph.
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

import difflib
from collections import defaultdict, deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from pipeline.models import Change, ChangeKind, Contact, Document, Link, Section
from pipeline.worddiff import (
    changed_phrases,
    has_meaningful_difference,
    meaningful_key,
    similarity,
    word_diff,
)

RENAME_SIMILARITY = 0.5  # share of wording a renamed section keeps
EDIT_SIMILARITY = 0.5  # share of wording an edited paragraph keeps
LONE_EDIT_SIMILARITY = 0.25  # ... when it is the only paragraph replaced at that place
_MAX_PAIRINGS = 20_000  # similarity comparisons per replaced block before pairing in order
_SNIPPET = 120

# Headings of a contact block, which say nothing about whose contacts they are.
_GENERIC_HEADINGS = frozenset(
    {
        *("lisätietoja", "lisätiedot", "yhteystiedot", "yhteyshenkilöt", "yhteyshenkilö"),
        *("mer information", "ytterligare information", "kontakt", "kontaktuppgifter"),
        *("kontaktpersoner", "further information", "more information", "contact", "contacts"),
    }
)

_FIELD_NAMES = {
    "fi": {
        "title": "tehtävä",
        "organisation": "organisaatio",
        "phone": "puhelin",
        "email": "sähköposti",
    },
    "sv": {"title": "titel", "organisation": "organisation", "phone": "telefon", "email": "e-post"},
    "en": {"title": "title", "organisation": "organisation", "phone": "phone", "email": "email"},
}


@dataclass(frozen=True)
class _Page:
    url: str
    title: str
    language: str

    def change(
        self,
        kind: ChangeKind,
        section: str = "",
        before: str = "",
        after: str = "",
        summary: str = "",
    ) -> Change:
        return Change(kind, self.url, self.title, section, before, after, summary)


_Item = tuple[int, str]  # (position in the section, paragraph text)


@dataclass(frozen=True)
class _Loose:
    """A paragraph removed from or added to a matched section, before moves are found."""

    section: str
    position: int
    text: str


def diff_documents(
    old: Document | None, new: Document | None, *, page_url: str, page_title: str
) -> list[Change]:
    """The changes that turn `old` into `new`; a missing side means the page came or went."""
    if old is None and new is None:
        return []
    language = (new or old).language  # type: ignore[union-attr]
    page = _Page(page_url, page_title, language)
    if old is None:
        return [
            page.change(ChangeKind.PAGE_ADDED, after=new.text, summary=f"New page: {page_title}")
        ]  # type: ignore[union-attr]
    if new is None:
        return [
            page.change(
                ChangeKind.PAGE_REMOVED, before=old.text, summary=f"Page removed: {page_title}"
            )
        ]
    if old == new:
        return []
    pairs, added, removed, renamed = match_sections(old.sections, new.sections)
    section_changes = _section_changes(page, added, removed, renamed)
    text_changes = _text_changes(page, pairs + [(o, n) for o, n in renamed])
    rename_map = {o.heading: n.heading for o, n in renamed}
    contact_changes = _contact_changes(page, old.contacts, new.contacts, rename_map)
    covered = [c for c in section_changes if c.kind != ChangeKind.SECTION_RENAMED]
    contact_changes = [c for c in contact_changes if not _covered_by_sections(c, covered)]
    text_changes = _drop_covered(text_changes, contact_changes, old.contacts + new.contacts)
    text_changes = _drop_item_lines(text_changes, old.links, new.links)
    changes = _title_changes(page, old.title, new.title) + section_changes + text_changes
    changes += contact_changes + _attachment_changes(page, old.links, new.links)
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
        path = tuple(" ".join(part.split()).casefold() for part in section.path)
        keyed.append(((path, seen[path]), section))
        seen[path] += 1
    return keyed


def _pair_renames(removed: list[Section], added: list[Section]) -> list[tuple[Section, Section]]:
    """Greedy best-first pairing of sections whose wording is mostly the same."""
    scored = []
    for i, old in enumerate(removed):
        for j, new in enumerate(added):
            if old.paragraphs and new.paragraphs:
                score = similarity(old.text, new.text)
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
    page: _Page,
    added: list[Section],
    removed: list[Section],
    renamed: list[tuple[Section, Section]],
) -> list[Change]:
    changes = [
        page.change(
            ChangeKind.SECTION_RENAMED,
            new.heading,
            old.heading,
            new.heading,
            f"Section renamed: {old.heading} → {new.heading}",
        )
        for old, new in renamed
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


def _title_changes(page: _Page, old: str, new: str) -> list[Change]:
    if not has_meaningful_difference(old, new):
        return []
    return [page.change(ChangeKind.TEXT_EDITED, "", old, new, f"Title: {old} → {new}")]


# --- paragraphs -------------------------------------------------------------------------


def _text_changes(page: _Page, pairs: Iterable[tuple[Section, Section]]) -> list[Change]:
    changes: list[Change] = []
    gone: list[_Loose] = []
    came: list[_Loose] = []
    for old, new in pairs:
        if old.paragraphs == new.paragraphs:
            continue
        edits, removed, added = align_paragraphs(old.paragraphs, new.paragraphs)
        label = section_label(new.heading)
        changes += [
            page.change(ChangeKind.TEXT_EDITED, new.heading, a, b, f"{label}: {edit_summary(a, b)}")
            for a, b in edits
        ]
        gone += [_Loose(new.heading, i, text) for i, text in removed]
        came += [_Loose(new.heading, j, text) for j, text in added]
    moves, gone, came = _pair_moves(gone, came)
    changes += [_moved(page, a, b) for a, b in moves]
    changes += [
        page.change(
            ChangeKind.TEXT_REMOVED,
            p.section,
            before=p.text,
            summary=f"{section_label(p.section)}: removed “{_snip(p.text)}”",
        )
        for p in gone
    ]
    changes += [
        page.change(
            ChangeKind.TEXT_ADDED,
            p.section,
            after=p.text,
            summary=f"{section_label(p.section)}: added “{_snip(p.text)}”",
        )
        for p in came
    ]
    return changes


def align_paragraphs(
    old: Sequence[str], new: Sequence[str]
) -> tuple[list[tuple[str, str]], list[tuple[int, str]], list[tuple[int, str]]]:
    """(edited pairs, removed (index, text), added (index, text)) between two paragraph lists.

    Only the stretch between the common head and tail is aligned, so a long
    section with one edit costs little more than comparing it for equality.
    """
    head = 0
    while head < min(len(old), len(new)) and old[head] == new[head]:
        head += 1
    tail = 0
    while tail < min(len(old), len(new)) - head and old[-1 - tail] == new[-1 - tail]:
        tail += 1
    a, b = old[head : len(old) - tail], new[head : len(new) - tail]
    edits: list[tuple[str, str]] = []
    removed: list[tuple[int, str]] = []
    added: list[tuple[int, str]] = []
    matcher = difflib.SequenceMatcher(None, a, b, autojunk=len(b) > 5000)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            continue
        block_edits, block_removed, block_added = _pair_block(
            [(head + i, a[i]) for i in range(i1, i2)], [(head + j, b[j]) for j in range(j1, j2)]
        )
        edits += block_edits
        removed += block_removed
        added += block_added
    return edits, removed, added


def _pair_block(
    gone: list[_Item], came: list[_Item]
) -> tuple[list[tuple[str, str]], list[_Item], list[_Item]]:
    """Within one replaced block: paragraphs that say the same thing cancel (also when one
    was split into consecutive ones, or several joined), similar ones are edits; an edit
    may span a paragraph and the consecutive ones it was split into (texts joined by a
    blank line, as in a section's text)."""
    gone, came = _cancel_same(gone, came)
    gone, came = _cancel_reflowed(gone, came)
    came, gone = _cancel_reflowed(came, gone)
    threshold = LONE_EDIT_SIMILARITY if len(gone) == len(came) == 1 else EDIT_SIMILARITY
    pairs = _pair_similar(gone, came, threshold)
    paired_old = {i for run, _ in pairs for i in run}
    paired_new = {j for _, run in pairs for j in run}
    edits = [(_joined(gone, old), _joined(came, new)) for old, new in sorted(pairs)]
    removed = [item for i, item in enumerate(gone) if i not in paired_old]
    added = [item for j, item in enumerate(came) if j not in paired_new]
    return edits, removed, added


def _joined(items: list[_Item], run: tuple[int, ...]) -> str:
    return "\n\n".join(items[i][1] for i in run)


def _cancel_same(gone: list[_Item], came: list[_Item]) -> tuple[list[_Item], list[_Item]]:
    by_key: dict[str, deque[int]] = defaultdict(deque)
    for index, (_, text) in enumerate(came):
        by_key[meaningful_key(text)].append(index)
    used: set[int] = set()
    left = []
    for item in gone:
        candidates = by_key.get(meaningful_key(item[1]))
        if candidates:
            used.add(candidates.popleft())
        else:
            left.append(item)
    return left, [item for index, item in enumerate(came) if index not in used]


def _cancel_reflowed(whole: list[_Item], parts: list[_Item]) -> tuple[list[_Item], list[_Item]]:
    """Drop each paragraph of `whole` that consecutive `parts` say together, and those parts."""
    keys = [meaningful_key(text) for _, text in parts]
    used: set[int] = set()
    left = []
    for item in whole:
        run = _run_spelling(meaningful_key(item[1]), parts, keys, used)
        if run:
            used.update(run)
        else:
            left.append(item)
    return left, [item for index, item in enumerate(parts) if index not in used]


def _run_spelling(key: str, parts: list[_Item], keys: list[str], used: set[int]) -> list[int]:
    """Indexes of two or more adjacent paragraphs whose keys joined are `key`, if any."""
    for start in range(len(parts)):
        joined, run = "", []
        for index in range(start, len(parts)):
            adjacent = not run or parts[index][0] == parts[run[-1]][0] + 1
            if index in used or not keys[index] or not adjacent:
                break
            if not key.startswith(joined + keys[index]):
                break
            joined += keys[index]
            run.append(index)
            if joined == key:
                return run if len(run) > 1 else []
    return []


_Run = tuple[int, ...]  # indexes of consecutive paragraphs in a block


def _pair_similar(old: list[_Item], new: list[_Item], threshold: float) -> list[tuple[_Run, _Run]]:
    """Best-first pairs, one paragraph to one or to a run of consecutive ones, similar
    enough to be one edited passage."""
    if not old or not new:
        return []
    if len(old) * len(new) > _MAX_PAIRINGS:
        candidates = [((i,), (i,)) for i in range(min(len(old), len(new)))]
    else:
        candidates = [(a, b) for a in _runs(old) for b in _runs(new) if len(a) == 1 or len(b) == 1]
    scored = []
    for run_old, run_new in candidates:
        score = similarity(_joined(old, run_old), _joined(new, run_new))
        if score >= threshold:
            scored.append((-score, len(run_old) + len(run_new), run_old, run_new))
    used_old: set[int] = set()
    used_new: set[int] = set()
    pairs = []
    for _, _, run_old, run_new in sorted(scored):
        if used_old.isdisjoint(run_old) and used_new.isdisjoint(run_new):
            used_old.update(run_old)
            used_new.update(run_new)
            pairs.append((run_old, run_new))
    return pairs


def _runs(items: list[_Item], longest: int = 3) -> list[_Run]:
    """Every single paragraph, and runs of up to `longest` consecutive ones."""
    runs = []
    for start in range(len(items)):
        run = [start]
        runs.append((start,))
        for index in range(start + 1, min(start + longest, len(items))):
            if items[index][0] != items[run[-1]][0] + 1:
                break
            run.append(index)
            runs.append(tuple(run))
    return runs


def _pair_moves(
    gone: list[_Loose], came: list[_Loose]
) -> tuple[list[tuple[_Loose, _Loose]], list[_Loose], list[_Loose]]:
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


def _moved(page: _Page, old: _Loose, new: _Loose) -> Change:
    label = section_label(new.section)
    where = "within the section" if old.section == new.section else f"from {old.section or '(top)'}"
    summary = f"{label}: moved {where}: “{_snip(new.text)}”"
    return page.change(ChangeKind.TEXT_MOVED, new.section, old.text, new.text, summary)


def edit_summary(before: str, after: str, limit: int = 3) -> str:
    """The changed phrases of an edit, "old → new; ...", for a one-line digest entry."""
    phrases = changed_phrases(word_diff(before, after))
    parts = []
    for deleted, inserted in phrases[:limit]:
        if deleted and inserted:
            parts.append(f"“{_snip(deleted, 60)}” → “{_snip(inserted, 60)}”")
        elif inserted:
            parts.append(f"added “{_snip(inserted, 60)}”")
        elif deleted:
            parts.append(f"removed “{_snip(deleted, 60)}”")
    more = f" (+{len(phrases) - limit} more)" if len(phrases) > limit else ""
    return "; ".join(parts) + more if parts else "reworded"


# --- contacts ---------------------------------------------------------------------------


def _contact_changes(
    page: _Page, old: Sequence[Contact], new: Sequence[Contact], renamed: dict[str, str]
) -> list[Change]:
    old_by_section = _by_section(old, renamed)
    new_by_section = _by_section(new, {})
    sections = list(dict.fromkeys([*new_by_section, *old_by_section]))
    changes: list[Change] = []
    for section in sections:
        before = old_by_section.get(section, {})
        after = new_by_section.get(section, {})
        label = section_label(section)
        for key, person in after.items():
            if key in before and (fields := _changed_fields(before[key], person)):
                changes.append(_contact_changed(page, label, before[key], person, fields))
        gone = [c for key, c in before.items() if key not in after]
        came = [c for key, c in after.items() if key not in before]
        for was, now in _pair_replacements(gone, came):
            if was is None:
                changes.append(
                    page.change(
                        ChangeKind.CONTACT_ADDED,
                        section,
                        after=contact_line(now),
                        summary=f"{label}: {now.name} added as contact",
                    )
                )
            elif now is None:
                changes.append(
                    page.change(
                        ChangeKind.CONTACT_REMOVED,
                        section,
                        contact_line(was),
                        summary=f"{label}: {was.name} removed as contact",
                    )
                )
            else:
                summary = f"{label}: {was.name} replaced by {now.name} as contact"
                changes.append(
                    page.change(
                        ChangeKind.CONTACT_REPLACED,
                        section,
                        contact_line(was),
                        contact_line(now),
                        summary,
                    )
                )
    return changes


def _by_section(
    contacts: Sequence[Contact], renamed: dict[str, str]
) -> dict[str, dict[str, Contact]]:
    grouped: dict[str, dict[str, Contact]] = defaultdict(dict)
    for contact in contacts:
        section = renamed.get(contact.section, contact.section)
        grouped[section].setdefault(contact.key, contact)
    return grouped


def _changed_fields(old: Contact, new: Contact) -> list[tuple[str, str, str]]:
    fields = []
    for name in ("title", "organisation", "phone", "email"):
        was, now = getattr(old, name), getattr(new, name)
        if has_meaningful_difference(was, now):
            fields.append((name, was, now))
    return fields


def _contact_changed(
    page: _Page, label: str, old: Contact, new: Contact, fields: list[tuple[str, str, str]]
) -> Change:
    names = _FIELD_NAMES.get(page.language, _FIELD_NAMES["en"])
    what = "; ".join(f"{names[field]} {was or '–'} → {now or '–'}" for field, was, now in fields)
    summary = f"{label}: {new.name}, {what}"
    return page.change(
        ChangeKind.CONTACT_CHANGED, new.section, contact_line(old), contact_line(new), summary
    )


def _pair_replacements(
    gone: list[Contact], came: list[Contact]
) -> list[tuple[Contact | None, Contact | None]]:
    """Who replaced whom: same title first, then in the order the page lists them."""
    pairs: list[tuple[Contact | None, Contact | None]] = []
    came_left = list(came)
    gone_left = []
    for was in gone:
        role = meaningful_key(was.title)
        match = next((c for c in came_left if role and meaningful_key(c.title) == role), None)
        if match is None:
            gone_left.append(was)
        else:
            came_left.remove(match)
            pairs.append((was, match))
    pairs += list(zip(gone_left, came_left, strict=False))
    shortest = min(len(gone_left), len(came_left))
    pairs += [(was, None) for was in gone_left[shortest:]]
    pairs += [(None, now) for now in came_left[shortest:]]
    return pairs


def contact_line(contact: Contact) -> str:
    """A contact as the one line a reader compares."""
    parts = (contact.name, contact.title, contact.organisation, contact.phone, contact.email)
    return ", ".join(p for p in parts if p)


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
    return " ".join(text.split()).casefold().rstrip(":") in _GENERIC_HEADINGS


def _covered_by_sections(contact: Change, sections: list[Change]) -> bool:
    return any(
        _related(s.section, contact.section)
        and len(_path(s.section)) <= len(_path(contact.section))
        for s in sections
    )


# --- attachments ------------------------------------------------------------------------


def _attachment_changes(page: _Page, old: Sequence[Link], new: Sequence[Link]) -> list[Change]:
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


def _attachment(page: _Page, kind: ChangeKind, old: Link | None, new: Link | None) -> Change:
    before = f"{old.text} <{old.url}>" if old else ""
    after = f"{new.text} <{new.url}>" if new else ""
    name = (new or old).text or (new or old).url  # type: ignore[union-attr]
    verb = _ATTACHMENT_VERBS[kind]
    return page.change(kind, "", before, after, f"{verb}: {name}")


# --- presentation -----------------------------------------------------------------------


def section_label(heading: str) -> str:
    """The heading a reader knows a section by: the last one that is not "Lisätietoja"."""
    path = [p for p in heading.split(" / ") if p] if heading else []
    for part in reversed(path):
        if " ".join(part.split()).casefold().rstrip(":") not in _GENERIC_HEADINGS:
            return part
    return path[-1] if path else "(page)"


def _snip(text: str, limit: int = _SNIPPET) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1].rstrip() + "…"


def _in_page_order(
    changes: list[Change], new: Sequence[Section], old: Sequence[Section]
) -> list[Change]:
    """Stable order a reader can follow: page-level first, then sections as the page lists them."""
    rank: dict[str, int] = {"": -1}
    for section in [*new, *old]:
        rank.setdefault(section.heading, len(rank))
    return sorted(changes, key=lambda c: rank.get(c.section, len(rank)))
