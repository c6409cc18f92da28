"""The fake BingX answers ccxt's bingx class (4.5.90) the way the venue's docs say, for real over
HTTP; and which ccxt exception each of its codes becomes."""
from __future__ import annotations

import time

import pytest
from ccxt.async_support.bingx import bingx  # the module itself: the lean package may not list it

from exchanges.ccxt_lean import ccxt
from exchanges.urls import override_hosts
from tests.fakes.bingx import (
    API_KEY,
    DEMO_API_KEY,
    DEMO_SECRET,
    ORDER,
    SECRET,
    SWAP,
    FakeBingX,
)

SYMBOL, BTC = "BTC/USDT:USDT", "BTC-USDT"
MIN = 60_000
pytestmark = pytest.mark.slow  # a venue fake's own conformance to its docs over real HTTP


def _exchange(url: str, *, demo: bool = False) -> bingx:
    """ccxt's bingx pointed at the fake, as exchanges/urls.py does for every venue."""
    key, secret = (DEMO_API_KEY, DEMO_SECRET) if demo else (API_KEY, SECRET)
    ex = bingx({"apiKey": key, "secret": secret, "enableRateLimit": False,
                "has": {"fetchCurrencies": False}, "options": {"defaultType": "swap"}})
    ex.set_sandbox_mode(True)  # swap markets only (what the venue's client asks for)
    override_hosts(ex, url)
    return ex


@pytest.fixture
async def venue():
    fake = FakeBingX(now_ms=int(time.time() * 1000))
    ex = _exchange(await fake.start())
    await ex.load_markets()
    yield fake, ex
    await ex.close()
    await fake.stop()


def test_ccxt_sandbox_is_the_vst_host():
    ex = bingx()
    ex.set_sandbox_mode(True)
    assert ex.implode_hostname(ex.urls["api"]["swap"]) == "https://open-api-vst.bingx.com/openApi"


# -- market data -------------------------------------------------------------------------------

async def test_markets_are_usdt_perpetuals_counted_in_coins(venue):
    fake, ex = venue
    btc = ex.markets[SYMBOL]
    assert (btc["id"], btc["contractSize"], btc["precision"]["amount"], btc["swap"]) == (
        BTC, 1.0, 0.0001, True)
    assert btc["active"] and btc["limits"]["amount"]["min"] == 0.0001


async def test_time_and_tickers(venue):
    fake, ex = venue
    fake.set_now(1_700_000_000_123)
    assert await ex.fetch_time() == 1_700_000_000_123
    tickers = await ex.fetch_tickers()
    assert tickers[SYMBOL]["quoteVolume"] == 50_000_000


async def test_candles_from_start_oldest_first_with_the_forming_one_last(venue):
    fake, ex = venue
    now = fake.now_ms()
    start = now - now % MIN - 4 * MIN
    rows = await ex.fetch_ohlcv(SYMBOL, "1m", start, 10)
    assert [r[0] for r in rows] == [start + i * MIN for i in range(5)]  # the last one forms
    [call] = fake.calls("GET", SWAP + "/v3/quote/klines")
    assert call["startTime"] == str(start - 1) and call["limit"] == "10"  # ccxt's since - 1
    last = await ex.fetch_ohlcv(SYMBOL, "1m", None, 3, {"until": start})
    assert [r[0] for r in last] == [start - 2 * MIN, start - MIN, start]
    with pytest.raises(ccxt.ExchangeError, match="1440"):
        await ex.swapV3PublicGetQuoteKlines({"symbol": BTC, "interval": "1m", "limit": 1441})


# -- trading -------------------------------------------------------------------------------------

async def test_a_market_order_fills_in_coins_and_its_id_is_stored_lower_cased(venue):
    fake, ex = venue
    o = await ex.create_order(SYMBOL, "market", "buy", 0.003, None,
                              {"clientOrderId": "ChxAbc"})
    assert (o["status"], o["filled"], o["clientOrderId"]) == ("closed", 0.003, "chxabc")
    [sent] = fake.calls("POST", ORDER)
    assert sent["positionSide"] == "BOTH" and sent["clientOrderID"] == "ChxAbc"  # ccxt's key
    assert fake.position(BTC) == 0.003
    with pytest.raises(ccxt.DuplicateOrderId):
        await ex.create_order(SYMBOL, "market", "buy", 0.001, None, {"clientOrderId": "CHXABC"})


async def test_stops_keep_no_client_id_and_may_not_exceed_the_position(venue):
    fake, ex = venue
    await ex.create_order(SYMBOL, "market", "buy", 0.002, None, {"clientOrderId": "chxe"})
    stop = await ex.create_order(SYMBOL, "market", "sell", 0.002, None, {
        "stopLossPrice": 49_000, "reduceOnly": True, "clientOrderId": "chxs"})
    assert stop["clientOrderId"] in (None, "") and fake.open_orders()[0]["type"] == "STOP_MARKET"
    with pytest.raises(ccxt.BadRequest, match="accumulative"):  # 80001
        await ex.create_order(SYMBOL, "market", "sell", 0.001, None, {
            "stopLossPrice": 48_000, "reduceOnly": True})
    listed = await ex.fetch_open_orders()
    assert [(o["id"], o["stopLossPrice"]) for o in listed] == [(stop["id"], 49_000)]
    fake.candle(BTC, 50_100, 48_900, 49_000)
    assert fake.position(BTC) == 0
    done = await ex.fetch_order(stop["id"], SYMBOL)
    assert (done["status"], done["average"]) == ("closed", 49_000)


@pytest.mark.parametrize(("side", "params", "code"), [
    ("sell", {"stopLossPrice": 51_000}, "110411"), ("sell", {"takeProfitPrice": 49_000}, "110413"),
])
async def test_a_crossed_trigger_is_a_plain_exchange_error(venue, side, params, code):
    fake, ex = venue
    await ex.create_order(SYMBOL, "market", "buy", 0.001, None, {})
    with pytest.raises(ccxt.ExchangeError, match=code) as err:  # the trap: ccxt has no code
        await ex.create_order(SYMBOL, "market", side, 0.001, None, {**params, "reduceOnly": True})
    assert type(err.value) is ccxt.ExchangeError


async def test_nothing_to_reduce_and_unknown_orders(venue):
    fake, ex = venue
    with pytest.raises(ccxt.InvalidOrder, match="101205"):
        await ex.create_order(SYMBOL, "market", "sell", 0.001, None, {"reduceOnly": True})
    with pytest.raises(ccxt.OrderNotFound):
        await ex.fetch_order("123", SYMBOL)
    with pytest.raises(ccxt.OrderNotFound):
        await ex.cancel_order("123", SYMBOL)


# -- codes -> ccxt exceptions ---------------------------------------------------------------------

@pytest.mark.parametrize(("status", "error"), [
    (429, ccxt.OperationFailed),  # its body's 100410 wins over the status: rate limited here
    (502, ccxt.ExchangeNotAvailable), (504, ccxt.RequestTimeout)])
async def test_server_answers_become_retryable_ccxt_errors(venue, status, error):
    fake, ex = venue
    fake.fail(SWAP + "/v2/user/positions", status)
    with pytest.raises(error):
        await ex.fetch_positions()


async def test_keys_and_a_stale_timestamp():
    fake = FakeBingX(demo=True)  # VST keys only: the production pair is an incorrect apiKey
    prod = _exchange(await fake.start())
    demo = _exchange(fake.url, demo=True)
    try:
        await demo.load_markets()
        with pytest.raises(ccxt.AuthenticationError, match="100413"):
            await prod.fetch_positions()
        assert await demo.fetch_positions() == []
        demo.secret = "wrong"
        with pytest.raises(ccxt.AuthenticationError, match="100001"):
            await demo.fetch_positions()
        demo.secret = DEMO_SECRET
        fake.skew_ms = 60_000
        with pytest.raises(ccxt.BadSymbol, match="100421"):  # the trap: our clock, not a pair
            await demo.fetch_positions()
    finally:
        await prod.close()
        await demo.close()
        await fake.stop()
