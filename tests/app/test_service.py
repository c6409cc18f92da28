"""`main.py run` and `main.py check` as real processes against the local fake exchange."""
from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import socket
import sys
import time
from pathlib import Path

import pytest

from tests.fakes.binance_data import FakeBinance

# End to end with real processes or long replays: left out of `make test-fast`.
pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[2]
SECRET = "k3y-never-printed-0123456789"


def _env(fake, tmp_path, **extra) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("BINANCE", "TELEGRAM"))}
    env.update({"BINANCE_DATA_URL": fake.url, "SYMBOLS": "BTC/USDT,ETH/USDT",
                "TIMEFRAMES": "1m,5m", "STATE_DB": str(tmp_path / "state.db"),
                "WARMUP_BARS": "60", "BINANCE_API_KEY": SECRET, "BINANCE_SECRET": SECRET + "s",
                "CHART": "0", "PYTHONUNBUFFERED": "1"})
    env.update(extra)
    return env


async def _spawn(*args, env, cwd):
    return await asyncio.create_subprocess_exec(
        sys.executable, str(REPO / "main.py"), *args, env=env, cwd=cwd,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)


async def _read_until(stream, marker: str, within_s: float) -> list[str]:
    lines: list[str] = []
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(within_s):
            while line := await stream.readline():
                lines.append(line.decode())
                if marker in lines[-1]:
                    return lines
    raise AssertionError(f"{marker!r} not seen in:\n{''.join(lines)}")


async def _terminate(proc) -> tuple[bytes, bytes, float]:
    """SIGTERM, then wait (10 s at most) for the exit: (stdout rest, stderr, seconds taken)."""
    started = time.monotonic()
    proc.send_signal(signal.SIGTERM)
    out, err = await asyncio.wait_for(proc.communicate(), timeout=10)
    return out, err, time.monotonic() - started


async def test_sigterm_stops_the_daemon_cleanly_within_ten_seconds(fake, tmp_path):
    notify_path = str(tmp_path / "notify")
    sd = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sd.bind(notify_path)
    sd.setblocking(False)
    env = _env(fake, tmp_path, NOTIFY_SOCKET=notify_path, WATCHDOG_USEC="3000000")
    proc = await _spawn("run", env=env, cwd=tmp_path)
    try:
        out = await _read_until(proc.stdout, '"daemon_ready"', within_s=60)
        rest, err, took = await _terminate(proc)
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
    text = "".join(out) + rest.decode() + err.decode()
    assert proc.returncode == 0 and took < 10, text
    events = [json.loads(line)["event"] for line in text.splitlines() if line.startswith("{")]
    assert "detector_warmed_up" in events and events[-1] == "daemon_stopped"
    assert "trading instance: paper (paper broker" in err.decode()
    assert SECRET not in text
    received = []
    while True:
        try:
            received.append(sd.recv(100).decode())
        except BlockingIOError:
            break
    sd.close()
    assert "READY=1" in received and received[-1] == "STOPPING=1" and "WATCHDOG=1" in received


async def test_check_passes_against_a_working_exchange(fake, tmp_path):
    proc = await _spawn("check", env=_env(fake, tmp_path), cwd=tmp_path)
    out, err = await asyncio.wait_for(proc.communicate(), timeout=60)
    text = out.decode()
    assert proc.returncode == 0, text + err.decode()
    assert "configuration: ok" in text and "FAIL" not in text
    assert "skip telegram" in text and SECRET not in text + err.decode()


async def test_check_reports_a_broken_component_and_fails(fake, tmp_path):
    with socket.socket() as s:  # a port with nothing listening
        s.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{s.getsockname()[1]}"
    env = _env(fake, tmp_path, BINANCE_DATA_URL=dead, FETCH_CYCLE_BUDGET_S="1",
               FETCH_TIMEOUT_S="1")
    proc = await _spawn("check", env=env, cwd=tmp_path)
    out, err = await asyncio.wait_for(proc.communicate(), timeout=60)
    text = out.decode()
    assert proc.returncode == 1, text + err.decode()
    assert "FAIL" in text and SECRET not in text + err.decode()


async def test_a_bad_setting_stops_run_before_any_request(fake, tmp_path):
    proc = await _spawn("run", env=_env(fake, tmp_path, LEVERAGE="500", DEMO_TRADING="maybe"),
                        cwd=tmp_path)
    out, err = await asyncio.wait_for(proc.communicate(), timeout=30)
    assert proc.returncode == 2
    assert "LEVERAGE" in err.decode() and "DEMO_TRADING" in err.decode()
    assert fake.requests == []


async def _first_candles_served(fake) -> None:
    """Until the fake exchange has answered a candle request."""
    while not any(r.path == "/fapi/v1/klines" for r in fake.requests):
        await asyncio.sleep(0.05)


async def test_sigterm_during_a_long_start_up_still_exits_cleanly(fake, tmp_path):
    fake.latency_s = 0.5  # every request slow: the warm-up takes far longer than the test waits
    proc = await _spawn("run", env=_env(fake, tmp_path, WARMUP_BARS="1500"), cwd=tmp_path)
    try:
        await _read_until(proc.stdout, '"daemon_starting"', within_s=60)
        await asyncio.wait_for(_first_candles_served(fake), timeout=30)  # mid warm-up now
        out, err, took = await _terminate(proc)
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
    assert proc.returncode == 0 and took < 10, err.decode()[-2000:]
    assert '"daemon_ready"' not in out.decode() and '"daemon_stopped"' in out.decode()


@pytest.mark.parametrize("sig,status", [(signal.SIGHUP, 0), (signal.SIGINT, 130)])
async def test_sighup_and_sigint_shut_down_cleanly_with_their_exit_status(
        fake, tmp_path, sig, status):
    proc = await _spawn("run", env=_env(fake, tmp_path), cwd=tmp_path)
    try:
        out = await _read_until(proc.stdout, '"daemon_ready"', within_s=60)
        proc.send_signal(sig)
        rest, err = await asyncio.wait_for(proc.communicate(), timeout=10)
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
    text = "".join(out) + rest.decode()
    assert proc.returncode == status, text + err.decode()
    events = [json.loads(line)["event"] for line in text.splitlines() if line.startswith("{")]
    assert events[-1] == "daemon_stopped" and "Traceback" not in err.decode()


async def test_a_second_daemon_on_the_same_state_db_exits_2_before_any_request(fake, tmp_path):
    first = await _spawn("run", env=_env(fake, tmp_path), cwd=tmp_path)
    other = FakeBinance()  # the second daemon's exchange: it must never be asked anything
    await other.start()
    try:
        await _read_until(first.stdout, '"daemon_ready"', within_s=60)
        second = await _spawn("run", env=_env(other, tmp_path), cwd=tmp_path)
        out, err = await asyncio.wait_for(second.communicate(), timeout=30)
        assert first.returncode is None  # the first one runs on
    finally:
        if first.returncode is None:
            first.send_signal(signal.SIGTERM)
            await asyncio.wait_for(first.communicate(), timeout=10)
        await other.close()
    assert second.returncode == 2, err.decode()
    errors = [line for line in err.decode().splitlines() if line.startswith("start-up failed")]
    assert errors == [f"start-up failed: STATE_DB={tmp_path / 'state.db'}: {tmp_path / 'state.db'} "
                      f"is in use by another running daemon (pid {first.pid}); "
                      "two would send every alert twice"]
    assert other.requests == [] and first.returncode == 0


@pytest.mark.parametrize("make", [
    pytest.param(lambda p: p.mkdir(), id="a directory"),
    pytest.param(lambda p: p.write_bytes(b"garbage " * 200), id="a garbage file"),
])
async def test_an_unusable_state_db_fails_check_and_stops_run_before_any_request(
        fake, tmp_path, make):
    make(tmp_path / "state.db")
    proc = await _spawn("check", env=_env(fake, tmp_path), cwd=tmp_path)
    out, err = await asyncio.wait_for(proc.communicate(), timeout=60)
    assert proc.returncode == 1, out.decode() + err.decode()
    assert f"FAIL state DB: STATE_DB={tmp_path / 'state.db'}: " in out.decode()
    fake.requests.clear()  # check probed the exchange; run must not

    proc = await _spawn("run", env=_env(fake, tmp_path), cwd=tmp_path)
    out, err = await asyncio.wait_for(proc.communicate(), timeout=30)
    assert proc.returncode == 2
    lines = [line for line in err.decode().splitlines() if line.startswith("start-up failed")]
    assert len(lines) == 1 and lines[0].startswith(f"start-up failed: STATE_DB={tmp_path}")
    assert "Traceback" not in err.decode() and fake.requests == []


async def test_check_fails_on_a_state_path_that_cannot_be_created(fake, tmp_path):
    env = _env(fake, tmp_path, STATE_DB="/proc/choch-test/state.db")
    proc = await _spawn("check", env=env, cwd=tmp_path)
    out, err = await asyncio.wait_for(proc.communicate(), timeout=60)
    assert proc.returncode == 1
    assert "FAIL state DB: STATE_DB=/proc/choch-test/state.db: cannot create" in out.decode()
