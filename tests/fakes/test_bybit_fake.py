"""ccxt's async bybit class, for real, against the local Bybit V5 fake (loopback only)."""
from __future__ import annotations

import time

import aiohttp
import numpy as np
import pandas as pd
import pytest
from ccxt.async_support.bybit import bybit as Bybit
from ccxt.base import errors

from exchanges.urls import override_hosts
from tests.fakes.bybit import API_KEY, SECRET, FakeBybit

pytestmark = pytest.mark.slow  # a venue fake's own conformance to its docs: ~12 s of real HTTP

SYMBOL = "BTC/USDT:USDT"
MINUTE = 60_000
T0 = 1_700_000_000_000 - 1_700_000_000_000 % (1440 * MINUTE)  # a UTC midnight


def one_minute(start: int, count: int) -> pd.DataFrame:
    """Deterministic 1m candles from `start`."""
    ts = start + np.arange(count, dtype=np.int64) * MINUTE
    close = 50_000 + (np.arange(count) % 97) * 10.0
    return pd.DataFrame({"timestamp": ts, "open": close - 5, "high": close + 20,
                         "low": close - 20, "close": close, "volume": 1.0 + np.arange(count) % 5})


def client(fake: FakeBybit, *, demo: bool = False, secret: str = SECRET, public: bool = False,
           **options) -> Bybit:
    """A ccxt bybit pointed at the fake the way exchanges/urls.py override_hosts does."""
    keys = {} if public else {"apiKey": API_KEY, "secret": secret}
    ex = Bybit({**keys, "enableRateLimit": False, "timeout": 3000,
                "options": {"defaultType": "swap", "defaultSubType": "linear", **options}})
    if demo:
        ex.enable_demo_trading(True)
    override_hosts(ex, fake.url)
    return ex


@pytest.fixture
async def fake():
    server = FakeBybit()
    await server.start()
    yield server
    await server.stop()


@pytest.fixture
async def ex(fake):
    exchange = client(fake, fetchMarkets={"types": ["linear"]})
    yield exchange
    await exchange.close()


async def raw_get(fake: FakeBybit, path: str, **params) -> dict:
    """An unsigned GET straight at the fake."""
    async with aiohttp.ClientSession() as session:
        async with session.get(fake.url + path, params=params) as response:
            return await response.json()


# -- market data --------------------------------------------------------------------------------

async def test_load_markets_reads_filters_from_every_default_category(fake):
    exchange = client(fake)  # ccxt's default: spot, linear, inverse and BTC/ETH/SOL options
    try:
        markets = await exchange.load_markets()
    finally:
        await exchange.close()
    market = markets[SYMBOL]
    assert market["id"] == "BTCUSDT" and market["swap"] and market["linear"]
    assert market["precision"] == {"amount": 0.001, "price": 0.1}
    assert market["limits"]["amount"]["min"] == 0.001
    assert market["limits"]["cost"]["min"] == 5.0
    assert market["limits"]["leverage"]["max"] == 100.0
    categories = {p["category"] for p in fake.calls("GET", "/v5/market/instruments-info")}
    assert categories == {"spot", "linear", "inverse", "option"}


async def test_instruments_info_pages_with_a_cursor(fake):
    first = await raw_get(fake, "/v5/market/instruments-info", category="linear", limit="2")
    assert [r["symbol"] for r in first["result"]["list"]] == ["BTCUSDT", "ETHUSDT"]
    cursor = first["result"]["nextPageCursor"]
    second = await raw_get(fake, "/v5/market/instruments-info", category="linear", limit="2",
                           cursor=cursor)
    assert [r["symbol"] for r in second["result"]["list"]] == ["LTCUSDT"]
    assert second["result"]["nextPageCursor"] == ""


async def test_fetch_time_and_tickers_answer_the_fake_clock_and_turnover(fake, ex):
    await ex.load_markets()  # signed (coin info): a frozen clock far from now would refuse it
    fake.set_now(T0 + 123)
    assert await ex.fetch_time() == T0 + 123
    ticker = await ex.fetch_ticker(SYMBOL)
    assert ticker["quoteVolume"] == 1e9 and ticker["last"] == 50_000.0


async def test_kline_rows_follow_the_documented_window_rules():
    fake = FakeBybit({("BTCUSDT", "1"): one_minute(T0, 600)}, now_ms=T0 + 599 * MINUTE + 30_000)
    await fake.start()
    try:
        latest = await raw_get(fake, "/v5/market/kline", category="linear", symbol="BTCUSDT",
                               interval="1")
        rows = latest["result"]["list"]
        assert len(rows) == 200 and all(len(r) == 7 and isinstance(r[0], str) for r in rows)
        assert int(rows[0][0]) == T0 + 599 * MINUTE  # newest first, forming candle included
        assert int(rows[0][0]) > int(rows[1][0])
        mid = await raw_get(fake, "/v5/market/kline", category="linear", symbol="BTCUSDT",
                            interval="5", start=str(T0 + 7 * MINUTE), end=str(T0 + 20 * MINUTE))
        assert [int(r[0]) for r in mid["result"]["list"]] == [
            T0 + 20 * MINUTE, T0 + 15 * MINUTE, T0 + 10 * MINUTE, T0 + 5 * MINUTE]
        oldest = await raw_get(fake, "/v5/market/kline", category="linear", symbol="BTCUSDT",
                               interval="1", start=str(T0), limit="3")
        assert [int(r[0]) for r in oldest["result"]["list"]] == [
            T0 + 2 * MINUTE, T0 + MINUTE, T0]
        capped = await raw_get(fake, "/v5/market/kline", category="linear", symbol="ETHUSDT",
                               interval="1", limit="5000")
        assert len(capped["result"]["list"]) == 1000
        for bad in ("480", "4320", "1h"):
            answer = await raw_get(fake, "/v5/market/kline", category="linear",
                                   symbol="BTCUSDT", interval=bad)
            assert answer["retCode"] == 10001
    finally:
        await fake.stop()


async def test_fetch_ohlcv_pages_a_long_range_up_to_the_forming_candle():
    now = T0 + 3 * 1440 * MINUTE + 125 * MINUTE + 10_000
    fake = FakeBybit({("BTCUSDT", "1"): one_minute(T0, 3 * 1440 + 200)}, now_ms=now)
    await fake.start()
    exchange = client(fake, public=True, fetchMarkets={"types": ["linear"]})
    try:
        candles, since = [], T0
        while True:
            page = await exchange.fetch_ohlcv(SYMBOL, "1m", since=since, limit=1000)
            if not page:
                break
            candles += page
            since = page[-1][0] + MINUTE
            if len(page) < 1000:
                break
        assert [c[0] for c in candles] == list(range(T0, now - now % MINUTE + 1, MINUTE))
        hourly = await exchange.fetch_ohlcv(SYMBOL, "1h", since=T0, limit=1000)
        assert all(c[0] % (60 * MINUTE) == 0 for c in hourly)
        forming = hourly[-1]
        assert forming[0] == now - now % (60 * MINUTE)
        assert forming[4] == candles[-1][4]  # its close is the last traded (1m) close
        assert sum(c[5] for c in candles if c[0] >= forming[0]) == pytest.approx(forming[5])
        daily = await exchange.fetch_ohlcv(SYMBOL, "1d", limit=10)
        assert [c[0] for c in daily] == [T0 + i * 1440 * MINUTE for i in range(4)]
        # ccxt's own paging walks back from the host clock unless `until` anchors it at since
        paged = await exchange.fetch_ohlcv(SYMBOL, "1m", since=T0, params={
            "paginate": True, "until": now})
        assert [c[0] for c in paged] == [c[0] for c in candles]
    finally:
        await exchange.close()
        await fake.stop()


async def test_synthetic_candles_serve_any_symbol_deterministically(fake, ex):
    await ex.load_markets()
    fake.set_now(T0 + 30 * MINUTE)
    first = await ex.fetch_ohlcv("ETH/USDT:USDT", "15m", limit=5)
    again = await ex.fetch_ohlcv("ETH/USDT:USDT", "15m", limit=5)
    assert first == again and len(first) == 5
    assert first[-1][0] == T0 + 30 * MINUTE and all(c[2] >= c[3] for c in first)


# -- trading ------------------------------------------------------------------------------------

async def test_market_order_with_attached_stop_and_target_protects_the_position(fake, ex):
    order = await ex.create_order(SYMBOL, "market", "buy", 0.01, params={
        "clientOrderId": "sig-1", "stopLoss": {"triggerPrice": 49_000},
        "takeProfit": {"triggerPrice": 52_000}, "slTriggerBy": "MarkPrice"})
    assert order["id"] and order["clientOrderId"] == "sig-1"
    sent = fake.calls("POST", "/v5/order/create")[-1]
    assert sent["orderLinkId"] == "sig-1" and sent["stopLoss"] == "49000"
    assert sent["category"] == "linear" and sent["orderType"] == "Market"
    [position] = await ex.fetch_positions([SYMBOL])
    assert position["contracts"] == 0.01 and position["side"] == "long"
    assert position["stopLossPrice"] == 49_000 and position["takeProfitPrice"] == 52_000
    fake.candle("BTCUSDT", high=50_100, low=48_900, close=49_100)
    assert fake.position("BTCUSDT") == 0
    trades = await ex.fetch_my_trades(SYMBOL)
    assert [t["side"] for t in trades] == ["buy", "sell"]
    assert trades[0]["fee"]["cost"] == pytest.approx(50_000 * 0.01 * 0.00055)
    assert trades[1]["price"] == 49_000
    balance = await ex.fetch_balance()
    expected = 10_000 - 10 - (500 + 490) * 0.00055
    assert balance["USDT"]["total"] == pytest.approx(expected)
    history = await ex.fetch_positions_history([SYMBOL])
    assert history[0]["realizedPnl"] == pytest.approx(-10 - (500 + 490) * 0.00055)


async def test_attached_stop_on_the_wrong_side_is_a_10001_bad_request(fake, ex):
    with pytest.raises(errors.BadRequest) as caught:
        await ex.create_order(SYMBOL, "market", "buy", 0.01, params={
            "clientOrderId": "bad-sl", "stopLoss": {"triggerPrice": 51_000}})
    assert '"retCode": 10001' in str(caught.value)
    assert fake.position("BTCUSDT") == 0 and not fake.orders


async def test_conditional_reduce_only_stop_waits_then_closes_the_position(fake, ex):
    await ex.create_order(SYMBOL, "market", "buy", 0.02, params={"clientOrderId": "entry-1"})
    stop = await ex.create_order(SYMBOL, "market", "sell", 0.02, params={
        "clientOrderId": "stop-1", "triggerPrice": 48_000, "triggerDirection": "descending",
        "reduceOnly": True})
    sent = fake.calls("POST", "/v5/order/create")[-1]
    assert sent["triggerDirection"] == 2 and sent["reduceOnly"] is True
    [waiting] = await ex.fetch_open_orders(SYMBOL, params={"orderLinkId": "stop-1"})
    assert waiting["id"] == stop["id"] and waiting["status"] == "open"
    assert waiting["triggerPrice"] == 48_000 and waiting["stopLossPrice"] == 48_000
    fake.set_price("BTCUSDT", 48_500)
    assert fake.position("BTCUSDT") == pytest.approx(0.02)
    fake.candle("BTCUSDT", high=48_600, low=47_900, close=48_100)
    assert fake.position("BTCUSDT") == 0
    [done] = await ex.fetch_closed_orders(SYMBOL, params={"orderLinkId": "stop-1"})
    assert done["status"] == "closed" and done["average"] == 48_000 and done["filled"] == 0.02


async def test_stop_loss_price_param_places_a_reduce_only_trigger_order(fake, ex):
    await ex.create_order(SYMBOL, "market", "sell", 0.01, params={"clientOrderId": "short-1"})
    await ex.create_order(SYMBOL, "market", "buy", 0.01, params={
        "clientOrderId": "short-1-sl", "stopLossPrice": 51_000})
    sent = fake.calls("POST", "/v5/order/create")[-1]
    assert sent["triggerDirection"] == 1 and sent["reduceOnly"] is True
    with pytest.raises(errors.InvalidOrder):  # 110093: a falling trigger above the price
        await ex.create_order(SYMBOL, "market", "sell", 0.01, params={
            "triggerPrice": 52_000, "triggerDirection": "descending", "reduceOnly": True})


async def test_trading_stop_needs_position_idx(fake, ex):
    await ex.create_order(SYMBOL, "market", "buy", 0.01, params={"clientOrderId": "e-2"})
    with pytest.raises(errors.BadRequest):
        await ex.create_order(SYMBOL, "market", "sell", None, params={
            "stopLossPrice": 49_000, "takeProfitPrice": 53_000})
    await ex.create_order(SYMBOL, "market", "sell", None, params={
        "stopLossPrice": 49_000, "takeProfitPrice": 53_000, "positionIdx": 0})
    sent = fake.calls("POST", "/v5/position/trading-stop")[-1]
    assert sent["tpslMode"] == "Full" and sent["stopLoss"] == "49000"
    [position] = await ex.fetch_positions([SYMBOL])
    assert position["stopLossPrice"] == 49_000 and position["takeProfitPrice"] == 53_000


async def test_lookup_by_client_id_and_the_order_id_none_trap(fake, ex):
    placed = await ex.create_order(SYMBOL, "market", "buy", 0.01, params={
        "clientOrderId": "look-1"})
    with pytest.raises(errors.OrderNotFound):  # ccxt sends orderId=None, matched first
        await ex.fetch_order(None, SYMBOL, {"orderLinkId": "look-1", "acknowledged": True})
    assert fake.calls("GET", "/v5/order/realtime")[-1]["orderId"] == "None"
    found = await ex.fetch_order("", SYMBOL, {"orderLinkId": "look-1", "acknowledged": True})
    assert found["id"] == placed["id"] and found["status"] == "closed"
    by_id = await ex.fetch_order(placed["id"], SYMBOL, {"acknowledged": True})
    assert by_id["clientOrderId"] == "look-1" and by_id["filled"] == 0.01
    [listed] = await ex.fetch_open_orders(SYMBOL, params={"orderLinkId": "look-1"})
    assert listed["status"] == "closed"  # openOnly is ignored when an id is given
    assert await ex.fetch_open_orders(SYMBOL) == []
    fake.restart()
    assert await ex.fetch_open_orders(SYMBOL, params={"orderLinkId": "look-1"}) == []
    [closed] = await ex.fetch_closed_orders(SYMBOL, params={"orderLinkId": "look-1"})
    assert closed["id"] == placed["id"]


async def test_client_id_rules_duplicate_and_length(fake, ex):
    await ex.create_order(SYMBOL, "market", "buy", 0.01, params={"clientOrderId": "dup-1"})
    with pytest.raises(errors.InvalidOrder) as caught:  # the first one already filled
        await ex.create_order(SYMBOL, "market", "buy", 0.01, params={"clientOrderId": "dup-1"})
    assert "110072" in str(caught.value) and fake.position("BTCUSDT") == pytest.approx(0.01)
    with pytest.raises(errors.BadRequest):
        await ex.create_order(SYMBOL, "market", "buy", 0.01, params={"clientOrderId": "x" * 37})
    await ex.create_order(SYMBOL, "market", "buy", 0.01, params={"clientOrderId": "y" * 36})


async def test_cancel_order_cancels_a_waiting_stop_but_not_a_filled_order(fake, ex):
    entry = await ex.create_order(SYMBOL, "market", "buy", 0.01, params={"clientOrderId": "c-1"})
    stop = await ex.create_order(SYMBOL, "market", "sell", 0.01, params={
        "clientOrderId": "c-1-sl", "triggerPrice": 45_000, "triggerDirection": "descending",
        "reduceOnly": True})
    await ex.cancel_order(stop["id"], SYMBOL)
    [gone] = await ex.fetch_canceled_and_closed_orders(SYMBOL, params={"orderLinkId": "c-1-sl"})
    assert gone["status"] == "canceled"
    with pytest.raises(errors.OrderNotFound):
        await ex.cancel_order(entry["id"], SYMBOL)
    with pytest.raises(errors.OrderNotFound):
        await ex.cancel_order(None, SYMBOL, {"orderLinkId": "c-1-sl"})


async def test_flat_position_deactivates_its_reduce_only_orders(fake, ex):
    await ex.create_order(SYMBOL, "market", "buy", 0.01, params={"clientOrderId": "f-1"})
    await ex.create_order(SYMBOL, "market", "sell", 0.01, params={
        "clientOrderId": "f-1-tp", "triggerPrice": 55_000, "triggerDirection": "ascending",
        "reduceOnly": True})
    await ex.create_order(SYMBOL, "market", "sell", 0.01, params={
        "clientOrderId": "f-1-exit", "reduceOnly": True})
    assert fake.open_orders("BTCUSDT") == []
    with pytest.raises(errors.InvalidOrder):  # 110017: nothing left to reduce
        await ex.create_order(SYMBOL, "market", "sell", 0.01, params={"reduceOnly": True})


async def test_leverage_margin_mode_and_position_mode(fake, ex):
    await ex.set_leverage(5, SYMBOL)
    assert fake.positions["BTCUSDT"].leverage == "5"
    with pytest.raises(errors.BadRequest) as caught:  # 110043: already 5, counts as done
        await ex.set_leverage(5, SYMBOL)
    assert "110043" in str(caught.value)
    with pytest.raises(errors.BadRequest):
        await ex.set_leverage(150, SYMBOL)
    await ex.set_margin_mode("isolated", SYMBOL)  # UTA: the account-wide endpoint
    assert fake.margin_mode == "ISOLATED_MARGIN"
    ex.options.update({"enableUnifiedMargin": False, "enableUnifiedAccount": False})
    await ex.set_margin_mode("isolated", SYMBOL, {"leverage": 5})
    assert fake.calls("POST", "/v5/position/switch-isolated")[-1]["tradeMode"] == 1
    with pytest.raises(errors.MarginModeAlreadySet):
        await ex.set_margin_mode("isolated", SYMBOL, {"leverage": 5})
    with pytest.raises(errors.NoChange):
        await ex.set_position_mode(False, SYMBOL)


async def test_positions_balance_and_insufficient_funds(fake, ex):
    assert (await ex.fetch_positions([SYMBOL]))[0]["contracts"] == 0
    await ex.create_order(SYMBOL, "market", "sell", 0.01, params={"clientOrderId": "p-1"})
    [short] = await ex.fetch_positions()  # settleCoin=USDT: open positions only
    assert short["side"] == "short" and short["entryPrice"] == 50_000
    balance = await ex.fetch_balance()
    assert balance["USDT"]["used"] == pytest.approx(50.0)  # 500 notional at 10x
    with pytest.raises(errors.InsufficientFunds):
        await ex.create_order(SYMBOL, "market", "buy", 5, params={"clientOrderId": "p-2"})


async def test_answer_new_reads_unfilled_until_revealed(fake, ex):
    fake.answer_new = 1
    placed = await ex.create_order(SYMBOL, "market", "buy", 0.01, params={"clientOrderId": "n-1"})
    first = await ex.fetch_order(placed["id"], SYMBOL, {"acknowledged": True})
    assert first["status"] == "open" and first["filled"] == 0
    second = await ex.fetch_order(placed["id"], SYMBOL, {"acknowledged": True})
    assert second["status"] == "closed" and second["filled"] == 0.01


# -- faults, auth and error mapping -------------------------------------------------------------

async def test_lost_answer_still_places_the_order(fake, ex):
    await ex.load_markets()
    fake.fail("/v5/order/create", 504, lost=True)
    with pytest.raises(errors.RequestTimeout):
        await ex.create_order(SYMBOL, "market", "buy", 0.01, params={"clientOrderId": "lost-1"})
    [order] = await ex.fetch_closed_orders(SYMBOL, params={"orderLinkId": "lost-1"})
    assert order["filled"] == 0.01
    fake.fail("/v5/order/create", None, lost=True)  # processed, then the connection drops
    with pytest.raises(errors.ExchangeNotAvailable):
        await ex.create_order(SYMBOL, "market", "buy", 0.01, params={"clientOrderId": "lost-2"})
    assert fake.position("BTCUSDT") == pytest.approx(0.02)


async def test_server_errors_and_timeouts(fake, ex):
    await ex.load_markets()
    fake.fail("/v5/market/kline", 502)
    with pytest.raises(errors.ExchangeNotAvailable):
        await ex.fetch_ohlcv(SYMBOL, "1m")
    fake.fail("/v5/market/kline", 503)
    with pytest.raises(errors.ExchangeNotAvailable):
        await ex.fetch_ohlcv(SYMBOL, "1m")
    ex.timeout = 200
    fake.fail("/v5/market/time", status=None, delay_s=0.5)
    with pytest.raises(errors.RequestTimeout):
        await ex.fetch_time()


async def test_rate_limit_answers_carry_code_and_headers(fake, ex):
    await ex.load_markets()
    for status in (200, 403):
        fake.rate_limit("/v5/position/list", status=status)
        with pytest.raises(errors.RateLimitExceeded):
            await ex.fetch_positions([SYMBOL])
    async with aiohttp.ClientSession() as session:
        fake.rate_limit("/v5/market/time", status=403)
        async with session.get(fake.url + "/v5/market/time") as response:
            assert response.status == 403
            assert (await response.json())["retCode"] == 10006
            assert response.headers["X-Bapi-Limit-Status"] == "0"
            assert int(response.headers["X-Bapi-Limit-Reset-Timestamp"]) > fake.now_ms() - 1


@pytest.mark.parametrize("code, msg, expected", [
    (10001, "params error", errors.BadRequest),
    (10001, "Not supported symbols", errors.BadSymbol),
    (10002, "invalid request, please check your server timestamp", errors.InvalidNonce),
    (10003, "API key is invalid.", errors.AuthenticationError),
    (10004, "error sign!", errors.AuthenticationError),
    (10006, "Too many visits. Exceeded the API Rate Limit.", errors.RateLimitExceeded),
    (10016, "Internal server error.", errors.ExchangeError),
    (10032, "Demo trading are not supported.", errors.ExchangeError),
    (110001, "order not exists or too late to cancel", errors.OrderNotFound),
    (110007, "ab not enough for new order", errors.InsufficientFunds),
    (110017, "current position is zero, cannot fix reduce-only order qty", errors.InvalidOrder),
    (110043, "leverage not modified", errors.BadRequest),
    (110072, "OrderLinkedID is duplicate", errors.InvalidOrder),
    (110092, "expect Rising, but trigger_price[1] <= current[2]", errors.InvalidOrder),
    (110094, "Order does not meet minimum order value 5USDT", errors.InvalidOrder),
])
async def test_ccxt_maps_each_ret_code_to_its_class(fake, ex, code, msg, expected):
    await ex.load_markets()
    fake.reject("/v5/order/create", code, msg)
    with pytest.raises(expected) as caught:
        await ex.create_order(SYMBOL, "market", "buy", 0.01, params={"clientOrderId": "m-1"})
    assert type(caught.value) is expected  # the exact class, not a subclass


async def test_bad_signature_and_stale_timestamp_are_refused(fake):
    wrong = client(fake, secret="not-the-secret", fetchMarkets={"types": ["linear"]})
    try:
        with pytest.raises(errors.AuthenticationError):
            await wrong.fetch_balance()
        assert fake.requests[-1].ret_code in (10004,)
    finally:
        await wrong.close()
    fake.skew_ms = 120_000  # the host clock is two minutes behind the exchange
    stale = client(fake, fetchMarkets={"types": ["linear"]})
    try:
        with pytest.raises(errors.InvalidNonce):
            await stale.fetch_balance()
        await stale.load_time_difference()
        assert (await stale.fetch_balance())["USDT"]["total"] == 10_000
    finally:
        await stale.close()


async def test_demo_switch_uses_api_demo_and_skips_account_probes():
    probe = Bybit({"apiKey": API_KEY, "secret": SECRET})
    probe.enable_demo_trading(True)
    assert probe.implode_hostname(probe.urls["api"]["private"]) == "https://api-demo.bybit.com"
    await probe.close()
    fake = FakeBybit(demo=True)
    await fake.start()
    exchange = client(fake, demo=True)
    try:
        await exchange.load_markets()
        await exchange.create_order(SYMBOL, "market", "buy", 0.01, params={"clientOrderId": "d-1"})
        await exchange.fetch_balance()
        assert "/v5/user/query-api" not in fake.paths()
        assert "/v5/account/info" not in fake.paths()
        assert "/v5/asset/coin/query-info" not in fake.paths()
        with pytest.raises(errors.ExchangeError) as caught:  # plain ExchangeError, 10032
            await exchange.privateGetV5UserQueryApi()
        assert type(caught.value) is errors.ExchangeError and "10032" in str(caught.value)
    finally:
        await exchange.close()
        await fake.stop()


async def test_live_probes_query_api_and_coin_info(fake):
    exchange = client(fake, fetchMarkets={"types": ["linear"]})
    try:
        await exchange.load_markets()
        await exchange.create_order(SYMBOL, "market", "buy", 0.01, params={"clientOrderId": "l-1"})
    finally:
        await exchange.close()
    assert {"/v5/user/query-api", "/v5/account/info", "/v5/asset/coin/query-info"} <= set(
        fake.paths())


async def test_latency_s_delays_every_answer():
    server = FakeBybit(latency_s=0.2)
    await server.start()
    try:
        started = time.perf_counter()
        body = await raw_get(server, "/v5/market/time")
        elapsed = time.perf_counter() - started
    finally:
        await server.stop()
    assert body["retCode"] == 0
    assert elapsed >= 0.2
