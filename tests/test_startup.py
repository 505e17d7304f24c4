"""A run in which no page changed starts fast: it imports what fetching and storing need, not
the analysis stack.

Every page answering 304 Not Modified needs the fetcher, the store and the config, and
nothing that reads a page: no scraper family, no HTML or PDF parser, no lemmatiser, no
pool of worker processes, and not sqlite-utils (the store writes plain SQL, a new
database is made by one script; only upgrading an older one uses it). Those are
imported when the first page needs analysing, by the workers' fork server. Each test
runs in a fresh interpreter, since this process has imported everything long ago.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from pipeline.sample_site import SampleSite
from scrapers import FAMILIES

ROOT = Path(__file__).resolve().parent.parent
WATCHED = ("/stm/verkostot", "/stm/sote-uudistus", "/thl/aluekoordinaattorit")
# packages only analysing a page needs (pypdf pulls fontTools, bs4 soupsieve)
ANALYSIS_PACKAGES = (
    "bs4",
    "lxml",
    "pypdf",
    "simplemma",
    "feedparser",
    "phonenumbers",
    "charset_normalizer",
)
POOL_MODULES = ("pipeline.pool",)  # pipeline.forkserver is light: every run with workers has it
# multiprocessing: its fork server is a fresh interpreter, plus one for its resource tracker
WATCHED_MODULES = (
    *ANALYSIS_PACKAGES, *POOL_MODULES, *FAMILIES.values(), "sqlite_utils", "multiprocessing"
)  # fmt: skip

# Runs the CLI in-process, then writes which of WATCHED_MODULES it had imported.
RUN_AND_REPORT = """
import json, sys
from pipeline.cli import cli
out, watched, args = sys.argv[1], json.loads(sys.argv[2]), sys.argv[3:]
try:
    cli.main(args, prog_name="sotewatch", standalone_mode=False)
finally:
    loaded = [m for m in watched if m in sys.modules]
    open(out, "w").write(json.dumps(loaded))
"""


def fresh_python(code: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "PYTHONDONTWRITEBYTECODE": "1"}
    return subprocess.run(
        [sys.executable, "-c", code, *args], capture_output=True, text=True, env=env, check=True
    )


def run_and_report(tmp_path: Path, urls: Path, *options: str) -> tuple[dict, list[str]]:
    """`sotewatch run` in a new interpreter: its JSON summary, and the watched modules loaded."""
    summary, loaded = tmp_path / "summary.json", tmp_path / "loaded.json"
    fresh_python(
        RUN_AND_REPORT,
        str(loaded),
        json.dumps(WATCHED_MODULES),
        *("--db", str(tmp_path / "watch.db"), "run", "--sources", str(urls)),
        *("--force", "--no-send", "--per-host-delay", "0", "--summary-json", str(summary)),
        *options,
    )
    return json.loads(summary.read_text("utf-8")), json.loads(loaded.read_text("utf-8"))


def test_a_run_in_which_every_page_is_not_modified_imports_no_analysis(tmp_path: Path) -> None:
    urls = tmp_path / "urls.txt"
    with SampleSite(edition=1) as site:
        urls.write_text("\n".join(site.base_url + path for path in WATCHED), encoding="utf-8")
        cold, cold_loaded = run_and_report(tmp_path, urls)
        unchanged, unchanged_loaded = run_and_report(tmp_path, urls)

    assert cold["fetched"] >= len(WATCHED)
    assert {"scrapers.generic", "lxml"} <= set(cold_loaded)
    # pages served with their charset are decoded without bs4, and no source asks for a
    # selector only soupsieve reads, nor has a PDF or a feed
    assert not {"bs4", "pypdf", "feedparser"} & set(cold_loaded)
    assert "sqlite_utils" not in cold_loaded  # a new database is made by one script
    assert unchanged["fetched"] == 0 and unchanged["not_modified"] == cold["fetched"]
    assert unchanged_loaded == []


def test_checking_the_sources_imports_no_scraper_family() -> None:
    code = (
        "import json, sys\n"
        "from pipeline.runner import check_config\n"
        "check_config(None)\n"
        f"print(json.dumps([m for m in {list(WATCHED_MODULES)!r} if m in sys.modules]))"
    )
    assert json.loads(fresh_python(code).stdout) == []


# Starts a pool for one page and reports what the parent had imported before and after.
POOL_AND_REPORT = """
import json, sys
from pipeline.analyse import Task
from pipeline.config import Source
from pipeline.tag import Tagger
from pipeline.taxonomy import load_taxonomy
from pipeline.workers import SMALL_WAVE, Analyser
from scrapers import Page
watched = json.loads(sys.argv[1])
html = b"<html><head><title>Verkostot</title></head><body><main><h1>Verkostot</h1>"
html += b"<p>Pirkanmaan hyvinvointialue valmistelee verkostoa.</p></main></body></html>"
analyser = Analyser(Tagger(load_taxonomy()), workers=2)
analyser.plan(SMALL_WAVE)
before = [m for m in watched if m in sys.modules]
page = Page("https://example.org/verkostot", html, "text/html", html.decode())
task = Task(page, "generic", Source(id="s", url=page.url), announce_new=False)
finding = analyser.result(analyser.submit(task))
after = [m for m in watched if m in sys.modules]
analyser.close()
print(json.dumps({"title": finding.title, "before": before, "after": after}))
"""


def test_a_pool_analyses_in_workers_that_import_the_parsers_the_run_never_imports() -> None:
    """The run's process goes on fetching while the workers' fork server imports the
    parsers."""
    report = json.loads(fresh_python(POOL_AND_REPORT, json.dumps(WATCHED_MODULES)).stdout)
    assert report["title"] == "Verkostot"  # extracted, so by a worker that has the parsers
    assert report["before"] == []
    assert not (set(FAMILIES.values()) | {"pypdf", "lxml", "bs4"}) & set(report["after"])
    assert set(POOL_MODULES) <= set(report["after"])
    assert "multiprocessing" not in report["after"]  # the run forks its own fork server
