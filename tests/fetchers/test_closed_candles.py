"""BinanceMarketData.closed_candles against the fake: the closed rule, pagination and cleaning."""
from __future__ import annotations

import numpy as np
import pytest
from structlog.testing import capture_logs

from exchanges.errors import TransientExchangeError
from tests.fetchers.conftest import NOON, HostClock, fast_retry

MIN = 60_000


def _klines(fake):
    return [r for r in fake.requests if r.path == "/fapi/v1/klines"]


@pytest.mark.parametrize("now_offset, newest", [
    (-1, NOON - 2 * MIN),   # 11:59 candle closes at 11:59:59.999: at 11:59:59.999 it is forming
    (0, NOON - MIN),        # at 12:00:00.000 its close time has passed: it is closed
    (MIN - 1, NOON - MIN),  # the 12:00 candle stays out until 12:00:59.999 has passed
    (MIN, NOON),
])
async def test_forming_candle_is_excluded_exactly_until_its_close_time(
        fake_binance, make_fetcher, ltc_1m, now_offset, newest):
    fake = await fake_binance(candles={("LTCUSDT", "1m"): ltc_1m}, now_ms=NOON + now_offset)
    fetcher = await make_fetcher(fake, clock=HostClock(NOON + now_offset))
    last = await fetcher.closed_candles("LTC/USDT", "1m", limit=3)
    assert int(last["timestamp"].iloc[-1]) == newest
    since = await fetcher.closed_candles("LTCUSDT", "1m", since_ms=NOON - 5 * MIN)
    assert int(since["timestamp"].iloc[-1]) == newest
    # The fake did serve the forming candle: the fetcher dropped it by close time.
    assert any(int(r.params.get("limit", 0)) > len(since) for r in _klines(fake))


@pytest.mark.parametrize("host_off_ms", [-5000, 5000])
async def test_host_clock_five_seconds_off_is_corrected_by_server_time(
        fake_binance, make_fetcher, ltc_1m, host_off_ms):
    fake = await fake_binance(candles={("LTCUSDT", "1m"): ltc_1m}, now_ms=NOON - 1)
    host = HostClock(NOON - 1 + host_off_ms)
    fetcher = await make_fetcher(fake, clock=host)
    assert await fetcher.server_time_ms() == NOON - 1
    frame = await fetcher.closed_candles("LTC/USDT", "1m", limit=2)
    assert int(frame["timestamp"].iloc[-1]) == NOON - 2 * MIN  # 11:59 still forming
    fake.set_now(NOON + 1)
    host.ms += 2
    frame = await fetcher.closed_candles("LTC/USDT", "1m", limit=2)
    assert int(frame["timestamp"].iloc[-1]) == NOON - MIN


async def test_clock_offset_is_resynced_periodically_not_per_call(fake_binance, make_fetcher):
    fake = await fake_binance(now_ms=NOON)
    host = HostClock(NOON)
    fetcher = await make_fetcher(fake, clock=host, time_resync_s=600)
    for _ in range(3):
        await fetcher.closed_candles("BTC/USDT", "1m", limit=1)
    assert fake.paths().count("/fapi/v1/time") == 1
    host.ms += 601_000
    fake.advance(601_000 + 250)  # the host drifted 250 ms meanwhile
    assert await fetcher.server_time_ms() == fake.now_ms()
    assert fake.paths().count("/fapi/v1/time") == 2


async def test_candles_match_the_real_data(fake_binance, make_fetcher, ltc_1m):
    fake = await fake_binance(candles={("LTCUSDT", "1m"): ltc_1m}, now_ms=NOON + 30_000)
    fetcher = await make_fetcher(fake, clock=HostClock(NOON + 30_000))
    frame = await fetcher.closed_candles("LTC/USDT", "1m", since_ms=NOON - 10 * MIN)
    expected = ltc_1m.loc[(ltc_1m.timestamp >= NOON - 10 * MIN) & (ltc_1m.timestamp < NOON)]
    assert list(frame.columns) == ["timestamp", "open", "high", "low", "close", "volume"]
    assert frame["timestamp"].dtype == np.int64
    np.testing.assert_allclose(frame.drop(columns="timestamp").to_numpy(),
                               expected.drop(columns="timestamp").to_numpy(dtype=float))


async def test_history_is_paginated_at_1500_per_request(fake_binance, make_fetcher, ltc_1m):
    fake = await fake_binance(candles={("LTCUSDT", "1m"): ltc_1m}, now_ms=NOON + 1)
    fetcher = await make_fetcher(fake, clock=HostClock(NOON + 1))
    since = NOON - 3200 * MIN
    frame = await fetcher.closed_candles("LTC/USDT", "1m", since_ms=since)
    assert len(frame) == 3200
    assert frame["timestamp"].iloc[0] == since and frame["timestamp"].iloc[-1] == NOON - MIN
    assert (np.diff(frame["timestamp"]) == MIN).all()
    limits = [int(r.params["limit"]) for r in _klines(fake)]
    assert limits == [1500, 1500, 201]  # 200 closed + the forming one, then no extra call


async def test_last_n_beyond_one_page_paginates_backwards(fake_binance, make_fetcher, ltc_1m):
    fake = await fake_binance(candles={("LTCUSDT", "1m"): ltc_1m}, now_ms=NOON + 1)
    fetcher = await make_fetcher(fake, clock=HostClock(NOON + 1))
    frame = await fetcher.closed_candles("LTC/USDT", "1m", limit=2000)
    assert len(frame) == 2000 and frame["timestamp"].iloc[-1] == NOON - MIN
    assert (np.diff(frame["timestamp"]) == MIN).all()
    assert len(_klines(fake)) == 2


async def test_missed_cycles_are_backfilled_on_the_next_call(fake_binance, make_fetcher,
                                                              ltc_1m):
    fake = await fake_binance(candles={("LTCUSDT", "1m"): ltc_1m}, now_ms=NOON + 1)
    host = HostClock(NOON + 1)
    fetcher = await make_fetcher(fake, clock=host, retry=fast_retry(attempts=2))
    fake.fail("/fapi/v1/klines", 503, times=2)
    await fetcher.server_time_ms()
    with pytest.raises(TransientExchangeError):
        await fetcher.closed_candles("LTC/USDT", "1m", since_ms=NOON - MIN)
    fake.advance(3 * MIN)
    host.ms += 3 * MIN
    frame = await fetcher.closed_candles("LTC/USDT", "1m", since_ms=NOON - MIN)
    assert frame["timestamp"].tolist() == [NOON - MIN, NOON, NOON + MIN, NOON + 2 * MIN]


async def test_duplicate_and_unsorted_rows_are_cleaned(fake_binance, make_fetcher, ltc_1m):
    fake = await fake_binance(candles={("LTCUSDT", "1m"): ltc_1m}, now_ms=NOON + 1)
    fetcher = await make_fetcher(fake, clock=HostClock(NOON + 1))
    fake.scramble_next = 1
    frame = await fetcher.closed_candles("LTC/USDT", "1m", since_ms=NOON - 5 * MIN)
    assert frame["timestamp"].tolist() == [NOON - k * MIN for k in range(5, 0, -1)]


async def test_insane_candle_is_refetched_once_and_then_fine(fake_binance, make_fetcher,
                                                            ltc_1m):
    fake = await fake_binance(candles={("LTCUSDT", "1m"): ltc_1m}, now_ms=NOON + 1)
    fetcher = await make_fetcher(fake, clock=HostClock(NOON + 1))
    fake.corrupt_candle("LTCUSDT", "1m", NOON - 2 * MIN, times=1)
    with capture_logs() as logs:
        frame = await fetcher.closed_candles("LTC/USDT", "1m", since_ms=NOON - 3 * MIN)
    assert frame["timestamp"].tolist() == [NOON - 3 * MIN, NOON - 2 * MIN, NOON - MIN]
    assert (frame["high"] >= frame["low"]).all()
    assert len(_klines(fake)) == 2
    assert [e["event"] for e in logs if e["log_level"] == "warning"] == ["candle_insane_refetch"]


async def test_candle_insane_twice_is_skipped_with_a_warning(fake_binance, make_fetcher, ltc_1m):
    fake = await fake_binance(candles={("LTCUSDT", "1m"): ltc_1m}, now_ms=NOON + 1)
    fetcher = await make_fetcher(fake, clock=HostClock(NOON + 1))
    fake.corrupt_candle("LTCUSDT", "1m", NOON - 2 * MIN, times=5)
    with capture_logs() as logs:
        frame = await fetcher.closed_candles("LTC/USDT", "1m", since_ms=NOON - 3 * MIN)
    assert frame["timestamp"].tolist() == [NOON - 3 * MIN, NOON - MIN]
    assert len(_klines(fake)) == 2  # refetched once, not forever
    skipped = [e for e in logs if e["event"] == "candle_insane_skipped"]
    assert skipped and skipped[0]["timestamps"] == [NOON - 2 * MIN]
