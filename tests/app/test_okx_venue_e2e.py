"""OKX end to end: `scan --exchange okx` over real candles with an adversarial forming candle,
and the daemon reading Binance's data while its orders go to OKX (demo)."""
from __future__ import annotations

import asyncio
import json
import sys

import pandas as pd
import pytest

import choch
from app import components
from app.daemon import Daemon
from config import load_settings
from exchanges.binance import BINANCE
from exchanges.binance_client import BinanceMarketData
from tests.fakes.binance_data import FakeBinance
from tests.fakes.okx import API_KEY, PASSPHRASE, SECRET, FakeOKX

from ..shared_data import REPO, load_candles

pytestmark = pytest.mark.slow

MINUTE = 60_000
DAY = 86_400_000
LTC = "LTC-USDT-SWAP"
FEB_7, FEB_10 = 1_770_422_400_000, 1_770_681_600_000  # 00:00 UTC
# 17:04:30 on Feb 10: inside the forming 1m candle, which is the last minute of the 16:40-17:05
# 25m bucket. Were that 1m candle taken as closed, the bucket would look whole and be served.
NOW = FEB_10 + 1024 * MINUTE + 30_000


def buckets(one_minute: pd.DataFrame, minutes: int, closed_until: int) -> pd.DataFrame:
    """Whole `minutes` buckets on the UTC-day grid from 1m rows, ending by closed_until."""
    ts = one_minute["timestamp"]
    day = ts - ts % DAY
    key = day + (ts - day) // (minutes * MINUTE) * (minutes * MINUTE)
    g = one_minute.assign(timestamp=key).groupby("timestamp")
    out = pd.DataFrame({"open": g["open"].first(), "high": g["high"].max(),
                        "low": g["low"].min(), "close": g["close"].last(),
                        "volume": g["volume"].sum()}).reset_index()
    end = (out["timestamp"] + minutes * MINUTE).clip(upper=out["timestamp"]
                                                      - out["timestamp"] % DAY + DAY)
    return out.loc[end <= closed_until].reset_index(drop=True)


def events(frame: pd.DataFrame, minutes: int) -> list[dict]:
    return [e.to_dict() for e in choch.scan(frame.reset_index(drop=True),
                                            timeframe_ms=minutes * MINUTE)]


async def run_main(*args: str, env: dict, cwd) -> tuple[int, str, str]:
    """main.py as a process without blocking this loop (the fake lives on it)."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable, str(REPO / "main.py"), *args, cwd=cwd,
        env={"PATH": "/usr/bin:/bin", **env}, stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE)
    out, err = await asyncio.wait_for(proc.communicate(), timeout=120)
    return proc.returncode or 0, out.decode(), err.decode()


async def test_scan_on_okx_never_feeds_the_forming_candle(tmp_path):
    ltc = load_candles("LTCUSDT-usdm-1m-2026-02.csv")
    ltc = ltc.loc[(ltc.timestamp >= FEB_7 - DAY) & (ltc.timestamp <= NOW)].reset_index(drop=True)
    forming = ltc.index[ltc.timestamp == NOW - NOW % MINUTE][0]
    top = float(ltc.high.max())
    # A huge wick and close on the forming candle: a break of every swing high if it were fed.
    ltc.loc[forming, ["high", "close"]] = [top * 10, top * 9]
    closed = ltc.loc[ltc.timestamp + MINUTE <= NOW]
    want = events(buckets(closed.loc[closed.timestamp >= FEB_7], 25, NOW - NOW % MINUTE), 25)
    poisoned = events(buckets(ltc.loc[ltc.timestamp >= FEB_7], 25, NOW + MINUTE), 25)
    assert poisoned[-1]["break_time"] > want[-1]["break_time"]  # the adversary would bite
    fake = FakeOKX({(LTC, "1m"): ltc}, now_ms=NOW)
    await fake.start()
    try:
        saved = tmp_path / "ltc-25m.csv"
        code, out, err = await run_main(
            "scan", "--exchange", "okx", "--symbol", "LTC/USDT", "--timeframe", "25m",
            "--since", "2026-02-07", "--save-csv", str(saved),
            env={"OKX_DATA_URL": fake.url}, cwd=tmp_path)
    finally:
        await fake.stop()
    assert code == 0, err
    assert [json.loads(line) for line in out.splitlines()] == want and want
    got = pd.read_csv(saved)
    assert int(got["timestamp"].iloc[-1]) == NOW - NOW % MINUTE - 49 * MINUTE  # 16:15, whole


async def test_binance_data_drives_protected_positions_on_okx(tmp_path):
    candles = load_candles("LTCUSDT-usdm-1m-2026-02.csv").iloc[:2000].reset_index(drop=True)
    warmup, steps = 200, 240
    first = int(candles["timestamp"].iloc[0])
    data = FakeBinance(candles={("LTCUSDT", "1m"): candles},
                       now_ms=first + (warmup + 1) * MINUTE + 1_000)
    okx = FakeOKX(demo=True)
    await data.start()
    await okx.start()
    by_open = candles.set_index("timestamp")
    okx.set_price(LTC, float(by_open.loc[data.now_ms() // MINUTE * MINUTE - 2 * MINUTE,
                                         "close"]))
    settings = load_settings({
        "BINANCE_DATA_URL": data.url, "TRADING_EXCHANGE": "okx", "ENABLE_TRADING": "1",
        "DEMO_TRADING": "1", "OKX_API_KEY_DEMO": API_KEY, "OKX_SECRET_DEMO": SECRET,
        "OKX_PASSPHRASE_DEMO": PASSPHRASE, "OKX_TRADING_URL": okx.url, "TRADE_ON": "CHOCH,BOS",
        "SYMBOLS": "LTC/USDT", "TIMEFRAMES": "1m", "STATE_DB": str(tmp_path / "state.db"),
        "WARMUP_BARS": str(warmup), "FETCH_DELAY_S": "0", "SLOT_RETRY_S": "0",
        "FETCH_TIMEOUT_S": "2", "FETCH_CYCLE_BUDGET_S": "1", "CHART": "0"}, dotenv_path=None)
    assert (settings.data_exchange, settings.trading_exchange) == ("binance", "okx")
    clock = lambda: data.now_ms() / 1000 - 3.0  # noqa: E731
    try:
        broker = components.trading(settings, backoff_s=0.01, rate_limit=False)
        daemon = Daemon(settings,
                        fetcher=BinanceMarketData(
                            components.market_data_config(settings, BINANCE), BINANCE,
                            clock=clock),
                        clock=clock, broker=broker)
        await daemon.startup()
        await daemon.trading.settled()
        assert daemon.trading.up
        opened = 0
        for _ in range(steps):
            data.advance(MINUTE)
            last = by_open.loc[data.now_ms() // MINUTE * MINUTE - 2 * MINUTE]
            okx.candle(LTC, float(last["high"]), float(last["low"]), float(last["close"]))
            await daemon.run_timeframe("1m", retry_s=0)
            await daemon.reconcile()
            if okx.position(LTC, "isolated") != 0:
                # Every open position has its stop and target on OKX, as conditional orders.
                legs = sorted(("stop" if a["slTriggerPx"] else "target")
                              for a in okx.open_algos(LTC))
                assert legs == ["stop", "target"]
            opened = max(opened, len(daemon.store.conn.execute(
                "SELECT id FROM positions").fetchall()))
        entries = [p["clOrdId"] for p in okx.calls("POST", "/api/v5/trade/order")
                   if str(p.get("reduceOnly")).lower() != "true"]
        assert opened > 0 and len(entries) == len(set(entries)) == opened
        assert {r.venue for r in daemon.store.open_positions()} <= {"okx"}
        assert all(s.trade_state != "pending" for s in daemon.store.recent_signals(10_000))
        await daemon.shutdown()
    finally:
        await okx.stop()
        await data.close()
