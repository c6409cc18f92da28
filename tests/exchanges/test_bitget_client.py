"""Bitget through ccxt against the local Bitget fake: demo by header, hedge mode refused at start,
margin mode on every order, position TP/SL found by listing, the duplicate clientOid read by the
venue's table, candles from the endpoint that holds the page."""
from __future__ import annotations

import time

import numpy as np
import pytest

from app import components
from config import load_settings
from exchanges.bitget import DAY_MS
from exchanges.errors import (
    AuthError,
    PermanentExchangeError,
    Rejected,
    TransientExchangeError,
)
from exchanges.port import PositionModeError
from exchanges.retry import RetryPolicy
from exchanges.venue import Reason
from tests.fakes.binance_data import synthetic
from tests.fakes.bitget import API_KEY, PASSPHRASE, SECRET, FakeBitget

pytestmark = pytest.mark.slow  # the Bitget client against its fake over HTTP

MIN = 60_000
MIX = "/api/v2/mix/"
ORDER, TPSL = MIX + "order/place-order", MIX + "order/place-tpsl-order"


def _settings(data_url: str = "", trading_url: str = "", **extra: str):
    env = {"DATA_EXCHANGE": "bitget", "TRADING_EXCHANGE": "bitget", "ENABLE_TRADING": "1",
           "DEMO_TRADING": "1", "BITGET_API_KEY_DEMO": API_KEY, "BITGET_SECRET_DEMO": SECRET,
           "BITGET_PASSPHRASE_DEMO": PASSPHRASE, "SYMBOLS": "BTC/USDT", "LEVERAGE": "20",
           "FETCH_TIMEOUT_S": "2", "BITGET_DATA_URL": data_url,
           "BITGET_TRADING_URL": trading_url, **extra}
    return load_settings({k: v for k, v in env.items() if v}, dotenv_path=None)


@pytest.fixture
async def fake():
    venue = FakeBitget(demo=True)
    await venue.start()
    yield venue
    await venue.stop()


@pytest.fixture
async def broker(fake):
    trading = components.trading(_settings(trading_url=fake.url), backoff_s=0.01,
                                 rate_limit=False)
    await trading.start(["BTC/USDT"])
    yield trading
    await trading.close()


async def test_a_hedge_mode_account_is_refused_at_start_with_one_line(fake):
    fake.pos_mode = "hedge_mode"
    trading = components.trading(_settings(trading_url=fake.url), backoff_s=0.01,
                                 rate_limit=False)
    try:
        with pytest.raises(PositionModeError, match="hedge mode.*40774.*One-way"):
            await trading.start(["BTC/USDT"])
    finally:
        await trading.close()
    assert fake.calls("POST", MIX + "account/set-position-mode") == []  # never switched


async def test_demo_keys_sign_only_with_the_paptrading_header():
    live_keys = FakeBitget(demo=False)  # the fake's key belongs to production
    await live_keys.start()
    trading = components.trading(_settings(trading_url=live_keys.url), backoff_s=0.01,
                                 rate_limit=False)
    try:
        with pytest.raises(AuthError, match="40099"):
            await trading.start(["BTC/USDT"])
    finally:
        await trading.close()
        await live_keys.stop()


async def test_an_entry_carries_the_margin_mode_and_reads_its_fill(fake, broker):
    fake.set_price("BTCUSDT", 50_000)
    done = await broker.market_order("BTC/USDT", "buy", 0.01, "e1")
    [sent] = fake.calls("POST", ORDER)
    assert sent["marginMode"] == "isolated" and sent["productType"] == "USDT-FUTURES"
    assert sent["clientOid"] == "e1" and "reduceOnly" not in sent
    assert done.filled == pytest.approx(0.01) and done.average == 50_000
    assert fake.position("BTCUSDT") == pytest.approx(0.01)


async def test_a_duplicate_client_oid_is_a_duplicate_not_a_failure(fake, broker):
    await broker.market_order("BTC/USDT", "buy", 0.01, "same")
    with pytest.raises(Rejected) as err:
        await broker.market_order("BTC/USDT", "buy", 0.01, "same")
    assert err.value.code == 40786 and err.value.reason is Reason.DUPLICATE_CLIENT_ID


async def test_stops_are_found_by_listing_never_by_the_order_detail(fake, broker):
    await broker.market_order("BTC/USDT", "buy", 0.02, "e1")
    stop = await broker.protective_order("BTC/USDT", "sell", "stop", 49_000, "s1")
    await broker.protective_order("BTC/USDT", "sell", "target", 52_000, "t1")
    assert (stop.kind, stop.trigger, stop.client_id) == ("stop", 49_000, "s1")
    [sent] = [p for p in fake.calls("POST", TPSL) if p["planType"] == "pos_loss"]
    assert sent["holdSide"] == "buy" and sent["clientOid"] == "s1"
    details = len(fake.calls("GET", MIX + "order/detail"))
    found = await broker.find_order("BTC/USDT", "s1", conditional=True)
    assert found is not None and (found.kind, found.trigger) == ("stop", 49_000)
    assert len(fake.calls("GET", MIX + "order/detail")) == details
    assert sorted((o.kind, o.trigger) for o in await broker.open_protective()) == [
        ("stop", 49_000), ("target", 52_000)]
    await broker.cancel_protective("BTC/USDT", "s1")
    await broker.cancel_protective("BTC/USDT", "s1")  # gone already: fine
    assert [p["planType"] for p in fake.open_plans()] == ["pos_profit"]
    gone = await broker.find_order("BTC/USDT", "s1", conditional=True)  # from the history
    assert gone is not None and gone.client_id == "s1"
    assert await broker.find_order("BTC/USDT", "nope", conditional=True) is None


async def test_a_stop_on_the_wrong_side_would_trigger_at_once(fake, broker):
    await broker.market_order("BTC/USDT", "buy", 0.02, "e1")
    with pytest.raises(Rejected) as err:
        await broker.protective_order("BTC/USDT", "sell", "stop", 51_000, "s1")
    assert err.value.reason is Reason.WOULD_TRIGGER_IMMEDIATELY


async def test_check_names_host_mode_and_margin(fake, broker):
    lines = {what: (ok, detail) for what, ok, detail in await broker.check()}
    assert lines["trading host"][0] and "demo with PAPTRADING: 1" in lines["trading host"][1]
    assert lines["position mode"] == (True, "one-way")
    assert lines["margin mode"][0] and "isolated" in lines["margin mode"][1]
    fake.pos_mode = "hedge_mode"
    lines = {what: (ok, detail) for what, ok, detail in await broker.check()}
    assert not lines["position mode"][0] and "One-way" in lines["position mode"][1]


async def test_old_pages_come_from_history_candles_in_pages_of_200():
    now = int(time.time() * 1000)
    # The venue's clock runs (a frozen one would fall behind the client's offset-based clock
    # when a fetch on a loaded machine crosses a minute).
    fake = FakeBitget()
    await fake.start()
    data = components.market_data(_settings(data_url=fake.url),
                                  retry=RetryPolicy(attempts=2, base_s=0.01, budget_s=10.0))
    await data.start()
    try:
        since = now - now % MIN - 40 * DAY_MS  # older than the recent window of 1m
        frame = await data.closed_candles("BTC/USDT", "1m", since_ms=since, limit=450)
        recent = await data.closed_candles("BTC/USDT", "1m", limit=5)
        now = fake.now_ms()  # the venue's clock once the last candle was asked for
    finally:
        await data.close()
        await fake.stop()
    assert len(frame) == 450 and int(frame["timestamp"].iloc[0]) == since
    assert frame["timestamp"].diff().dropna().eq(MIN).all()
    old = fake.calls("GET", MIX + "market/history-candles")
    assert len(old) == 3 and all(int(p["limit"]) <= 200 for p in old)
    assert all(p["productType"] == "USDT-FUTURES" for p in old)
    assert len(recent) == 5 and int(recent["timestamp"].iloc[-1]) + MIN <= now
    assert fake.calls("GET", MIX + "market/candles")  # the last candles: the recent endpoint


async def test_a_range_from_before_the_listing_starts_at_the_listing():
    now = int(time.time() * 1000)
    fake = FakeBitget(now_ms=now)
    listed = now - now % MIN - 300 * MIN
    fake.candles[("BTCUSDT", "1m")] = synthetic("BTCUSDT", np.arange(listed, now + 1, MIN), "1m")
    await fake.start()
    data = components.market_data(_settings(data_url=fake.url),
                                  retry=RetryPolicy(attempts=2, base_s=0.01, budget_s=10.0))
    await data.start()
    try:
        await data.perpetuals()
        data.exchange.markets["BTC/USDT:USDT"]["created"] = listed
        frame = await data.closed_candles("BTC/USDT", "1m", since_ms=listed - 30 * DAY_MS)
    finally:
        await data.close()
        await fake.stop()
    assert len(frame) == 300 and int(frame["timestamp"].iloc[0]) == listed


async def test_a_cancel_the_venue_lists_as_failed_is_not_taken_for_done(fake, broker):
    await broker.market_order("BTC/USDT", "buy", 0.02, "e1")
    await broker.protective_order("BTC/USDT", "sell", "stop", 49_000, "s1")
    fake.h_cancel_plan = lambda p: {"successList": [], "failureList": [  # type: ignore
        {"orderId": p["orderIdList"][0]["orderId"], "clientOid": "", "errorMsg": "busy"}]}
    with pytest.raises(TransientExchangeError, match="still pending"):
        await broker.cancel_protective("BTC/USDT", "s1")
    [(kind, params)] = [(p["planType"], p) for p in fake.calls(
        "POST", MIX + "order/cancel-plan-order")]
    assert kind == "pos_loss" and params["orderIdList"][0]["orderId"]


async def test_the_universe_asks_usdt_futures_contracts_and_tickers_only():
    fake = FakeBitget(now_ms=int(time.time() * 1000))
    await fake.start()
    settings = _settings(data_url=fake.url, SYMBOLS="ALL", MIN_VOLUME_24H="1e8")
    data = components.market_data(settings,
                                  retry=RetryPolicy(attempts=2, base_s=0.01, budget_s=10.0))
    await data.start()
    try:
        symbols = await components.watched_symbols(settings, data)()
    finally:
        await data.close()
        await fake.stop()
    assert symbols == ["BTC/USDT", "ETH/USDT"]  # LTC's 5e7 USDT is below the floor
    assert [p["productType"] for p in fake.calls("GET", MIX + "market/contracts")] == [
        "USDT-FUTURES"]
    assert [p["productType"] for p in fake.calls("GET", MIX + "market/tickers")] == [
        "USDT-FUTURES"]


async def test_a_restart_with_a_position_sets_nothing_already_as_configured(fake, broker):
    await broker.market_order("BTC/USDT", "buy", 0.01, "e1")
    again = components.trading(_settings(trading_url=fake.url), backoff_s=0.01,
                               rate_limit=False)
    before = len(fake.calls("POST", MIX + "account/set-margin-mode"))
    try:
        await again.start(["BTC/USDT"])
    finally:
        await again.close()
    assert len(fake.calls("POST", MIX + "account/set-margin-mode")) == before
    assert len(fake.calls("POST", MIX + "account/set-leverage")) == 1  # the first start's


async def test_a_margin_mode_the_venue_cannot_switch_now_is_said_in_one_line(fake):
    fake.margin_mode["BTCUSDT"] = "crossed"
    fake.positions["BTCUSDT"] = [0.01, 50_000.0]
    trading = components.trading(_settings(trading_url=fake.url), backoff_s=0.01,
                                 rate_limit=False)
    try:
        with pytest.raises(PermanentExchangeError, match="crossed margin.*MARGIN_MODE"):
            await trading.start(["BTC/USDT"])
    finally:
        await trading.close()
