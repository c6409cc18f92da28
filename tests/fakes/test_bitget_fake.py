"""The fake Bitget answers ccxt's bitget class (4.5.90) the way the venue's docs say, for real
over HTTP; which ccxt exception each of its codes becomes is pinned here."""
from __future__ import annotations

import time

import aiohttp
import pytest
from ccxt.async_support.bitget import bitget  # the module itself: the lean package may skip it

from exchanges.ccxt_lean import ccxt
from exchanges.urls import override_hosts
from tests.fakes.bitget import API_KEY, PASSPHRASE, SECRET, FakeBitget

SYMBOL = "BTC/USDT:USDT"
MIN = 60_000
MIX = "/api/v2/mix/"
ORDER, TPSL = MIX + "order/place-order", MIX + "order/place-tpsl-order"
pytestmark = pytest.mark.slow  # a venue fake's own conformance to its docs, over real HTTP


def _exchange(url: str, *, sandbox: bool = True) -> bitget:
    ex = bitget({"apiKey": API_KEY, "secret": SECRET, "password": PASSPHRASE,
                 "enableRateLimit": False, "has": {"fetchCurrencies": False},
                 "options": {"defaultType": "swap", "fetchMarkets": {"types": ["swap"]},
                             "uta": False}})
    if sandbox:
        ex.set_sandbox_mode(True)  # PAPTRADING: 1 on every request but the time
    override_hosts(ex, url)
    return ex


@pytest.fixture
async def venue():
    fake = FakeBitget(demo=True, now_ms=int(time.time() * 1000))
    ex = _exchange(await fake.start())
    await ex.load_markets()
    yield fake, ex
    await ex.close()
    await fake.stop()


async def test_markets_are_the_perpetuals_named_by_product_type(venue):
    fake, ex = venue
    btc = ex.markets[SYMBOL]
    assert (btc["id"], btc["contractSize"], btc["precision"]["amount"],
            btc["limits"]["amount"]["min"]) == ("BTCUSDT", 1, 0.0001, 0.0001)
    assert "BTC/USDT" not in ex.markets  # no spot twin loaded
    kinds = {p["productType"] for p in fake.calls("GET", MIX + "market/contracts")}
    assert "USDT-FUTURES" in kinds


async def test_candles_are_anchored_at_the_end_time_oldest_first_forming_included(venue):
    fake, ex = venue
    now = fake.now_ms()
    async with aiohttp.ClientSession() as s:
        async with s.get(fake.url + MIX + "market/candles", params={
                "symbol": "BTCUSDT", "productType": "USDT-FUTURES", "granularity": "1m",
                "endTime": str(now), "limit": "3"}) as r:
            rows = (await r.json())["data"]
        async with s.get(fake.url + MIX + "market/history-candles", params={
                "symbol": "BTCUSDT", "productType": "USDT-FUTURES", "granularity": "1m",
                "endTime": str(now), "limit": "500"}) as r:
            history = (await r.json())["data"]
    opens = [int(r[0]) for r in rows]
    assert opens == sorted(opens) and opens[-1] == now - now % MIN and len(rows[0]) == 7
    assert len(history) == 200  # history-candles: 200 rows at most


async def test_demo_requests_carry_the_header_and_a_missing_one_is_refused(venue):
    fake, ex = venue
    await ex.fetch_balance()
    plain = _exchange(fake.url, sandbox=False)
    try:
        with pytest.raises(ccxt.ExchangeError, match="40099"):
            await plain.fetch_balance()
    finally:
        await plain.close()


@pytest.mark.parametrize(("code", "cls"), [
    ("429", ccxt.DDoSProtection), ("40006", ccxt.AuthenticationError),
    ("40009", ccxt.AuthenticationError), ("40012", ccxt.AuthenticationError),
    ("40008", ccxt.InvalidNonce), ("40109", ccxt.OrderNotFound), ("43001", ccxt.OrderNotFound),
    ("43025", ccxt.InvalidOrder), ("40774", ccxt.InvalidOrder), ("40917", ccxt.InvalidOrder),
    ("45122", ccxt.InvalidOrder), ("40786", ccxt.ExchangeError), ("22002", ccxt.ExchangeError),
    ("40099", ccxt.ExchangeError)])
async def test_each_code_becomes_this_ccxt_exception(venue, code, cls):
    fake, ex = venue
    fake.reject(ORDER, code, "refused")
    with pytest.raises(cls) as err:
        await ex.create_order(SYMBOL, "market", "buy", 0.01)
    assert code in str(err.value)
    if cls is ccxt.ExchangeError:  # the unmapped ones: the generic class, nothing finer
        assert type(err.value) is ccxt.ExchangeError


@pytest.mark.parametrize(("status", "cls"), [(502, ccxt.ExchangeNotAvailable),
                                             (504, ccxt.RequestTimeout),
                                             (429, ccxt.DDoSProtection)])
async def test_gateway_answers_become_network_errors(venue, status, cls):
    fake, ex = venue
    fake.fail(ORDER, status)
    with pytest.raises(cls):
        await ex.create_order(SYMBOL, "market", "buy", 0.01)


async def test_a_reused_client_oid_is_refused_even_once_filled(venue):
    fake, ex = venue
    await ex.create_order(SYMBOL, "market", "buy", 0.01, None, {"clientOrderId": "c1"})
    with pytest.raises(ccxt.ExchangeError, match="40786"):
        await ex.create_order(SYMBOL, "market", "buy", 0.01, None, {"clientOrderId": "c1"})
    assert fake.position("BTCUSDT") == pytest.approx(0.01)


async def test_reduce_only_with_nothing_to_reduce_is_refused(venue):
    fake, ex = venue
    with pytest.raises(ccxt.ExchangeError, match="22002"):
        await ex.create_order(SYMBOL, "market", "sell", 0.01, None, {"reduceOnly": True})


async def test_a_position_stop_is_not_an_order_detail_but_is_listed(venue):
    fake, ex = venue
    await ex.create_order(SYMBOL, "market", "buy", 0.01, None, {"clientOrderId": "e1"})
    await ex.create_order(SYMBOL, "market", "sell", 0.01, None,
                          {"stopLossPrice": 49_000, "clientOrderId": "s1"})
    [sent] = fake.calls("POST", TPSL)
    assert (sent["planType"], sent["holdSide"]) == ("pos_loss", "buy")
    with pytest.raises(ccxt.OrderNotFound):
        await ex.fetch_order(None, SYMBOL, {"clientOrderId": "s1"})
    [listed] = await ex.fetch_open_orders(SYMBOL, None, None, {"planType": "profit_loss"})
    assert listed["clientOrderId"] == "s1" and listed["triggerPrice"] == 49_000


async def test_a_stop_fires_at_its_trigger_and_the_target_goes_with_the_position(venue):
    fake, ex = venue
    await ex.create_order(SYMBOL, "market", "buy", 0.01)
    await ex.create_order(SYMBOL, "market", "sell", 0.01, None, {"stopLossPrice": 49_000})
    await ex.create_order(SYMBOL, "market", "sell", 0.01, None, {"takeProfitPrice": 52_000})
    fake.candle("BTCUSDT", high=50_100, low=48_900, close=49_500)
    assert fake.position("BTCUSDT") == 0 and fake.open_plans() == []
    assert float(fake.orders[-1]["priceAvg"]) == 49_000


async def test_a_stop_on_the_wrong_side_is_refused_by_side(venue):
    fake, ex = venue
    await ex.create_order(SYMBOL, "market", "sell", 0.01)
    with pytest.raises(ccxt.InvalidOrder, match="45122"):
        await ex.create_order(SYMBOL, "market", "buy", 0.01, None, {"stopLossPrice": 49_000})
