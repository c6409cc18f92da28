"""kill -9 at random points, restart, repeat: no signal missed, none recorded or alerted twice."""
from __future__ import annotations

import asyncio
import os
import random
import signal
import sys
from pathlib import Path

import pytest

import choch
from store import Store
from tests.fakes.binance_data import FakeBinance

from ..shared_data import load_candles

# End to end with real processes or long replays: left out of `make test-fast`.
pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[2]
MINUTE = 60_000
WARMUP = 100


async def _spawn(env):
    return await asyncio.create_subprocess_exec(
        sys.executable, "-m", "tests.app.kill9_driver", cwd=REPO, env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)


async def _wait_started(proc) -> None:
    while True:
        line = await asyncio.wait_for(proc.stdout.readline(), timeout=60)
        if not line:
            raise AssertionError((await proc.stderr.read()).decode()[-2000:])
        if line.startswith(b"started"):
            return


async def _drain(stream) -> None:
    while await stream.readline():
        pass


async def test_kill_9_anywhere_then_restart_loses_nothing_and_repeats_nothing(tmp_path):
    rng = random.Random(20261121)
    candles = load_candles("LTCUSDT-usdm-1m-2026-02.csv").iloc[:1200].reset_index(drop=True)
    first = int(candles["timestamp"].iloc[0])
    fake = FakeBinance(candles={("LTCUSDT", "1m"): candles},
                       now_ms=first + (WARMUP + 1) * MINUTE + 2_000)
    await fake.start()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("BINANCE", "TELEGRAM"))}
    db = tmp_path / "state.db"
    env.update({"BINANCE_DATA_URL": fake.url, "SYMBOLS": "LTC/USDT", "TIMEFRAMES": "1m",
                "STATE_DB": str(db), "WARMUP_BARS": str(WARMUP), "FETCH_DELAY_S": "0",
                "SLOT_RETRY_S": "0", "CHART": "0", "ALERT_MAX_AGE": "1000",
                "PYTHONPATH": str(REPO)})
    try:
        warm_end = None
        for _run in range(8):
            proc = await _spawn(env)
            await _wait_started(proc)
            drain = asyncio.create_task(_drain(proc.stdout))
            if warm_end is None:
                with _Reader(db) as reader:
                    warm_end = reader.last_ts()
            # Time moves on while the daemon works; then it is killed at a random moment.
            for _ in range(rng.randint(20, 60)):
                fake.advance(MINUTE)
                await asyncio.sleep(rng.uniform(0.0, 0.05))
            proc.send_signal(signal.SIGKILL)
            await proc.wait()
            drain.cancel()
        # A last, clean run catches up everything that closed meanwhile.
        fake.advance(5 * MINUTE)
        proc = await _spawn(env)
        await _wait_started(proc)
        await asyncio.sleep(1.5)
        proc.send_signal(signal.SIGTERM)
        await asyncio.wait_for(proc.communicate(), timeout=15)
    finally:
        if proc.returncode is None:
            proc.kill()
        await fake.close()

    closed = candles[candles["timestamp"] + MINUTE <= fake.now_ms()]
    expected = [e for e in choch.scan(closed, 5, 5, timeframe_ms=MINUTE) if e.break_time > warm_end]
    with _Reader(db) as reader:
        recorded = reader.events()
        outbox = reader.signal_outbox()
    assert recorded == expected and len(expected) > 10  # nothing missed, nothing twice
    assert sorted(outbox) == sorted(set(outbox))  # at most one alert row per signal
    assert len(outbox) == len(expected)  # ALERT_MAX_AGE is large here: every signal alerted


class _Reader:
    """Read-only view of the daemon's state database."""

    def __init__(self, path) -> None:
        self.store = Store(path)

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.store.close()

    def last_ts(self) -> int:
        return self.store.last_candles()[("LTC/USDT", "1m")]

    def events(self) -> list:
        return [s.event for s in reversed(self.store.recent_signals(100_000))]

    def signal_outbox(self) -> list[int]:
        rows = self.store.conn.execute("SELECT signal_id FROM outbox WHERE topic='signal'")
        return [r[0] for r in rows]
