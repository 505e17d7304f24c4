"""One run at a time: a second overlapping run exits at once with code 3 and says why;
the lock of a run killed with SIGKILL is taken over by the next run."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from sotewatch.pipeline.demo.sample_site import SampleSite, sample_sources_text
from sotewatch.pipeline.errors import EXIT_LOCKED, RunLockedError
from sotewatch.pipeline.runs.lock import lock_path, run_lock

ROOT = Path(__file__).resolve().parent.parent
SOTEWATCH = [sys.executable, "-c", "from sotewatch.pipeline.cli import main; main()"]
HOLDER = """
import sys, time
from pathlib import Path
from sotewatch.pipeline.runs.lock import run_lock
with run_lock(Path(sys.argv[1])):
    print("held", flush=True)
    time.sleep(120)
"""


@pytest.fixture
def holder(tmp_path: Path) -> Iterator[subprocess.Popen]:
    """Another process holding the run lock of tmp_path/watch.db until killed."""
    process = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(tmp_path / "watch.db")],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    assert process.stdout.readline().strip() == "held"
    yield process
    if process.poll() is None:
        process.kill()
    process.wait(timeout=30)
    process.stdout.close()


@pytest.fixture
def site() -> Iterator[SampleSite]:
    with SampleSite(edition=1) as served:
        yield served


def run_cli(tmp_path: Path, site: SampleSite, *args: str) -> subprocess.CompletedProcess:
    sources = tmp_path / "sources.toml"
    sources.write_text(sample_sources_text(site.base_url), encoding="utf-8")
    command = [*SOTEWATCH, "--db", str(tmp_path / "watch.db"), "run", "--sources", str(sources)]
    return subprocess.run([*command, *args], cwd=ROOT, capture_output=True, text=True, timeout=120)


def test_a_second_overlapping_run_exits_with_code_3_naming_the_holder(
    tmp_path: Path, holder: subprocess.Popen, site: SampleSite
) -> None:
    result = run_cli(tmp_path, site, "--no-send")
    assert result.returncode == EXIT_LOCKED == 3
    assert f"another sotewatch run (pid {holder.pid}) is working on" in result.stderr
    assert "Traceback" not in result.stderr
    assert site.requests == []  # it gave up before fetching anything


def test_the_lock_of_a_killed_run_is_taken_over(
    tmp_path: Path, holder: subprocess.Popen, site: SampleSite
) -> None:
    holder.send_signal(signal.SIGKILL)
    holder.wait(timeout=30)
    assert lock_path(tmp_path / "watch.db").read_text().strip() == str(holder.pid)
    result = run_cli(tmp_path, site, "--no-send")
    assert result.returncode == 0, result.stderr
    assert lock_path(tmp_path / "watch.db").read_text().strip() != str(holder.pid)


def test_the_lock_is_refused_in_process_while_held_and_free_after(tmp_path: Path) -> None:
    db = tmp_path / "watch.db"
    with run_lock(db):
        assert lock_path(db).read_text().strip() == str(os.getpid())
        with pytest.raises(RunLockedError) as refused, run_lock(db):
            pass  # pragma: no cover
        assert refused.value.exit_code == EXIT_LOCKED
    with run_lock(db):
        pass


def test_the_lock_file_sits_beside_the_database(tmp_path: Path) -> None:
    assert lock_path(tmp_path / "data" / "sotewatch.db") == tmp_path / "data" / "sotewatch.db.lock"


def test_a_run_through_a_symlink_to_a_locked_database_exits_with_code_3(
    tmp_path: Path, holder: subprocess.Popen, site: SampleSite
) -> None:
    alias = tmp_path / "elsewhere" / "alias.db"
    alias.parent.mkdir()
    alias.symlink_to(tmp_path / "watch.db")
    sources = tmp_path / "sources.toml"
    sources.write_text(sample_sources_text(site.base_url), encoding="utf-8")
    command = [*SOTEWATCH, "--db", str(alias), "run", "--sources", str(sources), "--no-send"]
    result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == EXIT_LOCKED, result.stderr
    assert site.requests == []


def test_every_name_of_one_database_has_one_lock_and_one_private_database(
    tmp_path: Path,
) -> None:
    from sotewatch.pipeline.delivery.deliver import state_path_for

    real = tmp_path / "c.db"
    real.touch()
    alias = tmp_path / "alias.db"
    alias.symlink_to(real)
    dotted = tmp_path / "sub" / ".." / "c.db"
    (tmp_path / "sub").mkdir()
    assert lock_path(alias) == lock_path(dotted) == lock_path(real)
    assert state_path_for(alias) == state_path_for(dotted) == tmp_path / "c-private.db"
    with run_lock(real), pytest.raises(RunLockedError), run_lock(alias):
        pass


def test_send_through_a_symlink_uses_the_same_delivery_state(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`send` through alias.db found no delivery state and mailed every reader again."""
    from digest_fixtures import SmtpSink, cases, make_main_db, smtp_server

    from sotewatch.pipeline.delivery.send import send_due

    make_main_db(tmp_path / "c.db", cases()["change"])
    (tmp_path / "alias.db").symlink_to(tmp_path / "c.db")
    subscribers = tmp_path / "subscribers.toml"
    subscribers.write_text(
        '[[subscriber]]\nemail = "aino@example.org"\nregions = "*"\nnetworks = "*"\n',
        encoding="utf-8",
    )
    sink = SmtpSink()
    with smtp_server(sink) as server:
        monkeypatch.setenv("SOTEWATCH_SMTP_HOST", "127.0.0.1")
        monkeypatch.setenv("SOTEWATCH_SMTP_PORT", str(server.port))
        monkeypatch.setenv("SOTEWATCH_SMTP_TLS", "none")
        first = send_due(tmp_path / "c.db", subscribers, force=True)
        again = send_due(tmp_path / "alias.db", subscribers, force=True)
    assert len(first.sent) == 1
    assert again.sent == []
    assert len(sink.to("aino@example.org")) == 1
    assert not (tmp_path / "alias-private.db").exists()
