"""Delta Exchange India: keys and host rules (India testnet as demo, Global only by URL), whole
contracts, error labels ccxt leaves generic, and the client against its fake (Delta's own stop
orders, real-time positions, margin mode refused at start)."""
from __future__ import annotations

import time

import numpy as np
import pytest

from app import components
from config import load_settings
from exchanges.ccxt_lean import ccxt
from exchanges.delta import (
    DELTA,
    DEMO_HOST,
    PRODUCTION_HOST,
    margin_mode_ok,
    product_symbol,
    to_base,
    to_contracts,
)
from exchanges.errors import (
    AuthError,
    PermanentExchangeError,
    Rejected,
    TransientExchangeError,
    translate,
)
from exchanges.port import Direction
from exchanges.registry import get_venue
from exchanges.venue import Reason
from tests.config_env import load, problems
from tests.fakes.delta import API_KEY, DEMO_API_KEY, DEMO_SECRET, SECRET, DeltaError, FakeDelta

DEMO = dict(TRADING_EXCHANGE="delta", ENABLE_TRADING="1", DEMO_TRADING="1")
ORDERS = "/v2/orders"


# -- the venue as data ------------------------------------------------------------------------

def test_delta_is_registered_as_india_with_usd_quoted_perpetuals():
    venue = get_venue("Delta")
    assert venue is DELTA and venue.has_demo and not venue.needs_passphrase
    assert venue.ccxt_symbol("BTC/USDT") == "BTC/USD:USD"
    assert venue.our_symbol("BTC/USD:USD") == "BTC/USDT"
    assert venue.shown("BTC/USDT") == "BTC/USDT (BTCUSD perpetual)"
    assert venue.data_hosts == (PRODUCTION_HOST, DEMO_HOST)
    ids = venue.trading_spec().client_ids
    assert ids is not None and ids.accepts("a" * 32) and not ids.accepts("a" * 33)
    assert not ids.refuses_duplicates  # never relied on: a lost answer is looked up


def test_hosts_india_and_global_production_are_real_money_the_testnets_are_not():
    assert DELTA.real_money_url("https://api.india.delta.exchange")
    assert DELTA.real_money_url("https://api.delta.exchange")  # Delta Global, by override
    assert not DELTA.real_money_url("https://cdn-ind.testnet.deltaex.org")
    assert not DELTA.real_money_url("https://testnet-api.delta.exchange")


def test_a_production_trading_url_with_demo_trading_is_refused_unconfirmed():
    found = problems(**DEMO, DELTA_API_KEY="k", DELTA_SECRET="s",
                     DELTA_TRADING_URL="https://api.india.delta.exchange")
    assert "REAL" in found["DELTA_TRADING_URL"] and DEMO_HOST in found["DELTA_TRADING_URL"]


def test_demo_keys_sign_the_testnet_and_live_needs_the_confirmation():
    s = load(**DEMO, DELTA_API_KEY_DEMO="dk-1", DELTA_SECRET_DEMO="ds-1")
    assert s.signing_pair == "DELTA_API_KEY_DEMO" and not s.live_trading
    live = dict(TRADING_EXCHANGE="delta", ENABLE_TRADING="1", DEMO_TRADING="0")
    assert {"CONFIRM_LIVE_TRADING", "DELTA_API_KEY"} <= set(problems(**live))
    s = load(**live, CONFIRM_LIVE_TRADING="yes", DELTA_API_KEY="k", DELTA_SECRET="s")
    assert s.live_trading and s.signing_pair == "DELTA_API_KEY"


def test_quantities_are_whole_contracts_rounded_down():
    assert to_contracts(0.003, 0.001) == 3  # 2.9999999999999996 in floats: still 3
    assert to_contracts(0.0039, 0.001) == 3 and to_contracts(0.0009, 0.001) == 0
    assert to_base(-3, 0.001) == 0.003
    assert product_symbol("BTC/USDT") == product_symbol("BTC/USD:USD") == "BTCUSD"


def test_margin_modes_ours_against_deltas():
    assert margin_mode_ok("isolated", "isolated") and margin_mode_ok("cross", "portfolio")
    assert not margin_mode_ok("isolated", "portfolio") and not margin_mode_ok("cross", "isolated")


@pytest.mark.parametrize(("body", "kind", "reason"), [
    ('{"success":false,"error":{"code":"Signature Mismatch","context":{}}}', AuthError, None),
    ('{"error":"SignatureExpired","message":"your signature has expired"}',
     TransientExchangeError, None),
    ('{"success":false,"error":{"code":"invalid_stop_price"}}', Rejected,
     Reason.WOULD_TRIGGER_IMMEDIATELY),
    ('{"success":false,"error":{"code":"no_position_for_reduce_only"}}', Rejected,
     Reason.REDUCE_ONLY_REJECTED),
    ('{"success":false,"error":{"code":"not_found"}}', Rejected, Reason.NOT_FOUND),
])
def test_labels_ccxt_leaves_generic_are_read_from_the_table(body, kind, reason):
    error = translate(ccxt.ExchangeError("delta " + body), DELTA)
    assert isinstance(error, kind)
    if reason is not None:
        assert error.reason is reason


# -- the client against the fake --------------------------------------------------------------

def _settings(url: str, **extra: str):
    env = {"DATA_EXCHANGE": "delta", "TRADING_EXCHANGE": "delta", "ENABLE_TRADING": "1",
           "DEMO_TRADING": "1", "DELTA_API_KEY_DEMO": DEMO_API_KEY,
           "DELTA_SECRET_DEMO": DEMO_SECRET, "SYMBOLS": "BTC/USDT", "LEVERAGE": "20",
           "FETCH_TIMEOUT_S": "2", "DELTA_TRADING_URL": url, "DELTA_DATA_URL": url, **extra}
    return load_settings(env, dotenv_path=None)


@pytest.fixture
async def delta():
    fake = FakeDelta(demo=True)
    await fake.start()
    broker = components.trading(_settings(fake.url), backoff_s=0.01, rate_limit=False)
    await broker.start(["BTC/USDT"])
    yield fake, broker
    await broker.close()
    await fake.stop()


def test_the_client_sets_the_india_hosts_and_the_sandbox_reaches_the_india_testnet():
    from exchanges.delta_ccxt import delta_class, india_urls

    ex = delta_class()({"urls": india_urls()})
    assert ex.urls["api"]["private"] == f"https://{PRODUCTION_HOST}"
    ex.set_sandbox_mode(True)
    assert ex.urls["api"]["public"] == f"https://{DEMO_HOST}"


async def test_orders_are_contracts_and_stops_are_deltas_own_stop_orders(delta):
    fake, broker = delta
    rules = broker.rules("BTC/USDT")
    assert (rules.step, rules.min_qty, rules.contract_size) == (0.001, 0.001, 0.001)
    entry = await broker.market_order("BTC/USDT", "buy", 0.003, "e1")
    assert entry.filled == pytest.approx(0.003) and entry.average == 50_000.0
    stop = await broker.protective_order("BTC/USDT", "sell", "stop", 49_000.0, "s1")
    target = await broker.protective_order("BTC/USDT", "sell", "target", 52_000.0, "t1")
    sent = fake.calls("POST", ORDERS)
    assert sent[0]["size"] == 3 and sent[0]["product_id"] == 27
    assert sent[1]["stop_order_type"] == "stop_loss_order" and sent[1]["reduce_only"] is True
    assert sent[2]["stop_order_type"] == "take_profit_order" and sent[2]["size"] == 3
    assert "stopLossPrice" not in sent[1] and "takeProfitPrice" not in sent[2]
    assert (stop.kind, stop.trigger, target.kind, target.trigger) == (
        "stop", 49_000.0, "target", 52_000.0)
    waiting = sorted((o.kind, o.trigger, o.client_id) for o in await broker.open_protective())
    assert waiting == [("stop", 49_000.0, "s1"), ("target", 52_000.0, "t1")]
    await broker.cancel_protective("BTC/USDT", "t1")
    await broker.cancel_protective("BTC/USDT", "t1")  # already gone is fine
    fake.candle("BTCUSD", 50_100.0, 48_900.0, 49_000.0)
    assert fake.position("BTCUSD") == 0 and fake.waiting() == []
    found = await broker.find_order("BTC/USDT", "s1", conditional=True)
    assert found is not None and found.filled == pytest.approx(0.003)
    assert await broker.find_order("BTC/USDT", "never-sent", conditional=False) is None


async def test_positions_are_real_time_and_shorts_are_short(delta):
    fake, broker = delta  # the margined list lags 10 s: a fresh position is not there yet
    await broker.market_order("BTC/USDT", "sell", 0.005, "e2")
    held = await broker.positions(["BTC/USDT"])
    assert held["BTC/USDT"].direction is Direction.SHORT
    assert held["BTC/USDT"].quantity == pytest.approx(0.005)


async def test_a_market_order_id_is_never_sent_twice(delta):
    _, broker = delta
    await broker.market_order("BTC/USDT", "buy", 0.001, "e3")
    with pytest.raises(TransientExchangeError):
        await broker.market_order("BTC/USDT", "buy", 0.001, "e3")


async def test_a_portfolio_margin_account_is_refused_at_start_with_the_switch_to_make():
    fake = FakeDelta(demo=True, margin_mode="portfolio")
    await fake.start()
    broker = components.trading(_settings(fake.url), backoff_s=0.01, rate_limit=False)
    try:
        with pytest.raises(PermanentExchangeError, match="switch it to isolated margin"):
            await broker.start(["BTC/USDT"])
        lines = {line.what: line for line in await broker.check()}
        assert not lines["margin mode"].ok and lines["position mode"].ok
    finally:
        await broker.close()
        await fake.stop()


async def test_production_keys_are_refused_by_the_testnet():
    fake = FakeDelta(demo=True)
    await fake.start()
    env = {"DELTA_API_KEY_DEMO": API_KEY, "DELTA_SECRET_DEMO": SECRET}
    broker = components.trading(_settings(fake.url, **env), backoff_s=0.01, rate_limit=False)
    try:
        with pytest.raises(AuthError):
            await broker.balance()
    finally:
        await broker.close()
        await fake.stop()


async def test_the_closing_fill_is_in_base_units_with_pnl_and_fees_in_usd(delta):
    fake, broker = delta
    since = int(time.time() * 1000) - 1000
    await broker.market_order("BTC/USDT", "buy", 0.004, "e4")
    fake.set_price("BTCUSD", 51_000.0)
    await broker.market_order("BTC/USDT", "sell", 0.004, "x4", reduce_only=True)
    fill = await broker.closing_fill("BTC/USDT", Direction.LONG, since)
    assert fill is not None and fill.price == 51_000.0
    assert fill.quantity == pytest.approx(0.004) and fill.pnl == pytest.approx(4.0)
    assert fill.fees == pytest.approx(0.004 * 50_000 * 0.0005 + 0.004 * 51_000 * 0.0005)


async def test_a_rate_limit_is_rate_limited_with_the_reset_as_the_pause():
    from exchanges.delta_ccxt import delta_class
    from exchanges.errors import RateLimited
    from exchanges.urls import override_hosts

    fake = FakeDelta()
    ex = delta_class()({"enableRateLimit": False})
    override_hosts(ex, await fake.start())
    fake.rate_limit("/v2/tickers")
    try:
        with pytest.raises(ccxt.BaseError) as caught:
            await ex.fetch_tickers()
        error = translate(caught.value, DELTA)
        assert isinstance(error, RateLimited) and error.retry_after_s == 1.0
    finally:
        await ex.close()
        await fake.stop()


async def test_a_host_without_settings_gives_its_time_by_the_date_header(monkeypatch):
    from exchanges.delta_ccxt import delta_class
    from exchanges.urls import override_hosts

    fake = FakeDelta()
    real = fake._route

    def route(method, path):
        if path == "/v2/settings":  # as if the host did not serve it
            raise DeltaError("not_found", 404)
        return real(method, path)

    monkeypatch.setattr(fake, "_route", route)
    ex = delta_class()({"enableRateLimit": False})
    override_hosts(ex, await fake.start())
    try:
        before = time.time() * 1000
        got = await ex.fetch_time()
        after = time.time() * 1000
        # The Date header's whole second, rounded down: never later than the answer.
        assert isinstance(got, int) and before - 2_000 <= got <= after
    finally:
        await ex.close()
        await fake.stop()


@pytest.mark.parametrize("bounds", ["[]", "[)", "(]", "()"])
async def test_candle_pages_are_whole_whatever_the_window_bounds(bounds):
    from tests.conformance.conftest import DAY, MIN, NOW
    from tests.fakes.binance_data import synthetic as minutes

    start = NOW - NOW % MIN - 2 * DAY
    one = minutes("BTCUSDT", np.arange(start, NOW + 1, MIN, dtype=np.int64), "1m")
    fake = FakeDelta({("BTCUSD", "1m"): one}, now_ms=NOW, bounds=bounds)
    await fake.start()
    data = components.market_data(_settings(fake.url))
    try:
        since = start + 7 * MIN
        got = await data.closed_candles("BTC/USDT", "1m", since_ms=since)
        last = await data.closed_candles("BTC/USDT", "1m", limit=2_500)
    finally:
        await data.close()
        await fake.stop()
    closed = one[one["timestamp"] + MIN <= NOW]
    assert got["timestamp"].tolist() == closed[closed["timestamp"] >= since]["timestamp"].tolist()
    assert last["timestamp"].tolist() == closed["timestamp"].iloc[-2_500:].tolist()


async def test_recent_entries_are_the_filled_orders_newest_first(delta):
    _, broker = delta
    await broker.market_order("BTC/USDT", "buy", 0.002, "e5")
    await broker.market_order("BTC/USDT", "buy", 0.001, "e6")
    entries = await broker.recent_entries("BTC/USDT")
    assert [e.client_id for e in entries][:2] == ["e6", "e5"]
    assert entries[0].filled == pytest.approx(0.001)


async def test_a_venue_clock_ahead_of_ours_signs_on_the_venues_clock():
    fake = FakeDelta(demo=True, skew_ms=8_000)  # beyond the 5 s window if signed on ours
    await fake.start()
    broker = components.trading(_settings(fake.url), backoff_s=0.01, rate_limit=False)
    try:
        await broker.start(["BTC/USDT"])  # the clock is measured at start
        assert (await broker.balance()).total == 10_000.0
        broker.exchange.options["timeDifference"] = 0  # forgotten: refused, resynced, resent
        assert (await broker.balance()).total == 10_000.0
        assert [r.status for r in fake.requests if r.path == "/v2/wallet/balances"][-2:] == [
            401, 200]
    finally:
        await broker.close()
        await fake.stop()
