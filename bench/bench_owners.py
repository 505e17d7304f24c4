"""How often changes.owners reads a real page's section as a list of groups, and how
many "moved from one owner / heading to another" changes real page histories produce.

Measured on pages we did not write (/work/shared/realpages, see its README):
- trafilatura-eval and readability: every section of every page, read by the generic
  scraper; a section read as a list of groups is where a handover could ever be
  reported (the lower the share, the fewer chances of a false one);
- versions/: each page's consecutive real captures diffed in order; the handovers
  found in pairs whose text changed (these pages are prose: any is a false alarm).

    .venv/bin/python bench/bench_owners.py [REALPAGES_DIR]
"""

from __future__ import annotations

import sys
from pathlib import Path

from sotewatch.pipeline.changes.diff import diff_documents
from sotewatch.pipeline.changes.owners import owners
from sotewatch.pipeline.document.models import Document
from sotewatch.scrapers import get_scraper
from sotewatch.scrapers.base import Page

DEFAULT = Path("/work/shared/realpages")  # where the project's machines keep them


def read(path: Path) -> Document | None:
    raw = path.read_bytes()
    page = Page(url="https://example.org/", content=raw, text=raw.decode("utf-8", "replace"))
    try:
        return get_scraper("generic").parse(page)
    except Exception:  # a page the scraper cannot read is not this bench's concern
        return None


def list_sections(root: Path) -> tuple[int, int]:
    files = sorted(root.glob("trafilatura-eval/**/*.html")) + sorted(
        root.glob("readability/**/source.html")
    )
    total = lists = 0
    for path in files:
        doc = read(path)
        for section in doc.sections if doc else ():
            total += 1
            lists += any(owner is not None for owner in owners(section.paragraphs))
    return total, lists


def handovers(root: Path) -> tuple[int, int]:
    pairs = moves = 0
    for folder in sorted(p for p in (root / "versions").iterdir() if p.is_dir()):
        previous = None
        for path in sorted(folder.glob("*.html")):
            doc = read(path)
            if doc is None:
                continue
            if previous is not None and previous != doc:
                pairs += 1
                changes = diff_documents(previous, doc, page_url="u", page_title="t")
                moves += sum(c.kind == "text_moved" and "→" in c.summary for c in changes)
            previous = doc
    return pairs, moves


def main(root: Path) -> int:
    if not (root / "versions").is_dir():
        print(f"{root}: no real pages here (pass their folder as the argument)")
        return 2
    total, lists = list_sections(root)
    print(f"sections read as lists of groups: {lists} of {total} ({lists / max(total, 1):.1%})")
    pairs, moves = handovers(root)
    print(f"handovers reported in {pairs} changed real page pairs: {moves}")
    return 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT))
