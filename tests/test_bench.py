"""The daemon bench fails fast and says why: missing data, a dead or silent fake process."""
from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _dies(conn, *args) -> None:
    """A child that fails before its first answer (as when ../shared/data is missing)."""
    raise SystemExit(3)


def _silent(conn, *args) -> None:
    """A child that never answers."""
    time.sleep(60)


@pytest.mark.slow  # over a second: left out of make test-fast
def test_the_daemon_bench_without_its_data_exits_at_once_naming_the_file(tmp_path):
    missing = tmp_path / "nowhere.csv"
    res = subprocess.run([sys.executable, "bench/daemon.py", "--cycles", "1", "--data",
                          str(missing)], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert res.returncode == 1
    assert f"real candle data not found: {missing}" in res.stderr


def test_a_fake_process_that_dies_is_reported_instead_of_waited_for():
    from bench.daemon import BenchError, RemoteFake

    t = time.monotonic()
    with pytest.raises(BenchError, match=r"exited \(code 3\) while starting"):
        RemoteFake(1, False, target=_dies, start_timeout_s=30)
    assert time.monotonic() - t < 20


@pytest.mark.slow  # over a second: left out of make test-fast
def test_a_fake_process_that_never_answers_times_out():
    from bench.daemon import BenchError, RemoteFake

    with pytest.raises(BenchError, match="did not answer within 1 s while starting"):
        RemoteFake(1, False, target=_silent, start_timeout_s=1)


@pytest.mark.slow
def test_the_venue_bench_runs_every_registered_venue_and_skips_the_rest_by_name():
    from bench.venue_fakes import FAKES
    from exchanges import registry

    res = subprocess.run([sys.executable, "bench/venues.py", "--symbols", "3", "--latency-ms",
                          "0"], cwd=ROOT, capture_output=True, text=True, timeout=240)
    assert res.returncode == 0, res.stdout + res.stderr
    cycle, rss = res.stdout.split("RSS:")
    rows = {line.split()[0]: line for line in cycle.splitlines()
            if line.split() and line.split()[0] in FAKES}
    for name in FAKES:  # binance, bybit, okx, gate, kucoin, bitget, bingx, delta
        if name in registry.VENUES:
            assert "9/9  PASS" in rows[name], res.stdout  # 3 symbols x 3 timeframes, all out
        else:
            assert "skipped: no venue module registered" in rows[name], res.stdout
    for name in set(registry.remote_names()) - set(FAKES):  # CoinDCX: no bench fake
        assert f"{name:<9}skipped: no bench fake" in cycle, res.stdout
    assert "every venue" in rss and "full import ccxt" in rss
    assert res.stdout.rstrip().endswith("targets: all PASS"), res.stdout


def test_the_venue_bench_skips_a_venue_without_a_module_and_names_why(monkeypatch):
    from bench.venues import venues_to_run
    from exchanges import registry

    monkeypatch.setattr(registry, "VENUES", {"binance": registry.VENUES["binance"]})
    plan = dict(venues_to_run())
    assert plan["binance"] == ""
    assert plan["bybit"].startswith("no venue module registered")
    assert plan["okx"].startswith("no venue module registered")
    assert list(dict(venues_to_run(("okx",)))) == ["binance", "okx"]  # binance: the reference
