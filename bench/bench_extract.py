"""Which extractor keeps content and drops chrome best: ours or trafilatura?

Two corpora:
- the sample site (both editions, every HTML page, served with fresh chrome): the
  ground truth is the page's content file (edition-N/<path>.html holds the content
  only; the server wraps it in the site's chrome), so every other line is chrome;
- the stored real page texts of ../shared/seeds (soteuudistus.fi, soste.fi, stm.fi):
  only their text is stored, so each is served as flat HTML (one <p> per line, no
  semantic tags at all: the hardest case, where only text rules can tell chrome),
  with its chrome lines labelled below.

For each extractor: chrome lines leaked into the output and content lines lost.
Then the speed of our extraction (issue 3): the generic family's parse of 200 pages of
the synthetic benchmark site (bench/site_gen.py, 10-50 KB each), as the median time per
page scaled to 32 KB. A run must cost about 2 ms a page in all, so extraction about 1.5-3.
And the whole of what a run does per page between fetching and storing,
`sotewatch.pipeline.runs.analyse.prepare` (extraction, noise, soft-failure check, JSON and digest,
diff and tags), on the same 200 pages as a
cold run sees them (no previous version) and as a re-run after a rebuild that changed
only the footer date (the previous version's JSON and digest given: unchanged), and
after an edit.
Run: .venv/bin/python bench/bench_extract.py   (also part of `make bench`)
"""

from __future__ import annotations

import html
import re
import statistics
import sys
import time
import warnings
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import httpx
from bs4 import BeautifulSoup

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.site_gen import BUILD_EPOCH, page_html  # noqa: E402
from sotewatch.pipeline.config import Source  # noqa: E402
from sotewatch.pipeline.demo.sample_site import SITE_ROOT, SampleSite  # noqa: E402
from sotewatch.pipeline.runs.analyse import Task, prepare  # noqa: E402
from sotewatch.pipeline.tagging.tag import Tagger  # noqa: E402
from sotewatch.pipeline.tagging.taxonomy import load_taxonomy  # noqa: E402
from sotewatch.scrapers import Page, get_scraper  # noqa: E402
from sotewatch.scrapers._text import clean  # noqa: E402

SEEDS = ROOT.parent / "shared" / "seeds"
# Stored real pages: (file prefix, family, chrome lines by their start). The chrome is
# what a reader of that page would not call its content: the breadcrumb, the publisher /
# date / type header of a press release, and its tag list.
REAL_PAGES = [
    ("000", "ministry", []),
    ("001", "ngo", ["Etusivu / Uutiset /"]),
    ("002", "ministry", []),
    ("003", "ministry", ["Sosiaali- ja terveysministeriöValtiovarainministeriö", "Tiedote",
                         "Maakuntauudistuksen valmistelu Sote-uudistuksen valmistelu"]),
]  # fmt: skip
Extractor = Callable[[str, str, str], list[str]]


def ours(family: str) -> Extractor:
    def run(url: str, markup: str, page_family: str) -> list[str]:
        scraper = get_scraper(page_family if family == "family" else "generic")
        doc = scraper.parse(Page(url, markup.encode("utf-8"), "text/html; charset=utf-8"))
        return [clean(x) for x in doc.text.split("\n\n") if clean(x)]

    return run


def trafilatura_extractor(**options: bool) -> Extractor:
    import trafilatura

    def run(url: str, markup: str, page_family: str) -> list[str]:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            text = trafilatura.extract(markup, url=url, include_tables=True, **options) or ""
        return [clean(line) for line in text.splitlines() if clean(line)]

    return run


EXTRACTORS: dict[str, Extractor] = {
    "sotewatch (source's family)": ours("family"),
    "sotewatch generic": ours("generic"),
    "trafilatura": trafilatura_extractor(),
    "trafilatura favor_recall": trafilatura_extractor(favor_recall=True),
    "trafilatura favor_precision": trafilatura_extractor(favor_precision=True),
}


def lines_of(markup: str) -> list[str]:
    soup = BeautifulSoup(markup, "lxml")
    for tag in soup(["script", "style"]):
        tag.decompose()
    return [clean(x) for x in soup.get_text("\n").splitlines() if clean(x)]


# Lines of a page's own content that are metadata, not text: a date or time alone, the
# item type, the publishing ministries, "Julkaistu ... | Päivitetty ...". A family moves
# them into Document.published or drops them; the text diff must not see them.
METADATA = re.compile(
    r"^(?:\d{1,2}\.\d{1,2}\.\d{4}(?: \d{1,2}\.\d{2})?|Tiedote|Pressmeddelande"
    r"|(?:[\w-]+ ja )?[\w-]*ministeriö"
    r"|(?:Julkaistu|Päivitetty|Uppdaterad|Publicerad)\b.*)$"
)


def score(output: list[str], content: list[str], chrome: list[str]) -> tuple[int, int, int]:
    """(chrome lines leaked, content lines lost, metadata lines left in the text).

    A content line is kept when the output holds it whole (lines may be split or
    joined differently, so by substring); a chrome line leaks when an output line is
    or contains it. Chrome lines that are also part of a content line (a menu entry
    "Neuvottelukunta" under a heading that says it too) cannot be told apart and
    are not counted."""
    joined = " ".join(output)
    text = [line for line in content if not METADATA.match(line)]
    metadata = [line for line in content if METADATA.match(line)]
    lost = sum(line not in joined for line in text)
    kept_metadata = sum(line in output for line in metadata)
    telling = [line for line in chrome if not any(line in c for c in content)]
    leaked = sum(
        any(line == out or (len(line) >= 12 and line in out) for out in output) for line in telling
    )
    return leaked, lost, kept_metadata


def sample_cases() -> list[tuple[str, str, str, list[str], list[str]]]:
    """(url, served html, family, content lines, chrome lines) per page and edition."""
    sources = __import__("tomllib").loads((SITE_ROOT / "sources.toml").read_text("utf-8"))
    families = {s["url"].removeprefix("{site}"): s["family"] for s in sources["source"]}
    cases = []
    with SampleSite(edition=1) as site:
        for edition in (1, 2):
            site.edition = edition
            root = SITE_ROOT / f"edition-{edition}"
            for file in sorted(root.rglob("*.html")):
                path = "/" + file.relative_to(root).as_posix().removesuffix(".html")
                served = httpx.get(site.base_url + path).text
                body = lines_of(file.read_text("utf-8"))
                content = body[1:]  # the h1 is the title: extractors report it apart
                chrome = [x for x in lines_of(served) if x not in body and x != body[0]]
                family = families.get(path, "ministry")
                cases.append((site.base_url + path, served, family, content, chrome))
    return cases


def real_cases() -> list[tuple[str, str, str, list[str], list[str]]]:
    cases = []
    for prefix, family, chrome_starts in REAL_PAGES:
        found = sorted(SEEDS.glob(f"{prefix}_*.txt"))
        if not found:
            continue
        lines = [clean(x) for x in found[0].read_text("utf-8").splitlines() if clean(x)]
        title, rest = lines[0], lines[1:]
        chrome = [x for x in rest if any(x.startswith(s) for s in chrome_starts)]
        content = [x for x in rest if x not in chrome]
        paragraphs = "".join(f"<p>{html.escape(x)}</p>\n" for x in rest)
        markup = f"<html><body><div><h1>{html.escape(title)}</h1>\n{paragraphs}</div></body></html>"
        cases.append((f"https://example.org/{prefix}", markup, family, content, chrome))
    return cases


def report(name: str, cases: list[tuple[str, str, str, list[str], list[str]]]) -> None:
    content_total = sum(len(c[3]) for c in cases)
    chrome_total = sum(len(c[4]) for c in cases)
    print(
        f"\n{name}: {len(cases)} pages, {content_total} content lines, {chrome_total} chrome lines"
    )
    print(f"  {'extractor':<30} {'chrome leaked':>14} {'content lost':>13} {'metadata kept':>14}")
    for label, extract in EXTRACTORS.items():
        totals = [0, 0, 0]
        for url, markup, family, content, chrome in cases:
            figures = score(extract(url, markup, family), content, chrome)
            totals = [a + b for a, b in zip(totals, figures, strict=True)]
        leaked, lost, metadata = totals
        print(f"  {label:<30} {leaked:>14} {lost:>13} {metadata:>14}")


def extract_speed(pages: int = 200, rounds: int = 3) -> tuple[float, float]:
    """(median ms per page, median ms per 32 KB) of the generic family on bench pages;
    each page's best of `rounds`, so a busy moment of a shared machine counts less."""
    paths = [f"/p/{i:04d}.html" for i in range(1000)]
    scraper = get_scraper("generic")
    per_page, per_32k = [], []
    for index in range(pages):
        markup = page_html(index, paths, seed=1, built_at=BUILD_EPOCH, edited=False).encode()
        page = Page(f"https://example.org/p/{index:04d}.html", markup, "text/html; charset=utf-8")
        best = float("inf")
        for _ in range(rounds):
            started = time.perf_counter()
            scraper.parse(page)
            best = min(best, time.perf_counter() - started)
        per_page.append(best * 1000)
        per_32k.append(best * 1000 * 32 * 1024 / len(markup))
    return statistics.median(per_page), statistics.median(per_32k)


def prepare_tasks(pages: int = 200) -> dict[str, list[Task]]:
    """The bench pages as three waves of Tasks: cold, rebuilt (footer date only: must come
    back unchanged) and edited, each page its own generic source as `run --sources` makes."""
    paths = [f"/p/{i:04d}.html" for i in range(1000)]
    tagger = Tagger(load_taxonomy())
    rebuilt_at = BUILD_EPOCH + timedelta(days=1)
    waves: dict[str, list[Task]] = {"cold": [], "footer changed": [], "edited": []}
    for index in range(pages):
        url = f"https://example.org/p/{index:04d}.html"
        source = Source(id=f"p{index}", url=url)
        cold = _task(source, page_html(index, paths, seed=1, built_at=BUILD_EPOCH, edited=False))
        first = prepare(cold, tagger)
        for name, edited in (("footer changed", False), ("edited", True)):
            markup = page_html(index, paths, seed=1, built_at=rebuilt_at, edited=edited)
            waves[name].append(_task(source, markup, first.document_json, first.digest))
        waves["cold"].append(cold)
    return waves


def _task(source: Source, markup: str, *previous: str) -> Task:
    page = Page(source.url, markup.encode(), "text/html; charset=utf-8")
    return Task(page, "generic", source, False, *previous)


def prepare_speed(rounds: int = 3) -> dict[str, float]:
    """Mean ms per page of prepare() for each wave, the best of `rounds` passes."""
    tagger = Tagger(load_taxonomy())
    figures = {}
    for name, tasks in prepare_tasks().items():
        best = float("inf")
        for _ in range(rounds):
            started = time.process_time()
            found = [prepare(task, tagger) for task in tasks]
            best = min(best, time.process_time() - started)
        if name == "footer changed" and not all(f.unchanged for f in found):
            raise SystemExit("a page whose footer alone changed did not come back unchanged")
        figures[name] = best * 1000 / len(tasks)
    return figures


def main() -> int:
    per_page, per_32k = extract_speed()
    print(f"extract: {per_32k:.2f} ms per 32 KB page (generic family, median of 200 bench")
    print(f"  pages of 10-50 KB; {per_page:.2f} ms per page; budget from issue 3's targets: 1.5-3)")
    figures = prepare_speed()
    print("prepare() CPU ms per page, 200 bench pages (budget from issue 3's targets: <= 1.2):")
    for name, ms in figures.items():
        print(f"  {name:<15} {ms:.2f}")
    report("sample site (data/sample_site, both editions, HTML pages)", sample_cases())
    real = real_cases()
    if real:
        report("stored real page texts (../shared/seeds, as flat HTML)", real)
    else:
        print("\nstored real page texts: ../shared/seeds not found, skipped")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
