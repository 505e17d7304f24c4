"""A change's one-line summary in the reader's language, at render time.

The diff stores each summary in English (`changes.summary`: "Verkostot: “…” moved
within the section"). Rather than migrate stored rows, each phrasing the diff writes is
a template in templates/i18n.toml's `[en.summaries]`; a stored summary is read back
with the templates its kind can have, and said again with the reader's language's
template; an edit's few words around its quoted phrases are replaced in place. What
the summary quotes (headings, names, the page's own text) is kept as the page said
it. A summary no template matches (older wordings; contact field changes, which are
written in the page's language) is shown as stored.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from functools import lru_cache

# Which templates a change of each kind may have been written with.
_BY_KIND: dict[str, tuple[str, ...]] = {
    "page_added": ("page_added",),
    "page_removed": ("page_removed",),
    "section_added": ("section_added",),
    "section_removed": ("section_removed",),
    "section_renamed": ("section_renamed",),
    "text_added": ("text_added",),
    "text_removed": ("text_removed",),
    "text_moved": ("moved_within", "moved_between"),
    "contact_added": ("contact_added",),
    "contact_removed": ("contact_removed",),
    "contact_replaced": ("contact_replaced",),
    "attachment_added": ("attachment_added",),
    "attachment_removed": ("attachment_removed",),
    "attachment_changed": ("attachment_changed",),
}
_PLACEHOLDER = re.compile(r"\{(\w+)\}")
_MARKERS = ("page", "top")  # "(page)", "(top)": the diff's words for no heading


def localized_summary(
    kind: str,
    section: str,
    summary: str,
    words: Mapping[str, str],
    english: Mapping[str, str],
) -> str:
    """`summary` as `words` (one language's `summaries` table) say it, or as stored.

    `english` is the `[en.summaries]` table: the phrasings the diff writes."""
    keys = _BY_KIND.get(kind, ())
    if kind == "text_edited" and not section:  # the page's title, not a section's text
        keys = ("title_edited",)
    elif kind == "text_edited":
        return _edit(summary, words, english)
    for key in keys:
        found = _pattern(english[key]).match(summary)
        if found is None:
            continue
        markers = {english[m]: words[m] for m in _MARKERS}
        values = {name: markers.get(value, value) for name, value in found.groupdict().items()}
        return words[key].format(**values)
    return summary


def _edit(summary: str, words: Mapping[str, str], english: Mapping[str, str]) -> str:
    """An edit's phrases ("Lappi: “a” → “b”; added “c”; removed “d” (+2 more)", or
    "Lappi: reworded"): only the few words around the quotes are the diff's own."""
    reworded = f": {english['edit_reworded']}"
    if summary.endswith(reworded):
        return summary[: -len(reworded)] + f": {words['edit_reworded']}"
    said = {
        english["edit_added"]: words["edit_added"],
        english["edit_removed"]: words["edit_removed"],
    }
    verbs = "|".join(re.escape(verb) for verb in said)
    summary = re.sub(
        rf"(^|: |; )({verbs}) “", lambda m: f"{m.group(1)}{said[m.group(2)]} “", summary
    )
    more = re.escape(english["edit_more"])
    return re.sub(
        rf" \(\+(\d+) {more}\)$", lambda m: f" (+{m.group(1)} {words['edit_more']})", summary
    )


@lru_cache(maxsize=64)
def _pattern(template: str) -> re.Pattern[str]:
    """ "{section}: added “{text}”" -> ^(?P<section>.*): added “(?P<text>.*)”$"""
    parts = _PLACEHOLDER.split(template)  # literal, name, literal, name, ...
    regex = "".join(
        re.escape(part) if index % 2 == 0 else f"(?P<{part}>.*)" for index, part in enumerate(parts)
    )
    return re.compile(f"^{regex}$", re.DOTALL)
