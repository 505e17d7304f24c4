"""Dump the Document every HTML family makes of a fixed corpus, to prove a change to
extraction changes no output.

The corpus is written once (the sample site serves fresh chrome on every request, so
its pages are captured, not re-fetched) and then read by every dump:
- every HTML page of the sample site, both editions, as served (chrome included);
- the stored real page texts of ../shared/seeds as flat HTML (as bench_extract does);
- 50 pages of the synthetic benchmark site (bench/site_gen.py);
- the scraper test fixtures, with and without an HTTP charset;
- deterministic random tag soup (comments, ruby, tables, related boxes, chrome
  attributes, stray bytes) and random bytes, to reach the corners.
Each case runs through generic, ministry, ngo, county and listing, with and without
source include/exclude selectors; each Document also through the noise rules, global
alone and with a source's `ignore` regex.

`findings` does the same for `sotewatch.pipeline.runs.analyse.prepare`'s Finding (failure, digest,
JSON, changes), over pairs of versions:
each sample-site page in edition 1 then 2, each bench page as built, rebuilt (footer
date only) and edited, and each tag soup page after the one before it (soft failures,
shrinks, changes), with and without a source's `ignore` regex.

    .venv/bin/python bench/extract_snapshot.py dump out/extract-before.jsonl
    .venv/bin/python bench/extract_snapshot.py dump out/extract-after.jsonl
    cmp out/extract-before.jsonl out/extract-after.jsonl
    .venv/bin/python bench/extract_snapshot.py findings out/findings-before.jsonl
"""

from __future__ import annotations

import argparse
import html
import json
import random
import sys
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.site_gen import BUILD_EPOCH, page_html  # noqa: E402
from sotewatch.pipeline.changes.noise import apply_noise  # noqa: E402
from sotewatch.pipeline.config import Source  # noqa: E402
from sotewatch.pipeline.demo.sample_site import SITE_ROOT, SampleSite  # noqa: E402
from sotewatch.pipeline.errors import ExtractionError  # noqa: E402
from sotewatch.pipeline.runs.analyse import Finding, Task, prepare  # noqa: E402
from sotewatch.pipeline.tagging.tag import Tagger  # noqa: E402
from sotewatch.pipeline.tagging.taxonomy import load_taxonomy  # noqa: E402
from sotewatch.scrapers import Page, ScraperOptions, get_scraper  # noqa: E402

CORPUS = ROOT / "out" / "extract-corpus"
SEEDS = ROOT.parent / "shared" / "seeds"
FIXTURES = ROOT / "tests" / "fixtures" / "scrapers"
FAMILIES = ("generic", "ministry", "ngo", "county", "listing")
OPTIONS = {
    "plain": ScraperOptions(),
    "selectors": ScraperOptions(
        include=("#sisalto", "article.main"),
        exclude=("ul", ".foo p", "div > p", "[role=note]", "li:nth-child(2)", "p.Intro", "#x"),
    ),
}
SITE = "http://site.test"
TOKENS = (
    "<p>", "</p>", "<h1>", "</h1>", "<h2>", "</h2>", "<h3>Katso myös</h3>", "<h4>", "</h4>",
    "<div>", "</div>", '<div class="cookie-notice">', '<div role="main">', '<div hidden>',
    '<div aria-hidden="true">', '<div id="Breadcrumb-x">', '<section class="some">',
    "<main>", "</main>", "<article>", "</article>", "<header>", "</header>", "<footer>",
    "</footer>", "<nav>", "</nav>", "<aside>", "<table><tr><td>", "</td><td>", "</td></tr>",
    "<tr><th>", "</table>", "<ul><li>", "</li><li>", "</ul>", "<li>", "<br>", "<br/>",
    "<b>", "</b>", "<a href='/x'>", "<a href='doc.pdf'>", "<a href='#top'>", "</a>",
    "<span>", "</span>", "<img src=x>", "<ruby>漢<rt>kan</rt></ruby>", "<rp>(</rp>",
    "<!--", "-->", "<!-- c -->", "<?pi x?>", "<![CDATA[cd]]>", "&amp;", "&nbsp;", "&#0;",
    "&shy;", "\u200b", "ä", "\x00", "\r\n", "\n", "  ", "\t", "Lappi", "Lapin hyvinvointialue",
    "Kari Koe, STM, 0295 163 000, k.koe(at)gov.fi", "Sivua päivitetty 1.2.2022",
    "Julkaistu 3.4.2021 12.30", "Tiedote", "Sosiaali- ja terveysministeriö", "<summary>",
    "<details>", "<pre>  a\n  b</pre>", "<script>var x=1</script>", "<style>p{}</style>",
    "<svg><title>s</title></svg>", "<form><input value=v></form>", "<title>T | Site</title>",
    '<meta property="og:title" content="OG">', '<base href="http://other.test/b/">',
    '<link rel="alternate" type="application/rss+xml" href="/feed" title="Syöte">',
    '<meta property="article:published_time" content="2021-05-06T07:08:09">',
    '<p class="Intro foo">', '<div class="foo"><p>', '<div id="sisalto">', "<o:p>", "</o:p>",
    "<textarea>t</textarea>", "<dl><dt>", "<dd>", "</dl>", "<h5>", "<h6>", "<blockquote>",
    "Hyväksy evästeet", "Etusivu / Uutiset / Asia", "1.2.2023 Uutinen otsikko tässä",
    "Kävijöitä: 1 234", "Luettu 12 kertaa", "csrf_token: a1b2c3",
    " | Päivitetty 2.3.2024 klo 10.15",
    "Last updated: March 3, 2024", "Senast uppdaterad 4.5.2023", "Sivu päivitetty:", "· ",
)  # fmt: skip
IGNORE = ("\\bLappi\\b",)  # a source's own `ignore` regex, to run the noise rules without one


def build_corpus(folder: Path) -> None:
    """Write every case as <name>.bin plus <name>.type (its Content-Type)."""
    folder.mkdir(parents=True, exist_ok=True)

    def put(name: str, content: bytes, content_type: str) -> None:
        (folder / f"{name}.bin").write_bytes(content)
        (folder / f"{name}.type").write_text(content_type)

    with SampleSite(edition=1) as site:
        for edition in (1, 2):
            site.edition = edition
            root = SITE_ROOT / f"edition-{edition}"
            for file in sorted(root.rglob("*.html")):
                path = "/" + file.relative_to(root).as_posix().removesuffix(".html")
                response = httpx.get(site.base_url + path)
                body = response.content.replace(site.base_url.encode(), SITE.encode())
                name = f"site{edition}{path.replace('/', '_')}"
                put(name, body, response.headers["content-type"])
    for file in sorted(SEEDS.glob("*.txt"))[:8]:
        lines = [x.strip() for x in file.read_text("utf-8").splitlines() if x.strip()]
        paragraphs = "".join(f"<p>{html.escape(x)}</p>\n" for x in lines[1:])
        title = f"<h1>{html.escape(lines[0])}</h1>\n"
        markup = f"<html><body><div>{title}{paragraphs}</div></body></html>"
        put(f"seed_{file.stem[:3]}", markup.encode(), "text/html; charset=utf-8")
    paths = [f"/p/{i:04d}.html" for i in range(1000)]
    for index in range(50):
        markup = page_html(index, paths, seed=1, built_at=BUILD_EPOCH, edited=index % 7 == 0)
        put(f"bench_{index:02d}", markup.encode(), "text/html; charset=utf-8")
    for file in sorted(FIXTURES.glob("*.html")):
        put(f"fixture_{file.stem}", file.read_bytes(), "text/html")
        put(f"fixture_{file.stem}_utf8", file.read_bytes(), "text/html; charset=utf-8")
    rng = random.Random(20261123)
    for index in range(400):
        markup = "".join(rng.choice(TOKENS) for _ in range(rng.randint(1, 120)))
        put(f"soup_{index:03d}", markup.encode("utf-8"), "text/html; charset=utf-8")
    deep = {  # past libxml2's own depth limit (2048), past Python's recursion limit
        "deep_divs": "<div>" * 300 + "<p>Syvällä</p>" + "</div>" * 300,
        "deep_fonts": "<p>" + "<font size=2>rivi " * 3000 + "</p>",
        "deep_blocks": "<main>" + "<div><p>a</p>" * 1200 + "</main>",
        "deep_fonts_br": "<main><p>" + "<font>rivi<br>" * 2100 + "</p></main>",
    }
    for name, markup in deep.items():
        put(name, markup.encode(), "text/html; charset=utf-8")
    for index in range(40):
        content = bytes(rng.randrange(256) for _ in range(rng.randint(0, 600)))
        put(f"bytes_{index:02d}", content, "application/octet-stream")
    for index in range(20):
        markup = "".join(rng.choice(TOKENS) for _ in range(rng.randint(1, 60)))
        put(f"latin_{index:02d}", markup.encode("cp1252", "replace"), "text/html; charset=cp1252")


def dump(folder: Path, out: Path) -> int:
    """One line per (case, family, options): the Document's JSON (as extracted, without
    noise, without noise and a source's ignore regex) or the error."""
    lines = []
    for file in sorted(folder.glob("*.bin")):
        content = file.read_bytes()
        content_type = file.with_suffix(".type").read_text()
        url = f"{SITE}/{file.stem}"
        for family in FAMILIES:
            for label, options in OPTIONS.items():
                try:
                    doc = get_scraper(family, options).parse(Page(url, content, content_type))
                    quiet = [apply_noise(doc).to_json(), apply_noise(doc, IGNORE).to_json()]
                    text = "\n".join([doc.to_json(), *quiet])
                except ExtractionError as exc:
                    text = f"ExtractionError: {exc}"
                lines.append(json.dumps([file.stem, family, label, text], ensure_ascii=False))
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(f"{len(lines)} documents from {len(list(folder.glob('*.bin')))} pages -> {out}")
    return 0


def version_pairs(folder: Path) -> list[tuple[str, str, Page, Page]]:
    """(case, family, first version, next version) for `findings`."""
    pairs = []
    for first in sorted(folder.glob("site1_*.bin")):
        second = folder / first.name.replace("site1_", "site2_", 1)
        if second.exists():
            family = "listing" if "uutiset" in first.stem else "ministry"
            pages = [_page(f) for f in (first, second)]
            pairs.append((first.stem, family, *pages))
    paths = [f"/p/{i:04d}.html" for i in range(1000)]
    for index in range(50):
        url = f"{SITE}/p/{index:04d}.html"
        built, rebuilt, edited = (
            Page(url, markup.encode(), "text/html; charset=utf-8")
            for markup in (
                page_html(index, paths, seed=1, built_at=BUILD_EPOCH, edited=False),
                page_html(index, paths, seed=1, built_at=BUILD_EPOCH.replace(day=7), edited=False),
                page_html(index, paths, seed=1, built_at=BUILD_EPOCH.replace(day=7), edited=True),
            )
        )
        pairs.append((f"bench_{index:02d}_rebuilt", "generic", built, rebuilt))
        pairs.append((f"bench_{index:02d}_edited", "generic", built, edited))
    soups = sorted(folder.glob("soup_*.bin"))
    for before, after in zip(soups, soups[1:], strict=False):
        page = _page(after)
        pairs.append((after.stem, "generic", _page(before, url=page.url), page))
    return pairs


def _page(file: Path, url: str | None = None) -> Page:
    content_type = file.with_suffix(".type").read_text()
    return Page(url or f"{SITE}/{file.stem}", file.read_bytes(), content_type)


def _finding_json(found: Finding) -> str:
    fields = dict(vars(found))
    fields["discovered"] = [vars(link) for link in found.discovered]
    fields["changes"] = [vars(change) for change in found.changes]
    return json.dumps(fields, ensure_ascii=False, sort_keys=True)


def findings(folder: Path, out: Path) -> int:
    """One line per (pair, source): the Finding of the first version, then of the next
    one against it (its JSON and hash as the store would hand them over)."""
    tagger = Tagger(load_taxonomy())
    lines = []
    for case, family, first, second in version_pairs(folder):
        for label, ignore in (("plain", ()), ("ignore", IGNORE)):
            source = Source(id="s", url=first.url, family=family, regions=("lappi",), ignore=ignore)
            found = prepare(Task(first, family, source, announce_new=True), tagger)
            previous = (found.document_json or None, found.digest or None)
            again = prepare(Task(second, family, source, False, *previous), tagger)
            texts = [_finding_json(found), _finding_json(again)]
            lines.append(json.dumps([case, label, *texts], ensure_ascii=False))
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(f"{len(lines)} pairs of findings -> {out}")
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("command", choices=["dump", "findings"])
    parser.add_argument("out", type=Path)
    parser.add_argument("--corpus", type=Path, default=CORPUS)
    args = parser.parse_args()
    if not args.corpus.exists():
        build_corpus(args.corpus)
    if args.command == "findings":
        return findings(args.corpus, args.out)
    return dump(args.corpus, args.out)


if __name__ == "__main__":
    raise SystemExit(main())
