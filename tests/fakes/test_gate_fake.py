"""The fake Gate answers ccxt's gate class (4.5.90) the way the venue's docs say, for real over
HTTP; and which ccxt exception each of its labels becomes."""
from __future__ import annotations

import time

import aiohttp
import pytest
from ccxt.async_support.gate import gate  # the module itself: the lean package may not list it

from exchanges.ccxt_lean import ccxt
from exchanges.urls import override_hosts
from tests.fakes.gate import (
    API_KEY,
    DEMO_API_KEY,
    DEMO_SECRET,
    FUT,
    SECRET,
    FakeGate,
)

SYMBOL, BTC = "BTC/USDT:USDT", "BTC_USDT"
MIN = 60_000
pytestmark = pytest.mark.slow  # a venue fake's own conformance to its docs over real HTTP


def _exchange(url: str, *, demo: bool = False) -> gate:
    """ccxt's gate pointed at the fake, as exchanges/urls.py does for every venue."""
    key, secret = (DEMO_API_KEY, DEMO_SECRET) if demo else (API_KEY, SECRET)
    ex = gate({"apiKey": key, "secret": secret, "enableRateLimit": False,
               "has": {"fetchCurrencies": False},
               "options": {"defaultType": "swap", "fetchMarkets": {"types": ["swap"]},
                           "swap": {"fetchMarkets": {"settlementCurrencies": ["usdt"]}},
                           "unifiedAccount": False}})
    if demo:
        ex.set_sandbox_mode(True)
    override_hosts(ex, url)
    return ex


@pytest.fixture
async def venue():
    fake = FakeGate(now_ms=int(time.time() * 1000))
    ex = _exchange(await fake.start())
    await ex.load_markets()
    yield fake, ex
    await ex.close()
    await fake.stop()


async def _get(url: str, path: str, **params) -> tuple[int, object]:
    async with aiohttp.ClientSession() as s:
        async with s.get(url + path, params={k: str(v) for k, v in params.items()}) as r:
            return r.status, await r.json()


# -- market data -------------------------------------------------------------------------------

async def test_markets_are_usdt_perpetuals_in_whole_contracts(venue):
    fake, ex = venue
    btc = ex.markets[SYMBOL]
    assert (btc["id"], btc["contractSize"], btc["precision"]["amount"], btc["swap"]) == (
        BTC, 0.0001, 1, True)
    assert fake.calls("GET", FUT + "/contracts") == [{}]


async def test_time_is_the_venue_clock(venue):
    fake, ex = venue
    fake.set_now(1_700_000_000_123)
    assert await ex.fetch_time() == 1_700_000_000_123


async def test_candles_are_a_from_to_range_with_the_forming_one_last(venue):
    fake, ex = venue
    now = fake.now_ms()
    start = now - now % MIN - 4 * MIN
    rows = await ex.fetch_ohlcv(SYMBOL, "1m", start, 10)
    assert [r[0] for r in rows] == [start + i * MIN for i in range(5)]  # the last one forms
    status, body = await _get(fake.url, FUT + "/candlesticks", contract=BTC, interval="1m",
                              limit=5, to=now // 1000)
    assert status == 400 and body["label"] == "INVALID_PARAM_VALUE"  # limit with from/to


async def test_a_range_more_than_10000_intervals_back_is_refused(venue):
    fake, ex = venue
    now = fake.now_ms()
    with pytest.raises(ccxt.BadRequest, match="too long ago"):
        await ex.fetch_ohlcv(SYMBOL, "1m", now - 10_002 * MIN, 10)
    assert len(await ex.fetch_ohlcv(SYMBOL, "1m", now - now % MIN - 9_999 * MIN, 10)) == 10


# -- trading -------------------------------------------------------------------------------------

async def test_a_market_order_fills_in_contracts_and_is_found_by_its_text(venue):
    fake, ex = venue
    o = await ex.create_order(SYMBOL, "market", "buy", 3, None, {"clientOrderId": "chxabc"})
    assert (o["status"], o["filled"], o["clientOrderId"]) == ("closed", 3, "t-chxabc")
    assert fake.position(BTC) == 3
    [sent] = fake.calls("POST", FUT + "/orders")
    assert sent["text"] == "t-chxabc" and sent["size"] == 3 and sent["tif"] == "ioc"
    again = await ex.fetch_order(None, SYMBOL, {"clientOrderId": "t-chxabc"})
    assert again["id"] == o["id"]


async def test_a_reused_text_is_taken_and_the_later_order_wins(venue):
    fake, ex = venue
    first = await ex.create_order(SYMBOL, "market", "buy", 1, None, {"clientOrderId": "chxd"})
    second = await ex.create_order(SYMBOL, "market", "buy", 2, None, {"clientOrderId": "chxd"})
    assert first["id"] != second["id"] and fake.position(BTC) == 3
    found = await ex.fetch_order(None, SYMBOL, {"clientOrderId": "chxd"})
    assert found["id"] == second["id"]


async def test_a_text_is_not_found_an_hour_after_the_order_ended(venue):
    fake, ex = venue
    await ex.create_order(SYMBOL, "market", "buy", 1, None, {"clientOrderId": "chxold"})
    fake.orders[-1]["finish_time"] -= 3601
    with pytest.raises(ccxt.OrderNotFound):
        await ex.fetch_order(None, SYMBOL, {"clientOrderId": "chxold"})


async def test_stop_loss_params_on_an_entry_are_ignored_by_gate(venue):
    fake, ex = venue
    await ex.create_order(SYMBOL, "market", "buy", 1, None, {"stopLoss": {"triggerPrice": 1}})
    assert fake.open_price_orders() == [] and fake.position(BTC) == 1  # naked: the trap


async def test_price_orders_are_listed_fired_and_cancelled_by_id(venue):
    fake, ex = venue
    await ex.create_order(SYMBOL, "market", "buy", 2, None, {"clientOrderId": "chxe"})
    stop = await ex.create_order(SYMBOL, "market", "sell", 2, None, {
        "stopLossPrice": 49_000, "reduceOnly": True, "clientOrderId": "t-chxs"})
    target = await ex.create_order(SYMBOL, "market", "sell", 2, None, {
        "takeProfitPrice": 52_000, "reduceOnly": True, "clientOrderId": "t-chxt"})
    [body] = fake.calls("POST", FUT + "/price_orders")[:1]
    assert body["trigger"]["rule"] == 2 and body["initial"]["text"] == "t-chxs"
    listed = await ex.fetch_open_orders(None, None, None, {"trigger": True})
    # initial.text is documented as the order's source (web, api, app): our id is not kept.
    assert {o["clientOrderId"] for o in listed} == {"api"}
    await ex.cancel_order(target["id"], SYMBOL, {"trigger": True})
    fake.candle(BTC, 50_100, 48_900, 49_000)
    assert fake.position(BTC) == 0 and fake.open_price_orders() == []
    done = await ex.fetch_closed_orders(SYMBOL, None, None, {"trigger": True})
    assert {o["id"]: o["status"] for o in done} == {stop["id"]: "closed",
                                                   target["id"]: "canceled"}


@pytest.mark.parametrize(("side", "params", "error"), [
    ("sell", {"stopLossPrice": 51_000}, ccxt.InvalidOrder),   # AUTO_TRIGGER_PRICE_LESS_LAST
    ("buy", {"stopLossPrice": 49_000}, ccxt.InvalidOrder),    # ..._GREATE_LAST
])
async def test_a_crossed_trigger_is_refused(venue, side, params, error):
    fake, ex = venue
    with pytest.raises(error, match="AUTO_TRIGGER_PRICE"):
        await ex.create_order(SYMBOL, "market", side, 1, None, {**params, "reduceOnly": True})


async def test_cross_margin_is_leverage_0_and_a_cross_limit(venue):
    fake, ex = venue
    await ex.set_leverage(20, SYMBOL, {"marginMode": "cross"})
    assert fake.positions[BTC].leverage == "0" and fake.positions[BTC].cross_limit == "20"


# -- labels -> ccxt exceptions -------------------------------------------------------------------

@pytest.mark.parametrize(("status", "error"), [
    (429, ccxt.RateLimitExceeded), (500, ccxt.ExchangeNotAvailable),
    (502, ccxt.ExchangeNotAvailable), (504, ccxt.RequestTimeout)])
async def test_server_answers_become_retryable_ccxt_errors(venue, status, error):
    fake, ex = venue
    fake.fail(FUT + "/positions", status)
    with pytest.raises(error):
        await ex.fetch_positions()


async def test_auth_labels_become_authentication_errors():
    fake = FakeGate(demo=True)  # testnet keys only: the production pair is an INVALID_KEY
    prod = _exchange(await fake.start())
    demo = _exchange(fake.url, demo=True)
    try:
        with pytest.raises(ccxt.AuthenticationError, match="INVALID_KEY"):
            await prod.fetch_positions()
        await demo.load_markets()
        assert await demo.fetch_positions() == []
        fake.skew_ms = 120_000
        with pytest.raises(ccxt.AuthenticationError, match="REQUEST_EXPIRED"):
            await demo.fetch_positions()
    finally:
        await prod.close()
        await demo.close()
        await fake.stop()


async def test_an_unknown_order_is_order_not_found(venue):
    fake, ex = venue
    with pytest.raises(ccxt.OrderNotFound):
        await ex.fetch_order(None, SYMBOL, {"clientOrderId": "chxnone"})
    with pytest.raises(ccxt.OrderNotFound):
        await ex.cancel_order("123", SYMBOL, {"trigger": True})
