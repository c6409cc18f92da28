"""Two test tiers: `make test` runs everything, `make test-fast` leaves out the tests marked
slow."""
from __future__ import annotations

import shutil
import subprocess
import tomllib

import pytest

from tests.shared_data import REPO


def test_the_slow_marker_is_registered():
    pytest_settings = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["pytest"]
    assert any(m.startswith("slow:") for m in pytest_settings["ini_options"]["markers"])


@pytest.mark.skipif(shutil.which("make") is None, reason="no make")
@pytest.mark.parametrize("target, selection", [("test", ""), ("test-fast", ' -m "not slow"')])
def test_make_test_runs_everything_and_test_fast_leaves_out_the_slow_ones(target, selection):
    dry = subprocess.run(["make", "-n", "-W", ".venv/.dev-installed", target], cwd=REPO,
                         capture_output=True, text=True, timeout=30)
    commands = [line for line in dry.stdout.splitlines() if "-m pytest" in line]
    assert commands and commands[-1].endswith("-m pytest" + selection), dry.stdout + dry.stderr


@pytest.mark.skipif(shutil.which("make") is None, reason="no make")
@pytest.mark.parametrize("target", ["test", "test-fast"])
def test_both_tiers_run_ruff_and_mypy_before_the_tests(target):
    dry = subprocess.run(["make", "-n", "-W", ".venv/.dev-installed", target], cwd=REPO,
                         capture_output=True, text=True, timeout=30)
    steps = [line.split(" -m ", 1)[1].split()[0] for line in dry.stdout.splitlines()
             if line.startswith(".venv/bin/python -m ")]
    assert steps[-3:] == ["ruff", "mypy", "pytest"], dry.stdout + dry.stderr


def test_ci_runs_make_test():
    script = (REPO / ".ci" / "run").read_text().splitlines()
    assert [line for line in script if line and not line.startswith("#")][-1] == "make test"
