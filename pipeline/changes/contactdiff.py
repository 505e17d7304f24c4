"""Contacts as records: who was added, removed, replaced, or changed title, phone or e-mail.

Compared per section (the heading path a contact block sits under): the same person
(`Contact.key`) with another title, organisation, phone or e-mail is *changed*; a
person gone and another come in the same section is one *replaced*, paired by the
same title first and then in the order the page lists them; the rest are *added* or
*removed*. Field names in summaries follow the page's language.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from sotewatch.pipeline.changes.worddiff import has_meaningful_difference, meaningful_key
from sotewatch.pipeline.document.models import Change, ChangeKind, Contact


@dataclass(frozen=True)
class PageRef:
    """The page a change belongs to, and the language its summaries speak."""

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


# Headings of a contact block, which say nothing about whose contacts they are.
CONTACT_BLOCK_HEADINGS = frozenset(
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


def contact_changes(
    page: PageRef, old: Sequence[Contact], new: Sequence[Contact], renamed: dict[str, str]
) -> list[Change]:
    """Contact changes section by section; `renamed` maps old section headings to new ones."""
    old_by_section = _by_section(old, renamed)
    new_by_section = _by_section(new, {})
    changes: list[Change] = []
    for section in dict.fromkeys([*new_by_section, *old_by_section]):
        before = old_by_section.get(section, {})
        after = new_by_section.get(section, {})
        label = section_label(section)
        for key, person in after.items():
            if key in before and (fields := _changed_fields(before[key], person)):
                changes.append(_contact_changed(page, label, before[key], person, fields))
        gone = [c for key, c in before.items() if key not in after]
        came = [c for key, c in after.items() if key not in before]
        changes += [
            _came_or_went(page, section, label, was, now)
            for was, now in _pair_replacements(gone, came)
        ]
    return changes


def _came_or_went(
    page: PageRef, section: str, label: str, was: Contact | None, now: Contact | None
) -> Change:
    if now is None:
        assert was is not None
        summary = f"{label}: {was.name} removed as contact"
        return page.change(ChangeKind.CONTACT_REMOVED, section, contact_line(was), "", summary)
    if was is None:
        summary = f"{label}: {now.name} added as contact"
        return page.change(ChangeKind.CONTACT_ADDED, section, "", contact_line(now), summary)
    summary = f"{label}: {was.name} replaced by {now.name} as contact"
    kind = ChangeKind.CONTACT_REPLACED
    return page.change(kind, section, contact_line(was), contact_line(now), summary)


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
    page: PageRef, label: str, old: Contact, new: Contact, fields: list[tuple[str, str, str]]
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


def section_label(heading: str) -> str:
    """The heading a reader knows a section by: the last one that is not "Lisätietoja"."""
    path = [p for p in heading.split(" / ") if p] if heading else []
    for part in reversed(path):
        if " ".join(part.split()).casefold().rstrip(":") not in CONTACT_BLOCK_HEADINGS:
            return part
    return path[-1] if path else "(page)"
