"""Every venue's market data: the fake's closed candles, never the forming one, over ranges that
take many pages, and custom timeframes built from them on the UTC-day grid."""
from __future__ import annotations

import pandas as pd
import pytest

from app import components
from exchanges.retry import RetryPolicy
from fetchers.adapter import TimeframeAdapter

from .conftest import DAY, MIN, NOW

pytestmark = pytest.mark.slow  # long paged ranges over every venue's fake

OHLCV = ["timestamp", "open", "high", "low", "close", "volume"]


def day_aligned(one_minute: pd.DataFrame, minutes: int) -> pd.DataFrame:
    """Closed buckets straight from 1m rows: restart at 00:00 UTC, last one cut at midnight."""
    ts = one_minute["timestamp"]
    day = ts - ts % DAY
    key = day + (ts - day) // (minutes * MIN) * (minutes * MIN)
    end = (key + minutes * MIN).clip(upper=day + DAY)
    g = one_minute.assign(timestamp=key)[end <= NOW].groupby("timestamp")
    return pd.DataFrame({"open": g["open"].first(), "high": g["high"].max(),
                         "low": g["low"].min(), "close": g["close"].last(),
                         "volume": g["volume"].sum()}).reset_index()


def same(got: pd.DataFrame, want: pd.DataFrame) -> None:
    pd.testing.assert_frame_equal(got[OHLCV].reset_index(drop=True),
                                  want[OHLCV].reset_index(drop=True), check_dtype=False)


async def _market_data(settings):
    data = components.market_data(settings, retry=RetryPolicy(attempts=3, base_s=0.01, cap_s=0.05,
                                                           budget_s=10.0))
    await data.start()
    return data


async def test_history_is_every_closed_candle_over_many_pages(harness, settings, one_minute):
    data = await _market_data(settings)
    try:
        since = NOW - NOW % MIN - 5 * DAY
        frame = await data.closed_candles(harness.symbol, "1m", since_ms=since)
        last = await data.closed_candles(harness.symbol, "1m", limit=3 * harness.venue.max_page)
    finally:
        await data.close()
    ts = one_minute["timestamp"]
    closed = one_minute[ts + MIN <= NOW]
    want = closed[closed["timestamp"] >= since]
    assert len(want) > 3 * harness.venue.max_page  # several pages of the venue's maximum
    same(frame, want)
    same(last, closed.iloc[-3 * harness.venue.max_page:])
    assert int(frame["timestamp"].iloc[-1]) + MIN <= NOW  # the forming candle never appears


async def test_custom_timeframes_are_built_from_closed_candles(harness, settings, one_minute):
    data = await _market_data(settings)
    try:
        since = NOW - NOW % DAY - 3 * DAY
        out = await TimeframeAdapter(data).poll(harness.symbol, {"25m": since, "7h": since}, 500)
    finally:
        await data.close()
    for timeframe, minutes in (("25m", 25), ("7h", 420)):
        want = day_aligned(one_minute, minutes)
        same(out[timeframe], want[want["timestamp"] >= since])
    # 13:17:30 is inside the 12:55-13:20 bucket and the 07:00-14:00 one: neither is served.
    assert int(out["25m"]["timestamp"].iloc[-1]) == NOW - NOW % DAY + 12 * 3_600_000 + 30 * MIN
    assert int(out["7h"]["timestamp"].iloc[-1]) == NOW - NOW % DAY
