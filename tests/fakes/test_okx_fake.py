"""The fake OKX answers ccxt's okx class (4.5.90) the way the venue's docs say, for real over
HTTP."""
from __future__ import annotations

import time

import aiohttp
import numpy as np
import pandas as pd
import pytest
from ccxt.async_support.okx import okx  # the module itself: the lean package lists binance only

from exchanges.ccxt_lean import ccxt
from exchanges.urls import override_hosts
from tests.fakes.okx import API_KEY, PASSPHRASE, SECRET, FakeOKX, bar_open
from tests.shared_data import load_candles

BTC, SYMBOL = "BTC-USDT-SWAP", "BTC/USDT:USDT"
pytestmark = pytest.mark.slow  # a venue fake's own conformance to its docs: ~14 s of real HTTP

HOUR = 3_600_000


def _exchange(url: str, *, sandbox: bool = False, keys: bool = True) -> okx:
    """ccxt's okx pointed at the fake, as exchange/urls.py does for every venue."""
    creds = {"apiKey": API_KEY, "secret": SECRET, "password": PASSPHRASE} if keys else {}
    ex = okx({**creds, "enableRateLimit": False})
    if sandbox:
        ex.set_sandbox_mode(True)
    override_hosts(ex, url)
    return ex


@pytest.fixture
async def venue():
    """A running fake with its clock frozen at the host's now, and ccxt pointed at it."""
    fake = FakeOKX(now_ms=int(time.time() * 1000))
    ex = _exchange(await fake.start())
    yield fake, ex
    await ex.close()
    await fake.stop()


async def _get(url: str, path: str, **params) -> tuple[int, dict]:
    async with aiohttp.ClientSession() as s:
        async with s.get(url + path, params={k: str(v) for k, v in params.items()}) as r:
            return r.status, await r.json()


def _minutes(start: int, n: int) -> pd.DataFrame:
    ts = start + np.arange(n, dtype=np.int64) * 60_000
    close = 100.0 + np.arange(n) * 0.01
    return pd.DataFrame({"timestamp": ts, "open": close - 0.005, "high": close + 0.02,
                         "low": close - 0.02, "close": close, "volume": 1.0})


# -- public market data ------------------------------------------------------------------------

async def test_load_markets_lists_usdt_swaps_in_contracts_and_asks_currencies_with_keys(venue):
    fake, ex = venue
    markets = await ex.load_markets()
    btc = markets[SYMBOL]
    assert (btc["id"], btc["contractSize"], btc["precision"]["amount"],
            btc["precision"]["price"], btc["limits"]["amount"]["min"]) == (
        BTC, 0.01, 0.01, 0.1, 0.01)
    assert btc["linear"] and btc["swap"] and btc["settle"] == "USDT"
    kinds = sorted(p["instType"] for p in fake.calls("GET", "/api/v5/public/instruments"))
    assert kinds == ["FUTURES", "OPTION", "OPTION", "SPOT", "SWAP"]
    assert fake.calls("GET", "/api/v5/asset/currencies") == [{}]


async def test_fetch_time_answers_the_exchange_clock(venue):
    fake, ex = venue
    fake.set_now(1_700_000_000_123)
    assert await ex.fetch_time() == 1_700_000_000_123


async def test_candles_are_newest_first_with_after_older_and_before_newer(venue):
    fake, ex = venue
    now = bar_open(fake.now_ms(), "1H") + 30 * 60_000
    fake.set_now(now)
    _, page = await _get(fake.url, "/api/v5/market/candles", instId=BTC, bar="1H", limit=3)
    ts = [int(r[0]) for r in page["data"]]
    assert ts == [now - 30 * 60_000 - i * HOUR for i in range(3)]
    assert [r[8] for r in page["data"]] == ["0", "1", "1"]  # the forming candle comes first
    assert len(page["data"][0]) == 9
    _, older = await _get(fake.url, "/api/v5/market/candles", instId=BTC, bar="1H", limit=2,
                          after=ts[0])
    assert [int(r[0]) for r in older["data"]] == ts[1:3]
    _, newer = await _get(fake.url, "/api/v5/market/candles", instId=BTC, bar="1H", limit=2,
                          before=ts[2])
    assert [int(r[0]) for r in newer["data"]] == ts[0:2]
    _, window = await _get(fake.url, "/api/v5/market/candles", instId=BTC, bar="1H",
                           after=ts[0], before=ts[2])
    assert [int(r[0]) for r in window["data"]] == [ts[1]]


async def test_candles_keep_1440_bars_limit_100_by_default_and_300_at_most(venue):
    fake, ex = venue
    _, default = await _get(fake.url, "/api/v5/market/candles", instId=BTC, bar="1m")
    _, big = await _get(fake.url, "/api/v5/market/candles", instId=BTC, bar="1m", limit=1000)
    assert (len(default["data"]), len(big["data"])) == (100, 300)
    first = int(default["data"][0][0])
    _, edge = await _get(fake.url, "/api/v5/market/candles", instId=BTC, bar="1m",
                         after=first - 1438 * 60_000)
    assert [int(r[0]) for r in edge["data"]] == [first - 1439 * 60_000]
    _, gone = await _get(fake.url, "/api/v5/market/candles", instId=BTC, bar="1m",
                         after=first - 1439 * 60_000)
    assert gone == {"code": "0", "data": [], "msg": ""}
    _, history = await _get(fake.url, "/api/v5/market/history-candles", instId=BTC, bar="1m",
                            after=first - 1439 * 60_000, limit=1000)
    assert len(history["data"]) == 300
    old = FakeOKX(history_limit_max=100)  # the limit older docs give for history-candles
    await old.start()
    try:
        _, short = await _get(old.url, "/api/v5/market/history-candles", instId=BTC, limit=300)
        assert len(short["data"]) == 100
    finally:
        await old.stop()


async def test_bars_of_6h_and_more_open_on_hong_kong_time_unless_utc(venue):
    fake, ex = venue
    fake.set_now(1_739_000_000_000)  # 2025-02-08 07:33 UTC, a Saturday
    opens = {}
    for bar in ("6H", "6Hutc", "1D", "1Dutc", "1W", "1Wutc", "1M", "1Mutc"):
        _, page = await _get(fake.url, "/api/v5/market/candles", instId=BTC, bar=bar, limit=1)
        opens[bar] = pd.Timestamp(int(page["data"][0][0]), unit="ms")
    assert opens == {"6H": pd.Timestamp("2025-02-08 04:00"),
                     "6Hutc": pd.Timestamp("2025-02-08 06:00"),
                     "1D": pd.Timestamp("2025-02-07 16:00"), "1Dutc": pd.Timestamp("2025-02-08"),
                     "1W": pd.Timestamp("2025-02-02 16:00"), "1Wutc": pd.Timestamp("2025-02-03"),
                     "1M": pd.Timestamp("2025-01-31 16:00"), "1Mutc": pd.Timestamp("2025-02-01")}
    for bar in ("8H", "3D", "1h"):
        status, body = await _get(fake.url, "/api/v5/market/candles", instId=BTC, bar=bar)
        assert (status, body["code"], body["msg"]) == (400, "51000", "Parameter bar error")


async def test_fetch_ohlcv_pages_a_long_range_from_a_1m_frame_up_to_the_forming_candle(venue):
    fake, ex = venue
    now = bar_open(fake.now_ms(), "1m") + 20_000
    fake.set_now(now)
    start = now - 20_000 - 2999 * 60_000
    fake.candles = {(BTC, "1m"): _minutes(start, 3000)}
    got, since = [], start
    while True:
        page = await ex.fetch_ohlcv(SYMBOL, "1m", since=since, limit=300)
        if not page:
            break
        got += page
        since = page[-1][0] + 60_000
    assert [c[0] for c in got] == [start + i * 60_000 for i in range(3000)]
    assert got[-1][4] == pytest.approx(100.0 + 2999 * 0.01)
    assert got[-1][5] == 1.0  # volume in base currency (volCcy), not contracts
    paths = fake.paths()
    assert "/api/v5/market/history-candles" in paths and "/api/v5/market/candles" in paths
    _, latest = await _get(fake.url, "/api/v5/market/candles", instId=BTC, bar="1m", limit=1)
    assert latest["data"][0][8] == "0" and latest["data"][0][5] == "100"  # 1 BTC = 100 contracts


async def test_native_candles_are_resampled_from_real_1m_rows_on_the_utc_and_hk_grids(venue):
    fake, ex = venue
    one = load_candles("LTCUSDT-usdm-1m-2026-02.csv")
    fake.candles = {("LTC-USDT-SWAP", "1m"): one}
    fake.set_now(pd.Timestamp("2026-02-20 12:00:30").value // 10**6)
    for bar, day_open in (("1Dutc", "2026-02-19 00:00"), ("1D", "2026-02-18 16:00")):
        lo = pd.Timestamp(day_open).value // 10**6
        _, page = await _get(fake.url, "/api/v5/market/candles", instId="LTC-USDT-SWAP",
                             bar=bar, limit=1, after=lo + 1)
        row = page["data"][0]
        day = one[(one["timestamp"] >= lo) & (one["timestamp"] < lo + 86_400_000)]
        assert int(row[0]) == lo and row[8] == "1"
        assert [float(x) for x in row[1:5]] == pytest.approx(
            [day["open"].iloc[0], day["high"].max(), day["low"].min(), day["close"].iloc[-1]])


# -- trading -------------------------------------------------------------------------------------

async def test_market_entry_with_attached_stop_and_target_fills_and_leaves_an_oco(venue):
    fake, ex = venue
    order = await ex.create_order(SYMBOL, "market", "buy", 2, params={
        "clientOrderId": "sig1entry", "stopLoss": {"triggerPrice": 49_000},
        "takeProfit": {"triggerPrice": 52_000}})
    assert (order["clientOrderId"], order["status"], order["filled"]) == ("sig1entry", None, None)
    sent = fake.calls("POST", "/api/v5/trade/batch-orders")[0][0]
    assert sent["sz"] == "2" and sent["tdMode"] == "cross" and "posSide" not in sent
    assert sent["attachAlgoOrds"] == [{"slTriggerPx": "49000", "slOrdPx": "-1",
                                       "slTriggerPxType": "last", "tpTriggerPx": "52000",
                                       "tpOrdPx": "-1", "tpTriggerPxType": "last"}]
    done = await ex.fetch_order(None, SYMBOL, {"clientOrderId": "sig1entry"})
    assert (done["id"], done["status"], done["filled"], done["average"]) == (
        order["id"], "closed", 2.0, 50_000.0)
    assert done["fee"] == {"cost": 0.5, "currency": "USDT"}  # 2 x 0.01 BTC x 50,000 x 0.05 %
    protect = await ex.fetch_open_orders(SYMBOL, params={"trigger": True,
                                                         "ordType": "conditional,oco"})
    assert [(o["side"], o["amount"], o["stopLossPrice"], o["takeProfitPrice"], o["reduceOnly"])
            for o in protect] == [("sell", 2.0, 49_000.0, 52_000.0, True)]
    assert fake.open_algos()[0]["ordType"] == "oco"


async def test_attached_algo_client_id_goes_through_raw_attach_algo_ords(venue):
    fake, ex = venue
    await ex.create_order(SYMBOL, "market", "sell", 1, params={
        "clientOrderId": "sig2entry", "attachAlgoOrds": [
            {"attachAlgoClOrdId": "sig2sl", "slTriggerPx": "51000", "slOrdPx": "-1"}]})
    stop = await ex.fetch_order(None, SYMBOL, {"trigger": True, "clientOrderId": "sig2sl"})
    assert (stop["side"], stop["stopLossPrice"], stop["status"]) == ("buy", 51_000.0, "open")
    assert fake.open_algos()[0]["ordType"] == "conditional"


async def test_a_later_candle_through_the_stop_closes_the_position_with_the_loss(venue):
    fake, ex = venue
    await ex.create_order(SYMBOL, "market", "buy", 1, params={
        "clientOrderId": "sig3", "stopLoss": {"triggerPrice": 49_000},
        "takeProfit": {"triggerPrice": 52_000}})
    fake.advance(60_000)
    fake.candle(BTC, high=52_500, low=48_500, close=49_500)  # both legs in range: the stop wins
    assert fake.position(BTC) == 0
    algo = fake.algos[0]
    assert (algo["state"], algo["actualSide"], algo["actualPx"]) == ("effective", "sl", "49000")
    trades = await ex.fetch_my_trades(SYMBOL)
    assert [(t["side"], t["price"], t["info"]["fillPnl"], t["fee"]["cost"]) for t in trades] == [
        ("buy", 50_000.0, "0", 0.25), ("sell", 49_000.0, "-10", 0.245)]
    assert fake.calls("GET", "/api/v5/trade/fills-history")[0]["instType"] == "SWAP"
    balance = await ex.fetch_balance()
    assert balance["USDT"]["total"] == pytest.approx(10_000 - 10 - 0.25 - 0.245)
    assert await ex.fetch_positions([SYMBOL]) == []


async def test_conditional_reduce_only_stop_is_an_algo_order_found_by_client_id(venue):
    fake, ex = venue
    await ex.create_order(SYMBOL, "market", "buy", 1, params={"clientOrderId": "sig4"})
    stop = await ex.create_order(SYMBOL, "market", "sell", 1, params={
        "stopLossPrice": 48_000, "reduceOnly": True, "clientOrderId": "sig4sl"})
    sent = fake.calls("POST", "/api/v5/trade/order-algo")[0]
    assert (sent["ordType"], sent["slTriggerPx"], sent["slOrdPx"], sent["reduceOnly"]) == (
        "conditional", "48000", "-1", True)
    found = await ex.fetch_order(stop["id"], SYMBOL, {"trigger": True})
    assert (found["clientOrderId"], found["status"], found["reduceOnly"]) == (
        "sig4sl", "open", True)
    trap = await ex.fetch_open_orders(SYMBOL, params={"trigger": True})
    assert trap == []  # ccxt asks ordType=trigger by default: conditionals are not in it
    assert fake.calls("GET", "/api/v5/trade/orders-algo-pending")[-1]["ordType"] == "trigger"
    listed = await ex.fetch_open_orders(SYMBOL, params={"trigger": True,
                                                        "ordType": "conditional"})
    assert [o["id"] for o in listed] == [stop["id"]]
    by_id = await ex.fetch_open_orders(SYMBOL, params={
        "trigger": True, "ordType": "conditional,oco", "algoClOrdId": "sig4sl"})
    assert [o["clientOrderId"] for o in by_id] == ["sig4sl"]
    canceled = await ex.cancel_order(stop["id"], SYMBOL, {"trigger": True})
    assert canceled["id"] == stop["id"] and fake.algos[0]["state"] == "canceled"
    assert fake.calls("POST", "/api/v5/trade/cancel-algos")[0] == [
        {"algoId": stop["id"], "instId": BTC}]


@pytest.mark.parametrize("side, params, code, error", [
    ("sell", {"stopLoss": {"triggerPrice": 49_000}}, "51053", ccxt.ExchangeError),
    ("buy", {"stopLoss": {"triggerPrice": 51_000}}, "51051", ccxt.InvalidOrder),
    ("buy", {"takeProfit": {"triggerPrice": 49_000}}, "51050", ccxt.ExchangeError),
    ("sell", {"stopLossPrice": 51_000, "reduceOnly": True}, "51280", ccxt.InvalidOrder),
    ("sell", {"takeProfitPrice": 49_000, "reduceOnly": True}, "51279", ccxt.InvalidOrder),
    ("buy", {"takeProfitPrice": 51_000, "reduceOnly": True}, "51277", ccxt.InvalidOrder),
    ("buy", {"stopLossPrice": 49_000, "reduceOnly": True}, "51278", ccxt.InvalidOrder),
])
async def test_stops_and_targets_on_the_wrong_side_of_the_price_are_refused(
        venue, side, params, code, error):
    fake, ex = venue
    with pytest.raises(error) as caught:
        await ex.create_order(SYMBOL, "market", side, 1, params=params)
    assert f'"sCode":"{code}"' in str(caught.value)
    assert type(caught.value) is error  # the exact class: unmapped codes are plain ExchangeError


async def test_client_ids_are_unique_among_pending_orders_only(venue):
    fake, ex = venue
    await ex.create_order(SYMBOL, "limit", "buy", 1, 40_000, {"clientOrderId": "rest1"})
    with pytest.raises(ccxt.InvalidOrder, match="51016"):
        await ex.create_order(SYMBOL, "market", "buy", 1, params={"clientOrderId": "rest1"})
    first = await ex.create_order(SYMBOL, "market", "buy", 1, params={"clientOrderId": "mkt1"})
    again = await ex.create_order(SYMBOL, "market", "buy", 1, params={"clientOrderId": "mkt1"})
    assert first["id"] != again["id"] and fake.position(BTC) == 2  # a filled id can be reused
    latest = await ex.fetch_order(None, SYMBOL, {"clientOrderId": "mkt1"})
    assert latest["id"] == again["id"]
    for bad in ("sig-1", "x" * 33):
        with pytest.raises(ccxt.BadRequest, match="Parameter clOrdId error"):
            await ex.create_order(SYMBOL, "market", "buy", 1, params={"clientOrderId": bad})


async def test_open_limit_orders_are_listed_cancelled_and_filled_orders_cannot_be(venue):
    fake, ex = venue
    rest = await ex.create_order(SYMBOL, "limit", "buy", 1, 40_000, {"clientOrderId": "lim1"})
    assert [o["clientOrderId"] for o in await ex.fetch_open_orders(SYMBOL)] == ["lim1"]
    canceled = await ex.cancel_order(rest["id"], SYMBOL)
    assert canceled["id"] == rest["id"]
    assert (await ex.fetch_order(rest["id"], SYMBOL))["status"] == "canceled"
    filled = await ex.create_order(SYMBOL, "market", "buy", 1)
    with pytest.raises(ccxt.OrderNotFound, match="51400"):
        await ex.cancel_order(filled["id"], SYMBOL)
    with pytest.raises(ccxt.OrderNotFound, match="51603"):
        await ex.fetch_order("123", SYMBOL)


async def test_positions_and_balance_follow_the_fills(venue):
    fake, ex = venue
    await ex.set_leverage(5, SYMBOL)
    await ex.create_order(SYMBOL, "market", "sell", 3)
    fake.set_price(BTC, 49_000)
    [pos] = await ex.fetch_positions([SYMBOL])
    assert (pos["side"], pos["contracts"], pos["contractSize"], pos["entryPrice"],
            pos["unrealizedPnl"], pos["leverage"], pos["marginMode"]) == (
        "short", 3.0, 0.01, 50_000.0, 30.0, 5.0, "cross")
    balance = await ex.fetch_balance()
    assert balance["USDT"]["total"] == pytest.approx(10_000 - 0.75 + 30)
    assert balance["USDT"]["free"] == pytest.approx(10_000 - 0.75 + 30 - 3 * 0.01 * 49_000 / 5)


async def test_leverage_and_margin_mode_go_to_set_leverage(venue):
    fake, ex = venue
    await ex.set_leverage(7, SYMBOL, {"marginMode": "isolated"})
    await ex.set_margin_mode("cross", SYMBOL, {"leverage": 3})
    assert fake.calls("POST", "/api/v5/account/set-leverage") == [
        {"lever": 7, "mgnMode": "isolated", "instId": BTC, "posSide": "net"},
        {"lever": 3, "mgnMode": "cross", "instId": BTC}]
    assert fake.leverage == {(BTC, "isolated"): 7, (BTC, "cross"): 3}
    with pytest.raises(ccxt.BadRequest):  # ccxt itself wants a leverage with the margin mode
        await ex.set_margin_mode("isolated", SYMBOL)
    with pytest.raises(ccxt.ExchangeError, match="59102"):
        await ex.set_leverage(101, SYMBOL)


async def test_refusals_for_size_margin_and_reduce_only(venue):
    fake, ex = venue
    with pytest.raises(ccxt.InsufficientFunds, match="51008"):
        await ex.create_order(SYMBOL, "market", "buy", 2_500)  # 1,250,000 USDT at 10x
    with pytest.raises(ccxt.InvalidOrder, match="51121"):
        await ex.create_order(SYMBOL, "market", "buy", 1.005, params={"sz": "1.005"})
    with pytest.raises(ccxt.ExchangeError, match="51169") as caught:
        await ex.create_order(SYMBOL, "market", "sell", 1, params={"reduceOnly": True})
    assert type(caught.value) is ccxt.ExchangeError


async def test_an_entry_can_read_as_live_before_it_reads_filled(venue):
    fake, ex = venue
    fake.answer_live, fake.live_lookups = 1, 2
    order = await ex.create_order(SYMBOL, "market", "buy", 1, params={"clientOrderId": "slow1"})
    views = [await ex.fetch_order(order["id"], SYMBOL) for _ in range(3)]
    assert [(v["status"], v["filled"]) for v in views] == [
        ("open", 0.0), ("open", 0.0), ("closed", 1.0)]
    assert fake.position(BTC) == 1


async def test_a_lost_answer_leaves_a_filled_order_to_find_by_client_id(venue):
    fake, ex = venue
    fake.fail("/api/v5/trade/batch-orders", None, lost=True)
    with pytest.raises(ccxt.ExchangeNotAvailable) as caught:  # the connection dropped
        await ex.create_order(SYMBOL, "market", "buy", 1, params={"clientOrderId": "lost1"})
    assert type(caught.value) is ccxt.ExchangeNotAvailable
    found = await ex.fetch_order(None, SYMBOL, {"clientOrderId": "lost1"})
    assert found["status"] == "closed" and fake.position(BTC) == 1
    fake.fail("/api/v5/trade/batch-orders", 504, lost=True)
    with pytest.raises(ccxt.RequestTimeout):  # 504: the outcome is unknown, look it up
        await ex.create_order(SYMBOL, "market", "buy", 1, params={"clientOrderId": "lost2"})
    assert fake.position(BTC) == 2


async def test_a_slow_answer_times_the_client_out(venue):
    fake, ex = venue
    ex.timeout = 300
    fake.fail("/api/v5/public/time", None, delay_s=1.0)
    with pytest.raises(ccxt.RequestTimeout):
        await ex.fetch_time()


@pytest.mark.parametrize("status, error", [
    (429, ccxt.RateLimitExceeded), (500, ccxt.ExchangeNotAvailable),
    (502, ccxt.ExchangeNotAvailable), (503, ccxt.OnMaintenance), (504, ccxt.RequestTimeout),
])
async def test_http_faults_map_to_these_ccxt_errors(venue, status, error):
    fake, ex = venue
    fake.fail("/api/v5/market/candles", status)
    with pytest.raises(error) as caught:
        await ex.fetch_ohlcv(SYMBOL, "1m", limit=5)
    assert type(caught.value) is error
    assert fake.requests[-1].status == status


@pytest.mark.parametrize("code, error", [
    ("50011", ccxt.RateLimitExceeded), ("51000", ccxt.BadRequest), ("51001", ccxt.BadSymbol),
    ("51008", ccxt.InsufficientFunds), ("51016", ccxt.InvalidOrder),
    ("51020", ccxt.InvalidOrder), ("51053", ccxt.ExchangeError), ("51065", ccxt.ExchangeError),
    ("51400", ccxt.OrderNotFound), ("51603", ccxt.OrderNotFound), ("50102", ccxt.InvalidNonce),
    ("50113", ccxt.AuthenticationError), ("51149", ccxt.ExchangeError),
])
async def test_order_refusals_map_to_these_ccxt_errors(venue, code, error):
    fake, ex = venue
    fake.reject("/api/v5/trade/batch-orders", code, "scripted")
    with pytest.raises(error) as caught:
        await ex.create_order(SYMBOL, "market", "buy", 1)
    assert type(caught.value) is error
    assert fake.position(BTC) == 0


async def test_bad_keys_signature_and_clock_are_refused_as_okx_does(venue):
    fake, ex = venue
    fake.skew_ms = 31_000
    with pytest.raises(ccxt.InvalidNonce, match="50102"):
        await ex.fetch_balance()
    fake.skew_ms = 0
    ex.secret = "wrong"
    with pytest.raises(ccxt.AuthenticationError, match="50113"):
        await ex.fetch_balance()
    ex.secret, ex.apiKey = SECRET, "nobody"
    with pytest.raises(ccxt.AuthenticationError, match="50111"):
        await ex.fetch_balance()
    assert [r.status for r in fake.requests[-3:]] == [401, 401, 401]


async def test_demo_keys_need_the_simulated_trading_header_that_sandbox_mode_sends():
    fake = FakeOKX(demo=True)
    url = await fake.start()
    demo, live = _exchange(url, sandbox=True), _exchange(url)
    try:
        await demo.load_markets()
        assert fake.calls("GET", "/api/v5/asset/currencies") == []  # skipped in sandbox mode
        assert all(r.demo for r in fake.requests)
        assert (await demo.fetch_balance())["USDT"]["total"] == 10_000
        with pytest.raises(ccxt.AuthenticationError, match="50101"):
            await live.fetch_balance()
    finally:
        await demo.close()
        await live.close()
        await fake.stop()


async def test_options_narrow_markets_to_swaps_and_send_single_orders_to_trade_order():
    fake = FakeOKX()
    ex = _exchange(await fake.start())
    ex.options["fetchMarkets"] = {"types": ["swap"]}
    ex.options["createOrder"] = "privatePostTradeOrder"
    try:
        await ex.load_markets()
        assert [p["instType"] for p in fake.calls("GET", "/api/v5/public/instruments")] == [
            "SWAP"]
        await ex.create_order(SYMBOL, "market", "buy", 1, params={
            "clientOrderId": "iso1", "marginMode": "isolated"})
        assert fake.calls("POST", "/api/v5/trade/order")[0]["tdMode"] == "isolated"
        await ex.create_order(SYMBOL, "market", "sell", 1, params={
            "stopLossPrice": 45_000, "reduceOnly": True, "clientOrderId": "iso1sl",
            "marginMode": "isolated"})
        await ex.cancel_order(None, SYMBOL, {"trigger": True, "clientOrderId": "iso1sl"})
        assert fake.calls("POST", "/api/v5/trade/cancel-algos") == [
            [{"instId": BTC, "algoClOrdId": "iso1sl"}]]
        assert fake.algos[0]["state"] == "canceled"
        assert [(p["marginMode"], p["contracts"]) for p in await ex.fetch_positions()] == [
            ("isolated", 1.0)]
    finally:
        await ex.close()
        await fake.stop()


async def test_latency_s_delays_every_answer():
    server = FakeOKX(latency_s=0.2)
    await server.start()
    try:
        started = time.perf_counter()
        status, body = await _get(server.url, "/api/v5/public/time")
        elapsed = time.perf_counter() - started
    finally:
        await server.stop()
    assert status == 200 and body["code"] == "0"
    assert elapsed >= 0.2
