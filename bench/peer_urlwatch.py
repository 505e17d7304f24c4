"""urlwatch, our closest peer, pinned, beside `sotewatch run` on the same loopback pages.

bench/bench_fetch.py calls `runs` after its own runs. urlwatch is installed once into its
own venv under bench-out/ (never committed; pip fetches it from PyPI on first use), and
runs with its own config, job list and cache in the bench's temporary folder, HOME
pointed there too: one job per URL, no filter, the stdout reporter into a log. Each run
is a child process measured with wait4 (wall, CPU, peak RSS), as the sotewatch runs are.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

VERSION = "2.29"
ROOT = Path(__file__).resolve().parent.parent
VENV = ROOT / "bench-out" / f"urlwatch-{VERSION}"


def ensure_installed() -> Path | None:
    """The urlwatch script of the pinned version, installed if need be; None if it cannot
    be (no network to PyPI): the bench says so and goes on without the peer."""
    script = VENV / "bin" / "urlwatch"
    if script.exists():
        return script
    try:
        subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
        pip = [str(VENV / "bin" / "pip"), "install", "--quiet", f"urlwatch=={VERSION}"]
        subprocess.run(pip, check=True, timeout=600)
    except (OSError, subprocess.SubprocessError) as exc:
        print(f"urlwatch {VERSION} could not be installed into {VENV}: {exc}")
        return None
    return script


# How a urlwatch user watches a page's text rather than its bytes (its docs' filters):
# the content element, then its text. On the bench's pages it reports exactly the edited
# pages, as `sotewatch run` does; without it every page is CHANGED by its footer date.
TEXT_FILTER = "filter:\n  - css: main\n  - html2text"


def runs(
    script: Path,
    folder: Path,
    urls: list[str],
    rebuild: Callable[[str], None],
    job_filter: str = "",
) -> dict[str, dict]:
    """urlwatch's cold, changed and unchanged runs; `rebuild(phase)` readies the site for
    each, as for the sotewatch runs; `job_filter` is added to every job (e.g.
    `TEXT_FILTER`). Returns each run's wall, cpu, rss_mb, exit and the count of jobs its
    report lists, by kind (NEW, CHANGED, ERROR)."""
    folder.mkdir(parents=True, exist_ok=True)
    extra = f"\n{job_filter}" if job_filter else ""
    (folder / "urls.yaml").write_text(
        "\n---\n".join(f"name: page{i}\nurl: {url}{extra}" for i, url in enumerate(urls)) + "\n"
    )
    command = [str(script), "--urls", str(folder / "urls.yaml")]
    command += ["--config", str(folder / "urlwatch.yaml"), "--cache", str(folder / "cache.db")]
    command += ["--hooks", str(folder / "hooks.py")]
    env = {**os.environ, "HOME": str(folder)}
    subprocess.run([*command, "--list"], env=env, capture_output=True, check=True)  # config
    figures = {}
    for phase in ("urlwatch-cold", "urlwatch-changed", "urlwatch-unchanged"):
        rebuild(phase)
        figures[phase] = _measure(command, env, folder / f"{phase}.log")
    return figures


def _measure(command: list[str], env: dict[str, str], log_path: Path) -> dict:
    started = time.perf_counter()
    with log_path.open("w") as log:
        child = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)
        _, status, usage = os.wait4(child.pid, 0)
    wall = time.perf_counter() - started
    summary = log_path.read_text(errors="replace")
    return {
        "wall": wall,
        "cpu": usage.ru_utime + usage.ru_stime,
        "rss_mb": usage.ru_maxrss / 1024,
        "exit": os.waitstatus_to_exitcode(status),
        # what its report's summary lists: "01. NEW: page0", "02. CHANGED: page7", ...
        "reported": dict(Counter(re.findall(r"^\d+\. ([A-Z]+): ", summary, re.MULTILINE))),
    }
