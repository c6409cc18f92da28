"""Order outcomes are one set of values: an entry the exchange canceled is final, said once, and
never asked about again; decisions come back as values and their words stay the users' words."""
from __future__ import annotations

from app import components
from domain.trade import Direction, ExitReason, OrderStatus, TradeState
from trading import PaperBroker
from trading.client_ids import client_id
from trading.models import OrderResult
from trading.notices import limit_text, outcome_text, protection_text, skip_text
from trading.outcomes import (
    EntryDecision,
    Limit,
    LimitKind,
    OutcomeKind,
    ProtectionFailure,
    ProtectionProblem,
    SignalOutcome,
    SkipReason,
)

from .conftest import TF_MS, make_manager, make_settings, make_signal, notices


def _canceled_market_order(fake, cid: str) -> None:
    """The exchange holds `cid` as a market entry it canceled without filling any of it."""
    now = fake.now_ms()
    fake.orders.append({
        "orderId": 990001, "symbol": "BTCUSDT", "status": "CANCELED", "clientOrderId": cid,
        "price": "0", "avgPrice": "0.00", "origQty": "0.04", "executedQty": "0", "cumQty": "0",
        "cumQuote": "0", "timeInForce": "GTC", "type": "MARKET", "reduceOnly": False,
        "closePosition": False, "side": "BUY", "positionSide": "BOTH", "stopPrice": "0",
        "workingType": "CONTRACT_PRICE", "priceProtect": False, "origType": "MARKET",
        "time": now, "updateTime": now})


def _lookups(fake, cid: str) -> int:
    return len([c for c in fake.calls("GET", "/fapi/v1/order")
                if c.get("origClientOrderId") == cid])


async def test_entry_the_exchange_reports_canceled_is_resolved_and_not_looked_up_again(fake,
                                                                                      store):
    signal = make_signal(store)
    cid = client_id(signal.identity, "entry")
    store.record_intent(cid, signal.id, "BTC/USDT", "entry", "buy", 0.04, 50000.0, 0,
                        venue="binance")
    store.update_intent(cid, OrderStatus.SENT, 0)   # killed before the answer was read
    _canceled_market_order(fake, cid)
    manager = await make_manager(fake, store)        # start() reconciles: one lookup
    await manager.reconcile()
    report = await manager.reconcile()
    assert _lookups(fake, cid) == 1                   # resolved once, never asked again
    assert store.intent(cid).status is OrderStatus.CANCELED
    assert store.intents(role="entry", unresolved=True) == []
    assert store.signal(signal.id).trade_state is TradeState.SKIPPED
    assert cid not in report.entries and not report.skipped
    assert [n["event"] for n in notices(store)] == ["trade_skipped"]   # said once
    assert fake.position("BTCUSDT") == 0 and fake.calls("POST", "/fapi/v1/order") == []


async def test_reconcile_reports_the_canceled_entry_as_not_filled(fake, store):
    signal = make_signal(store)
    cid = client_id(signal.identity, "entry")
    store.record_intent(cid, signal.id, "BTC/USDT", "entry", "buy", 0.04, 50000.0, 0,
                        venue="binance")
    _canceled_market_order(fake, cid)
    manager = await make_manager(fake, store, start=False)
    await manager.broker.start(list(manager.symbols))
    report = await manager.reconcile()
    assert report.entries == {cid: EntryDecision.NOT_FILLED}


class _CancelingBroker(PaperBroker):
    """A paper exchange that cancels every market order unfilled (an entry nobody took)."""

    async def market_order(self, symbol, side, quantity, client_id, **kwargs):
        result = OrderResult(symbol, client_id, "paper-x", OrderStatus.CANCELED, 0.0, None)
        self.orders[client_id] = result
        return result


async def test_entry_answered_canceled_is_skipped_at_once_not_left_unresolved(store):
    settings = make_settings("", ENABLE_TRADING="0")
    manager = components.position_manager(settings, store, _CancelingBroker(store))
    await manager.start(list(settings.symbols))
    signal = make_signal(store)
    outcome = await manager.on_signal(signal, TF_MS)
    assert outcome == SignalOutcome.skipped(SkipReason.ENTRY_NOT_FILLED,
                                            status=OrderStatus.CANCELED)
    assert store.signal(signal.id).trade_state is TradeState.SKIPPED
    assert store.intents(role="entry", unresolved=True) == [] and store.open_positions() == []
    assert (await manager.on_signal(signal, TF_MS)).state is TradeState.SKIPPED


async def test_a_daily_limit_is_a_value_and_only_the_caller_announces_it(store):
    settings = make_settings("", ENABLE_TRADING="0", MAX_DAILY_TRADES="1")
    manager = components.position_manager(settings, store, PaperBroker(store))
    await manager.start(list(settings.symbols))
    store.add_position("paper", "ETH/USDT", Direction.LONG, 1.0, 3000.0, 2900.0, 3200.0, None,
                       manager.now_ms(), venue="binance")
    assert manager.limits.reached() == Limit(LimitKind.DAILY_TRADES, 1, 1)
    assert notices(store) == []                      # computing it says nothing
    outcome = await manager.on_signal(make_signal(store), TF_MS)
    assert outcome.limit == Limit(LimitKind.DAILY_TRADES, 1, 1)
    assert [n["event"] for n in notices(store)] == ["trading_paused"]


def test_bullish_opens_long_and_bearish_short():
    assert Direction.from_event("bullish") is Direction.LONG
    assert Direction.from_event("bearish") is Direction.SHORT


def test_the_words_users_see_are_made_from_the_values():
    assert outcome_text(SignalOutcome(OutcomeKind.OPENED, direction=Direction.LONG,
                                      quantity=0.04, price=50000.0)) == "opened long 0.04 @ 50000"
    assert skip_text(SignalOutcome.skipped(SkipReason.STALE)) == "older than one candle"
    assert limit_text(Limit(LimitKind.MAX_OPEN, 1, 1)) == "1 positions open (MAX_OPEN_POSITIONS=1)"
    assert limit_text(Limit(LimitKind.DAILY_LOSS, -40.0, 30)).startswith(
        "daily loss limit reached: -40.00 USDT realised today (MAX_DAILY_LOSS=30)")
    rejected = ProtectionFailure("stop", ProtectionProblem.REJECTED, "-2021 would trigger")
    assert protection_text(rejected) == "stop rejected: -2021 would trigger"
    assert rejected.must_close
    assert not ProtectionFailure("target", ProtectionProblem.UNPLACED, "502").must_close
    assert str(ExitReason.OPPOSITE) == "opposite signal" and f"{OrderStatus.OPEN}" == "open"


def test_prices_and_quantities_in_the_words_are_exact_not_cut_to_six_digits():
    from domain.trade import ExitReason as Why
    from trading.notices import close_text, opened_text
    from trading.outcomes import CloseKind, CloseOutcome

    opened = SignalOutcome(OutcomeKind.OPENED, direction=Direction.LONG, quantity=0.0191,
                           price=104523.5)
    assert outcome_text(opened) == "opened long 0.0191 @ 104523.5"
    assert opened_text("BTC/USDT", opened, 104123.4, 105323.7, "15m", "CHOCH") == (
        "Opened LONG BTC/USDT 0.0191 @ 104523.5 (stop 104123.4, target 105323.7) on 15m CHOCH")
    closed = CloseOutcome(CloseKind.CLOSED, "BTC/USDT", Why.STOP, Direction.LONG, 96584.12,
                          -8.0, 2.0)
    assert close_text(closed).startswith("Closed LONG BTC/USDT @ 96584.12: PnL -8.00 USDT")
    assert skip_text(SignalOutcome.skipped(SkipReason.STOP_NOT_BEYOND_ENTRY, price=96584.12,
                                           stop=96590.01)) == (
        "stop 96590.01 is not beyond the entry 96584.12")


class _PartialBroker(PaperBroker):
    """A paper exchange that fills half of a market order, then cancels the rest."""

    async def market_order(self, symbol, side, quantity, client_id, **kwargs):
        price = kwargs.get("ref_price") or self.prices[symbol]
        self._fill(symbol, side, quantity / 2, price, kwargs.get("reduce_only", False))
        result = OrderResult(symbol, client_id, "paper-x", OrderStatus.CANCELED, quantity / 2,
                             price)
        self.orders[client_id] = result
        return result


async def test_entry_canceled_after_a_partial_fill_protects_what_filled(store):
    settings = make_settings("", ENABLE_TRADING="0")
    manager = components.position_manager(settings, store, _PartialBroker(store))
    await manager.start(list(settings.symbols))
    outcome = await manager.on_signal(make_signal(store), TF_MS)
    assert (outcome.kind, outcome.quantity) == (OutcomeKind.OPENED, 0.02)
    [pos] = store.open_positions("paper")
    assert pos.quantity == 0.02 and (pos.stop, pos.target) == (49000.0, 52000.0)
