"""Word-level difference between two short texts, and whether it matters to a reader.

Words are runs of letters and digits joined by hyphens, dots or "@", so
"sote-uudistus", "Pohjois-Karjala", "12.3.2024" and "etu.suku@stm.fi" stay whole,
and a spaced phone number ("0295 163 290", "+358 29 516 3290") is one token.

`has_meaningful_difference` is what keeps false alarms out of the digest: two
texts that differ only in whitespace, punctuation or letter case say the same
thing. Numbers, dates, phone numbers and e-mail addresses are compared with
their inner punctuation ("1.5" is not "15", "12.3." is not "1.23."), so an edit
to one of them is always shown; only the spacing inside a phone number is free.
"""

from __future__ import annotations

import difflib
import re
from functools import lru_cache

Op = tuple[str, str]  # ("equal" | "insert" | "delete", text)

_EMAIL = r"[\w.+-]+(?:@|\(at\))[\w-]+(?:\.[\w-]+)+"
_PHONE = r"\+\d{1,3}(?:[ \u00a0]?\d{1,4}){2,}|0\d{1,3}(?:[ \u00a0]\d{2,4}){2,}"
_WORD = r"\w+(?:[-\u2010\u2011\u2013.:/@,]\w+)*"
_TOKEN = re.compile(rf"{_EMAIL}|{_PHONE}|{_WORD}|[^\w\s]|\s+")

# What counts in a comparison: e-mails, numbers with their inner punctuation
# (dates, decimals, times, phones with their spaces taken out) and letters.
_SIGNIFICANT = re.compile(
    rf"(?P<email>{_EMAIL})"
    rf"|(?P<phone>{_PHONE})"
    r"|(?P<number>\+?\d+(?:[.,:/\-\u2013]\d+)*)"
    r"|(?P<letters>[^\W\d_]+)"
)


def tokens(text: str) -> list[str]:
    """Words (compounds, dates, phones and e-mails whole), punctuation marks and runs of space."""
    return _TOKEN.findall(text)


@lru_cache(maxsize=65536)
def meaningful_key(text: str) -> str:
    """What a text says once whitespace, punctuation and case are set aside.

    Letters run together ("sote-uudistus" == "Sote uudistus"); every number,
    phone and e-mail stays a delimited atom with its inner punctuation.
    """
    parts: list[str] = []
    for match in _SIGNIFICANT.finditer(text.casefold()):
        kind, value = match.lastgroup, match.group()
        if kind == "letters":
            parts.append(value)
        elif kind == "email":
            parts.append(f"\x00{value.replace('(at)', '@')}\x00")
        elif kind == "phone":
            parts.append(f"\x00{''.join(value.split())}\x00")
        else:
            parts.append(f"\x00{value}\x00")
    return "".join(parts)


@lru_cache(maxsize=65536)
def significant_tokens(text: str) -> tuple[str, ...]:
    """Words, numbers, phones and e-mails of a text, case-folded: what similarity measures."""
    return tuple(
        "".join(m.group().split()) if m.lastgroup == "phone" else m.group()
        for m in _SIGNIFICANT.finditer(text.casefold())
    )


@lru_cache(maxsize=65536)
def _stems(text: str) -> tuple[str, ...]:
    """Significant tokens with words cut to their first five letters: a crude stem that lets
    Finnish inflections meet ("Kainuusta" / "Kainuun", "alueelta" / "alueella")."""
    return tuple(t[:_STEM] if t.isalpha() else t for t in significant_tokens(text))


_STEM = 5


def similarity(a: str, b: str) -> float:
    """How much of two texts' wording is shared, 0..1, ignoring case, spacing, punctuation
    and word endings."""
    wa, wb = _stems(a), _stems(b)
    if not wa and not wb:
        return 1.0
    matcher = difflib.SequenceMatcher(None, wa, wb, autojunk=False)
    if matcher.real_quick_ratio() < 0.2 or matcher.quick_ratio() < 0.2:
        return matcher.quick_ratio()
    return matcher.ratio()


def has_meaningful_difference(before: str, after: str) -> bool:
    """True unless the texts differ only in whitespace, punctuation or case."""
    return before != after and meaningful_key(before) != meaningful_key(after)


def word_diff(before: str, after: str) -> list[Op]:
    """Ops that turn `before` into `after`; joining the equal+delete texts gives
    `before`, joining the equal+insert texts gives `after`.

    Adjacent changes separated only by a space are shown as one replaced phrase
    ("Maija Virtanen" -> "Antti Korhonen"), not as word-by-word confetti.
    """
    if before == after:
        return [("equal", before)] if before else []
    a, b = tokens(before), tokens(after)
    head = _common_prefix(a, b)
    tail = _common_prefix(a[head:][::-1], b[head:][::-1])
    ops: list[Op] = []
    if head:
        ops.append(("equal", "".join(a[:head])))
    ops.extend(_middle_ops(a[head : len(a) - tail], b[head : len(b) - tail]))
    if tail:
        ops.append(("equal", "".join(a[len(a) - tail :])))
    return _merge(ops)


def changed_phrases(ops: list[Op]) -> list[tuple[str, str]]:
    """(deleted, inserted) text pairs of a word diff, trimmed: what a summary line names."""
    pairs: list[tuple[str, str]] = []
    deleted = inserted = ""
    for op, text in [*ops, ("equal", "")]:
        if op == "delete":
            deleted += text
        elif op == "insert":
            inserted += text
        elif deleted or inserted:
            pairs.append((deleted.strip(), inserted.strip()))
            deleted = inserted = ""
    return pairs


def _common_prefix(a: list[str], b: list[str]) -> int:
    n = 0
    for x, y in zip(a, b, strict=False):
        if x != y:
            break
        n += 1
    return n


def _middle_ops(a: list[str], b: list[str]) -> list[Op]:
    """Opcodes of the differing middle; whitespace between two changes joins them."""
    if not a or not b:
        return [("delete", "".join(a))] * bool(a) + [("insert", "".join(b))] * bool(b)
    raw: list[tuple[str, str, str]] = []  # (tag, deleted, inserted)
    matcher = difflib.SequenceMatcher(None, a, b, autojunk=False)
    for opcode, i1, i2, j1, j2 in matcher.get_opcodes():
        raw.append((opcode, "".join(a[i1:i2]), "".join(b[j1:j2])))
    ops: list[Op] = []
    for index, (tag, deleted, inserted) in enumerate(raw):
        between_changes = 0 < index < len(raw) - 1
        if tag == "equal" and not (between_changes and deleted.isspace()):
            ops.append(("equal", deleted))
            continue
        if deleted:
            ops.append(("delete", deleted))
        if inserted:
            ops.append(("insert", inserted))
    return ops


def _merge(ops: list[Op]) -> list[Op]:
    """Each run of changes becomes one delete then one insert; equal runs are joined."""
    merged: list[Op] = []
    pending = {"delete": "", "insert": ""}
    for op, text in [*ops, ("equal", "")]:
        if op != "equal":
            pending[op] += text
            continue
        for kind in ("delete", "insert"):
            if pending[kind]:
                merged.append((kind, pending[kind]))
                pending[kind] = ""
        if not text:
            continue
        if merged and merged[-1][0] == "equal":
            merged[-1] = ("equal", merged[-1][1] + text)
        else:
            merged.append(("equal", text))
    return merged
