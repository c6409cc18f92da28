"""The fake KuCoin Futures answers ccxt's kucoinfutures class (4.5.90) the way the venue's docs
say, for real over HTTP: which ccxt exception each code becomes is pinned here."""
from __future__ import annotations

import time
from typing import Any

import aiohttp
import numpy as np
import pandas as pd
import pytest

from exchanges.ccxt_lean import ccxt
from exchanges.kucoin import KUCOIN
from exchanges.kucoin_client import exchange_class
from exchanges.urls import override_hosts
from tests.fakes.kucoin import API_KEY, PASSPHRASE, SECRET, FakeKucoin

XBT, SYMBOL = "XBTUSDTM", "BTC/USDT:USDT"
pytestmark = pytest.mark.slow  # a venue fake's own conformance to its docs, over real HTTP
MIN = 60_000


def _exchange(url: str, *, secret: str = SECRET) -> Any:
    """ccxt's kucoinfutures pointed at the fake (every host), kept on the classic futures
    account as the client keeps it (plain ccxt with keys also asks the spot host for
    currencies, margin symbols and the account mode, which the fake does not serve: 404)."""
    ex = exchange_class()({"apiKey": API_KEY, "secret": secret, "password": PASSPHRASE,
                        "enableRateLimit": False, "options": dict(KUCOIN.ccxt_options)})
    override_hosts(ex, url)
    return ex


@pytest.fixture
async def venue():
    fake = await FakeKucoin().start()
    ex = _exchange(fake.url)
    yield fake, ex
    await ex.close()
    await fake.stop()


async def _get(url: str, path: str, **params) -> tuple[int, dict]:
    async with aiohttp.ClientSession() as s:
        async with s.get(url + path, params={k: str(v) for k, v in params.items()}) as r:
            return r.status, await r.json()


def _minutes(start: int, n: int) -> pd.DataFrame:
    ts = start + np.arange(n, dtype=np.int64) * MIN
    close = 100.0 + np.arange(n) * 0.01
    return pd.DataFrame({"timestamp": ts, "open": close, "high": close + 0.02,
                         "low": close - 0.02, "close": close, "volume": 1.0})


async def test_markets_are_lots_of_the_contract_multiplier(venue):
    fake, ex = venue
    await ex.load_markets()
    market = ex.market(SYMBOL)
    assert market["id"] == XBT and market["contractSize"] == 0.001 and market["swap"]
    assert ex.milliseconds() - await ex.fetch_time() < 5_000


async def test_klines_serve_the_forming_candle_and_skip_quiet_minutes():
    now = 1_770_729_450_000
    start = now - now % MIN - 30 * MIN
    fake = await FakeKucoin({(XBT, "1m"): _minutes(start, 31)}, now_ms=now).start()
    fake.quiet(XBT, start + 10 * MIN, start + 15 * MIN)
    try:
        status, body = await _get(fake.url, "/api/v1/kline/query", symbol=XBT, granularity=1,
                                  **{"from": start, "to": now})
        assert status == 200 and body["code"] == "200000"
        ts = [row[0] for row in body["data"]]
        assert ts == sorted(ts) and len(ts) == 26 and ts[-1] == now - now % MIN  # forming
        assert start + 10 * MIN not in ts
        _, five = await _get(fake.url, "/api/v1/kline/query", symbol=XBT, granularity=5,
                             to=now)
        assert all(row[0] % (5 * MIN) == 0 for row in five["data"])
        status, bad = await _get(fake.url, "/api/v1/kline/query", symbol=XBT, granularity=3)
        assert status == 400 and bad["code"] == "400100"
    finally:
        await fake.stop()


async def test_an_unknown_clientoid_answers_data_null(venue):
    fake, ex = venue
    await ex.load_markets()
    order = await ex.fetch_order(None, SYMBOL, {"clientOid": "nope"})
    assert order["id"] is None


@pytest.mark.parametrize(("arm", "error"), [
    (lambda f: f.rate_limit("/api/v1/account-overview"), ccxt.RateLimitExceeded),
    (lambda f: f.fail("/api/v1/account-overview", 500), ccxt.ExchangeNotAvailable),
    (lambda f: f.fail("/api/v1/account-overview", 502), ccxt.ExchangeNotAvailable),
    (lambda f: f.reject("/api/v1/account-overview", "300003", "Balance not enough"),
     ccxt.InsufficientFunds),
    (lambda f: f.reject("/api/v1/account-overview", "100004",
                        "Order is in not cancelable state"), ccxt.BadRequest),
    (lambda f: f.reject("/api/v1/account-overview", "100001",
                        "There are invalid parameters"), ccxt.OrderNotFound),
])
async def test_codes_become_these_ccxt_exceptions(venue, arm, error):
    fake, ex = venue
    await ex.load_markets()
    arm(fake)
    with pytest.raises(error):
        await ex.fetch_balance()


async def test_a_bad_signature_and_a_stale_timestamp_are_refused(venue):
    fake, _ = venue
    for secret, offset, error in ((SECRET[::-1], 0, ccxt.AuthenticationError),
                                  (SECRET, -60_000, ccxt.InvalidNonce)):
        ex = _exchange(fake.url, secret=secret)
        try:
            await ex.load_markets()
            ex.options["timeDifference"] = offset  # our clock a minute ahead of KuCoin's
            with pytest.raises(error):
                await ex.fetch_balance()
        finally:
            await ex.close()


async def test_a_crossed_stop_is_not_refused_it_fires(venue):
    fake, ex = venue
    await ex.load_markets()
    await ex.create_order(SYMBOL, "market", "buy", 40, None, {"leverage": 20})
    assert fake.position(XBT) == 40
    # ccxt's unified stopLossPrice for a sell is 'down': at 51,000 with the price at 50,000 it
    # is already crossed, and KuCoin fills it at once.
    await ex.create_order(SYMBOL, "market", "sell", 40, None,
                          {"stopLossPrice": 51_000, "reduceOnly": True, "leverage": 20})
    assert fake.position(XBT) == 0


async def test_a_duplicate_active_clientoid_is_read_as_a_duplicate(venue):
    # Plain ccxt reads 400100 as BadRequest; the client's class reads the message.
    fake, ex = venue
    await ex.load_markets()
    await ex.create_order(SYMBOL, "market", "buy", 40, None, {"leverage": 20})
    params = {"stopLossPrice": 45_000, "reduceOnly": True, "clientOid": "s1"}
    await ex.create_order(SYMBOL, "market", "sell", 40, None, params)
    with pytest.raises(ccxt.DuplicateOrderId, match="clientOidDuplicated"):
        await ex.create_order(SYMBOL, "market", "sell", 40, None, params)
    fake.set_price(XBT, 44_000)  # the stop fires: its id is free again
    await ex.create_order(SYMBOL, "market", "buy", 40, None, {"leverage": 20, "clientOid": "s1"})
    assert fake.position(XBT) == 40 and time.time() > 0
