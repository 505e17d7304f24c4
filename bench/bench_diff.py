"""How fast the section-aware diff is next to difflib.unified_diff over the same text.

Two workloads, each measured in the same run as its baseline:
- a ~1 MB Document with 1% of its paragraphs edited;
- a ~50 KB page with one word changed.
Ours is `diff_documents` plus `word_diff` on every edited paragraph (the word-level
detail a digest shows); the baseline is `list(difflib.unified_diff(...))` over the
lines of both versions' `Document.text`. Best of several repetitions, with fresh
string objects and cleared caches each time so neither side reuses earlier work.
Target (issue 5): ours <= 3 x baseline. Exit 1 when a ratio misses it. Two more
workloads are printed for information: 10% edited, and a page rewritten from top to
bottom (the worst case: every section is a rename candidate, every paragraph an edit
candidate, where unified_diff gives up early on lines it cannot match).

    .venv/bin/python bench/bench_diff.py
"""

from __future__ import annotations

import difflib
import random
import sys
import time
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from vocabulary import WORDS

from sotewatch.pipeline.changes.diff import diff_documents
from sotewatch.pipeline.changes.worddiff import meaningful_key, significant_tokens, word_diff
from sotewatch.pipeline.document.models import ChangeKind, Document, Section

TARGET_RATIO = 3.0
REPEATS = 5


def sentence(rng: random.Random) -> str:
    words = [rng.choice(WORDS) for _ in range(rng.randint(8, 18))]
    words.insert(rng.randrange(len(words)), str(rng.randint(1, 2030)))
    return " ".join(words).capitalize() + "."


def make_document(size: int, seed: int) -> Document:
    """Sections of 20-40 paragraphs of 1-3 sentences, until the text reaches `size` bytes."""
    rng = random.Random(seed)
    sections: list[Section] = []
    total = 0
    while total < size:
        paragraphs = tuple(
            " ".join(sentence(rng) for _ in range(rng.randint(1, 3)))
            for _ in range(rng.randint(20, 40))
        )
        heading = f"{rng.choice(WORDS).capitalize()} {len(sections) + 1}"
        sections.append(Section(("Sote-uudistus", heading), paragraphs))
        total += sum(len(p.encode()) + 2 for p in paragraphs)
    return Document(url="https://example.org/iso", title="Iso sivu", sections=tuple(sections))


def edit(doc: Document, share: float, seed: int) -> Document:
    """The document with `share` of its paragraphs (at least one) getting one word replaced."""
    rng = random.Random(seed)
    places = [
        (s, p) for s, section in enumerate(doc.sections) for p in range(len(section.paragraphs))
    ]
    chosen = set(rng.sample(places, max(1, round(len(places) * share))))
    sections = []
    for s, section in enumerate(doc.sections):
        paragraphs = list(section.paragraphs)
        for p, text in enumerate(paragraphs):
            if (s, p) in chosen:
                words = text.split(" ")
                words[rng.randrange(len(words))] = "muutettu"
                paragraphs[p] = " ".join(words)
        sections.append(replace(section, paragraphs=tuple(paragraphs)))
    return replace(doc, sections=tuple(sections))


def ours(old: Document, new: Document) -> int:
    changes = diff_documents(old, new, page_url=new.url, page_title=new.title)
    for change in changes:
        if change.kind == ChangeKind.TEXT_EDITED:
            word_diff(change.before, change.after)
    return len(changes)


def baseline(old: list[str], new: list[str]) -> int:
    return len(list(difflib.unified_diff(old, new, lineterm="")))


def fresh_documents(old: Document, new: Document) -> tuple[Document, Document]:
    return Document.from_json(old.to_json()), Document.from_json(new.to_json())


def fresh_lines(old: Document, new: Document) -> tuple[list[str], list[str]]:
    return old.text.splitlines(), new.text.splitlines()


def best_time(
    func: Callable[[Any, Any], int],
    prepare: Callable[[Document, Document], tuple[Any, Any]],
    old: Document,
    new: Document,
) -> float:
    """Best of REPEATS; inputs prepared outside the clock as new objects, caches emptied."""
    best = float("inf")
    for _ in range(REPEATS):
        a, b = prepare(old, new)
        meaningful_key.cache_clear()
        significant_tokens.cache_clear()
        started = time.perf_counter()
        func(a, b)
        best = min(best, time.perf_counter() - started)
    return best


def measure(name: str, old: Document, new: Document, target: float | None = TARGET_RATIO) -> bool:
    changes = ours(old, new)
    mine = best_time(ours, fresh_documents, old, new)
    theirs = best_time(baseline, fresh_lines, old, new)
    ratio = mine / theirs
    size = len(new.text.encode()) / 1024
    paragraphs = sum(len(s.paragraphs) for s in new.sections)
    if target is None:
        verdict, target_text = "no target, for information", ""
    else:
        verdict = "ok" if ratio <= target else f"OVER the target of {target:g}"
        target_text = f" (target <= {target:g})"
    print(
        f"{name}: {size:,.0f} KiB, {paragraphs:,} paragraphs, {changes} changes\n"
        f"  diff_documents + word_diff {mine * 1000:8.2f} ms\n"
        f"  difflib.unified_diff       {theirs * 1000:8.2f} ms\n"
        f"  ratio {ratio:.2f}{target_text}: {verdict}"
    )
    return target is None or ratio <= target


def main() -> int:
    big = make_document(1_000_000, seed=1)
    page = make_document(50_000, seed=2)
    results = [
        measure("1 MB document, 1% of paragraphs edited", big, edit(big, 0.01, seed=3)),
        measure("50 KB page, one word changed", page, edit(page, 0.0, seed=4)),
    ]
    results += [
        measure("1 MB document, 10% of paragraphs edited", big, edit(big, 0.10, seed=5), None),
        measure(
            "1 MB document, every heading and paragraph rewritten (worst case)",
            big,
            make_document(1_000_000, seed=6),
            None,
        ),
    ]
    return 0 if all(results) else 1


if __name__ == "__main__":
    sys.exit(main())
