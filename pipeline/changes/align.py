"""Aligning two versions of a section's paragraphs: which were edited, removed or added.

Pure and string-only, so the diff's costliest step can be tested and timed alone.
Only the stretch between the common head and tail is aligned (SequenceMatcher over
the paragraph strings, whose hashes Python caches); inside each replaced block,
paragraphs that say the same thing (whitespace, punctuation and case aside) cancel,
as does a paragraph split into consecutive ones or joined from them; the rest are
paired best-first by similarity into edits (one paragraph to one, or to the run of
consecutive paragraphs it became), and what is left was removed or added.
"""

from __future__ import annotations

import difflib
from collections import defaultdict, deque
from collections.abc import Sequence

from sotewatch.pipeline.changes.worddiff import meaningful_key, similarity

EDIT_SIMILARITY = 0.5  # share of wording an edited paragraph keeps
LONE_EDIT_SIMILARITY = 0.25  # ... when it is the only paragraph replaced at that place
_MAX_PAIRINGS = 400  # old x new paragraphs in a block above which pairing goes in order
_AUTOJUNK_ABOVE = 5000  # paragraphs in a section before SequenceMatcher may skip popular ones

_Item = tuple[int, str]  # (position in the section, paragraph text)


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
    matcher = difflib.SequenceMatcher(None, a, b, autojunk=len(b) > _AUTOJUNK_ABOVE)
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
        joined, run = "", list[int]()
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
    """Pairs, one paragraph to one or to a run of consecutive ones, similar enough to be one
    edited passage. Paragraphs edited in place pair along the diagonal first (cheap, and
    what most edits are); the rest best-first, with runs only when the counts differ."""
    if not old or not new:
        return []
    pairs: list[tuple[_Run, _Run]] = []
    if len(old) == len(new):
        pairs = [((i,), (i,)) for i in range(len(old)) if _similar(old, new, (i,), (i,), threshold)]
    used_old = {i for run, _ in pairs for i in run}
    used_new = {j for _, run in pairs for j in run}
    left_old = [i for i in range(len(old)) if i not in used_old]
    left_new = [j for j in range(len(new)) if j not in used_new]
    if not left_old or not left_new:
        return pairs
    candidates: list[tuple[_Run, _Run]]
    if len(left_old) * len(left_new) > _MAX_PAIRINGS:
        candidates = list(zip([(i,) for i in left_old], [(j,) for j in left_new], strict=False))
    elif len(left_old) == len(left_new):
        candidates = [((i,), (j,)) for i in left_old for j in left_new]
    else:
        runs_old, runs_new = _runs(old, left_old), _runs(new, left_new)
        candidates = [(a, b) for a in runs_old for b in runs_new if len(a) == 1 or len(b) == 1]
    scored = []
    for run_old, run_new in candidates:
        score = similarity(_joined(old, run_old), _joined(new, run_new))
        if score >= threshold:
            scored.append((-score, len(run_old) + len(run_new), run_old, run_new))
    for _, _, run_old, run_new in sorted(scored):
        if used_old.isdisjoint(run_old) and used_new.isdisjoint(run_new):
            used_old.update(run_old)
            used_new.update(run_new)
            pairs.append((run_old, run_new))
    return pairs


def _similar(old: list[_Item], new: list[_Item], a: _Run, b: _Run, threshold: float) -> bool:
    return similarity(_joined(old, a), _joined(new, b)) >= threshold


def _runs(items: list[_Item], indexes: list[int], longest: int = 3) -> list[_Run]:
    """Every single paragraph among `indexes`, and runs of up to `longest` consecutive ones."""
    runs: list[_Run] = []
    for start, first in enumerate(indexes):
        run = [first]
        runs.append((first,))
        for index in indexes[start + 1 : start + longest]:
            if items[index][0] != items[run[-1]][0] + 1:
                break
            run.append(index)
            runs.append(tuple(run))
    return runs
