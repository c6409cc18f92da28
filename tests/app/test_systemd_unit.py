"""The systemd unit asks for what the daemon implements (notify, watchdog) and is hardened."""
from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from api.connections import FD_RESERVE, MAX_CONNECTIONS

UNIT = Path(__file__).resolve().parents[2] / "systemd" / "choch.service"


def _directives() -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for line in UNIT.read_text().splitlines():
        if "=" in line and not line.lstrip().startswith(("#", "[")):
            key, value = line.split("=", 1)
            out.setdefault(key.strip(), []).append(value.strip())
    return out


def test_unit_is_notify_with_watchdog_restart_and_a_dedicated_user():
    d = _directives()
    assert d["Type"] == ["notify"] and d["WatchdogSec"] and d["Restart"] == ["always"]
    assert d["RestartPreventExitStatus"] == ["2"]  # configuration errors: no restart loop
    assert d["EnvironmentFile"] and d["StateDirectory"] == ["choch"]
    assert d["User"] == ["choch"]


def _environment() -> dict[str, str]:
    pairs = " ".join(_directives()["Environment"]).split()
    return dict(pair.split("=", 1) for pair in pairs)


def test_the_state_db_path_comes_from_the_state_directory_not_the_unit():
    # EnvironmentFile= overrides Environment=: a STATE_DB here would be silently replaced by the
    # env file's. The daemon puts an empty STATE_DB under $STATE_DIRECTORY instead.
    assert "STATE_DB" not in _environment()
    assert _directives()["StateDirectory"] == ["choch"]


def test_matplotlib_gets_a_writable_cache_directory():
    d = _directives()
    assert d["CacheDirectory"] == ["choch"]  # writable under ProtectSystem=strict
    assert _environment()["MPLCONFIGDIR"].startswith("%C/choch")


def test_open_files_leave_room_for_the_api_and_the_exchanges():
    # systemd's default soft limit (1024) is what an API flood exhausted: candle fetches failed.
    (limit,) = _directives()["LimitNOFILE"]
    assert int(limit) >= FD_RESERVE + MAX_CONNECTIONS


@pytest.mark.parametrize("key,value", [("NoNewPrivileges", "yes"), ("ProtectSystem", "strict"),
                                       ("ProtectHome", "yes"), ("PrivateTmp", "yes")])
def test_unit_is_hardened(key, value):
    assert _directives()[key] == [value]


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="no systemd-analyze")
def test_systemd_accepts_the_unit(tmp_path):
    copy = tmp_path / "choch.service"
    copy.write_text(UNIT.read_text())
    result = subprocess.run(["systemd-analyze", "verify", str(copy)], capture_output=True,
                            text=True, timeout=60)
    # The only complaint allowed here: /opt/choch is not installed on a test machine.
    problems = [line for line in (result.stdout + result.stderr).splitlines()
                if line.strip() and "/opt/choch" not in line]
    assert problems == []
