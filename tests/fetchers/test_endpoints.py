"""BINANCE_DATA_URL reroutes every call; markets load without spot/margin/currency endpoints."""
from __future__ import annotations

import pytest

from exchanges.errors import TransientExchangeError
from tests.fetchers.conftest import NOON, HostClock, fast_retry

ALLOWED = {"/fapi/v1/time", "/fapi/v1/exchangeInfo", "/fapi/v1/klines", "/fapi/v1/ticker/24hr"}


@pytest.mark.parametrize("realtime", ["1", "0"])  # production data, or demo (enable_demo_trading)
async def test_every_request_reaches_the_fake_and_only_fapi_market_data(
        fake_binance, make_fetcher, realtime):
    fake = await fake_binance(now_ms=NOON + 1)
    fetcher = await make_fetcher(fake, env={"USE_REALTIME_DATA": realtime, "SYMBOLS": "ALL",
                                            "MIN_VOLUME_24H": "0"}, clock=HostClock(NOON))
    # Keys set on the data instance must not make ccxt call the private sapi currencies.
    fetcher.exchange.apiKey, fetcher.exchange.secret = "k" * 64, "s" * 64
    checks = await fetcher.check()
    assert [ok for _, ok, _ in checks] == [True, True, True], checks
    await fetcher.quote_volumes()  # SYMBOLS=ALL ranks by them
    await fetcher.closed_candles("ETH/USDT", "15m", since_ms=NOON - 3600_000)
    assert set(fake.paths()) == ALLOWED
    assert all(r.status == 200 for r in fake.requests)
    urls = [u for u in _all_urls(fetcher.exchange.urls["api"]) if "binance" in u]
    assert urls == [], "some REST base URL still points at Binance"


def _all_urls(tree):
    if isinstance(tree, dict):
        for value in tree.values():
            yield from _all_urls(value)
    elif isinstance(tree, str):
        yield tree


async def test_without_override_no_request_leaves_the_machine(make_fetcher, fake_binance):
    fake = await fake_binance(now_ms=NOON)
    fetcher = await make_fetcher(fake, retry=fast_retry(attempts=2))
    fetcher.exchange.urls["api"]["fapiPublic"] = "https://fapi.binance.com/fapi/v1"
    with pytest.raises(TransientExchangeError):
        await fetcher.server_time_ms()  # refused by the suite's no-network guard
    assert fake.requests == []


async def test_check_reports_a_failing_server(fake_binance, make_fetcher):
    fake = await fake_binance(now_ms=NOON)
    fetcher = await make_fetcher(fake, retry=fast_retry(attempts=2))
    fake.fail("/fapi/v1/time", 503, times=10)
    checks = await fetcher.check()
    assert [(name, ok) for name, ok, _ in checks] == [("binance server time", False)]


async def test_used_weight_is_read_from_the_response_headers(fake_binance, make_fetcher):
    fake = await fake_binance(now_ms=NOON + 1)
    fetcher = await make_fetcher(fake, clock=HostClock(NOON))
    await fetcher.closed_candles("BTC/USDT", "1m", limit=600)
    assert fetcher.used_weight_1m == fake.weight() == 1 + 5
