"""Timeframes over a venue's own native set: 8h, 3d and UTC days built when the venue lacks them."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from domain.timeframe import DAY_MS
from exchanges.binance import BINANCE
from fetchers.adapter import TimeframeAdapter
from fetchers.aggregate import aggregate
from fetchers.timeframes import plan
from tests.fakes.binance_data import INTERVAL_MS, resample, synthetic

MIN = 60_000
T0 = 1_767_225_600_000  # 2026-01-01 00:00 UTC (a Thursday)
# Bybit and OKX serve neither 8h nor 3d.
NO_8H_3D = ("1m", "3m", "5m", "15m", "30m", "1h", "2h", "4h", "6h", "12h", "1d", "1w", "1M")
# A venue whose day candles follow another time zone: UTC days are built from 12h bars.
NO_UTC_DAY = ("1m", "5m", "15m", "1h", "4h", "12h")
OHLCV = ["timestamp", "open", "high", "low", "close", "volume"]


@pytest.fixture(scope="module")
def one_minute() -> pd.DataFrame:
    """20 days of deterministic 1m candles."""
    return synthetic("TESTUSDT", np.arange(T0, T0 + 20 * DAY_MS, MIN, dtype=np.int64), "1m")


@pytest.mark.parametrize("native, timeframe, base", [
    (NO_8H_3D, "8h", "4h"), (NO_8H_3D, "3d", "1d"), (NO_8H_3D, "7h", "1h"),
    (NO_8H_3D, "1w", "1w"), (NO_UTC_DAY, "1d", "12h"), (NO_UTC_DAY, "3d", "12h"),
    (BINANCE.native_timeframes, "8h", "8h"), (BINANCE.native_timeframes, "3d", "3d"),
])
def test_each_timeframe_is_planned_from_the_venues_largest_native_divisor(native, timeframe,
                                                                          base):
    assert plan(timeframe, native).base == base


def test_months_need_the_venues_own_monthly_candles():
    with pytest.raises(ValueError, match="1M"):
        plan("1M", NO_UTC_DAY)


@pytest.mark.parametrize("native, timeframe", [
    (NO_8H_3D, "8h"), (NO_8H_3D, "3d"), (NO_UTC_DAY, "1d"), (NO_UTC_DAY, "3d"),
    (NO_UTC_DAY, "1w"),
])
def test_built_candles_equal_binances_native_ones(one_minute, native, timeframe):
    p = plan(timeframe, native)
    base = resample(one_minute, p.base)
    built = aggregate(base, p, T0 + 20 * DAY_MS)
    reference = resample(one_minute, timeframe)
    # Only whole buckets inside the data: the reference's first and last may be partial.
    ends = reference["timestamp"] + INTERVAL_MS[timeframe]
    whole = reference[(reference["timestamp"] >= T0) & (ends <= T0 + 20 * DAY_MS)]
    got = built[built["timestamp"].isin(whole["timestamp"])]
    assert len(got) == len(whole) > 0
    pd.testing.assert_frame_equal(got[OHLCV].reset_index(drop=True),
                                  whole[OHLCV].reset_index(drop=True), check_dtype=False)
    assert (got["bars"] == got["expected_bars"]).all()


class VenueData:
    """Market data of a venue serving `native` timeframes from 1m rows (closed ones only)."""

    def __init__(self, one_minute: pd.DataFrame, native: tuple[str, ...], now_ms: int) -> None:
        self.one_minute, self.native_timeframes, self.now = one_minute, native, now_ms
        self.asked: list[str] = []

    async def server_time_ms(self) -> int:
        return self.now

    async def closed_candles(self, symbol, base_timeframe, since_ms=None, limit=None):
        assert base_timeframe in self.native_timeframes, base_timeframe
        self.asked.append(base_timeframe)
        frame = resample(self.one_minute, base_timeframe)
        frame = frame[frame["timestamp"] + INTERVAL_MS[base_timeframe] <= self.now]
        if since_ms is not None:
            frame = frame[frame["timestamp"] >= since_ms]
            return frame.iloc[:limit] if limit else frame
        return frame.iloc[-(limit or 500):]


async def test_the_adapter_builds_3d_and_8h_on_a_venue_without_them(one_minute):
    now = T0 + 19 * DAY_MS + 5 * 3_600_000  # mid-day: the day, 8h and 3d in progress
    venue = VenueData(one_minute, NO_8H_3D, now)
    adapter = TimeframeAdapter(venue)
    out = await adapter.poll("TEST/USDT", {"3d": T0, "8h": T0 + 10 * DAY_MS}, 500)
    assert set(venue.asked) == {"1d", "4h"}
    for timeframe, since in (("3d", T0), ("8h", T0 + 10 * DAY_MS)):
        reference = resample(one_minute, timeframe)
        closed = reference[(reference["timestamp"] >= since)
                           & (reference["timestamp"] + INTERVAL_MS[timeframe] <= now)]
        pd.testing.assert_frame_equal(out[timeframe][OHLCV].reset_index(drop=True),
                                      closed[OHLCV].reset_index(drop=True), check_dtype=False)


async def test_the_adapter_builds_utc_days_where_the_venues_days_are_not_utc(one_minute):
    now = T0 + 12 * DAY_MS + 1
    venue = VenueData(one_minute, NO_UTC_DAY, now)
    days = await TimeframeAdapter(venue).closed_candles("TEST/USDT", "1d", bars=5)
    reference = resample(one_minute, "1d")
    closed = reference[reference["timestamp"] + DAY_MS <= now].iloc[-5:]
    assert venue.asked == ["12h"]
    pd.testing.assert_frame_equal(days[OHLCV].reset_index(drop=True),
                                  closed[OHLCV].reset_index(drop=True), check_dtype=False)
