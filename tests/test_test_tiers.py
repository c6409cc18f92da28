"""Two test tiers: `make test` runs everything, `make test-fast` leaves out the tests marked
slow."""
from __future__ import annotations

import configparser
import shutil
import subprocess

import pytest

from tests.shared_data import REPO


def test_the_slow_marker_is_registered():
    ini = configparser.ConfigParser()
    ini.read(REPO / "pytest.ini")
    assert any(line.startswith("slow:") for line in ini["pytest"]["markers"].splitlines())


@pytest.mark.skipif(shutil.which("make") is None, reason="no make")
@pytest.mark.parametrize("target, selection", [("test", ""), ("test-fast", ' -m "not slow"')])
def test_make_test_runs_everything_and_test_fast_leaves_out_the_slow_ones(target, selection):
    dry = subprocess.run(["make", "-n", "-W", ".venv/.dev-installed", target], cwd=REPO,
                         capture_output=True, text=True, timeout=30)
    commands = [line for line in dry.stdout.splitlines() if "-m pytest" in line]
    assert commands and commands[-1].endswith("-m pytest" + selection), dry.stdout + dry.stderr
