"""Bybit as a venue of the whole program: `scan --exchange bybit` over the Bybit fake never
sees the forming candle, and the daemon trades on Bybit while its data comes from Binance."""
from __future__ import annotations

import pandas as pd
import pytest

import choch
from app import components
from app.daemon import Daemon
from config import load_settings
from exchanges.binance import BINANCE
from exchanges.binance_client import BinanceMarketData
from exchanges.bybit_client import BybitTrading
from fetchers.csv_files import read_candles
from tests.fakes import bybit as fake_bybit
from tests.fakes.binance_data import FakeBinance
from tests.shared_data import load_candles
from tests.test_cli_scan import jsonl, run_main_async

# Real processes and a long replay: left out of `make test-fast`.
pytestmark = pytest.mark.slow

MIN = 60_000
DAY = 86_400_000
FEB_7 = 1_770_422_400_000  # 2026-02-07 00:00 UTC
# 2026-02-10 13:17:30 UTC: inside a forming 1m, 5m and 25m candle.
NOW = 1_770_729_450_000
WARMUP = 200
STEPS = 240


def closed_buckets(one_minute: pd.DataFrame, minutes: int, now: int) -> pd.DataFrame:
    """Buckets of `minutes` on the UTC-day grid straight from 1m rows, only those ended by now."""
    ts = one_minute["timestamp"]
    day = ts - ts % DAY
    key = day + (ts - day) // (minutes * MIN) * (minutes * MIN)
    end = (key + minutes * MIN).clip(upper=day + DAY)
    g = one_minute.assign(timestamp=key)[end <= now].groupby("timestamp")
    return pd.DataFrame({"open": g["open"].first(), "high": g["high"].max(),
                         "low": g["low"].min(), "close": g["close"].last(),
                         "volume": g["volume"].sum()}).reset_index()


def with_adversarial_forming_bar(one_minute: pd.DataFrame, now: int) -> pd.DataFrame:
    """The 1m rows up to now, the forming one given a wick five times the price each way."""
    rows = one_minute.loc[one_minute["timestamp"] <= now].copy()
    forming = rows.index[-1]
    assert int(rows.at[forming, "timestamp"]) == now - now % MIN
    close = float(rows.at[forming, "close"])
    rows.loc[forming, ["high", "low"]] = [close * 5, close / 5]
    return rows


@pytest.mark.parametrize("timeframe, minutes", [("25m", 25), ("5m", 5)])
async def test_scan_on_bybit_never_includes_the_forming_candle(tmp_path, timeframe, minutes):
    ltc = load_candles("LTCUSDT-usdm-1m-2026-02.csv")
    served = with_adversarial_forming_bar(ltc, NOW)
    fake = fake_bybit.FakeBybit({("LTCUSDT", "1"): served}, now_ms=NOW)
    await fake.start()
    saved = tmp_path / "ltc-25m.csv"
    try:
        code, out, err = await run_main_async(
            "scan", "--exchange", "bybit", "--symbol", "LTC/USDT", "--timeframe", timeframe,
            "--since", "2026-02-07", "--break-on", "wick", "--save-csv", saved,
            env={"BYBIT_DATA_URL": fake.url}, cwd=tmp_path)
    finally:
        await fake.stop()
    assert code == 0, err
    assert {p["interval"] for p in fake.calls("GET", "/v5/market/kline")} == {"5"}
    tf_ms = minutes * MIN
    want = closed_buckets(ltc.loc[ltc["timestamp"] >= FEB_7], minutes, NOW)
    got = read_candles(saved).candles
    assert got["timestamp"].tolist() == want["timestamp"].tolist()
    assert int(got["timestamp"].iloc[-1]) + tf_ms <= NOW  # e.g. 12:50-13:15, not 13:15-13:40
    events = jsonl(out)
    assert events and events == [e.to_dict() for e in choch.scan(
        want, timeframe_ms=tf_ms, break_on="wick")]
    # The adversary is real: with its forming candle the same scan finds one more break.
    forming = closed_buckets(served.loc[served["timestamp"] >= FEB_7], minutes, NOW + tf_ms)
    assert len(choch.scan(forming, timeframe_ms=tf_ms, break_on="wick")) > len(events)


@pytest.fixture
def candles():
    return load_candles("LTCUSDT-usdm-1m-2026-02.csv").iloc[:2000].reset_index(drop=True)


async def test_signals_from_binance_data_open_protected_positions_on_bybit(candles, tmp_path):
    first = int(candles["timestamp"].iloc[0])
    data = FakeBinance(candles={("LTCUSDT", "1m"): candles},
                       now_ms=first + (WARMUP + 1) * MIN + 1_000)
    trading = fake_bybit.FakeBybit(demo=True, prices={
        "LTCUSDT": float(candles["close"].iloc[WARMUP]), "BTCUSDT": 50_000.0,
        "ETHUSDT": 3_000.0})
    await data.start()
    await trading.start()
    settings = load_settings({
        "DATA_EXCHANGE": "binance", "TRADING_EXCHANGE": "bybit", "BINANCE_DATA_URL": data.url,
        "ENABLE_TRADING": "1", "DEMO_TRADING": "1", "BYBIT_API_KEY_DEMO": fake_bybit.API_KEY,
        "BYBIT_SECRET_DEMO": fake_bybit.SECRET, "BYBIT_TRADING_URL": trading.url,
        "SYMBOLS": "LTC/USDT", "TIMEFRAMES": "1m", "TRADE_ON": "CHOCH,BOS",
        "STATE_DB": str(tmp_path / "state.db"), "WARMUP_BARS": str(WARMUP),
        "FETCH_DELAY_S": "0", "SLOT_RETRY_S": "0", "FETCH_TIMEOUT_S": "2",
        "FETCH_CYCLE_BUDGET_S": "1", "CHART": "0"}, dotenv_path=None)
    by_open = candles.set_index("timestamp")
    clock = lambda: data.now_ms() / 1000 - 3.0  # noqa: E731 - 3 s behind the data venue
    try:
        broker = components.trading(settings, backoff_s=0.01, rate_limit=False)
        assert isinstance(broker, BybitTrading)
        daemon = Daemon(settings,
                        fetcher=BinanceMarketData(
                            components.market_data_config(settings, BINANCE), BINANCE,
                            clock=clock),
                        clock=clock, broker=broker)
        await daemon.startup()
        await daemon.trading.settled()
        assert daemon.trading.up
        opened = 0
        for _ in range(STEPS):
            data.advance(MIN)
            last = by_open.loc[data.now_ms() // MIN * MIN - 2 * MIN]
            trading.candle("LTCUSDT", float(last["high"]), float(last["low"]),
                           float(last["close"]))
            await daemon.run_timeframe("1m", retry_s=0)
            await daemon.reconcile()
            if trading.position("LTCUSDT") != 0:
                # Every open position has its stop and target waiting on Bybit.
                waiting = [o for o in trading.open_orders("LTCUSDT") if o["triggerPrice"]]
                assert len(waiting) == 2 and all(o["reduceOnly"] for o in waiting)
            opened = max(opened, len(daemon.store.conn.execute(
                "SELECT id FROM positions WHERE venue = 'bybit'").fetchall()))
        entries = [p["orderLinkId"] for p in trading.calls("POST", "/v5/order/create")
                   if not p.get("reduceOnly")]
        assert opened > 0 and len(entries) == len(set(entries))  # never twice per signal
        assert all(s.trade_state != "pending" for s in daemon.store.recent_signals(10_000))
        assert not any(p.startswith("/v5/market/kline") for p in trading.paths())
        await daemon.shutdown()
    finally:
        await trading.stop()
        await data.close()
