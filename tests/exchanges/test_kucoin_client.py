"""KuCoin Futures through ccxt against the local KuCoin fake: candle windows that walk past
the minutes nothing traded (never inventing a candle), stop orders with their own direction
refused when already crossed, leverage and margin mode on every order, lookups by clientOid."""
from __future__ import annotations

import numpy as np
import pytest

from app import components
from config import load_settings
from exchanges.ccxt_lean import ccxt
from exchanges.errors import Rejected, TransientExchangeError
from exchanges.kucoin_client import reset_s
from exchanges.retry import RetryPolicy
from exchanges.venue import Reason
from tests.fakes.binance_data import synthetic
from tests.fakes.kucoin import API_KEY, PASSPHRASE, SECRET, FakeKucoin

pytestmark = pytest.mark.slow  # the KuCoin client against its fake

XBT, ORDERS = "XBTUSDTM", "/api/v1/orders"
MIN, HOUR, DAY = 60_000, 3_600_000, 86_400_000
NOW = 1_770_729_450_000  # 2026-02-10 13:17:30 UTC


def _settings(data_url: str = "", trading_url: str = "", **extra: str):
    env = {"DATA_EXCHANGE": "kucoin", "TRADING_EXCHANGE": "kucoin", "ENABLE_TRADING": "1",
           "DEMO_TRADING": "0", "CONFIRM_LIVE_TRADING": "yes", "KUCOIN_API_KEY": API_KEY,
           "KUCOIN_SECRET": SECRET, "KUCOIN_PASSPHRASE": PASSPHRASE, "SYMBOLS": "BTC/USDT",
           "LEVERAGE": "20", "FETCH_TIMEOUT_S": "2", "KUCOIN_DATA_URL": data_url,
           "KUCOIN_TRADING_URL": trading_url, **extra}
    return load_settings({k: v for k, v in env.items() if v}, dotenv_path=None)


@pytest.fixture
async def kucoin():
    """The trading fake and a started KuCoin trading instance on it."""
    fake = await FakeKucoin().start()
    broker = components.trading(_settings(trading_url=fake.url), backoff_s=0.01,
                                rate_limit=False)
    await broker.start(["BTC/USDT"])
    yield fake, broker
    await broker.close()
    await fake.stop()


@pytest.fixture
def one_minute():
    start = NOW - NOW % MIN - 2 * DAY
    return synthetic("BTCUSDT", np.arange(start, NOW + 1, MIN, dtype=np.int64), "1m")


async def _data(fake: FakeKucoin):
    data = components.market_data(_settings(data_url=fake.url, ENABLE_TRADING="0"),
                                  retry=RetryPolicy(attempts=2, base_s=0.01, cap_s=0.02,
                                                    budget_s=5.0))
    await data.start()
    return data


async def test_candles_page_past_a_quiet_stretch_and_never_invent_one(one_minute):
    fake = await FakeKucoin({(XBT, "1m"): one_minute}, now_ms=NOW).start()
    quiet_from = NOW - NOW % DAY - 6 * HOUR  # six hours nobody traded, across many windows
    fake.quiet(XBT, quiet_from, quiet_from + 6 * HOUR)
    data = await _data(fake)
    try:
        since = NOW - NOW % DAY - DAY
        forward = await data.closed_candles("BTC/USDT", "1m", since_ms=since)
        backward = await data.closed_candles("BTC/USDT", "1m", limit=1500)
    finally:
        await data.close()
        await fake.stop()
    ts = one_minute["timestamp"]
    traded = one_minute[((ts < quiet_from) | (ts >= quiet_from + 6 * HOUR)) & (ts + MIN <= NOW)]
    assert forward["timestamp"].tolist() == traded[traded["timestamp"] >= since][
        "timestamp"].tolist()
    assert backward["timestamp"].tolist() == traded["timestamp"].iloc[-1500:].tolist()
    assert not forward["timestamp"].between(quiet_from, quiet_from + 6 * HOUR - 1).any()


async def test_no_request_leaves_the_classic_futures_api(kucoin):
    fake, broker = kucoin
    await broker.balance()
    assert all(r.path.startswith(("/api/v1/", "/api/v2/")) for r in fake.requests)
    assert not [r.path for r in fake.requests if "currencies" in r.path or "margin/" in r.path
                or "hf/" in r.path or r.path.startswith("/api/ua/")]
    assert fake.margin_mode(XBT) == "ISOLATED"


async def test_every_order_carries_leverage_and_margin_mode(kucoin):
    fake, broker = kucoin
    await broker.market_order("BTC/USDT", "buy", 0.04, "entry1")
    [sent] = fake.calls("POST", ORDERS)
    assert sent["leverage"] == 20 and sent["marginMode"] == "ISOLATED" and sent["size"] == 40
    found = await broker.find_order("BTC/USDT", "entry1", conditional=False)
    assert found is not None and found.filled == pytest.approx(0.04) and found.average == 50_000


async def test_stops_and_targets_get_their_own_direction(kucoin):
    fake, broker = kucoin
    await broker.market_order("BTC/USDT", "sell", 0.04, "short1")
    stop = await broker.protective_order("BTC/USDT", "buy", "stop", 51_000, "stop1")
    target = await broker.protective_order("BTC/USDT", "buy", "target", 48_000, "target1")
    assert [(o["stop"], o["stopPrice"]) for o in fake.open_stops(XBT)] == [
        ("up", 51_000), ("down", 48_000)]
    assert (stop.kind, target.kind) == ("stop", "target")
    waiting = await broker.open_protective()
    assert sorted((o.kind, o.trigger, o.status.value) for o in waiting) == [
        ("stop", 51_000, "open"), ("target", 48_000, "open")]
    fake.set_price(XBT, 47_900)  # the short's target fires; the stop is dropped with it
    assert fake.position(XBT) == 0 and fake.open_stops(XBT) == []


async def test_a_crossed_stop_is_refused_before_it_is_sent(kucoin):
    fake, broker = kucoin
    await broker.market_order("BTC/USDT", "buy", 0.04, "long1")
    fake.set_price(XBT, 48_000)
    with pytest.raises(Rejected) as err:
        await broker.protective_order("BTC/USDT", "sell", "stop", 49_000, "stop2")
    assert err.value.reason is Reason.WOULD_TRIGGER_IMMEDIATELY
    assert len(fake.calls("POST", ORDERS)) == 1 and fake.position(XBT) == 40


async def test_a_clientoid_is_refused_again_only_while_active(kucoin):
    fake, broker = kucoin
    await broker.market_order("BTC/USDT", "buy", 0.04, "long2")
    await broker.protective_order("BTC/USDT", "sell", "stop", 49_000, "stop3")
    with pytest.raises(Rejected) as err:
        await broker.protective_order("BTC/USDT", "sell", "stop", 49_000, "stop3")
    assert err.value.reason is Reason.DUPLICATE_CLIENT_ID
    # A filled order's id is taken again by KuCoin: this process never sends it twice...
    with pytest.raises(TransientExchangeError, match="never re-sent"):
        await broker.market_order("BTC/USDT", "buy", 0.01, "long2")
    # ...though another process would open a second order with it.
    await broker.exchange.create_order("BTC/USDT:USDT", "market", "buy", 10, None,
                                       {"clientOid": "long2", "leverage": 20})
    assert fake.position(XBT) == 50


async def test_unknown_ids_are_not_found_and_cancels_of_gone_orders_are_done(kucoin):
    fake, broker = kucoin
    assert await broker.find_order("BTC/USDT", "nope", conditional=True) is None
    await broker.cancel_protective("BTC/USDT", "nope")  # already gone counts as done


async def test_an_order_in_another_margin_mode_is_refused(kucoin):
    fake, broker = kucoin
    fake.margin_modes[XBT] = "CROSS"  # changed on the web site after start
    with pytest.raises(Rejected) as err:
        await broker.market_order("BTC/USDT", "buy", 0.04, "long3")
    assert err.value.code == 330005 and err.value.reason is Reason.INVALID_ORDER


async def test_check_names_host_mode_pair_position_and_margin_mode(kucoin):
    fake, broker = kucoin
    lines = {line.what: line for line in await broker.check()}
    assert fake.url in lines["trading host"].detail and "live" in lines["trading host"].detail
    assert "KUCOIN_API_KEY" in lines["trading host"].detail
    assert lines["position mode"].ok and lines["margin mode"].detail.startswith("isolated")


async def test_a_hedge_mode_account_is_refused_at_start():
    fake = await FakeKucoin(hedge_mode=True).start()
    broker = components.trading(_settings(trading_url=fake.url), backoff_s=0.01,
                                rate_limit=False)
    try:
        with pytest.raises(Exception, match="Hedge Mode.*One-way"):
            await broker.start(["BTC/USDT"])
    finally:
        await broker.close()
        await fake.stop()


async def test_a_symbol_stuck_in_another_margin_mode_is_refused_naming_the_fix():
    fake = await FakeKucoin().start()
    fake.margin_modes[XBT] = "CROSS"
    fake.h_place({"symbol": XBT, "side": "buy", "type": "market", "size": 10, "leverage": 5,
                  "clientOid": "web-1", "marginMode": "CROSS"})  # held by hand, in cross
    broker = components.trading(_settings(trading_url=fake.url), backoff_s=0.01,
                                rate_limit=False)
    try:
        with pytest.raises(Rejected, match="cross margin.*MARGIN_MODE=cross"):
            await broker.start(["BTC/USDT"])
    finally:
        await broker.close()
        await fake.stop()


async def test_a_rate_limited_read_waits_for_kucoins_window_reset():
    fake = await FakeKucoin().start()
    fake.rate_limit("/api/v1/account-overview")  # gw-ratelimit-reset: 1000 ms
    broker = components.trading(_settings(trading_url=fake.url), backoff_s=0.01,
                                rate_limit=False)
    try:
        await broker.exchange.load_markets()
        with pytest.raises(ccxt.RateLimitExceeded) as err:
            await broker.exchange.fetch_balance()
        assert err.value.retry_after_s == 1.0
        assert reset_s({"Gw-Ratelimit-Reset": "2500"}) == 2.5 and reset_s({}) is None
    finally:
        await broker.close()
        await fake.stop()


async def test_a_waiting_stop_is_found_in_the_stop_list_even_if_byclientoid_misses_it(kucoin):
    fake, broker = kucoin
    await broker.market_order("BTC/USDT", "buy", 0.04, "long4")
    placed = await broker.protective_order("BTC/USDT", "sell", "stop", 49_000, "stop4")
    fake.h_by_client_oid = lambda p: None  # an endpoint that knows only triggered orders
    found = await broker.find_order("BTC/USDT", "stop4", conditional=True)
    assert found is not None and found.exchange_id == placed.exchange_id
    assert (found.kind, found.trigger, found.status.value) == ("stop", 49_000, "open")
    await broker.cancel_protective("BTC/USDT", "stop4")
    assert fake.open_stops(XBT) == []
    assert fake.calls("DELETE", f"/api/v1/orders/{found.exchange_id}")
