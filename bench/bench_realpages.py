"""Extraction and change detection on real pages nobody here wrote (issue 18).

Reads ../shared/realpages in place (nothing copied into the project; each set's README
there gives its source, commit, licence and attribution):
- trafilatura-eval/: 115 pages of adbar/trafilatura's evaluation set (Apache-2.0), each
  with snippets that must appear and snippets that must not; micro P/R/F1 as its
  authors count them (tests/eval_common.py);
- readability/: 91 pages of mozilla/readability's test suite (Apache-2.0); the text of
  Readability's expected.html is the reference; 4-word shingle P/R/F1 per page,
  averaged (scrapinghub's article-extraction-benchmark), and pages with recall < 0.85;
- versions/: 12 public-sector pages, 25-36 consecutive real captures each (Open Terms
  Archive, france-public and demo collections by Iroco and Open Terms Archive,
  ODC-By 1.0), replayed in order: noise-only pairs that reported a change, and real
  text changes found or missed.

Three extractors side by side: sotewatch (the generic family, with its noise rules;
the replay runs `sotewatch run` once per capture, served on 127.0.0.1, and counts the
changes each run stored), trafilatura alone (a change = its text differs), and the
page's whole visible text (likewise).

Run: .venv/bin/python bench/bench_realpages.py [REALPAGES_DIR]   (also in `make bench`)
"""

from __future__ import annotations

import csv
import json
import re
import statistics
import sys
import tempfile
import threading
import time
import warnings
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from lxml import html as lxml_html

from sotewatch.pipeline.changes.noise import apply_noise
from sotewatch.pipeline.document.models import Document
from sotewatch.pipeline.fetching.decode import decode_text
from sotewatch.scrapers import Page, get_scraper

ROOT = Path(__file__).resolve().parent.parent

# ../shared/realpages beside the checkout (or beside the worktrees' folder)
DEFAULTS = [ROOT.parent / "shared" / "realpages", ROOT.parent.parent / "shared" / "realpages"]
RECALL_FLOOR = 0.85
Extractor = Callable[[bytes, str], str]


# -- the three extractors ---------------------------------------------------------------


def page_of(content: bytes, url: str) -> Page:
    text, used = decode_text(content, "text/html", None)
    return Page(url, content, f"text/html; charset={used}" if used else "text/html", text)


def sotewatch_text(content: bytes, url: str) -> str:
    return reading_text(apply_noise(get_scraper("generic").parse(page_of(content, url))))


def reading_text(doc: Document) -> str:
    """The Document's text in reading order, each heading once (`Document.text` repeats
    a section's whole heading path, which would count the title again per section)."""
    parts = [doc.title]
    for section in doc.sections:
        if section.path and section.path[-1] != parts[-1]:
            parts.append(section.path[-1])
        parts.extend(section.paragraphs)
    return "\n\n".join(part for part in parts if part)


def trafilatura_text(content: bytes, url: str) -> str:
    import trafilatura

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        found = trafilatura.extract(content, url=url, include_comments=False)
    return found or ""


def whole_text(content: bytes, url: str) -> str:
    """Every text node a browser would show: the body without scripts and styles."""
    root = lxml_html.document_fromstring(page_of(content, url).text or b" ")
    for element in root.iter("script", "style", "noscript", "template"):
        element.drop_tree()
    return root.text_content()


EXTRACTORS: dict[str, Extractor] = {
    "sotewatch": sotewatch_text,
    "trafilatura": trafilatura_text,
    "whole text": whole_text,
}


def safely(extract: Extractor, content: bytes, url: str) -> str:
    """A crash counts as nothing found, as the trafilatura authors count it."""
    try:
        return extract(content, url)
    except Exception as exc:  # a bench reports, it does not stop
        print(f"  ! {extract.__name__} failed on {url}: {type(exc).__name__}: {exc}")
        return ""


# -- snippets (trafilatura-eval) -------------------------------------------------------


def _norm(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def snippet_scores(folder: Path) -> dict[str, tuple[float, float, float, int, int]]:
    """Per extractor: precision, recall, F1, must-keep missed, must-drop leaked."""
    annotations = json.loads((folder / "annotations.json").read_text(encoding="utf-8"))
    counts = {name: Counter() for name in EXTRACTORS}
    for url, entry in annotations.items():
        content = (folder / "html" / entry["file"]).read_bytes()
        for name, extract in EXTRACTORS.items():
            found = _norm(safely(extract, content, url))
            for snippet in entry["with"]:
                counts[name]["tp" if _norm(snippet) in found else "fn"] += 1
            for snippet in entry["without"]:
                counts[name]["fp" if _norm(snippet) in found else "tn"] += 1
    scores = {}
    for name, c in counts.items():
        precision = c["tp"] / max(1, c["tp"] + c["fp"])
        recall = c["tp"] / max(1, c["tp"] + c["fn"])
        f1 = 2 * c["tp"] / max(1, 2 * c["tp"] + c["fp"] + c["fn"])
        scores[name] = (precision, recall, f1, c["fn"], c["fp"])
    return scores


# -- shingles (readability) ------------------------------------------------------------


def shingles(text: str, n: int = 4) -> Counter[tuple[str, ...]]:
    tokens = re.findall(r"\w+", text)
    return Counter(tuple(tokens[i : i + n]) for i in range(max(0, len(tokens) - n + 1)))


def shingle_pr(predicted: str, expected: str) -> tuple[float, float]:
    got, gold = shingles(predicted), shingles(expected)
    tp = sum((got & gold).values())
    precision = tp / sum(got.values()) if got else (1.0 if not gold else 0.0)
    recall = tp / sum(gold.values()) if gold else 1.0
    return precision, recall


@dataclass
class ShingleScore:
    precision: list[float] = field(default_factory=list)
    recall: list[float] = field(default_factory=list)
    low: list[str] = field(default_factory=list)

    def f1(self) -> float:
        p, r = statistics.fmean(self.precision), statistics.fmean(self.recall)
        return 2 * p * r / (p + r) if p + r else 0.0


def shingle_scores(folder: Path) -> dict[str, ShingleScore]:
    scores = {name: ShingleScore() for name in EXTRACTORS}
    for page in sorted(p for p in folder.iterdir() if (p / "source.html").exists()):
        content = (page / "source.html").read_bytes()
        expected = lxml_html.fromstring((page / "expected.html").read_text("utf-8")).text_content()
        for name, extract in EXTRACTORS.items():
            precision, recall = shingle_pr(safely(extract, content, "http://fakehost/"), expected)
            scores[name].precision.append(precision)
            scores[name].recall.append(recall)
            if recall < RECALL_FLOOR:
                scores[name].low.append(page.name)
    return scores


# -- replay (versions) ------------------------------------------------------------------


@dataclass
class Replay:
    noise_pairs: int = 0
    noise_alarms: int = 0  # noise-only pairs that reported a change
    noise_changes: int = 0  # the changes those pairs reported
    real: int = 0
    found: int = 0
    missed: list[str] = field(default_factory=list)
    alarms: list[str] = field(default_factory=list)


def captures(page: Path) -> Iterator[tuple[str, str, str]]:
    """(snapshot file, gold changed: yes/no/"", hazard) in time order."""
    with (page / "manifest.tsv").open(encoding="utf-8") as rows:
        for row in csv.DictReader(rows, delimiter="\t"):
            changed = row["gold_changed_since_previous_snapshot"]
            yield row["snapshot_file"], changed, row.get("hazard") or ""


def categories(folder: Path) -> dict[tuple[str, str], str]:
    with (folder / "changes.tsv").open(encoding="utf-8") as rows:
        reader = csv.DictReader(rows, delimiter="\t")
        return {(r["page"], r["snapshot_file"]): r["category"] for r in reader}


def replay_sotewatch(page: Path) -> Iterator[int]:
    """Per capture, the changes `sotewatch run` stored for it (the first: 0): each capture
    is served in turn at one URL on 127.0.0.1, and each run's --summary-json read."""
    from click.testing import CliRunner

    from sotewatch.pipeline.cli import cli

    served: dict[str, bytes] = {}
    with tempfile.TemporaryDirectory() as tmp, _serving(served) as url:
        db, urls, summary = Path(tmp, "w.db"), Path(tmp, "urls.txt"), Path(tmp, "s.json")
        urls.write_text(url + "\n", encoding="utf-8")
        for name, _, _ in captures(page):
            served["body"] = (page / name).read_bytes()
            CliRunner().invoke(
                cli,
                ["--db", str(db), "run", "--sources", str(urls), "--no-send", "--force",
                 "--per-host-delay", "0", "--summary-json", str(summary)],
            )  # fmt: skip
            changed = json.loads(summary.read_text("utf-8"))["changed"]
            yield sum(entry["changes"] for entry in changed)


@contextmanager
def _serving(served: dict[str, bytes]) -> Iterator[str]:
    """A loopback server answering every GET with `served["body"]` as text/html."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 (http.server's name)
            body = served["body"] if self.path == "/page" else b""
            self.send_response(200 if body else 404)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/page"
    finally:
        server.shutdown()
        server.server_close()


def replay_text(page: Path, url: str, extract: Extractor) -> Iterator[int]:
    """Per capture, 1 when the extractor's text differs from the previous capture's."""
    before: str | None = None
    for name, _, _ in captures(page):
        text = _norm(safely(extract, (page / name).read_bytes(), url))
        yield int(before is not None and text != before)
        before = text


def replay_scores(folder: Path) -> dict[str, Replay]:
    kinds = categories(folder)
    results = {name: Replay() for name in EXTRACTORS}
    for page in sorted(p for p in folder.iterdir() if (p / "manifest.tsv").exists()):
        url = f"https://{page.name}.example/"
        runs = {
            "sotewatch": replay_sotewatch(page),
            "trafilatura": replay_text(page, url, trafilatura_text),
            "whole text": replay_text(page, url, whole_text),
        }
        rows = list(captures(page))
        for name, reported in runs.items():
            for (snapshot, changed, _), count in zip(rows, reported, strict=True):
                _count(results[name], kinds.get((page.name, snapshot)), changed, count,
                       f"{page.name}/{snapshot}")  # fmt: skip
    return results


def _count(result: Replay, kind: str | None, changed: str, count: int, where: str) -> None:
    if not changed:  # the first capture: nothing to compare with
        return
    if kind == "content":
        result.real += 1
        if count:
            result.found += 1
        else:
            result.missed.append(where)
    elif kind is None or kind == "capture-failure-flip":  # href-only: not counted
        result.noise_pairs += 1
        if count:
            result.noise_alarms += 1
            result.noise_changes += count
            result.alarms.append(f"{where} ({count})")


# -- speed ------------------------------------------------------------------------------


def extraction_ms(folder: Path) -> float:
    """Median CPU ms per page of sotewatch's extraction over the readability pages (CPU
    time: the machine is shared, and wall time measures the neighbours)."""
    times = []
    for page in sorted(p for p in folder.iterdir() if (p / "source.html").exists()):
        content = (page / "source.html").read_bytes()
        started = time.process_time()
        safely(sotewatch_text, content, "http://fakehost/")
        times.append((time.process_time() - started) * 1000)
    return statistics.median(times)


# -- report -----------------------------------------------------------------------------


def row(label: str, values: list[str]) -> None:
    print(f"{label:44}" + "".join(f"{v:>14}" for v in values))


def main(argv: list[str]) -> int:
    folder = Path(argv[0]) if argv else next((d for d in DEFAULTS if d.is_dir()), DEFAULTS[0])
    if not (folder / "versions").is_dir():
        print(f"no real pages at {folder} (give the realpages folder as the argument)")
        return 0
    names = list(EXTRACTORS)
    print(f"real pages from {folder}\n")
    row("", names)
    snippets = snippet_scores(folder / "trafilatura-eval")
    for index, label in enumerate(
        ["precision", "recall", "F1", "must-keep missed", "must-drop leaked"]
    ):
        fmt = ".3f" if index < 3 else "d"
        row(f"trafilatura-eval snippet {label}", [f"{snippets[n][index]:{fmt}}" for n in names])
    shingled = shingle_scores(folder / "readability")
    for label, value in (
        ("precision", lambda s: f"{statistics.fmean(s.precision):.3f}"),
        ("recall", lambda s: f"{statistics.fmean(s.recall):.3f}"),
        ("F1", lambda s: f"{s.f1():.3f}"),
        (f"pages with recall < {RECALL_FLOOR}", lambda s: str(len(s.low))),
    ):
        row(f"readability shingle {label}", [value(shingled[n]) for n in names])
    replay = replay_scores(folder / "versions")
    for label, value in (
        ("noise-only pairs", lambda r: str(r.noise_pairs)),
        ("  ... that reported a change", lambda r: str(r.noise_alarms)),
        ("  ... changes they reported", lambda r: str(r.noise_changes)),
        ("real text changes", lambda r: str(r.real)),
        ("  ... found", lambda r: str(r.found)),
    ):
        row(f"replay {label}", [value(replay[n]) for n in names])
    report(folder, snippets, shingled["sotewatch"], replay["sotewatch"])
    return 0


def report(folder: Path, snippets: dict, shingled: ShingleScore, replay: Replay) -> None:
    """sotewatch's own details, then the targets of issue 18 met or not."""
    median = extraction_ms(folder / "readability")
    print(f"\nsotewatch extraction, median per readability page: {median:.1f} ms")
    print(f"sotewatch pages with recall < {RECALL_FLOOR}: {', '.join(shingled.low) or 'none'}")
    print(f"sotewatch noise alarms: {', '.join(replay.alarms) or 'none'}")
    print(f"sotewatch missed changes: {', '.join(replay.missed) or 'none'}")
    targets = [
        ("snippet F1 >= trafilatura's", snippets["sotewatch"][2] >= snippets["trafilatura"][2]),
        ("shingle F1 >= 0.93", shingled.f1() >= 0.93),
        (f"no page with recall < {RECALL_FLOOR}", not shingled.low),
        ("0 changes on noise-only pairs", replay.noise_alarms == 0),
        ("every real text change found", not replay.missed),
        ("extraction <= 25 ms/page median", median <= 25),
    ]
    for label, ok in targets:
        print(f"target {label}: {'met' if ok else 'NOT met'}")


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
