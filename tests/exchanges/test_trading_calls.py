"""The trading instance's calls: reads retried by the shared backoff (Retry-After waited
exactly), writes sent once, a clock refusal resynced and resent."""
from __future__ import annotations

import pytest

from app import components
from config import load_settings
from exchanges.binance import BINANCE
from exchanges.binance_client import BinanceTrading
from exchanges.ccxt_lean import ccxt
from exchanges.errors import RateLimited, TransientExchangeError, translate


class Script:
    """A ccxt call failing with `errors` in turn, then answering 'ok'."""

    def __init__(self, *errors: Exception) -> None:
        self.errors, self.calls = list(errors), 0

    async def __call__(self) -> str:
        self.calls += 1
        if self.errors:
            raise self.errors.pop(0)
        return "ok"


@pytest.fixture
async def trading():
    sleeps: list[float] = []

    async def sleep(seconds: float) -> None:
        sleeps.append(seconds)

    settings = load_settings({"ENABLE_TRADING": "1", "BINANCE_API_KEY": "k",
                              "BINANCE_SECRET": "s", "BINANCE_TRADING_URL":
                              "http://127.0.0.1:9"}, dotenv_path=None)
    instance = BinanceTrading(components.trading_config(settings, BINANCE), BINANCE,
                              backoff_s=0.25, sleep=sleep)
    instance.sleeps = sleeps
    yield instance
    await instance.close()


def _limited(seconds: float) -> ccxt.RateLimitExceeded:
    error = ccxt.RateLimitExceeded('binanceusdm 429 {"code":-1003,"msg":"Too many requests"}')
    error.retry_after_s = seconds
    return error


async def test_a_read_waits_retry_after_exactly_then_retries(trading):
    call = Script(_limited(2.0), ccxt.ExchangeNotAvailable("502"))
    assert await trading._call(call, read=True) == "ok"
    assert call.calls == 3
    assert trading.sleeps[0] == 2.0  # the venue's own wait, not jittered
    assert 0.125 <= trading.sleeps[1] <= 0.5  # then the capped, jittered backoff


async def test_a_read_gives_up_after_its_attempts_with_our_error(trading):
    call = Script(*[_limited(1.0) for _ in range(10)])
    with pytest.raises(RateLimited):
        await trading._call(call, read=True)
    assert call.calls == trading.read_attempts


async def test_a_write_is_sent_once_whatever_the_failure(trading):
    call = Script(ccxt.RequestTimeout("timed out"))
    with pytest.raises(TransientExchangeError):
        await trading._call(call, read=False)
    assert call.calls == 1 and trading.sleeps == []


async def test_a_clock_refusal_resyncs_and_sends_the_same_request_again(trading, monkeypatch):
    resynced = []

    async def resync() -> None:
        resynced.append(True)

    monkeypatch.setattr(trading, "_resync", resync)
    call = Script(ccxt.InvalidNonce('binanceusdm {"code":-1021,"msg":"Timestamp outside"}'))
    assert await trading._call(call, read=False) == "ok"
    assert call.calls == 2 and resynced == [True]


def test_a_venues_error_carries_the_retry_after_of_its_own_answer():
    from exchanges.tagging import with_retry_after

    exchange = with_retry_after("binanceusdm")()
    body = '{"code":-1003,"msg":"Too many requests"}'
    with pytest.raises(ccxt.BaseError) as caught:
        exchange.handle_errors(429, "Too Many Requests", "https://x/fapi/v1/order", "POST",
                               {"Retry-After": "3"}, body, {"code": -1003, "msg": "Too many"},
                               None, None)
    assert caught.value.retry_after_s == 3.0
    limited = translate(caught.value, BINANCE)
    assert isinstance(limited, RateLimited) and limited.retry_after_s == 3.0


def test_a_venue_attaching_its_stops_must_say_how():
    import dataclasses

    from exchanges.ccxt_trading import CcxtTrading
    from exchanges.venue import SlTpStyle

    attached = dataclasses.replace(BINANCE, trading=dataclasses.replace(
        BINANCE.trading_spec(), sltp_style=SlTpStyle.ATTACHED))
    settings = load_settings({"ENABLE_TRADING": "1", "BINANCE_API_KEY": "k",
                              "BINANCE_SECRET": "s"}, dotenv_path=None)
    with pytest.raises(TypeError, match="protective_order"):
        CcxtTrading(components.trading_config(settings, attached), attached)
