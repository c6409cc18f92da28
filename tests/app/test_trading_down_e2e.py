"""End to end: the trading venue's private API answers 503 at start while market data works.
Candle slots run, signals are recorded and alerted, trading unavailable is alerted once, trades
are skipped with a notice; once the private API recovers trading comes up in the background,
is alerted available again, and the next signal is traded."""
from __future__ import annotations

import asyncio
import io

import pytest

from alerts import ConsoleNotifier
from app import components
from app.daemon import Daemon
from config import load_settings
from exchanges.binance import BINANCE
from exchanges.binance_client import BinanceMarketData, BinanceTrading
from tests.app.replay import Gate, ltc_candles, started_fake
from tests.fakes.binance_trading import API_KEY, SECRET, FakeBinanceTrading
from trading import client_id

# A long replay against two local servers: left out of `make test-fast`.
pytestmark = pytest.mark.slow

MINUTE = 60_000
WARMUP = 200
STEPS = 240


@pytest.fixture
def candles():
    return ltc_candles()


@pytest.fixture
async def data(candles):
    server = await started_fake(candles, WARMUP)
    yield server
    await server.close()


@pytest.fixture
async def venue():
    server = FakeBinanceTrading()
    await server.start()
    yield server
    await server.stop()


async def _until(condition, timeout_s: float, what: str) -> None:
    for _ in range(int(timeout_s / 0.02)):
        if condition():
            return
        await asyncio.sleep(0.02)
    raise AssertionError(f"timed out waiting for {what}")


def _notices(daemon, event: str) -> list:
    rows = daemon.store.conn.execute("SELECT payload, status FROM outbox WHERE topic IN "
                                     "('notice', 'trade') AND payload LIKE ?", (f'%"{event}"%',))
    return [r for r in rows]


async def test_trading_down_at_start_alerts_and_skips_then_trades_once_it_is_back(
        data, venue, candles, tmp_path):
    venue.fail(None, 503, times=10**6, when=lambda params: "signature" in params)  # private
    settings = load_settings({
        "BINANCE_DATA_URL": data.url, "SYMBOLS": "LTC/USDT", "TIMEFRAMES": "1m",
        "STATE_DB": str(tmp_path / "state.db"), "WARMUP_BARS": str(WARMUP),
        "FETCH_DELAY_S": "0", "SLOT_RETRY_S": "0", "FETCH_TIMEOUT_S": "2",
        "FETCH_CYCLE_BUDGET_S": "1", "CHART": "0", "ENABLE_TRADING": "1", "DEMO_TRADING": "1",
        "BINANCE_API_KEY_DEMO": API_KEY, "BINANCE_SECRET_DEMO": SECRET,
        "BINANCE_TRADING_URL": venue.url, "TRADE_ON": "CHOCH,BOS"}, dotenv_path=None)
    clock = lambda: data.now_ms() / 1000 - 3.0  # noqa: E731 - 3 s behind the exchange
    alerts, gate = io.StringIO(), Gate()
    daemon = Daemon(settings, fetcher=BinanceMarketData(components.market_data_config(settings,
                    BINANCE), BINANCE, clock=clock),
                    clock=clock, notifier=ConsoleNotifier(alerts), sleep=gate,
                    broker=BinanceTrading(components.trading_config(settings, BINANCE), BINANCE,
                                          backoff_s=0.01, rate_limit=False))
    by_open = candles.set_index("timestamp")

    async def step() -> None:
        data.advance(MINUTE)
        last = by_open.loc[data.now_ms() // MINUTE * MINUTE - 2 * MINUTE]
        venue.candle("LTCUSDT", float(last["high"]), float(last["low"]), float(last["close"]))
        await daemon.run_timeframe("1m", retry_s=0)
        await daemon.reconcile()  # its own job, once a minute: once per 1m slot here

    try:
        # Start-up ends (catch-up done, ready to schedule) without the trading venue.
        await asyncio.wait_for(daemon.startup(), 60)
        await daemon.trading.settled()
        assert not daemon.trading.up and daemon.last_slot["1m"].fetched
        for retries in (2, 3):  # retried in the background, each failing again
            gate.open()
            await _until(lambda: len(gate.delays) == retries, 30, f"retry {retries}")
        assert gate.delays == [1.0, 2.0, 4.0] and not daemon.trading.up

        skipped = []
        for _ in range(STEPS // 2):
            await step()
            skipped = [s for s in daemon.store.recent_signals(10_000)
                       if s.trade_state == "skipped"]
            if len(skipped) >= 2:
                break
        assert len(skipped) >= 2, "no signal while trading was down"
        assert all(s.trade_note.startswith("trading unavailable (ExchangeNotAvailable: "
                                           "binanceusdm GET http://127.0.0.1:") for s in skipped)
        assert not any("signature" in s.trade_note for s in skipped)
        assert venue.calls("POST", "/fapi/v1/order") == []  # nothing traded meanwhile
        data.advance(5_000)  # signals are queued on the exchange's clock, 3 s ahead of ours
        await daemon.delivery.flush(10)
        sent = {r["signal_id"] for r in daemon.store.conn.execute(
            "SELECT signal_id FROM outbox WHERE topic = 'signal' AND status = 'sent'")}
        assert {s.id for s in skipped} <= sent  # each signal alerted as usual
        text = alerts.getvalue()
        assert text.count("retrying in background. Signals are still recorded") == 1
        assert text.count("Signal not traded") == len(skipped)
        assert len(_notices(daemon, "trading_unavailable")) == 1

        venue.faults.clear()  # the private API is back
        gate.open()
        await _until(lambda: daemon.trading.up, 30, "trading to come up")
        opened = []
        for _ in range(STEPS // 2):
            await step()
            opened = daemon.store.conn.execute("SELECT signal_id FROM positions").fetchall()
            if opened:
                break
        assert opened, "no signal traded once trading was back"
        data.advance(5_000)
        await daemon.delivery.flush(10)
        assert alerts.getvalue().count("Trading available again: new signals are traded") == 1
        assert len(_notices(daemon, "trading_available")) == 1
        # Skipped while down stays skipped: never traded late.
        assert {opened[0]["signal_id"]}.isdisjoint(s.id for s in skipped)
        assert all(daemon.store.signal(s.id).trade_state == "skipped" for s in skipped)
        entries = {p["newClientOrderId"] for p in venue.calls("POST", "/fapi/v1/order")}
        assert not entries & {client_id(s.identity, "entry") for s in skipped}
        assert len(_notices(daemon, "trading_unavailable")) == 1
    finally:
        await daemon.shutdown()
