"""Text changes that only repeat what another change tells: the contact / paragraph rule
and the listing / feed rule of `changes.diff` (its docstring states both)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from sotewatch.pipeline.changes.contactdiff import CONTACT_BLOCK_HEADINGS, contact_line
from sotewatch.pipeline.changes.worddiff import meaningful_key
from sotewatch.pipeline.document.models import Change, ChangeKind, Contact, Link


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


def drop_covered(
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


def drop_item_lines(texts: list[Change], old: Sequence[Link], new: Sequence[Link]) -> list[Change]:
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


def covered_by_sections(contact: Change, sections: list[Change]) -> bool:
    return any(
        _related(s.section, contact.section)
        and len(_path(s.section)) <= len(_path(contact.section))
        for s in sections
    )
