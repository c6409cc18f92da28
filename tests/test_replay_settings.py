"""The replay venue's settings: REPLAY_SOURCE is required with it, the others have defaults."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from config import ConfigError, load_settings, venue_env_keys
from exchanges.replay import REPLAY

REPO = Path(__file__).resolve().parents[1]


def _problems(env: dict) -> dict[str, str]:
    with pytest.raises(ConfigError) as refused:
        load_settings(env, dotenv_path=None)
    return {p.key: p.allowed for p in refused.value.problems}


def test_the_replay_venue_needs_its_source_and_nothing_else():
    assert "required with DATA_EXCHANGE=replay" in _problems(
        {"DATA_EXCHANGE": "replay"})["REPLAY_SOURCE"]
    s = load_settings({"DATA_EXCHANGE": "replay", "REPLAY_SOURCE": "samples",
                       "REPLAY_START": "2026-02-01T04:00"}, dotenv_path=None)
    assert (s.replay_speed, s.replay_start) == (60.0, 1_769_918_400_000)
    assert venue_env_keys(REPLAY) == {}  # served from this machine: no URL, no keys


def test_bad_replay_values_are_named():
    keys = _problems({"DATA_EXCHANGE": "replay", "REPLAY_SOURCE": "x", "REPLAY_SPEED": "0",
                      "REPLAY_START": "soon"})
    assert set(keys) == {"REPLAY_SPEED", "REPLAY_START"}


def test_trading_on_the_replay_venue_is_refused():
    keys = _problems({"DATA_EXCHANGE": "replay", "REPLAY_SOURCE": "x", "ENABLE_TRADING": "1"})
    assert "serves market data only" in keys["TRADING_EXCHANGE"]


@pytest.mark.slow  # a process start
def test_run_on_a_source_that_cannot_be_served_exits_2_naming_it(tmp_path):
    env = {"PATH": "/usr/bin:/bin", "DATA_EXCHANGE": "replay",
           "REPLAY_SOURCE": str(tmp_path / "nope.csv"), "STATE_DB": str(tmp_path / "s.db")}
    done = subprocess.run([sys.executable, str(REPO / "main.py"), "run"], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert "REPLAY_SOURCE" in done.stderr and "nope.csv: no such file" in done.stderr


@pytest.mark.parametrize("argv", [
    ["scan", "--symbol", "BTC/USDT", "--exchange", "replay", "--timeframe", "1m", "--since",
     "2026-01-01"],
    ["download", "--exchange", "replay", "--symbols", "BTC/USDT", "--timeframes", "1m",
     "--since", "2026-01-01"]])
def test_history_is_not_fetched_from_the_replay_venue(argv, capsys):
    from app.cli import build_parser

    with pytest.raises(SystemExit) as stopped:
        build_parser().parse_args(argv)
    assert stopped.value.code == 2
    assert "nothing to fetch from it" in capsys.readouterr().err
