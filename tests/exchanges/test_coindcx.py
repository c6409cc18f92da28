"""CoinDCX as data and in the configuration: pairs, refusals read from words, signing, no
testnet (DEMO_TRADING=1 refused), live only when confirmed, no ccxt class needed."""
from __future__ import annotations

import hashlib
import hmac
import json

import pytest

from exchanges.ccxt_lean import configured_ids
from exchanges.coindcx import COINDCX, decimals, on_step, pair_of, reason_of_message, symbol_of
from exchanges.coindcx_http import Pacer, compact, date_ms, refusal, sign
from exchanges.coindcx_orders import matches_intent, order_result, rules_of
from exchanges.errors import AuthError, RateLimited, Rejected, TransientExchangeError
from exchanges.port import OrderIntent, OrderStatus
from exchanges.registry import get_venue
from exchanges.venue import OrderLookup, Reason, SlTpStyle
from tests.config_env import load, problems

LIVE = dict(TRADING_EXCHANGE="coindcx", ENABLE_TRADING="1", DEMO_TRADING="0")


def test_coindcx_is_registered_without_demo_nor_client_ids():
    venue = get_venue("CoinDCX")
    spec = venue.trading_spec()
    assert venue is COINDCX and not venue.has_demo and spec.client_ids is None
    assert spec.lookup is OrderLookup.INTENT_MATCH and spec.sltp_style is SlTpStyle.ATTACHED
    assert venue.native_timeframes == ("1m", "5m", "1h", "1d")


def test_a_venue_of_its_own_client_imports_no_ccxt_class():
    assert configured_ids({"DATA_EXCHANGE": "coindcx"}) == ()
    assert configured_ids({"DATA_EXCHANGE": "coindcx", "TRADING_EXCHANGE": "bybit"}) == (
        "bybit",)


def test_pairs_and_steps():
    assert pair_of("BTC/USDT") == "B-BTC_USDT" and symbol_of("B-1000SHIB_USDT") == "1000SHIB/USDT"
    assert symbol_of("B-BTC_INR") is None and symbol_of("BTCUSDT") is None
    assert decimals(0.001) == 3 and on_step(0.1 + 0.2, 0.1) == 0.3 and decimals(1.0) == 0


@pytest.mark.parametrize(("message", "reason"), [
    ("Trigger price should be less than the current price", Reason.WOULD_TRIGGER_IMMEDIATELY),
    ("Trigger price should be greater than the current price",
     Reason.WOULD_TRIGGER_IMMEDIATELY),
    ("Insufficient funds", Reason.INSUFFICIENT_FUNDS),
    ("This order cannot be cancelled", Reason.NOT_FOUND),
    ("SL already exists", Reason.DUPLICATE_CLIENT_ID),
    ("Order leverage must be equal to position leverage", Reason.INVALID_ORDER),
    ("Minimum order value should be 5 USDT", Reason.INVALID_ORDER),
])
def test_refusals_are_read_from_their_words(message, reason):
    assert reason_of_message(message) is reason
    error = refusal(COINDCX, 400, message)
    assert isinstance(error, Rejected) and error.reason is reason


def test_statuses_become_our_kinds():
    assert isinstance(refusal(COINDCX, 401, "Invalid credentials"), AuthError)
    limited = refusal(COINDCX, 429, "Too Many Requests", {"Retry-After": "2"})
    assert isinstance(limited, RateLimited) and limited.retry_after_s == 2.0
    assert type(refusal(COINDCX, 503, "")) is TransientExchangeError
    assert type(refusal(COINDCX, 500, "Invalid input")) is TransientExchangeError  # unknown
    assert refusal(COINDCX, 404, "Order not found").reason is Reason.NOT_FOUND


def test_the_signature_is_over_the_exact_compact_bytes_sent():
    body = {"timestamp": 1, "order": {"side": "buy", "total_quantity": 0.001}}
    payload = compact(body)
    assert payload == b'{"timestamp":1,"order":{"side":"buy","total_quantity":0.001}}'
    assert sign("s", payload) == hmac.new(b"s", payload, hashlib.sha256).hexdigest()
    assert json.loads(payload) == body


def test_the_date_header_is_whole_seconds_rounded_down():
    assert date_ms({"Date": "Tue, 10 Feb 2026 13:17:30 GMT"}) == 1_770_729_450_000
    assert date_ms({}) is None and date_ms({"Date": "nonsense"}) is None


async def test_the_pacer_spaces_request_starts():
    now = [0.0]
    pacer = Pacer(16.0, clock=lambda: now[0])
    await pacer.wait()
    assert pacer.next == pytest.approx(1 / 16)
    pacer.next = 0.0  # no sleeping in a unit test: the slots are what matter
    slots = []
    for _ in range(3):
        slots.append(max(now[0], pacer.next))
        pacer.next = slots[-1] + pacer.interval
    assert slots == pytest.approx([0.0, 1 / 16, 2 / 16])


def test_orders_rules_and_intent_matching():
    o = {"id": "a", "pair": "B-BTC_USDT", "side": "buy", "status": "filled",
         "order_type": "market_order", "total_quantity": 0.004, "remaining_quantity": 0.0,
         "cancelled_quantity": 0.0, "avg_price": 50_000.0, "created_at": 10_000}
    got = order_result(o, "cid")
    assert got.status is OrderStatus.FILLED and got.filled == 0.004 and got.kind is None
    assert order_result({**o, "status": "initial", "avg_price": 0.0}).status is OrderStatus.OPEN
    intent = OrderIntent("cid", "BTC/USDT", "buy", 0.004, 9_000)
    assert matches_intent(o, intent, "B-BTC_USDT", 0.001)
    assert not matches_intent({**o, "total_quantity": 0.005}, intent, "B-BTC_USDT", 0.001)
    assert not matches_intent({**o, "side": "sell"}, intent, "B-BTC_USDT", 0.001)
    assert not matches_intent({**o, "created_at": 1_000}, intent, "B-BTC_USDT", 0.001)
    assert not matches_intent(o, intent, "B-ETH_USDT", 0.001)
    rules = rules_of("BTC/USDT", {"quantity_increment": 0.001, "min_quantity": 0.001,
                                  "min_trade_size": 0.002, "min_notional": 6.0,
                                  "price_increment": 0.1, "dynamic_position_leverage_details":
                                  {"5": 15e6, "20": 1e5, "10": 1e6}})
    assert rules.min_qty == 0.002 and rules.tick == 0.1 and rules.min_notional == 6.0
    assert rules.brackets == ((1e5, 20.0), (1e6, 10.0), (15e6, 5.0))
    assert rules.max_notional(20) == 1e5 and rules.max_notional(8) == 1e6
    assert rules.max_notional(5) == 15e6


def test_demo_trading_on_coindcx_is_refused_naming_the_ways_out():
    found = problems(TRADING_EXCHANGE="coindcx", ENABLE_TRADING="1", DEMO_TRADING="1")
    assert "ENABLE_TRADING=0" in found["DEMO_TRADING"]
    assert "CONFIRM_LIVE_TRADING=yes" in found["DEMO_TRADING"]


def test_live_coindcx_needs_the_confirmation_and_the_pair():
    assert {"CONFIRM_LIVE_TRADING", "COINDCX_API_KEY"} <= set(problems(**LIVE))
    s = load(**LIVE, CONFIRM_LIVE_TRADING="yes", COINDCX_API_KEY="k", COINDCX_SECRET="s")
    assert s.live_trading and s.signing_pair == "COINDCX_API_KEY"
    assert load(DATA_EXCHANGE="coindcx", ENABLE_TRADING="0").data_exchange == "coindcx"


def test_coindcx_hosts_are_real_money():
    assert COINDCX.is_production_host("https://api.coindcx.com")
    assert COINDCX.is_production_host("https://public.coindcx.com")
    assert not COINDCX.is_production_host("http://127.0.0.1:8080")


def test_requests_are_counted_as_the_metrics_count_ccxt_ones():
    from app.api_view import outcome_of
    from exchanges.coindcx_http import observed_as

    assert outcome_of(observed_as(None)) == "ok"
    assert outcome_of(observed_as(refusal(COINDCX, 429, "Too Many Requests"))) == "rate_limited"
    assert outcome_of(observed_as(refusal(COINDCX, 503, ""))) == "network"
    assert outcome_of(observed_as(refusal(COINDCX, 400, "Insufficient funds"))) == "rejected"
    timeout = TransientExchangeError("t")
    timeout.__cause__ = TimeoutError()
    assert outcome_of(observed_as(timeout)) == "timeout"
