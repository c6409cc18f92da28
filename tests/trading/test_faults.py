"""Whatever fails, one signal makes at most one position, and no position stays unprotected."""
from __future__ import annotations

import pytest

from domain.trade import ExitReason, OrderStatus, TradeState
from trading.outcomes import OutcomeKind, ProtectionProblem, SignalOutcome, SkipReason

from .conftest import TF_MS, is_opened, make_manager, make_signal, notices

PATHS = [("GET", "/fapi/v1/exchangeInfo"), ("GET", "/fapi/v1/time"),
         ("GET", "/fapi/v1/positionSide/dual"), ("GET", "/fapi/v1/leverageBracket"),
         ("POST", "/fapi/v1/marginType"), ("POST", "/fapi/v1/leverage"),
         ("GET", "/fapi/v3/positionRisk"), ("GET", "/fapi/v1/openAlgoOrders"),
         ("POST", "/fapi/v1/order"), ("GET", "/fapi/v1/order"), ("POST", "/fapi/v1/algoOrder"),
         ("GET", "/fapi/v1/algoOrder"), ("DELETE", "/fapi/v1/algoOrder"),
         ("GET", "/fapi/v1/userTrades")]


def one_position_protected(fake, store, symbol="BTCUSDT", qty=0.04):
    assert fake.position(symbol) == qty
    assert sorted(a["orderType"] for a in fake.open_algos(symbol)) == [
        "STOP_MARKET", "TAKE_PROFIT_MARKET"]
    assert len(store.open_positions()) == 1


async def test_lost_entry_response_makes_exactly_one_position(fake, store):
    manager = await make_manager(fake, store)
    fake.fail("/fapi/v1/order", 502, method="POST", lost=True)
    result = await manager.on_signal(make_signal(store), TF_MS)
    assert is_opened(result)
    assert len(fake.calls("POST", "/fapi/v1/order")) == 1   # asked by id, never re-sent
    assert len(fake.calls("GET", "/fapi/v1/order")) == 1
    one_position_protected(fake, store)


async def test_lost_stop_response_places_one_stop(fake, store):
    manager = await make_manager(fake, store)
    fake.fail("/fapi/v1/algoOrder", 504, method="POST", lost=True)
    await manager.on_signal(make_signal(store), TF_MS)
    assert len(fake.algos) == 2
    one_position_protected(fake, store)


@pytest.mark.parametrize("status", [502, 503, 429])
async def test_error_on_every_call_still_one_protected_position(fake, store, status):
    for method, path in PATHS:
        fake.fail(path, status, method=method)
    manager = await make_manager(fake, store)
    await manager.on_signal(make_signal(store), TF_MS)
    one_position_protected(fake, store)
    assert len([o for o in fake.orders if o["type"] == "MARKET"]) == 1
    fake.candle("BTCUSDT", high=52100, low=49900, close=52050)   # the target is hit
    for method, path in PATHS:
        fake.fail(path, status, method=method)
    await manager.reconcile()   # positionRisk fails: skipped this cycle
    await manager.reconcile()
    await manager.reconcile()
    closed = store.closed_positions()
    assert len(closed) == 1 and closed[0].exit_reason is ExitReason.TARGET
    fees = (0.04 * 50000 + 0.04 * 52000) * fake.taker_fee
    assert round(closed[0].pnl, 6) == round(80.0 - fees, 6) and fake.open_algos() == []


async def test_entry_that_cannot_be_resolved_is_never_resent(fake, store):
    manager = await make_manager(fake, store)
    fake.fail("/fapi/v1/order", 502, method="POST", lost=True)
    fake.fail("/fapi/v1/order", 502, method="GET", times=10)
    signal = make_signal(store)
    assert await manager.on_signal(signal, TF_MS) == SignalOutcome(OutcomeKind.UNRESOLVED)
    assert store.signal(signal.id).trade_state is TradeState.UNRESOLVED
    assert await manager.on_signal(signal, TF_MS) == SignalOutcome(
        OutcomeKind.ALREADY_HANDLED, state=TradeState.UNRESOLVED)
    fake.faults.clear()
    await manager.reconcile()   # the order is found by its id and adopted, with protection
    assert len(fake.calls("POST", "/fapi/v1/order")) == 1
    one_position_protected(fake, store)
    assert store.signal(signal.id).trade_state is TradeState.DONE


async def test_timestamp_error_resyncs_and_retries_once(fake, store):
    manager = await make_manager(fake, store)
    read = manager.guard.position

    async def read_then_skew(symbol):
        held = await read(symbol)
        fake.clock_offset_ms = 30_000   # our clock is now 30 s behind the exchange
        return held

    manager.guard.position = read_then_skew   # the entry is the first request refused
    result = await manager.on_signal(make_signal(store), TF_MS)
    assert is_opened(result)
    assert len(fake.calls("POST", "/fapi/v1/order")) == 2   # -1021, then accepted
    one_position_protected(fake, store)


async def test_insufficient_margin_skips_with_alert(fake, store):
    manager = await make_manager(fake, store)
    fake.balance = 50.0   # 2000 USDT at 20x needs 100 of margin
    signal = make_signal(store)
    result = await manager.on_signal(signal, TF_MS)
    assert result.reason is SkipReason.ENTRY_REJECTED and "-2019" in result.detail
    assert store.signal(signal.id).trade_state is TradeState.SKIPPED
    assert fake.position("BTCUSDT") == 0 and store.open_positions() == []
    assert any(n["event"] == "trade_skipped" for n in notices(store))
    assert store.intents(role="entry")[0].status is OrderStatus.REJECTED


async def test_notional_too_small_from_exchange_skips(fake, store):
    manager = await make_manager(fake, store)
    fake.reject("/fapi/v1/order", -4164, "Order's notional must be no smaller than 100 "
                "(unless you choose reduce only).")
    signal = make_signal(store)
    result = await manager.on_signal(signal, TF_MS)
    assert result.reason is SkipReason.ENTRY_REJECTED and "-4164" in result.detail
    assert store.signal(signal.id).trade_state is TradeState.SKIPPED
    assert fake.position("BTCUSDT") == 0


async def test_rejected_stop_closes_the_position_at_once(fake, store):
    manager = await make_manager(fake, store)
    fake.reject("/fapi/v1/algoOrder", -2021, "Order would immediately trigger.",
                when=lambda p: p.get("type") == "STOP_MARKET")
    result = await manager.on_signal(make_signal(store), TF_MS)
    assert result.kind is OutcomeKind.OPENED_AND_CLOSED
    assert (result.failure.role, result.failure.problem) == ("stop", ProtectionProblem.REJECTED)
    assert fake.position("BTCUSDT") == 0 and fake.open_algos() == []
    closes = [p for p in fake.calls("POST", "/fapi/v1/order") if p.get("reduceOnly") == "true"]
    assert len(closes) == 1
    pos = store.closed_positions()[0]
    assert pos.exit_reason is ExitReason.PROTECTION_FAILED
    assert any(n["event"] == "protection_failed" for n in notices(store))


async def test_rejected_target_also_closes(fake, store):
    manager = await make_manager(fake, store)
    fake.reject("/fapi/v1/algoOrder", -4045, "Reach max stop order limit.",
                when=lambda p: p.get("type") == "TAKE_PROFIT_MARKET")
    await manager.on_signal(make_signal(store), TF_MS)
    assert fake.position("BTCUSDT") == 0 and fake.open_algos() == []
    assert store.open_positions() == []


class Sleeps:
    """An injected sleep that records the waits instead of waiting."""

    def __init__(self) -> None:
        self.waits: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)


async def test_entry_answered_new_is_protected_before_on_signal_returns(fake, store):
    sleeps = Sleeps()
    manager = await make_manager(fake, store, sleep=sleeps)
    reconciles = len(fake.calls("GET", "/fapi/v1/openAlgoOrders"))
    fake.answer_new, fake.new_lookups = 1, 2   # filled, but NEW in the answer and two lookups
    result = await manager.on_signal(make_signal(store), TF_MS)
    assert is_opened(result, quantity=0.04)
    one_position_protected(fake, store)
    assert len(fake.calls("POST", "/fapi/v1/order")) == 1
    assert len(fake.calls("GET", "/fapi/v1/order")) == 3
    assert len(fake.calls("GET", "/fapi/v1/openAlgoOrders")) == reconciles   # no reconcile
    assert len(sleeps.waits) == 3 and sum(sleeps.waits) <= 2.0


async def test_entry_still_new_after_the_bound_is_left_to_reconciliation(fake, store):
    sleeps = Sleeps()
    manager = await make_manager(fake, store, sleep=sleeps)
    fake.answer_new, fake.new_lookups = 1, 1000
    signal = make_signal(store)
    assert await manager.on_signal(signal, TF_MS) == SignalOutcome(OutcomeKind.NOT_FILLED,
                                                                   status=OrderStatus.OPEN)
    assert len(sleeps.waits) == 5 and sum(sleeps.waits) <= 2.0   # bounded: about 2 s
    assert fake.open_algos() == [] and store.signal(signal.id).trade_state is TradeState.UNRESOLVED
    fake.reveal_fills()
    await manager.reconcile()
    one_position_protected(fake, store)
    assert store.signal(signal.id).trade_state is TradeState.DONE
