"""The daemon end to end against the local fake exchange, on a clock the test controls."""
from __future__ import annotations

import pytest

import choch
from app import components
from app.daemon import Daemon
from config import load_settings
from exchanges.binance import BINANCE
from exchanges.binance_client import BinanceMarketData
from tests.app.replay import ltc_candles, started_fake

# End to end with real processes or long replays: left out of `make test-fast`.
pytestmark = pytest.mark.slow

MINUTE = 60_000
WARMUP = 200
STEPS = 240


@pytest.fixture
def candles():
    return ltc_candles()


@pytest.fixture
async def fake(candles):
    server = await started_fake(candles, WARMUP)
    yield server
    await server.close()


def _settings(fake, tmp_path, **extra):
    env = {"BINANCE_DATA_URL": fake.url, "SYMBOLS": "LTC/USDT", "TIMEFRAMES": "1m",
           "STATE_DB": str(tmp_path / "state.db"), "WARMUP_BARS": str(WARMUP),
           "FETCH_DELAY_S": "0", "SLOT_RETRY_S": "0", "FETCH_TIMEOUT_S": "2",
           "FETCH_CYCLE_BUDGET_S": "1", "CHART": "0"}
    env.update(extra)
    return load_settings(env, dotenv_path=None)


async def _started(settings, fake, broker=None) -> Daemon:
    """A started daemon whose host clock runs 3 s behind the fake exchange's frozen clock."""
    clock = lambda: fake.now_ms() / 1000 - 3.0  # noqa: E731
    daemon = Daemon(settings, fetcher=BinanceMarketData(components.market_data_config(settings,
                    BINANCE), BINANCE, clock=clock),
                    clock=clock,
                    broker=broker)
    await daemon.startup()
    await daemon.trading.settled()  # its first attempt runs in the background
    assert daemon.trading.up
    return daemon


async def _replay(daemon, fake, steps):
    """Move the exchange clock one candle at a time and run the 1m slot, as the scheduler does."""
    for _ in range(steps):
        fake.advance(MINUTE)
        await daemon.run_timeframe("1m", retry_s=0)


def _expected(candles, fake, warm_end_ts):
    """The events choch.scan finds in the closed candles, after the warm-up window."""
    closed = candles[candles["timestamp"] + MINUTE <= fake.now_ms()]
    return [e for e in choch.scan(closed, 5, 5, timeframe_ms=MINUTE) if e.break_time > warm_end_ts]


def _signal_rows(daemon):
    rows = daemon.store.conn.execute(
        "SELECT signal_id, COUNT(*) AS n FROM outbox WHERE topic='signal' GROUP BY signal_id")
    return {r["signal_id"]: r["n"] for r in rows}


async def test_each_choch_in_the_replay_is_recorded_once_with_one_outbox_row(
        fake, candles, tmp_path):
    daemon = await _started(_settings(fake, tmp_path), fake)
    warm_end = daemon.poller.streams[("LTC/USDT", "1m")].last_ts
    await _replay(daemon, fake, STEPS)
    recorded = [s.event for s in reversed(daemon.store.recent_signals(10_000))]
    expected = _expected(candles, fake, warm_end)
    assert recorded == expected and any(e.kind == "CHOCH" for e in expected)
    outbox = _signal_rows(daemon)
    assert len(outbox) == len(expected) and set(outbox.values()) == {1}
    await daemon.shutdown()


async def test_a_restart_midway_catches_up_without_duplicates(fake, candles, tmp_path):
    settings = _settings(fake, tmp_path)
    daemon = await _started(settings, fake)
    warm_end = daemon.poller.streams[("LTC/USDT", "1m")].last_ts
    await _replay(daemon, fake, STEPS // 2)
    await daemon.shutdown()
    fake.advance(30 * MINUTE)  # down for half an hour: 30 candles closed meanwhile
    again = await _started(settings, fake)  # start-up catches up the missed candles
    await _replay(again, fake, STEPS // 2)
    recorded = [s.event for s in reversed(again.store.recent_signals(10_000))]
    assert recorded == _expected(candles, fake, warm_end)
    outbox = _signal_rows(again)
    assert set(outbox.values()) == {1}
    # Found while catching up and older than ALERT_MAX_AGE (2 candles): recorded, not alerted.
    caught_up = [s for s in again.store.recent_signals(10_000) if s.catch_up]
    assert caught_up and any(s.id not in outbox for s in caught_up)
    assert all(s.trade_state == "not_traded" for s in caught_up
               if again.store.signal(s.id).detected_at - s.event.confirmed_at > MINUTE)
    await again.shutdown()


async def test_a_failing_slot_does_not_stop_the_next_which_catches_up(fake, candles, tmp_path):
    daemon = await _started(_settings(fake, tmp_path), fake)
    warm_end = daemon.poller.streams[("LTC/USDT", "1m")].last_ts
    fake.fail("/fapi/v1/klines", 503, times=1000)
    fake.advance(MINUTE)
    summary = await daemon.run_timeframe("1m", retry_s=0)
    assert summary.failed == ["LTC/USDT"]
    fake.faults.clear()

    calls = {"n": 0}
    real = daemon.poller.run_slot

    async def broken_once(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 1:
            raise RuntimeError("bug in this slot")
        return await real(*args, **kwargs)

    daemon.poller.run_slot = broken_once
    fake.advance(MINUTE)
    await daemon._job("1m")  # logged, not raised
    await _replay(daemon, fake, 60)
    recorded = [s.event for s in reversed(daemon.store.recent_signals(10_000))]
    assert recorded == _expected(candles, fake, warm_end) and calls["n"] == 61
    await daemon.shutdown()


async def test_demo_trading_end_to_end_each_position_protected_and_one_per_signal(
        fake, candles, tmp_path):
    from exchanges.binance import BINANCE
    from exchanges.binance_client import BinanceTrading
    from tests.fakes.binance_trading import API_KEY, SECRET, FakeBinanceTrading

    exchange = FakeBinanceTrading()
    await exchange.start()
    settings = _settings(fake, tmp_path, ENABLE_TRADING="1", DEMO_TRADING="1",
                         BINANCE_API_KEY_DEMO=API_KEY, BINANCE_SECRET_DEMO=SECRET,
                         BINANCE_TRADING_URL=exchange.url, TRADE_ON="CHOCH,BOS")
    by_open = candles.set_index("timestamp")
    try:
        # ccxt's weight limiter off: reconciling every 1m slot costs ~2 s of waiting otherwise.
        broker = BinanceTrading(components.trading_config(settings, BINANCE), BINANCE,
                                backoff_s=0.01, rate_limit=False)
        daemon = await _started(settings, fake, broker)
        opened = 0
        for _ in range(STEPS):
            fake.advance(MINUTE)
            last = by_open.loc[fake.now_ms() // MINUTE * MINUTE - MINUTE - MINUTE]
            exchange.candle("LTCUSDT", float(last["high"]), float(last["low"]),
                            float(last["close"]))
            await daemon.run_timeframe("1m", retry_s=0)
            await daemon.reconcile()  # its own job, once a minute: once per 1m slot here
            if exchange.position("LTCUSDT") != 0:
                # Every open position has its stop and target on the exchange.
                kinds = sorted(a["orderType"] for a in exchange.open_algos("LTCUSDT"))
                assert kinds == ["STOP_MARKET", "TAKE_PROFIT_MARKET"]
            opened = max(opened, len(daemon.store.conn.execute(
                "SELECT id FROM positions").fetchall()))
        signals = daemon.store.recent_signals(10_000)
        entries = exchange.calls("POST", "/fapi/v1/order")
        entry_ids = [p["newClientOrderId"] for p in entries if p["newClientOrderId"].endswith("-e")]
        assert opened > 0 and len(entry_ids) == len(set(entry_ids))  # never twice per signal
        assert all(s.trade_state != "pending" for s in signals)
        await daemon.shutdown()
    finally:
        await exchange.stop()
