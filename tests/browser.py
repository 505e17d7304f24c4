"""Headless Debian chromium for the tests that look at pages as a reader would.

Tests that use it mark themselves with `pytestmark = browser_marks` and skip, saying
why, where chromium is not installed (.ci/run installs it).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
browser_marks = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not CHROMIUM.exists(),
        reason="needs Debian's chromium at /usr/bin/chromium (apt-get install chromium)",
    ),
]
# Flags for a closed network: without the background ones chromium keeps trying hosts
# it cannot reach.
_FLAGS = (
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--hide-scrollbars",
)  # fmt: skip


def chromium(tmp_path: Path, url: str, window: tuple[int, int], *extra: str) -> str:
    """Run chromium once on `url` with a fresh profile; returns what it printed."""
    profile = tempfile.mkdtemp(prefix="profile-", dir=tmp_path)
    command = [
        str(CHROMIUM), *_FLAGS, f"--user-data-dir={profile}",
        f"--window-size={window[0]},{window[1]}", *extra, url,
    ]  # fmt: skip
    done = subprocess.run(command, capture_output=True, text=True, timeout=180, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


def keep(shot: Path) -> None:
    """Copy a screenshot to $SOTEWATCH_KEEP_SCREENSHOTS (a folder, or "1" for
    out/screenshots) so a person can look at it after the run."""
    target = os.environ.get("SOTEWATCH_KEEP_SCREENSHOTS")
    if target:
        folder = Path(target if target not in ("1", "yes", "true") else "out/screenshots")
        folder.mkdir(parents=True, exist_ok=True)
        shutil.copy(shot, folder / shot.name)
