"""`make bench`: run every benchmark script in bench/ and print their figures.

Benchmarks print figures and compare them with the targets of the issues; they are
not tests, so a slow shared machine never fails the test suite.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
ORDER = [
    "bench_diff",
    "bench_tag",
    "bench_extract",
    "bench_realpages",
    "bench_render",
    "bench_fetch",
    "bench_storage",
]


def scripts(only: list[str]) -> list[Path]:
    found = {p.stem: p for p in sorted(BENCH_DIR.glob("bench_*.py"))}
    names = [n for n in ORDER if n in found] + [n for n in found if n not in ORDER]
    return [found[n] for n in names if not only or n in only or n.removeprefix("bench_") in only]


def main(argv: list[str]) -> int:
    print(f"sotewatch benchmarks on {os.cpu_count()} cores, Python {sys.version.split()[0]}")
    failed = 0
    for script in scripts(argv):
        print(f"\n=== {script.stem}", flush=True)
        started = time.perf_counter()
        code = subprocess.call([sys.executable, str(script)], cwd=BENCH_DIR.parent)
        print(f"--- {script.stem}: exit {code}, {time.perf_counter() - started:.1f} s wall")
        failed += code != 0
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
