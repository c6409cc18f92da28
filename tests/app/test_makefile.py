"""`make`: a too-old or missing Python is named before anything is built, and a .venv made by
another interpreter is rebuilt instead of silently reused."""
from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
# Builds virtualenvs: left out of `make test-fast`.
pytestmark = [pytest.mark.skipif(shutil.which("make") is None, reason="no make"),
              pytest.mark.slow]


@pytest.fixture
def project(tmp_path) -> Path:
    """The Makefile alone, with empty requirements (nothing to download)."""
    shutil.copy(REPO / "Makefile", tmp_path / "Makefile")
    for name in ("requirements.txt", "requirements-cluster.txt", "requirements-dev.txt",
                 "requirements-bench.txt"):
        (tmp_path / name).write_text("")
    return tmp_path


def _make(project: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(["make", "--no-print-directory", *args], cwd=project,
                          capture_output=True, text=True, timeout=300)


def test_a_python_older_than_3_11_is_named_with_the_way_out(project):
    old = project / "python3.9"
    old.write_text('#!/bin/sh\n[ "$1" = --version ] && { echo "Python 3.9.2"; exit 0; }\nexit 1\n')
    old.chmod(0o755)
    result = _make(project, f"PYTHON={old}", "run")
    assert result.returncode != 0
    assert f"needs Python >= 3.11, but PYTHON={old} is Python 3.9.2" in result.stderr
    assert "make PYTHON=python3.12 run" in result.stderr
    assert not (project / ".venv").exists()


def test_a_missing_python_is_named(project):
    result = _make(project, "PYTHON=/nonexistent/python3", "test")
    assert result.returncode != 0
    assert "PYTHON=/nonexistent/python3 is not installed" in result.stderr


def test_a_venv_from_another_python_is_rebuilt_and_a_matching_one_reused(project):
    venv = project / ".venv"
    (venv / "bin").mkdir(parents=True)
    (venv / "pyvenv.cfg").write_text("home = /usr/bin\nversion = 3.9.1\n")
    (venv / "bin" / "python").write_text("#!/bin/sh\nexit 1\n")  # its interpreter is gone
    (venv / "bin" / "python").chmod(0o755)
    (venv / ".runtime-installed").touch()  # looked installed: must not be trusted
    result = _make(project, f"PYTHON={sys.executable}", ".venv/.runtime-installed")
    assert result.returncode == 0, result.stderr
    assert "recreating it" in result.stderr and "pip install" in result.stdout
    mine = "{}.{}".format(*sys.version_info[:2])
    assert f"version = {mine}" in (venv / "pyvenv.cfg").read_text()
    subprocess.run([venv / "bin" / "python", "-c", ""], check=True)

    stamp = (venv / "pyvenv.cfg").stat().st_mtime_ns
    again = _make(project, f"PYTHON={sys.executable}", ".venv/.runtime-installed")
    assert again.returncode == 0 and "recreating" not in again.stderr
    assert "pip install" not in again.stdout  # nothing reinstalled
    assert (venv / "pyvenv.cfg").stat().st_mtime_ns == stamp
