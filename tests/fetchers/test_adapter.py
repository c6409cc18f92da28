"""TimeframeAdapter over the fetcher and the fake: day-aligned buckets, closed only, shared
bases."""
from __future__ import annotations

import asyncio

import numpy as np
import pandas as pd
import pytest

from fetchers.adapter import TimeframeAdapter
from tests.fetchers.conftest import HostClock

MIN = 60_000
MIDNIGHT = 1_770_768_000_000  # 2026-02-11 00:00 UTC


def day_aligned(one_minute: pd.DataFrame, minutes: int) -> pd.DataFrame:
    """Reference buckets straight from 1m rows: restart at 00:00 UTC, last one cut at midnight."""
    ts = one_minute["timestamp"]
    day = ts - ts % 86_400_000
    key = day + (ts - day) // (minutes * MIN) * (minutes * MIN)
    g = one_minute.assign(timestamp=key).groupby("timestamp")
    return pd.DataFrame({"open": g["open"].first(), "high": g["high"].max(),
                         "low": g["low"].min(), "close": g["close"].last(),
                         "volume": g["volume"].sum()}).reset_index()


async def _adapter(fake_binance, make_fetcher, ltc_1m, now_ms):
    fake = await fake_binance(candles={("LTCUSDT", "1m"): ltc_1m}, now_ms=now_ms)
    host = HostClock(now_ms)
    fetcher = await make_fetcher(fake, clock=host)
    return fake, host, TimeframeAdapter(fetcher)


def _klines(fake):
    return [r for r in fake.requests if r.path == "/fapi/v1/klines"]


async def test_25m_buckets_restart_at_midnight_and_the_last_one_is_cut(
        fake_binance, make_fetcher, ltc_1m):
    now = MIDNIGHT + 30 * MIN
    fake, _, adapter = await _adapter(fake_binance, make_fetcher, ltc_1m, now)
    since = MIDNIGHT - 2 * 3600_000
    got = await adapter.closed_candles("LTC/USDT", "25m", since_ms=since)
    window = ltc_1m.loc[(ltc_1m.timestamp >= since - since % (25 * MIN))
                        & (ltc_1m.timestamp < MIDNIGHT + 25 * MIN)]
    want = day_aligned(window, 25)
    want = want.loc[want.timestamp >= since].reset_index(drop=True)
    assert got["timestamp"].tolist() == want["timestamp"].tolist()
    # 1440 = 57 x 25 + 15: the day's last bucket opens at 23:45 and is cut to 15 minutes.
    assert got["timestamp"].tolist()[-3:] == [MIDNIGHT - 40 * MIN, MIDNIGHT - 15 * MIN, MIDNIGHT]
    np.testing.assert_allclose(got[["open", "high", "low", "close", "volume"]].to_numpy(),
                               want[["open", "high", "low", "close", "volume"]].to_numpy())
    cut = got.loc[got.timestamp == MIDNIGHT - 15 * MIN].iloc[0]
    assert (cut["bars"], cut["expected_bars"]) == (3, 3)  # 23:45-24:00: three 5m candles
    assert {r.params["interval"] for r in _klines(fake)} == {"5m"}  # largest native divisor


@pytest.mark.parametrize("offset, last_open", [(-1, MIDNIGHT - 40 * MIN),
                                               (0, MIDNIGHT - 15 * MIN)])
async def test_cut_bucket_is_emitted_only_once_midnight_has_passed(
        fake_binance, make_fetcher, ltc_1m, offset, last_open):
    _, _, adapter = await _adapter(fake_binance, make_fetcher, ltc_1m, MIDNIGHT + offset)
    got = await adapter.closed_candles("LTC/USDT", "25m", bars=3)
    assert len(got) == 3 and int(got["timestamp"].iloc[-1]) == last_open


async def test_native_timeframe_passes_through(fake_binance, make_fetcher, ltc_1m):
    now = MIDNIGHT + 1
    _, _, adapter = await _adapter(fake_binance, make_fetcher, ltc_1m, now)
    got = await adapter.closed_candles("LTC/USDT", "1m", bars=5)
    want = ltc_1m.loc[ltc_1m.timestamp < MIDNIGHT].tail(5)
    assert got["timestamp"].tolist() == want["timestamp"].tolist()
    np.testing.assert_allclose(got["close"], want["close"])


async def test_poll_fetches_a_shared_base_series_once(fake_binance, make_fetcher, ltc_1m):
    now = MIDNIGHT + 90 * MIN + 5
    fake, _, adapter = await _adapter(fake_binance, make_fetcher, ltc_1m, now)
    out = await adapter.poll("LTC/USDT", {"15m": None, "45m": None, "1h": None}, bars=20)
    assert [len(out[tf]) for tf in ("15m", "45m", "1h")] == [20, 20, 20]
    assert sorted(r.params["interval"] for r in _klines(fake)) == ["15m", "1h"]
    assert int(out["45m"]["timestamp"].iloc[-1]) == MIDNIGHT + 45 * MIN


async def test_separate_jobs_at_the_same_close_share_one_fetch(fake_binance, make_fetcher,
                                                               ltc_1m):
    now = MIDNIGHT + 3600_000 + 2000  # 01:00:02, when the 15m and 45m jobs both fire
    fake, host, adapter = await _adapter(fake_binance, make_fetcher, ltc_1m, now)
    a, b = await asyncio.gather(
        adapter.closed_candles("LTC/USDT", "15m", since_ms=MIDNIGHT + 45 * MIN),
        adapter.closed_candles("LTC/USDT", "45m", since_ms=MIDNIGHT))
    assert a["timestamp"].tolist() == [MIDNIGHT + 45 * MIN]
    assert b["timestamp"].tolist() == [MIDNIGHT]  # 00:45-01:30 is still open
    # One request for the later since, then only the older part the 45m job needed.
    assert len(_klines(fake)) <= 2
    before = len(_klines(fake))
    again = await adapter.closed_candles("LTC/USDT", "15m", since_ms=MIDNIGHT)
    assert len(again) == 4 and len(_klines(fake)) == before  # same boundary: from the cache
    fake.advance(15 * MIN)
    host.ms += 15 * MIN
    later = await adapter.closed_candles("LTC/USDT", "15m", since_ms=MIDNIGHT + 60 * MIN)
    assert later["timestamp"].tolist() == [MIDNIGHT + 60 * MIN]
    assert len(_klines(fake)) == before + 1  # a new boundary: fetched again


async def test_cached_series_equals_a_fresh_fetch(fake_binance, make_fetcher, ltc_1m):
    now = MIDNIGHT + 3600_000 + 2000
    fake, _, adapter = await _adapter(fake_binance, make_fetcher, ltc_1m, now)
    await adapter.closed_candles("LTC/USDT", "15m", since_ms=MIDNIGHT + 30 * MIN)
    cached = await adapter.closed_candles("LTC/USDT", "45m", since_ms=MIDNIGHT - 3600_000 * 3)
    fresh = await TimeframeAdapter(adapter.fetcher, cache=False).closed_candles(
        "LTC/USDT", "45m", since_ms=MIDNIGHT - 3600_000 * 3)
    pd.testing.assert_frame_equal(cached, fresh)


async def test_daily_and_weekly_pass_through_closed_only(fake_binance, make_fetcher):
    now = MIDNIGHT + 5 * MIN  # Wednesday 2026-02-11 00:05
    fake = await fake_binance(now_ms=now)
    adapter = TimeframeAdapter(await make_fetcher(fake, clock=HostClock(now)))
    out = await adapter.poll("BTC/USDT", {"1d": None, "1w": None}, bars=3)
    assert out["1d"]["timestamp"].tolist() == [MIDNIGHT - k * 86_400_000 for k in (3, 2, 1)]
    monday = MIDNIGHT - 2 * 86_400_000  # 2026-02-09, the forming week
    assert out["1w"]["timestamp"].tolist() == [monday - k * 7 * 86_400_000 for k in (3, 2, 1)]
