"""Bybit's trading instance against the Bybit fake: what differs from the generic ccxt trading
(lookups by client id, duplicate ids, refused stops read by code, settings already as asked)."""
from __future__ import annotations

import pytest

from app import components
from config import load_settings
from domain.trade import Direction
from exchanges.bybit import (
    BYBIT,
    EXPECT_FALLING,
    INTERNAL_ERROR,
    LEVERAGE_NOT_MODIFIED,
    PARAMS_ERROR,
)
from exchanges.ccxt_lean import ccxt
from exchanges.errors import RateLimited, Rejected, TransientExchangeError, reason_of, translate
from exchanges.venue import Reason
from tests.fakes.bybit import API_KEY, SECRET, FakeBybit

SYMBOL = "BTC/USDT"


@pytest.fixture
async def fake():
    server = FakeBybit(demo=True)
    await server.start()
    yield server
    await server.stop()


@pytest.fixture
async def bybit(fake):
    """A started Bybit trading instance (demo) on the fake."""
    settings = load_settings({"TRADING_EXCHANGE": "bybit", "ENABLE_TRADING": "1",
                              "DEMO_TRADING": "1", "BYBIT_API_KEY_DEMO": API_KEY,
                              "BYBIT_SECRET_DEMO": SECRET, "BYBIT_TRADING_URL": fake.url,
                              "SYMBOLS": SYMBOL, "LEVERAGE": "20"}, dotenv_path=None)
    instance = components.trading(settings, backoff_s=0.01, rate_limit=False)
    await instance.start([SYMBOL])
    yield instance
    await instance.close()


@pytest.mark.parametrize("error, reason", [
    # ccxt's BadRequest for the catch-all 10001: a refused parameter, by Bybit's code.
    (ccxt.BadRequest('bybit {"retCode":10001,"retMsg":"params error"}'), Reason.INVALID_ORDER),
    # ccxt's BadRequest for 'leverage not modified': already as asked.
    (ccxt.BadRequest('bybit {"retCode":110043,"retMsg":"leverage not modified"}'),
     Reason.NO_CHANGE),
    # ccxt's InvalidOrder for a duplicate orderLinkId: the order exists.
    (ccxt.InvalidOrder('bybit {"retCode":110072,"retMsg":"OrderLinkedID is duplicate"}'),
     Reason.DUPLICATE_CLIENT_ID),
    # ccxt's InvalidOrder for a falling trigger above the market: it would trigger at once.
    (ccxt.InvalidOrder('bybit {"retCode":110093,"retMsg":"expect Falling"}'),
     Reason.WOULD_TRIGGER_IMMEDIATELY),
    (ccxt.InvalidOrder('bybit {"retCode":110017,"retMsg":"current position is zero"}'),
     Reason.REDUCE_ONLY_REJECTED),
])
def test_bybit_codes_decide_the_reason(error, reason):
    translated = translate(error, BYBIT)
    assert isinstance(translated, Rejected) and reason_of(translated) is reason


def test_bybit_server_and_rate_limit_codes_are_transient():
    internal = translate(ccxt.ExchangeError('bybit {"retCode":10016,"retMsg":"Internal"}'),
                         BYBIT)
    assert type(internal) is TransientExchangeError and internal.code == INTERNAL_ERROR
    limited = translate(ccxt.ExchangeError('bybit {"retCode":10006,"retMsg":"Too many"}'), BYBIT)
    assert isinstance(limited, RateLimited)


async def test_start_sets_leverage_and_margin_and_reads_rules_and_risk_limits(fake, bybit):
    rules = bybit.rules(SYMBOL)
    assert (rules.step, rules.min_qty, rules.tick, rules.min_notional) == (0.001, 0.001, 0.1,
                                                                          5.0)
    assert rules.brackets == ((2_000_000.0, 100.0), (10_000_000.0, 50.0))
    assert fake.positions["BTCUSDT"].leverage == "20" and fake.margin_mode == "ISOLATED_MARGIN"
    assert fake.calls("GET", "/v5/market/risk-limit")[-1]["symbol"] == "BTCUSDT"


async def test_leverage_already_set_is_no_error_on_a_second_start(fake, bybit):
    bybit._prepared.clear()  # as a restarted process would
    await bybit.start([SYMBOL])
    assert fake.requests[-1].ret_code in (0, LEVERAGE_NOT_MODIFIED)
    assert any(r.ret_code == LEVERAGE_NOT_MODIFIED for r in fake.requests)


async def test_a_filled_order_is_found_by_client_id_after_a_venue_restart(fake, bybit):
    placed = await bybit.market_order(SYMBOL, "buy", 0.01, "entry1")
    assert placed.client_id == "entry1"
    fake.restart()  # /v5/order/realtime no longer holds closed orders
    found = await bybit.find_order(SYMBOL, "entry1", conditional=False)
    assert found is not None and found.exchange_id == placed.exchange_id
    assert found.filled == pytest.approx(0.01) and found.average == 50_000
    assert "/v5/order/history" in fake.paths()
    # Never ccxt's fetch_order(None, ...), whose orderId=None matches nothing on Bybit.
    assert all(p.get("orderId") in (None, "") for p in fake.calls("GET", "/v5/order/realtime"))
    assert await bybit.find_order(SYMBOL, "never1", conditional=False) is None


async def test_a_duplicate_client_id_is_a_refusal_by_reason_never_a_second_order(fake, bybit):
    first = await bybit.market_order(SYMBOL, "buy", 0.01, "dup1")
    with pytest.raises(Rejected) as caught:   # the order desk looks the id up
        await bybit.market_order(SYMBOL, "buy", 0.01, "dup1")
    assert caught.value.reason is Reason.DUPLICATE_CLIENT_ID
    assert any(r.ret_code == 110072 for r in fake.requests)  # Bybit refused the second
    found = await bybit.find_order(SYMBOL, "dup1", conditional=False)
    assert found is not None and found.exchange_id == first.exchange_id
    assert fake.position("BTCUSDT") == pytest.approx(0.01)  # one order, one position


async def test_stop_and_target_are_conditional_orders_found_and_cancelled_by_id(fake, bybit):
    await bybit.market_order(SYMBOL, "buy", 0.01, "long1")
    stop = await bybit.protective_order(SYMBOL, "sell", "stop", 49_000.0, "long1stop")
    target = await bybit.protective_order(SYMBOL, "sell", "target", 52_000.0, "long1tp")
    sent = [p for p in fake.calls("POST", "/v5/order/create") if p.get("triggerPrice")]
    assert [(p["triggerDirection"], p["reduceOnly"], p["closeOnTrigger"], p["orderLinkId"])
            for p in sent] == [(2, True, True, "long1stop"), (1, True, True, "long1tp")]
    assert (stop.client_id, target.client_id) == ("long1stop", "long1tp")
    waiting = await bybit.open_protective()
    assert sorted((o.kind, o.trigger, o.side) for o in waiting) == [
        ("stop", 49_000.0, "sell"), ("target", 52_000.0, "sell")]
    found = await bybit.find_order(SYMBOL, "long1stop", conditional=True)
    assert found is not None and found.kind == "stop" and found.trigger == 49_000.0
    await bybit.cancel_protective(SYMBOL, "long1tp")
    await bybit.cancel_protective(SYMBOL, "long1tp")  # gone already is fine
    assert [o.client_id for o in await bybit.open_protective()] == ["long1stop"]


@pytest.mark.parametrize("code", [PARAMS_ERROR, EXPECT_FALLING])
async def test_a_refused_stop_reads_would_trigger_by_its_code(fake, bybit, code):
    await bybit.market_order(SYMBOL, "buy", 0.01, "long2")
    fake.reject("/v5/order/create", code, "StopLoss set for Buy position should lower than "
                "base_price")
    with pytest.raises(Rejected) as caught:
        await bybit.protective_order(SYMBOL, "sell", "stop", 49_000.0, "long2stop")
    assert caught.value.reason is Reason.WOULD_TRIGGER_IMMEDIATELY and caught.value.code == code


async def test_a_lost_entry_answer_is_resolved_by_client_id(fake, bybit):
    fake.fail("/v5/order/create", 504, lost=True)
    with pytest.raises(TransientExchangeError):
        await bybit.market_order(SYMBOL, "sell", 0.01, "short1")
    found = await bybit.find_order(SYMBOL, "short1", conditional=False)
    assert found is not None and found.filled == pytest.approx(0.01)
    positions = await bybit.positions([SYMBOL])
    assert positions[SYMBOL].quantity == pytest.approx(0.01)


async def test_the_closing_fill_has_the_price_pnl_and_usdt_fees(fake, bybit):
    await bybit.market_order(SYMBOL, "buy", 0.02, "long3")
    await bybit.protective_order(SYMBOL, "sell", "stop", 49_000.0, "long3stop")
    fake.candle("BTCUSDT", high=50_100, low=48_900, close=49_100)
    fill = await bybit.closing_fill(SYMBOL, Direction.LONG, 0)
    assert fill is not None and fill.price == 49_000 and fill.quantity == pytest.approx(0.02)
    assert fill.pnl == pytest.approx(-20.0)
    assert fill.fees == pytest.approx((50_000 + 49_000) * 0.02 * 0.00055)


async def test_check_reports_keys_balance_and_the_position_mode_rule(bybit):
    lines = await bybit.check()
    assert [(name, ok) for name, ok, _ in lines] == [
        ("trading host", True), ("trading authentication", True), ("trading balance", True),
        ("position mode", True), ("margin mode", True)]
    assert "10000 USDT" in lines[2][2] and "(demo, signed by BYBIT_API_KEY" in lines[0][2]
