"""Fetch benchmark: the Fetcher and `sotewatch run` against a bare httpx loop.

    .venv/bin/python bench/bench_fetch.py [--pages N] [--rounds R] [--fetch-only] [--no-peer]

Builds the site (bench/site_gen.py) in a temporary directory, serves it with
nginx from Debian on 127.0.0.1 (access log off, ETag and Last-Modified as
nginx sends them by default), or a Python server if nginx is missing (said in
the output: then the server may be the bottleneck). Checks the server's
capacity with wrk when installed. Each measurement runs in its own process so
peak RSS is that measurement's alone:

  bare-cN     httpx.AsyncClient, N requests in flight, fetch + sha256 every page
  cold        Fetcher (per_host_delay 0, per_host_limit default 2, robots.txt on)
  unchanged   Fetcher again with each page's ETag and Last-Modified: all 304

then the whole pipeline, `sotewatch --db DB run --sources urls.txt --force --no-send
--per-host-delay 0 --summary-json F` (one source per URL, generic scraper):

  run-cold        first run: every page fetched, extracted, stored
  run-changed     the site rebuilt: every footer date changed, 5% of pages edited
  run-unchanged   nothing rebuilt: every page a 304

and last the same three runs of urlwatch 2.29, the peer, in its own venv under
bench-out/ (bench/peer_urlwatch.py; `--no-peer` skips them): with no filter (the target
is judged on these), then with each job filtered to its page's <main> text ("+text",
printed only), the way a urlwatch user watches what a page says.

Prints pages/s, CPU seconds, peak RSS, database size and the ratio to the best
bare loop, and checks that exactly the edited pages are reported changed. The run
phases take minutes, over which a shared machine's speed drifts: each of their
`--run-rounds` rounds measures the bare loop again just before its three runs, and
the ratios to it are the median of those paired ratios. Issue 19's targets: a changed
run at least 5x faster than urlwatch's, a run of 304s faster than the bare loop, peak
RSS under 150 MB; issue 3's ratios to the bare loop are printed, no longer targets.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import os
import resource
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import peer_urlwatch  # noqa: E402
from bench.site_gen import build_site, changed_pages  # noqa: E402

BARE_CONCURRENCY = (2, 4, 8, 16)
TARGET_COLD = 0.45  # of the bare loop's pages/s (issue 3)
TARGET_UNCHANGED = 0.80
TARGET_RSS_MB = 150
TARGET_PEER = 5  # a changed run at least this many times faster than urlwatch's (issue 19)
CHANGED_FRACTION = 0.05


# -- the server ---------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


NGINX_CONF = """
worker_processes {workers};
daemon off;
pid {tmp}/nginx.pid;
error_log {tmp}/error.log warn;
events {{ worker_connections 1024; }}
http {{
    access_log off;
    sendfile on;
    tcp_nopush on;
    keepalive_requests 100000;
    default_type text/html;
    types {{ text/html html; text/plain txt; }}
    client_body_temp_path {tmp}/body;
    proxy_temp_path {tmp}/proxy;
    fastcgi_temp_path {tmp}/fastcgi;
    uwsgi_temp_path {tmp}/uwsgi;
    scgi_temp_path {tmp}/scgi;
    server {{
        listen 127.0.0.1:{port};
        root {root};
        charset utf-8;
    }}
}}
"""


def start_nginx(root: Path, tmp: Path) -> tuple[subprocess.Popen, str]:
    port = free_port()
    conf = tmp / "nginx.conf"
    workers = 1 if (os.cpu_count() or 1) <= 2 else 2
    conf.write_text(NGINX_CONF.format(workers=workers, tmp=tmp, port=port, root=root))
    proc = subprocess.Popen(
        [shutil.which("nginx") or "nginx", "-p", str(tmp), "-c", str(conf), "-e", str(tmp / "e")],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    wait_for_port(port, proc)
    return proc, f"http://127.0.0.1:{port}"


def start_python_server(root: Path) -> tuple[subprocess.Popen, str]:
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1", "-d", str(root)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    wait_for_port(port, proc)
    return proc, f"http://127.0.0.1:{port}"


def wait_for_port(port: int, proc: subprocess.Popen) -> None:
    for _ in range(100):
        if proc.poll() is not None:
            err = proc.stderr.read().decode() if proc.stderr else ""
            raise SystemExit(f"server exited: {err}")
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise SystemExit("server did not start")


def process_cpu(pids: list[int]) -> float:
    """User + system CPU seconds of the given processes (Linux /proc)."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) / ticks
    return total


def server_pids(proc: subprocess.Popen) -> list[int]:
    children = Path(f"/proc/{proc.pid}/task/{proc.pid}/children")
    kids = [int(p) for p in children.read_text().split()] if children.exists() else []
    return [proc.pid, *kids]


def wrk_check(url: str) -> str:
    if not shutil.which("wrk"):
        return "wrk not installed: server capacity not measured"
    out = subprocess.run(
        ["wrk", "-t1", "-c16", "-d3s", url], capture_output=True, text=True, check=False
    ).stdout
    line = next((x for x in out.splitlines() if x.startswith("Requests/sec")), "?")
    return f"wrk -t1 -c16 on one page: {line.split(':')[-1].strip()} requests/s"


# -- the measured workers (each in its own process) ---------------------------------------


async def bare_loop(urls: list[str], concurrency: int) -> Counter:
    import httpx

    counts: Counter = Counter()
    semaphore = asyncio.Semaphore(concurrency)
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(limits=limits) as client:

        async def one(url: str) -> None:
            async with semaphore:
                response = await client.get(url)
            hashlib.sha256(response.content).hexdigest()
            counts[response.status_code] += 1

        await asyncio.gather(*(one(u) for u in urls))
    return counts


async def fetcher_loop(urls: list[str], state: Path, conditional: bool) -> Counter:
    from sotewatch.pipeline.config import Settings
    from sotewatch.pipeline.fetching.fetch import Fetcher
    from sotewatch.pipeline.fetching.fetched import FetchRequest

    validators = json.loads(state.read_text()) if conditional else {}
    requests = [FetchRequest(u, "bench", *validators.get(u, (None, None))) for u in urls]
    counts: Counter = Counter()
    seen: dict[str, tuple[str | None, str | None]] = {}
    async with Fetcher(Settings(per_host_delay=0.0)) as fetcher:
        async for result in fetcher.fetch_all(requests):
            hashlib.sha256(result.content).hexdigest()
            counts[result.outcome.value] += 1
            seen[result.url] = (result.etag, result.last_modified)
    if not conditional:
        state.write_text(json.dumps(seen))
    return counts


def worker(phase: str, url_file: Path, state: Path) -> None:
    urls = url_file.read_text().split()
    before = resource.getrusage(resource.RUSAGE_SELF)
    started = time.perf_counter()
    if phase.startswith("bare-c"):
        counts = asyncio.run(bare_loop(urls, int(phase.removeprefix("bare-c"))))
    else:
        counts = asyncio.run(fetcher_loop(urls, state, conditional=phase == "unchanged"))
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_SELF)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    print(
        json.dumps(
            {
                "pages": len(urls),
                "wall": wall,
                "cpu": cpu,
                "rss_mb": after.ru_maxrss / 1024,
                "counts": dict(counts),
            }
        )
    )


def measure(phase: str, url_file: Path, state: Path, server: subprocess.Popen) -> dict:
    pids = server_pids(server)
    server_cpu = process_cpu(pids)
    out = subprocess.run(
        [sys.executable, __file__, "--worker", phase, str(url_file), str(state)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    figures = json.loads(out.strip().splitlines()[-1])
    figures["server_cpu"] = process_cpu(pids) - server_cpu
    figures["rate"] = figures["pages"] / figures["wall"]
    return figures


def measure_run(phase: str, tmp: Path, url_file: Path, server: subprocess.Popen) -> dict:
    """One `sotewatch run` as a child process; its rusage via wait4."""
    db, summary = tmp / "bench.db", tmp / f"{phase}.json"
    sotewatch = Path(sys.executable).with_name("sotewatch")
    command = [str(sotewatch), "--db", str(db), "run", "--sources", str(url_file), "--force"]
    command += ["--no-send", "--per-host-delay", "0", "--summary-json", str(summary)]
    pids = server_pids(server)
    server_cpu = process_cpu(pids)
    started = time.perf_counter()
    with open(tmp / f"{phase}.log", "w") as log:
        child = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
        _, status, usage = os.wait4(child.pid, 0)
    wall = time.perf_counter() - started
    result = json.loads(summary.read_text()) if summary.exists() else {}
    pages = len(url_file.read_text().split())
    return {
        "pages": pages,
        "wall": wall,
        "rate": pages / wall,
        "cpu": usage.ru_utime + usage.ru_stime,
        "rss_mb": usage.ru_maxrss / 1024,
        "server_cpu": process_cpu(pids) - server_cpu,
        "db_mb": sum(p.stat().st_size for p in tmp.glob("bench.db*")) / 1e6,
        "exit": os.waitstatus_to_exitcode(status),
        "summary": result,
        "counts": {k: v for k, v in result.items() if isinstance(v, int)},
    }


def run_phases(
    site: Path,
    tmp: Path,
    url_file: Path,
    server: subprocess.Popen,
    bare: float,
    rounds: int,
    bare_phase: str,
) -> tuple[dict[str, dict], dict[str, float]]:
    """Each round starts from an empty database and the site's first build; each phase
    keeps its fastest round, as the bare loops do, and is shown against the best bare
    loop of all rounds. A shared machine's speed drifts over the minutes this takes, so
    each round also measures the bare loop (`bare_phase`, its best concurrency) just
    before its runs: the targets are judged on those paired ratios, the median over
    the rounds. Returns each run's best figures and its paired ratio."""
    pages = len(url_file.read_text().split())
    edited = changed_pages(pages, CHANGED_FRACTION)
    phases = ("run-cold", "run-changed", "run-unchanged")
    best: dict[str, dict] = {}
    paired: dict[str, list[float]] = {phase: [] for phase in phases}
    state = tmp / "validators.json"
    for _ in range(rounds):
        for stale in tmp.glob("bench.db*"):
            stale.unlink()
        build_site(site, pages=pages, build=0)
        beside = measure(bare_phase, url_file, state, server)["rate"]
        for phase in phases:
            if phase == "run-changed":
                build_site(site, pages=pages, build=1, changed=edited)
            figures = measure_run(phase, tmp, url_file, server)
            paired[phase].append(figures["rate"] / beside)
            if phase not in best or figures["rate"] > best[phase]["rate"]:
                best[phase] = figures
    cold, changed, unchanged = best["run-cold"], best["run-changed"], best["run-unchanged"]
    for name in phases:
        figures = best[name]
        print(line(name, figures, bare) + f"  db {figures['db_mb']:.1f} MB")
    ratio = {phase: statistics.median(values) for phase, values in paired.items()}
    print(
        f"paired with the {bare_phase} loop measured just before each round's runs, median of "
        f"{rounds} rounds: "
        + ", ".join(
            f"{phase} {ratio[phase]:.0%} ({', '.join(f'{r:.0%}' for r in paired[phase])})"
            for phase in phases
        )
    )
    reported = {c["url"].rsplit("/", 1)[-1] for c in changed["summary"].get("changed", [])}
    expected = {f"{i:04d}.html" for i in edited}
    false_changes = len(reported - expected)
    missed = len(expected - reported)
    fast = all(ratio[phase] >= TARGET_COLD for phase in ("run-cold", "run-changed"))
    print(
        f"bare-loop ratios (issue 3's targets, printed only): cold and changed >= "
        f"{TARGET_COLD:.0%} of bare: "
        f"{_yes(fast)}; unchanged >= {TARGET_UNCHANGED:.0%}: "
        f"{_yes(ratio['run-unchanged'] >= TARGET_UNCHANGED)}; "
        f"peak RSS < {TARGET_RSS_MB} MB: "
        f"{_yes(max(f['rss_mb'] for f in (cold, changed, unchanged)) < TARGET_RSS_MB)}; "
        f"pages reported changed by the footer date alone: {false_changes}; "
        f"edited pages missed: {missed} of {len(expected)}; "
        f"exit codes {cold['exit']}/{changed['exit']}/{unchanged['exit']}"
    )
    return best, ratio


def peer_phases(site: Path, tmp: Path, url_file: Path, best: dict, ratio: dict) -> None:
    """urlwatch on the same pages (bench/peer_urlwatch.py), then issue 19's targets: a
    changed run at least `TARGET_PEER`x faster than urlwatch's, a run of 304s faster than
    the bare loop (paired ratio), peak RSS under `TARGET_RSS_MB`."""
    script = peer_urlwatch.ensure_installed()
    if script is None:
        return
    urls = url_file.read_text().split()
    edited = changed_pages(len(urls), CHANGED_FRACTION)

    def rebuild(phase: str) -> None:
        if phase == "urlwatch-cold":
            build_site(site, pages=len(urls), build=0)
        elif phase == "urlwatch-changed":
            build_site(site, pages=len(urls), build=1, changed=edited)
            # urlwatch sends the time of its last check as If-Modified-Since, not the
            # Last-Modified it was given: pages of a build dated in the past would all
            # answer 304. Dated now, as a deploy would be, they answer 200.
            for page in (site / "p").iterdir():
                os.utime(page)

    peer = peer_urlwatch.runs(script, tmp / "urlwatch", urls, rebuild)
    text = peer_urlwatch.runs(
        script, tmp / "urlwatch-text", urls, rebuild, peer_urlwatch.TEXT_FILTER
    )
    for label, figures_of in (("", peer), (" +text", text)):
        for phase, figures in figures_of.items():
            print(
                f"{phase + label:<24} {figures['wall']:6.2f} s wall  {figures['cpu']:5.2f} s CPU"
                f"  peak RSS {figures['rss_mb']:5.0f} MB  exit {figures['exit']}  "
                f"reported {figures['reported']}"
            )
    like = text["urlwatch-changed"]["wall"] / best["run-changed"]["wall"]
    print(
        f"urlwatch +text: each job filtered to its <main> text ({peer_urlwatch.TEXT_FILTER!r})"
        f", so it reports the edited pages alone, as sotewatch does: changed run {like:.1f}x"
        " faster than it (printed only)"
    )
    faster = peer["urlwatch-changed"]["wall"] / best["run-changed"]["wall"]
    rss = max(f["rss_mb"] for f in best.values())
    print(
        f"targets (issue 19): changed run {faster:.1f}x faster than urlwatch "
        f"{peer_urlwatch.VERSION}'s (>= {TARGET_PEER}x): {_yes(faster >= TARGET_PEER)}; "
        f"run of 304s {ratio['run-unchanged']:.0%} of the bare loop's speed (> 100%): "
        f"{_yes(ratio['run-unchanged'] > 1)}; peak RSS {rss:.0f} MB (< {TARGET_RSS_MB}): "
        f"{_yes(rss < TARGET_RSS_MB)}"
    )


# -- the report ---------------------------------------------------------------------------


def line(name: str, f: dict, best: float | None) -> str:
    ratio = f" {f['rate'] / best:6.0%} of bare" if best else ""
    counts = ", ".join(f"{k}: {v}" for k, v in sorted(f["counts"].items()))
    return (
        f"{name:<13} {f['rate']:8.0f} pages/s  {f['wall']:6.2f} s wall  {f['cpu']:5.2f} s CPU  "
        f"peak RSS {f['rss_mb']:5.0f} MB  server CPU {f['server_cpu']:4.2f} s{ratio}  ({counts})"
    )


def compile_bytecode() -> None:
    """Cache every module's bytecode, as an installed copy has it after its first run:
    with PYTHONDONTWRITEBYTECODE set, each `sotewatch run` would otherwise measure Python
    compiling its own sources."""
    import compileall
    import sysconfig

    for folder in (ROOT / "pipeline", ROOT / "scrapers", Path(sysconfig.get_paths()["purelib"])):
        compileall.compile_dir(folder, quiet=2)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--pages", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--run-rounds", type=int, default=5, help="rounds of the three runs")
    parser.add_argument("--fetch-only", action="store_true", help="skip the sotewatch runs")
    parser.add_argument("--no-peer", action="store_true", help="skip the urlwatch runs")
    parser.add_argument("--worker", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(args.worker[0], Path(args.worker[1]), Path(args.worker[2]))
        return 0

    print(f"cores: {os.cpu_count()}, Python {sys.version.split()[0]}")
    compile_bytecode()
    with tempfile.TemporaryDirectory(prefix="sotewatch-bench-") as tmp_name:
        tmp = Path(tmp_name)
        os.chmod(tmp, 0o755)  # nginx workers run as an unprivileged user
        site = tmp / "site"
        started = time.perf_counter()
        paths = build_site(site, pages=args.pages)
        size = sum(p.stat().st_size for p in (site / "p").iterdir())
        print(
            f"site: {len(paths)} pages, {size / len(paths) / 1024:.0f} KB average, "
            f"built in {time.perf_counter() - started:.1f} s"
        )
        if shutil.which("nginx"):
            server, base = start_nginx(site, tmp)
            print(f"server: nginx ({subprocess.getoutput('nginx -v 2>&1').strip()}) at {base}")
        else:
            server, base = start_python_server(site)
            print(f"server: nginx not found, Python http.server at {base} (may be the bottleneck)")
        try:
            rounds = (args.rounds, args.run_rounds)
            run = not args.fetch_only
            return report(tmp, base, paths, server, rounds, run, run and not args.no_peer)
        finally:
            server.terminate()
            server.wait(timeout=10)


def report(
    tmp: Path,
    base: str,
    paths: list[str],
    server: subprocess.Popen,
    all_rounds: tuple[int, int],
    run: bool,
    peer: bool,
) -> int:
    """Rounds alternate the bare loop and the Fetcher, so a busy machine hurts both alike;
    each phase keeps its fastest round. `all_rounds`: of the loops, of the runs. `run`:
    the sotewatch runs too; `peer`: and urlwatch's."""
    rounds, run_rounds = all_rounds
    url_file = tmp / "urls.txt"
    url_file.write_text("\n".join(base + p for p in paths))
    state = tmp / "validators.json"
    print(wrk_check(base + paths[0]))
    measure("bare-c8", url_file, state, server)  # warm-up: page cache, connection setup
    phases = [*(f"bare-c{c}" for c in BARE_CONCURRENCY), "cold", "unchanged"]
    best: dict[str, dict] = {}
    for _ in range(rounds):
        for phase in phases:
            figures = measure(phase, url_file, state, server)
            if phase not in best or figures["rate"] > best[phase]["rate"]:
                best[phase] = figures
    print(f"best of {rounds} rounds each:")
    for c in BARE_CONCURRENCY:
        print(line(f"bare-c{c}", best[f"bare-c{c}"], None))
    best_c = max(BARE_CONCURRENCY, key=lambda c: best[f"bare-c{c}"]["rate"])
    bare = best[f"bare-c{best_c}"]["rate"]
    print(f"best bare loop: {bare:.0f} pages/s at concurrency {best_c}")
    cold, unchanged = best["cold"], best["unchanged"]
    print(line("cold", cold, bare))
    print(line("unchanged", unchanged, bare))
    ok_cold = cold["rate"] >= TARGET_COLD * bare
    ok_unchanged = unchanged["rate"] >= TARGET_UNCHANGED * bare
    all_304 = unchanged["counts"] == {"not_modified": len(paths)}
    print(
        f"targets (Fetcher alone): cold >= {TARGET_COLD:.0%} of bare: {_yes(ok_cold)}; "
        f"unchanged >= {TARGET_UNCHANGED:.0%}: {_yes(ok_unchanged)}; "
        f"unchanged all 304: {_yes(all_304)}; "
        f"peak RSS < 150 MB: {_yes(max(cold['rss_mb'], unchanged['rss_mb']) < 150)}"
    )
    if run:
        site = tmp / "site"
        best_runs, ratio = run_phases(
            site, tmp, url_file, server, bare, run_rounds, f"bare-c{best_c}"
        )
        if peer:
            peer_phases(site, tmp, url_file, best_runs, ratio)
    print(f"load average at the end: {' '.join(f'{x:.1f}' for x in os.getloadavg())}")
    return 0


def _yes(ok: bool) -> str:
    return "yes" if ok else "NO"


if __name__ == "__main__":
    raise SystemExit(main())
