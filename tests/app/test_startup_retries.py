"""Start-up waits for the exchange through the shared backoff: doubling delays up to a minute,
the watchdog fed while waiting, permanent errors not retried, a stop ending the wait at once.
The sleep is a fake: no test waits real seconds."""
from __future__ import annotations

import asyncio

import pandas as pd
import pytest
from structlog.testing import capture_logs

from app.daemon import Daemon
from config import load_settings
from exchanges.binance import BINANCE
from exchanges.errors import PermanentExchangeError, TransientExchangeError
from tests.app.notifier import RecordingNotifier

T0 = 1_772_323_200_000  # 2026-03-01 00:00 UTC


class FakeSleep:
    """Records each wait and returns at once; `then` runs after the n-th wait (1-based)."""

    def __init__(self, then: dict | None = None) -> None:
        self.delays: list[float] = []
        self.then = then or {}

    async def __call__(self, seconds: float) -> None:
        self.delays.append(seconds)
        action = self.then.get(len(self.delays))
        if action is not None:
            action()
        await asyncio.sleep(0)


class FlakyMarket:
    """Market data whose start fails `start_failures` times, then whose candles fail while
    `down`; the universe is one symbol and the clock stands still."""

    def __init__(self, start_failures: int = 0, start_error: Exception | None = None) -> None:
        self.start_failures = start_failures
        self.start_error = start_error or TransientExchangeError("binanceusdm GET timed out")
        self.starts = 0
        self.down = False

    async def start(self) -> None:
        self.starts += 1
        if self.starts <= self.start_failures:
            raise self.start_error

    async def perpetuals(self) -> dict[str, str]:
        return {"BTC/USDT": "BTCUSDT"}

    @property
    def native_timeframes(self) -> tuple[str, ...]:
        return BINANCE.native_timeframes

    async def server_time_ms(self) -> int:
        return T0

    async def closed_candles(self, symbol, base_timeframe, since_ms=None, limit=None):
        if self.down:
            raise TransientExchangeError("connection refused")
        return pd.DataFrame()

    async def close(self) -> None:
        pass


def _daemon(tmp_path, market: FlakyMarket, sleep: FakeSleep) -> tuple[Daemon, RecordingNotifier]:
    env = {"SYMBOLS": "BTC/USDT", "TIMEFRAMES": "1m", "STATE_DB": str(tmp_path / "state.db"),
           "WARMUP_BARS": "60", "CHART": "0", "SLOT_RETRY_S": "0"}
    notify = RecordingNotifier()
    daemon = Daemon(load_settings(env, dotenv_path=None), fetcher=market, notify=notify,
                    sleep=sleep)
    return daemon, notify


async def test_startup_retries_a_transient_failure_with_doubling_delays_capped_at_a_minute(
        tmp_path):
    sleep = FakeSleep()
    daemon, notify = _daemon(tmp_path, FlakyMarket(start_failures=8), sleep)
    try:
        with capture_logs() as logs:
            await daemon.startup()
    finally:
        await daemon.shutdown()
    assert sleep.delays == [1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 60.0, 60.0]
    retrying = [e for e in logs if e["event"] == "retrying"]
    assert [e["in_s"] for e in retrying] == sleep.delays
    assert {e["what"] for e in retrying} == {"data_instance_start"}
    assert notify.sent.count("WATCHDOG=1") == 8  # fed before each wait: no watchdog restart


async def test_a_permanent_error_at_startup_is_raised_without_a_retry(tmp_path):
    sleep = FakeSleep()
    market = FlakyMarket(start_failures=1, start_error=PermanentExchangeError("invalid API key"))
    daemon, _ = _daemon(tmp_path, market, sleep)
    try:
        with pytest.raises(PermanentExchangeError, match="invalid API key"):
            await daemon.startup()
    finally:
        await daemon.shutdown()
    assert sleep.delays == [] and market.starts == 1


async def test_a_stop_while_waiting_to_retry_cancels_startup_naming_what_it_waited_for(
        tmp_path):
    market = FlakyMarket(start_failures=100)
    sleep = FakeSleep()
    daemon, _ = _daemon(tmp_path, market, sleep)

    async def never(seconds: float) -> None:  # the stop, not the delay, must end this wait
        sleep.delays.append(seconds)
        daemon.stop.set()
        await asyncio.Event().wait()

    daemon.sleep = never
    try:
        with pytest.raises(asyncio.CancelledError, match="stopped while waiting for "
                                                         "data_instance_start"):
            await asyncio.wait_for(daemon.startup(), 5)
    finally:
        await daemon.shutdown()
    assert sleep.delays == [1.0] and market.starts == 1


async def test_startup_waits_for_market_data_with_the_same_backoff_then_goes_on(tmp_path):
    market = FlakyMarket()
    market.down = True
    sleep = FakeSleep(then={3: lambda: setattr(market, "down", False)})
    daemon, notify = _daemon(tmp_path, market, sleep)
    try:
        with capture_logs() as logs:
            await daemon.startup()
    finally:
        await daemon.shutdown()
    assert sleep.delays == [1.0, 2.0, 4.0]
    waiting = [e for e in logs if e["event"] == "startup_waiting_for_market_data"]
    assert [e["retry_in_s"] for e in waiting] == [1.0, 2.0, 4.0]
    reason = "TransientExchangeError: connection refused"  # network_reason() of the fake's error
    assert [e["reason"] for e in waiting] == [reason] * 3
    assert f"STATUS=not ready: market data unreachable ({reason}); retrying" in notify.sent
    assert notify.sent.count("WATCHDOG=1") == 3


async def test_a_stop_while_waiting_for_market_data_cancels_startup(tmp_path):
    market = FlakyMarket()
    market.down = True
    daemon, _ = _daemon(tmp_path, market, FakeSleep())
    daemon.sleep = FakeSleep(then={2: daemon.stop.set})
    try:
        with pytest.raises(asyncio.CancelledError, match="stopped while waiting for market data"):
            await asyncio.wait_for(daemon.startup(), 5)
    finally:
        await daemon.shutdown()
    assert daemon.sleep.delays == [1.0, 2.0]


async def test_the_state_guard_checks_the_state_db_once_per_interval_until_stopped(tmp_path):
    daemon, _ = _daemon(tmp_path, FlakyMarket(), FakeSleep())
    checks = []
    daemon.store.replaced = lambda: checks.append(len(daemon.sleep.delays))  # type: ignore
    daemon.sleep = FakeSleep(then={3: daemon.stop.set})
    try:
        await asyncio.wait_for(daemon._state_guard(60.0), 5)
    finally:
        await daemon.shutdown()
    assert daemon.sleep.delays == [60.0, 60.0, 60.0]
    assert checks == [1, 2]  # after each full interval, not after the one the stop ended


async def test_the_watchdog_is_fed_every_third_of_its_interval_until_stopped(tmp_path):
    daemon, notify = _daemon(tmp_path, FlakyMarket(), FakeSleep())
    daemon.systemd.watchdog_s = 30.0
    daemon.sleep = FakeSleep(then={4: daemon.stop.set})
    try:
        await asyncio.wait_for(daemon._watchdog(), 5)
    finally:
        await daemon.shutdown()
    assert daemon.sleep.delays == [10.0] * 4
    assert notify.sent.count("WATCHDOG=1") == 4


async def test_a_refused_start_logs_and_returns_the_same_exit_status_2(tmp_path, capsys):
    market = FlakyMarket(start_failures=1, start_error=PermanentExchangeError("invalid API key"))
    daemon, _ = _daemon(tmp_path, market, FakeSleep())
    with capture_logs() as logs:
        status = await asyncio.wait_for(daemon.serve(), 30)
    stopped = [e for e in logs if e["event"] == "daemon_stopped"]
    assert status == 2 and stopped[0]["exit_status"] == 2
    assert capsys.readouterr().err.strip().splitlines() == [
        "start-up failed: invalid API key"]
