"""The fake Delta India answers ccxt's delta class (4.5.90) the way Delta's docs say, for real
over HTTP, and pins which ccxt exception each answer becomes."""
from __future__ import annotations

import time

import aiohttp
import numpy as np
import pandas as pd
import pytest
from ccxt.async_support.delta import delta  # the module itself: the lean package lists binance

from exchanges.ccxt_lean import ccxt
from exchanges.urls import override_hosts
from tests.fakes.delta import DEMO_API_KEY, DEMO_SECRET, FakeDelta

SYMBOL = "BTC/USD:USD"
MIN = 60_000
pytestmark = pytest.mark.slow  # real HTTP against the fake


def _exchange(url: str, **extra) -> delta:
    ex = delta({"apiKey": DEMO_API_KEY, "secret": DEMO_SECRET, "enableRateLimit": False,
                **extra})
    override_hosts(ex, url)
    return ex


@pytest.fixture
async def venue():
    """A testnet fake at the host's clock and ccxt pointed at it."""
    fake = FakeDelta(demo=True)
    ex = _exchange(await fake.start())
    yield fake, ex
    await ex.close()
    await fake.stop()


def _minutes(start: int, n: int) -> pd.DataFrame:
    ts = start + np.arange(n, dtype=np.int64) * MIN
    close = 100.0 + np.arange(n) * 0.01
    return pd.DataFrame({"timestamp": ts, "open": close - 0.005, "high": close + 0.02,
                         "low": close - 0.02, "close": close, "volume": 1.0})


async def test_markets_are_usd_quoted_perpetuals_in_contracts_with_numeric_ids(venue):
    fake, ex = venue
    markets = await ex.load_markets()
    btc = markets[SYMBOL]
    assert btc["swap"] and btc["linear"] and btc["settle"] == "USD" and btc["id"] == "BTCUSD"
    assert btc["numericId"] == 27 and btc["contractSize"] == 0.001
    assert abs(await ex.fetch_time() - time.time() * 1000) < 5_000
    tickers = await ex.fetch_tickers()
    assert tickers[SYMBOL]["quoteVolume"] == 50_000_000.0


async def test_candles_are_newest_first_in_seconds_capped_and_the_forming_one_served():
    now = 1_770_729_450_000
    start = now - now % MIN - 2_500 * MIN
    fake = FakeDelta({("BTCUSD", "1m"): _minutes(start, 2_501)}, now_ms=now)
    url = await fake.start()
    try:
        async with aiohttp.ClientSession() as s, s.get(url + "/v2/history/candles", params={
                "resolution": "1m", "symbol": "BTCUSD", "start": str(start // 1000),
                "end": str(now // 1000)}) as r:
            rows = (await r.json())["result"]
        assert len(rows) == 2_000 and rows[0]["time"] * 1000 == now - now % MIN  # forming
        assert rows[0]["time"] > rows[1]["time"]
        ex = _exchange(url)
        got = await ex.fetch_ohlcv(SYMBOL, "1m", start, 100)
        assert [c[0] for c in got] == [start + i * MIN for i in range(100)]
        await ex.close()
    finally:
        await fake.stop()


async def test_a_request_without_user_agent_is_blocked_by_the_cdn(venue):
    fake, _ = venue
    async with aiohttp.ClientSession(skip_auto_headers=["User-Agent"]) as s, \
            s.get(fake.url + "/v2/products") as r:
        assert r.status == 403 and (await r.json())["error"] == "Forbidden"


async def test_orders_and_the_lagging_margined_positions(venue):
    fake, ex = venue
    await ex.load_markets()
    o = await ex.create_order(SYMBOL, "market", "buy", 2, None,
                              {"clientOrderId": "dup", "size": 2})
    assert o["status"] == "closed" and o["filled"] == 2 and o["average"] == 50_000.0
    again = await ex.create_order(SYMBOL, "market", "buy", 1, None,
                                  {"clientOrderId": "dup", "size": 1})  # not refused
    found = await ex.fetch_order(None, SYMBOL, {"clientOrderId": "dup"})
    assert found["id"] == again["id"]  # the latest with that id
    assert await ex.fetch_positions() == []  # /positions/margined lags ~10 s
    live = await ex.private_get_positions({"product_id": 27})
    assert live["result"]["size"] == 3


async def test_stop_orders_wait_then_trigger_on_the_last_price(venue):
    fake, ex = venue
    await ex.load_markets()
    await ex.create_order(SYMBOL, "market", "buy", 2, None, {"size": 2})
    stop = await ex.create_order(SYMBOL, "market", "sell", 2, None, {
        "size": 2, "stop_order_type": "stop_loss_order", "stop_price": "49000",
        "reduceOnly": True, "clientOrderId": "s1"})
    assert stop["status"] == "open" and stop["info"]["state"] == "pending"
    fake.candle("BTCUSD", 50_000.0, 48_500.0, 48_800.0)
    assert fake.position("BTCUSD") == 0
    assert (await ex.fetch_order(None, SYMBOL, {"clientOrderId": "s1"}))["status"] == "closed"


@pytest.mark.parametrize(("arrange", "params", "error"), [
    (lambda f: f.reject("/v2/orders", "insufficient_margin"), {}, ccxt.InsufficientFunds),
    (lambda f: f.reject("/v2/orders", "invalid_stop_price"), {}, ccxt.ExchangeError),
    (lambda f: None, {"reduceOnly": True}, ccxt.ExchangeError),  # no_position_for_reduce_only
    (lambda f: f.rate_limit("/v2/orders"), {}, ccxt.ExchangeError),  # rate_limit_exceeded
    (lambda f: f.fail("/v2/orders", 502, lost=True), {}, ccxt.ExchangeNotAvailable),
    (lambda f: f.fail("/v2/orders", None, lost=True), {}, ccxt.ExchangeNotAvailable),
])
async def test_which_ccxt_exception_each_answer_becomes(venue, arrange, params, error):
    fake, ex = venue
    await ex.load_markets()
    arrange(fake)
    with pytest.raises(error) as caught:
        await ex.create_order(SYMBOL, "market", "buy", 1, None, {"size": 1, **params})
    if error is ccxt.ExchangeError:
        assert type(caught.value) is ccxt.ExchangeError  # generic: only the label tells


async def test_auth_answers_bad_signature_generic_expired_and_wrong_key_by_status(venue):
    fake, ex = venue
    await ex.load_markets()
    ex.secret = "not-the-secret"
    with pytest.raises(ccxt.ExchangeError) as caught:
        await ex.fetch_balance()
    assert type(caught.value) is ccxt.ExchangeError and "Signature Mismatch" in str(caught.value)
    ex.secret = DEMO_SECRET
    fake.skew_ms = 10_000  # the request reaches the venue 10 s after it was signed
    with pytest.raises(ccxt.AuthenticationError, match="SignatureExpired"):
        await ex.fetch_balance()
    fake.skew_ms = 0
    ex.apiKey = "delta-test-key-0123456789"  # a production key on the testnet
    with pytest.raises(ccxt.AuthenticationError, match="InvalidApiKey"):
        await ex.fetch_balance()


async def test_the_weight_quota_answers_429_with_the_reset_in_milliseconds(venue):
    fake, ex = venue
    fake.quota = 6  # two product lists (weight 3 each) per window
    await ex.fetch_markets()
    await ex.fetch_markets()
    with pytest.raises(ccxt.ExchangeError) as caught:
        await ex.fetch_markets()
    assert "rate_limit_exceeded" in str(caught.value)
    headers = ex.last_response_headers or {}
    reset = next(v for k, v in headers.items() if k.lower() == "x-rate-limit-reset")
    assert 0 < int(reset) <= 300_000
