"""Sections of two versions matched by heading path; the rest added, removed or renamed.

Pure, like the rest of `changes`: step 1 of `diff_documents`.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence

from sotewatch.pipeline.changes.contactdiff import PageRef
from sotewatch.pipeline.changes.worddiff import (
    has_meaningful_difference,
    meaningful_key,
    similarity,
)
from sotewatch.pipeline.document.models import Change, ChangeKind, Section

RENAME_SIMILARITY = 0.5  # share of wording a renamed section keeps


# Sections are compared by shared paragraphs (cheap), and also word by word while
# candidates x characters stay under this budget (SequenceMatcher is quadratic at worst).
_RENAME_WORD_BUDGET = 200_000


def match_sections(
    old: Sequence[Section], new: Sequence[Section]
) -> tuple[
    list[tuple[Section, Section]], list[Section], list[Section], list[tuple[Section, Section]]
]:
    """(same path pairs, added, removed, renamed pairs). Repeated paths pair up in order."""
    old_keys = _keyed(old)
    old_by_key = dict(old_keys)
    new_keys = _keyed(new)
    pairs = [(old_by_key[key], section) for key, section in new_keys if key in old_by_key]
    matched = {key for key, _ in new_keys if key in old_by_key}
    removed = [s for key, s in old_keys if key not in matched]
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


def section_changes(
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


def title_changes(page: PageRef, old: str, new: str) -> list[Change]:
    if not has_meaningful_difference(old, new):
        return []
    return [page.change(ChangeKind.TEXT_EDITED, "", old, new, f"Title: {old} → {new}")]
