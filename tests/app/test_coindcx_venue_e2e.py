"""The daemon trading CoinDCX live (confirmed) against the fakes: signals from CoinDCX data,
one entry per signal even when an entry's answer is lost (no client id on the venue), every
open position with its whole-position stop and target waiting, never naked."""
from __future__ import annotations

import pytest

from app import components
from app.daemon import Daemon
from config import load_settings
from exchanges.coindcx import COINDCX
from exchanges.coindcx_client import MarketData, Trading
from tests.fakes.coindcx import API_KEY, CREATE, SECRET, FakeCoindcx
from tests.shared_data import load_candles

pytestmark = pytest.mark.slow  # a long replay

MIN = 60_000
WARMUP, STEPS = 200, 200
PAIR = "B-LTC_USDT"


async def test_signals_open_protected_positions_on_coindcx_once_each(tmp_path):
    candles = load_candles("LTCUSDT-usdm-1m-2026-02.csv").iloc[:2000].reset_index(drop=True)
    first = int(candles["timestamp"].iloc[0])
    data = FakeCoindcx({(PAIR, "1m"): candles}, now_ms=first + (WARMUP + 1) * MIN + 1_000)
    trading = FakeCoindcx()
    trading.set_price(PAIR, float(candles["close"].iloc[WARMUP]))
    await data.start()
    await trading.start()
    settings = load_settings({
        "DATA_EXCHANGE": "coindcx", "TRADING_EXCHANGE": "coindcx",
        "COINDCX_DATA_URL": data.url, "COINDCX_TRADING_URL": trading.url,
        "ENABLE_TRADING": "1", "DEMO_TRADING": "0", "CONFIRM_LIVE_TRADING": "yes",
        "COINDCX_API_KEY": API_KEY, "COINDCX_SECRET": SECRET,
        "SYMBOLS": "LTC/USDT", "TIMEFRAMES": "1m", "TRADE_ON": "CHOCH,BOS",
        "STATE_DB": str(tmp_path / "state.db"), "WARMUP_BARS": str(WARMUP),
        "FETCH_DELAY_S": "0", "SLOT_RETRY_S": "0", "FETCH_TIMEOUT_S": "2",
        "FETCH_CYCLE_BUDGET_S": "1", "CHART": "0"}, dotenv_path=None)
    by_open = candles.set_index("timestamp")
    clock = lambda: data.now_ms() / 1000 - 3.0  # noqa: E731 - 3 s behind the data venue
    trading.fail(CREATE, 504, lost=True)  # the first entry's answer is lost
    try:
        broker = components.trading(settings, backoff_s=0.01, rate_limit=False)
        assert isinstance(broker, Trading)
        daemon = Daemon(settings, fetcher=MarketData(
            components.market_data_config(settings, COINDCX), COINDCX, clock=clock),
            clock=clock, broker=broker)
        await daemon.startup()
        await daemon.trading.settled()
        assert daemon.trading.up
        opened = 0
        for _ in range(STEPS):
            data.advance(MIN)
            last = by_open.loc[data.now_ms() // MIN * MIN - 2 * MIN]
            trading.candle(PAIR, float(last["high"]), float(last["low"]), float(last["close"]))
            await daemon.run_timeframe("1m", retry_s=0)
            await daemon.reconcile()
            if trading.position(PAIR) != 0:
                kinds = sorted(o["order_type"] for o in trading.untriggered(PAIR))
                assert kinds == ["stop_market", "take_profit_market"]
            opened = max(opened, len(daemon.store.conn.execute(
                "SELECT id FROM positions WHERE venue = 'coindcx'").fetchall()))
        entries = [p for p in trading.calls("POST", CREATE) if p.get("_opens")]
        assert opened > 1 and len(entries) == opened  # one entry per position, never two
        assert [r.status for r in trading.requests if r.path == CREATE][0] == 504
        assert all(s.trade_state != "pending" for s in daemon.store.recent_signals(10_000))
        await daemon.shutdown()
    finally:
        await trading.stop()
        await data.stop()
