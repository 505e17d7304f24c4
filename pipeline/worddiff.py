"""Word-level difference between two short texts, for showing an edit to a reader.

Words are runs of letters and digits joined by hyphens, so "sote-uudistus" and
"Pohjois-Karjala" stay whole; whitespace is kept with the word before it.
"""

from __future__ import annotations

import difflib
import re

Op = tuple[str, str]  # ("equal" | "insert" | "delete", text)

_TOKEN = re.compile(r"\w+(?:[-–.@]\w+)*|[^\w\s]|\s+")


def tokens(text: str) -> list[str]:
    return _TOKEN.findall(text)


def word_diff(before: str, after: str) -> list[Op]:
    """Ops that turn `before` into `after`; joining the equal+delete texts gives
    `before`, joining the equal+insert texts gives `after`."""
    a, b = tokens(before), tokens(after)
    ops: list[Op] = []
    matcher = difflib.SequenceMatcher(None, a, b, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            ops.append(("equal", "".join(a[i1:i2])))
            continue
        if i2 > i1:
            ops.append(("delete", "".join(a[i1:i2])))
        if j2 > j1:
            ops.append(("insert", "".join(b[j1:j2])))
    return ops
