"""Transient failures are retried with backoff and never escape as ccxt exceptions."""
from __future__ import annotations

import asyncio
import time

import pytest

from exchanges.ccxt_lean import ccxt
from exchanges.errors import PermanentExchangeError, TransientExchangeError
from tests.fetchers.conftest import NOON, FakeClock, HostClock, fake_timed_retry, fast_retry

KLINES = "/fapi/v1/klines"


async def _fetcher(fake_binance, make_fetcher, **kw):
    fake = await fake_binance(now_ms=NOON + 1)
    fetcher = await make_fetcher(fake, clock=HostClock(NOON + 1), **kw)
    await fetcher.server_time_ms()  # sync the clock first: the faults below hit klines only
    return fake, fetcher


def _kline_statuses(fake):
    return [r.status for r in fake.requests if r.path == KLINES]


@pytest.mark.parametrize("status", [500, 503, 429, 418])
async def test_http_errors_are_retried_until_an_answer(fake_binance, make_fetcher, status):
    fake, fetcher = await _fetcher(fake_binance, make_fetcher)
    fake.fail(KLINES, status, times=2)
    frame = await fetcher.closed_candles("BTC/USDT", "1m", limit=2)
    assert len(frame) == 2
    assert _kline_statuses(fake) == [status, status, 200]


async def test_retry_after_is_honoured_on_429(fake_binance, make_fetcher):
    clock = FakeClock()
    fake, fetcher = await _fetcher(fake_binance, make_fetcher, retry=fake_timed_retry(clock))
    fake.fail(KLINES, 429, times=1, headers={"Retry-After": "1"})
    await fetcher.closed_candles("BTC/USDT", "1m", limit=1)
    # Exactly what the server asked for: the 10-50 ms backoff alone would not wait that long.
    assert clock.sleeps == [1.0]
    assert _kline_statuses(fake) == [429, 200]


async def test_retry_after_pauses_the_other_symbols_too(fake_binance, make_fetcher):
    clock = FakeClock()
    fake, fetcher = await _fetcher(fake_binance, make_fetcher, retry=fake_timed_retry(clock))
    fake.fail(KLINES, 429, times=1, headers={"Retry-After": "1"})
    await fetcher.closed_candles("BTC/USDT", "1m", limit=1)
    sent = len(fake.requests)
    await fetcher.closed_candles("ETH/USDT", "1m", limit=1)
    assert clock.sleeps == [1.0] and len(fake.requests) == sent + 1  # paused once, not twice


async def test_a_symbol_asking_during_a_retry_after_waits_for_its_end(fake_binance,
                                                                       make_fetcher):
    clock = FakeClock()
    fake, fetcher = await _fetcher(fake_binance, make_fetcher,
                                   retry=fake_timed_retry(clock, budget_s=30))
    fake.fail(KLINES, 429, times=1, headers={"Retry-After": "5"})
    btc = asyncio.ensure_future(fetcher.closed_candles("BTC/USDT", "1m", limit=1))
    for _ in range(2000):  # until BTC got its 429 and sleeps (the clock jumped 5 s at once)
        if clock.sleeps or btc.done():
            break
        await asyncio.sleep(0.001)
    clock.now -= 5.0 - 2.0  # rewind so that 2 s of the 5 s pause seem to have passed
    await fetcher.closed_candles("ETH/USDT", "1m", limit=1)
    await btc
    assert clock.sleeps[0] == 5.0 and clock.sleeps[1] == pytest.approx(3.0)


async def test_418_with_retry_after_beyond_the_budget_gives_up_at_once(fake_binance,
                                                                      make_fetcher):
    clock = FakeClock()
    fake, fetcher = await _fetcher(fake_binance, make_fetcher,
                                   retry=fake_timed_retry(clock, budget_s=2))
    fake.fail(KLINES, 418, times=1, headers={"Retry-After": "120"})
    with pytest.raises(TransientExchangeError) as caught:
        await fetcher.closed_candles("BTC/USDT", "1m", limit=1)
    assert clock.sleeps == []
    assert caught.value.retry_after_s == 120
    # A banned IP is not hammered: the next call fails fast without a request.
    sent = len(fake.requests)
    with pytest.raises(TransientExchangeError):
        await fetcher.closed_candles("ETH/USDT", "1m", limit=1)
    assert len(fake.requests) == sent and clock.sleeps == []


async def test_timeout_is_retried(fake_binance, make_fetcher):
    fake = await fake_binance(now_ms=NOON + 1)
    fetcher = await make_fetcher(fake, env={"FETCH_TIMEOUT_S": "0.2"},
                                 clock=HostClock(NOON + 1))
    await fetcher.server_time_ms()
    fake.fail(KLINES, None, times=1, delay_s=0.6)
    frame = await fetcher.closed_candles("BTC/USDT", "1m", limit=1)
    assert len(frame) == 1 and len(fake.paths()) == 3  # time, the timed-out call, the retry


async def test_malformed_json_is_retried(fake_binance, make_fetcher):
    fake, fetcher = await _fetcher(fake_binance, make_fetcher)
    fake.fail(KLINES, None, times=2, malformed=True)
    frame = await fetcher.closed_candles("BTC/USDT", "1m", limit=3)
    assert len(frame) == 3 and len(_kline_statuses(fake)) == 3


async def test_malformed_server_time_is_retried(fake_binance, make_fetcher):
    fake = await fake_binance(now_ms=NOON + 1)
    fetcher = await make_fetcher(fake, clock=HostClock(NOON))
    fake.fail("/fapi/v1/time", None, times=1, malformed=True)
    assert await fetcher.server_time_ms() == NOON + 1


async def test_gives_up_after_the_attempts_with_a_transient_error(fake_binance, make_fetcher):
    fake, fetcher = await _fetcher(fake_binance, make_fetcher, retry=fast_retry(attempts=4))
    fake.fail(KLINES, 503, times=100)
    with pytest.raises(TransientExchangeError) as caught:
        await fetcher.closed_candles("BTC/USDT", "1m", limit=1)
    assert not isinstance(caught.value, ccxt.BaseError)
    assert len(_kline_statuses(fake)) == 4


async def test_gives_up_when_the_time_budget_is_spent(fake_binance, make_fetcher):
    clock = FakeClock()
    policy = fake_timed_retry(clock, attempts=1000, base_s=0.05, cap_s=0.05, budget_s=0.4)
    fake, fetcher = await _fetcher(fake_binance, make_fetcher, retry=policy)
    fake.fail(KLINES, 500, times=10_000)
    with pytest.raises(TransientExchangeError):
        await fetcher.closed_candles("BTC/USDT", "1m", limit=1)
    assert sum(clock.sleeps) <= 0.4  # no wait that would end past the budget was started
    assert 3 <= len(_kline_statuses(fake)) < 20
    assert len(_kline_statuses(fake)) == len(clock.sleeps) + 1


async def test_unknown_symbol_is_permanent_and_not_retried(fake_binance, make_fetcher):
    fake, fetcher = await _fetcher(fake_binance, make_fetcher)
    with pytest.raises(PermanentExchangeError) as caught:
        await fetcher.closed_candles("NOPE/USDT", "1m", limit=1)
    assert caught.value.code == -1121
    assert _kline_statuses(fake) == [400]


def test_backoff_grows_exponentially_is_capped_and_jittered():
    policy = fast_retry(base_s=1.0, cap_s=8.0)
    delays = [policy.delay(n) for n in range(1, 7)]
    for n, d in enumerate(delays, start=1):
        full = min(8.0, 2 ** (n - 1))
        assert full / 2 <= d <= full
    assert len({round(d / min(8.0, 2 ** n), 6) for n, d in enumerate(delays)}) > 1


async def test_a_call_stuck_past_the_budget_is_abandoned(fake_binance, make_fetcher):
    fake = await fake_binance(now_ms=NOON + 1)
    fetcher = await make_fetcher(fake, env={"FETCH_TIMEOUT_S": "30"}, clock=HostClock(NOON + 1),
                                 retry=fast_retry(budget_s=0.3))
    await fetcher.server_time_ms()
    fake.fail(KLINES, None, times=5, delay_s=5)  # e.g. queued behind ccxt's rate limiter
    started = time.monotonic()
    with pytest.raises(TransientExchangeError):
        await fetcher.closed_candles("BTC/USDT", "1m", limit=1)
    assert time.monotonic() - started < 1.0
