"""Run a command as a user that file permissions apply to (root bypasses them)."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
NOBODY = 65534


def wrapper() -> list[str]:
    """The argv prefix that drops to an unprivileged user (empty when not root)."""
    if os.geteuid() != 0:
        return []
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        pytest.skip("running as root without setpriv: cannot drop privileges")
    return [setpriv, f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups"]


def run_python(code: str, *, cwd: Path | None = None,
               args: Sequence[str] = ()) -> subprocess.CompletedProcess:
    """python -c code, unprivileged, from the repo (skips when that user cannot reach it)."""
    argv = [*wrapper(), sys.executable]
    probe = subprocess.run([*argv, "-c", "import app"], cwd=REPO, capture_output=True)
    if probe.returncode != 0:
        pytest.skip(f"an unprivileged user cannot run this checkout: {probe.stderr[-200:]!r}")
    return subprocess.run([*argv, "-c", code, *args], cwd=cwd or REPO, capture_output=True,
                          text=True, timeout=60)


@pytest.fixture
def open_tmp() -> Iterator[Path]:
    """A temporary directory the unprivileged user may enter (pytest's own are 0700)."""
    path = Path(tempfile.mkdtemp(prefix="choch-perm-"))
    path.chmod(0o755)
    try:
        yield path
    finally:
        for sub in path.rglob("*"):
            if sub.is_dir() and not sub.is_symlink():
                sub.chmod(0o755)
        shutil.rmtree(path)


def locked_dir(base: Path) -> Path:
    """A directory under base that the unprivileged user may not enter (root:root 0750 as
    root, 0000 for an ordinary user, who would otherwise own it)."""
    blocked = base / "etc-choch"
    blocked.mkdir(mode=0o750)
    if os.geteuid() != 0:
        blocked.chmod(0o000)
    return blocked
