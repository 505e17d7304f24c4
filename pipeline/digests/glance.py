"""A change at a glance: a new or removed page's lead, and the digest's headline.

Pure. A stored page_added / page_removed carries the page's whole text, which opens
with its title (and often the same words again as its first heading); a reader wants
the first paragraphs after them. A subject line names the digest's most important
change ("Lappi: uusi yhteyshenkilö Oskari Mattila ja 3 muuta muutosta") rather than
a count and a list of headings.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

from sotewatch.pipeline.changes.contactdiff import section_label
from sotewatch.pipeline.changes.worddiff import meaningful_key
from sotewatch.pipeline.digests.digest import NATIONAL, ChangeRecord, Digest

LEAD_LIMIT = 300  # characters of a lead: two or three sentences
_DETAIL_LIMIT = 70

# Most important first: who to contact, who covers a county, what came or went.
IMPORTANCE = (
    "contact_replaced",
    "contact_added",
    "contact_removed",
    "text_moved",
    "section_added",
    "page_added",
    "section_removed",
    "page_removed",
    "contact_changed",
    "text_edited",
    "text_added",
    "text_removed",
    "attachment_added",
    "attachment_removed",
    "attachment_changed",
    "section_renamed",
)


_WEEK = re.compile(r"^(\d{4})-W(\d{2})$")
_DAY = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")


def period_text(period: str) -> str:
    """A digest's period as readers write dates: "2026-W49" → "30.11.–6.12.2026",
    "2026-12-06" → "6.12.2026"; anything else as it is."""
    week = _WEEK.match(period)
    if week:
        first = date.fromisocalendar(int(week[1]), int(week[2]), 1)
        last = first + timedelta(days=6)
        start = f"{first.day}.{first.month}." + (str(first.year) if first.year != last.year else "")
        return f"{start}–{last.day}.{last.month}.{last.year}"
    day = _DAY.match(period)
    return f"{int(day[3])}.{int(day[2])}.{day[1]}" if day else period


def lead(text: str, title: str, limit: int = LEAD_LIMIT) -> str:
    """The first paragraphs of a page's text after its title and any heading that only
    repeats it, up to `limit` characters (cut at a word, with "…")."""
    parts = [" ".join(p.split()) for p in text.split("\n\n")]
    parts = [p for p in parts if p]
    title_key = meaningful_key(title)
    while len(parts) > 1 and title_key and meaningful_key(parts[0]) == title_key:
        parts.pop(0)
    shown = " ".join(parts) if parts else " ".join(text.split())
    if len(shown) <= limit:
        return shown
    return shown[: limit - 1].rsplit(" ", 1)[0].rstrip(" ,;:") + " …"


def headline_record(digest: Digest) -> tuple[ChangeRecord, str, str] | None:
    """(the most important change, its group's first heading kind and slug), or None."""
    best: tuple[tuple[bool, int, int], ChangeRecord, str, str] | None = None
    for group in digest.groups:
        for record in group.changes:
            # what the reader follows by name before "national / other", then by kind
            rank = (group.kind == NATIONAL, _importance(record), record.id)
            if best is None or rank < best[0]:
                best = (rank, record, group.kind, group.slug)
    return None if best is None else best[1:]


def detail(record: ChangeRecord) -> str:
    """The words that make a change specific: the person, the move, the section, the page."""
    change = record.change
    kind = str(change.kind)
    if kind in ("contact_added", "contact_replaced"):
        text = change.after.split(", ")[0]
    elif kind in ("contact_removed", "contact_changed"):
        text = change.before.split(", ")[0]
    elif kind == "text_moved" and "→" in change.summary:  # from one owner or heading to another
        return f"({_snip(change.summary)})"
    else:  # where it happened, in parentheses: it names a place, not a person
        where = section_label(change.section) if change.section else record.page_title
        return f"({_snip(where)})"
    return _snip(text)


def _snip(text: str) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= _DETAIL_LIMIT else flat[: _DETAIL_LIMIT - 1].rstrip() + "…"


def headline(digest: Digest, heading: Callable[[str, str], str], t: dict[str, Any]) -> str:
    """ "<heading>: <kind> <detail>", and "and N more changes" when others follow, in the
    language of `t` (templates/i18n.toml). `heading(kind, slug)` names a group heading."""
    found = headline_record(digest)
    if found is None:
        return ""
    record, group_kind, slug = found
    kind = str(record.change.kind)
    label = t["kinds"].get(kind, kind)
    first = f"{heading(group_kind, slug) or t['national']}: {label[:1].lower()}{label[1:]}"
    first = f"{first} {detail(record)}"
    others = digest.count - 1
    if not others:
        return first
    more = t["subject_more_one"] if others == 1 else t["subject_more_many"]
    return f"{first} {more.format(n=others)}"


def _importance(record: ChangeRecord) -> int:
    kind = str(record.change.kind)
    return IMPORTANCE.index(kind) if kind in IMPORTANCE else len(IMPORTANCE)
