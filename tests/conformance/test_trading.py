"""Every venue's trading: one signal, one position, its stop and target on the venue, whatever
fails; restarts pick up where the last process stopped."""
from __future__ import annotations

import json
import time

import pytest

from app import components
from choch import Event
from domain.trade import Direction, ExitReason
from store import NewSignal, SignalRow, Store
from trading import PositionManager
from trading.outcomes import OutcomeKind, SkipReason

TF_MS = 15 * 60_000


class Killed(BaseException):
    """Stands for kill -9: nothing after it runs."""


@pytest.fixture(autouse=True)
def _trading_venues_only(harness):
    """The trading cases apply to venues that trade; a data-only venue says why it skips."""
    if not harness.venue.trades:
        pytest.skip(f"{harness.venue.label} serves market data only: no trading case applies")


@pytest.fixture
async def managers():
    """Start managers on the harness venue; their sessions are closed after the test."""
    made: list[PositionManager] = []

    async def make(settings, store: Store, symbol: str) -> PositionManager:
        broker = components.trading(settings, backoff_s=0.01, rate_limit=False)
        manager = components.position_manager(settings, store, broker)
        made.append(manager)
        await manager.start([symbol])
        return manager

    yield make
    for manager in made:
        await manager.close_session()


def signal(store: Store, settings, symbol: str, price: float, *, bullish: bool = True,
           pivot_time: int = 1) -> SignalRow:
    """A fresh CHoCH recorded on the data venue: stop 2% beyond the price, target at 2R."""
    now = int(time.time() * 1000)
    extreme = price * (0.98 if bullish else 1.02)
    event = Event("CHOCH", "bullish" if bullish else "bearish", price, pivot_time, now - TF_MS,
                  now, extreme, price)
    [row] = store.commit_candles(symbol, "15m", "L5R5close", {}, now - TF_MS,
                                 [NewSignal(event, False, "pending", None)], now,
                                 venue=settings.data_exchange)
    return row


def protected(harness, store: Store) -> bool:
    """The venue holds the position the store records, with its stop and target, nothing else."""
    [pos] = store.open_positions()
    sign = 1 if pos.direction is Direction.LONG else -1
    return (harness.position_size() == pytest.approx(sign * pos.quantity)
            and harness.protective() == [("stop", pos.stop), ("target", pos.target)])


async def test_a_signal_opens_exactly_one_protected_position(harness, settings, db, managers):
    manager = await managers(settings, db, harness.symbol)
    outcome = await manager.on_signal(signal(db, settings, harness.symbol, harness.price), TF_MS)
    assert outcome.kind is OutcomeKind.OPENED and outcome.quantity > 0
    assert harness.entry_orders() == 1 and protected(harness, db)
    assert db.open_positions()[0].venue == settings.trading_exchange


async def test_a_lost_entry_answer_makes_no_duplicate(harness, settings, db, managers):
    manager = await managers(settings, db, harness.symbol)
    harness.lose_next_entry_answer()
    outcome = await manager.on_signal(signal(db, settings, harness.symbol, harness.price), TF_MS)
    assert outcome.kind is OutcomeKind.OPENED
    await manager.reconcile()
    assert harness.entry_orders() == 1 and protected(harness, db)


async def test_killed_after_the_fill_protects_on_restart(harness, settings, state_path, db,
                                                         managers):
    manager = await managers(settings, db, harness.symbol)

    async def die(*args, **kwargs):
        raise Killed()

    manager.broker.protective_order = die
    with pytest.raises(Killed):
        await manager.on_signal(signal(db, settings, harness.symbol, harness.price), TF_MS)
    assert harness.position_size() > 0 and harness.protective() == []
    reopened = Store(state_path)  # a new process on the same state DB
    try:
        await managers(settings, reopened, harness.symbol)  # start() reconciles
        assert harness.entry_orders() == 1 and protected(harness, reopened)
    finally:
        reopened.close()


async def test_a_rejected_stop_closes_the_position_at_once(harness, settings, db, managers):
    manager = await managers(settings, db, harness.symbol)
    harness.reject_next_stop()
    outcome = await manager.on_signal(signal(db, settings, harness.symbol, harness.price), TF_MS)
    assert outcome.kind is OutcomeKind.OPENED_AND_CLOSED
    assert harness.position_size() == 0 and harness.protective() == []
    [closed] = db.closed_positions()
    assert closed.exit_reason is ExitReason.PROTECTION_FAILED and db.open_positions() == []


async def test_an_opposite_signal_reverses_the_position(harness, settings, db, managers):
    manager = await managers(settings, db, harness.symbol)
    await manager.on_signal(signal(db, settings, harness.symbol, harness.price), TF_MS)
    higher = harness.price * 1.01
    harness.set_price(higher)
    outcome = await manager.on_signal(signal(db, settings, harness.symbol, higher,
                                             bullish=False, pivot_time=2), TF_MS)
    assert outcome.kind is OutcomeKind.OPENED and outcome.direction is Direction.SHORT
    [closed] = db.closed_positions()
    assert closed.exit_reason is ExitReason.OPPOSITE and harness.position_size() < 0
    assert protected(harness, db)
    [(_, stop), (_, target)] = harness.protective()
    assert target < higher < stop


async def test_a_restart_without_the_state_adopts_the_open_position(harness, settings, db,
                                                                    tmp_path, managers):
    first = await managers(settings, db, harness.symbol)
    await first.on_signal(signal(db, settings, harness.symbol, harness.price), TF_MS)
    before = harness.protective()
    fresh = Store(tmp_path / "fresh.db")  # the state DB lost
    if harness.venue.trading_spec().client_ids is None:
        # No client id on any order: nothing proves the position the daemon's. Reported as
        # not ours and left alone, its stop and target untouched, never traded on.
        try:
            await _restart_reports_it_as_foreign(harness, settings, fresh, before, managers)
        finally:
            fresh.close()
        return
    try:
        await managers(settings, fresh, harness.symbol)  # start() reconciles and adopts
        [pos] = fresh.open_positions()
        assert [("stop", pos.stop), ("target", pos.target)] == before
        assert harness.protective() == before and harness.entry_orders() == 1
        harness.candle(high=harness.price * 1.001, low=pos.stop * 0.999, close=pos.stop * 0.999)
        manager = await managers(settings, fresh, harness.symbol)
        await manager.reconcile()
        assert harness.position_size() == 0 and harness.protective() == []
        assert fresh.closed_positions()[0].exit_reason is ExitReason.STOP
    finally:
        fresh.close()


async def _restart_reports_it_as_foreign(harness, settings, fresh: Store, before, managers):
    """A venue keeping no client id: after a lost state DB the position is reported, not
    adopted; a signal is not traded on top of it; its own stop closes it on the venue."""
    manager = await managers(settings, fresh, harness.symbol)  # start() reconciles
    assert fresh.open_positions() == [] and harness.entry_orders() == 1
    assert harness.protective() == before and "foreign_position" in {
        n["event"] for n in notices(fresh)}
    outcome = await manager.on_signal(signal(fresh, settings, harness.symbol, harness.price,
                                             pivot_time=3), TF_MS)
    assert outcome.kind is OutcomeKind.SKIPPED and outcome.reason is SkipReason.FOREIGN_POSITION
    [(_, stop), _] = before
    harness.candle(high=harness.price * 1.001, low=stop * 0.999, close=stop * 0.999)
    await manager.reconcile()
    assert harness.position_size() == 0 and harness.protective() == []
    assert fresh.open_positions() == [] and fresh.closed_positions() == []
    assert harness.entry_orders() == 1


def notices(store: Store) -> list[dict]:
    """Payloads of every queued trade/notice message."""
    rows = store.conn.execute("SELECT payload FROM outbox ORDER BY id").fetchall()
    return [json.loads(r["payload"]) for r in rows]


async def test_a_position_opened_by_hand_just_before_a_signal_is_not_traded_on(
        harness, settings, db, managers):
    manager = await managers(settings, db, harness.symbol)  # reconciled: the venue was flat
    harness.user_trade("sell", 0.01)                          # the owner's short, a second ago
    outcome = await manager.on_signal(signal(db, settings, harness.symbol, harness.price), TF_MS)
    assert outcome.kind is OutcomeKind.SKIPPED
    assert outcome.reason is SkipReason.FOREIGN_POSITION
    assert harness.entry_orders() == 0 and harness.position_size() == pytest.approx(-0.01)
    assert harness.protective() == [] and db.open_positions() == []
    [skipped] = [n for n in notices(db) if n["event"] == "trade_skipped"]
    assert "short 0.01" in skipped["text"] and "not traded" in skipped["text"]


async def test_a_second_daemon_on_the_account_is_detected_and_closes_nothing(
        harness, settings, db, tmp_path, managers):
    first = await managers(settings, db, harness.symbol)
    other = Store(tmp_path / "other.db")
    try:
        second = await managers(settings, other, harness.symbol)
        assert second.tag != first.tag
        ours, theirs = (signal(s, settings, harness.symbol, harness.price) for s in (db, other))
        read = second.guard.position

        async def first_fills_meanwhile(symbol):
            held = await read(symbol)  # flat: both daemons decide at the same moment
            second.guard.position = read
            assert (await first.on_signal(ours, TF_MS)).kind is OutcomeKind.OPENED
            return held

        second.guard.position = first_fills_meanwhile
        outcome = await second.on_signal(theirs, TF_MS)
        # Never a stop refused as a duplicate and read as a failure: nothing emergency-closed.
        assert db.closed_positions() == [] and other.closed_positions() == []
        said = {n["event"] for n in notices(other)}
        if outcome.kind is OutcomeKind.SKIPPED:  # the venue refused the entry's duplicate id
            assert outcome.reason is SkipReason.OTHER_INSTANCE and second.paused
            assert other.open_positions() == [] and "other_instance" in said
            assert harness.entry_orders() == 2 and harness.protective() == [
                ("stop", db.open_positions()[0].stop),
                ("target", db.open_positions()[0].target)]
        else:  # the venue took the same id again once filled: double, and said at once
            assert outcome.kind is OutcomeKind.OPENED and "quantity_mismatch" in said
            [pos] = other.open_positions()
            assert harness.position_size() == pytest.approx(2 * pos.quantity)
            await first.reconcile()
            later = signal(db, settings, harness.symbol, harness.price, pivot_time=7)
            rule = harness.venue.trading_spec().client_ids
            if rule is not None and rule.on_conditional:
                # The second daemon's own stop and target show it by their instance tag.
                assert first.paused and first.other_instance is not None
                assert {"other_instance", "quantity_mismatch"} <= {
                    n["event"] for n in notices(db)}
                assert (await first.on_signal(later, TF_MS)).reason is \
                    SkipReason.OTHER_INSTANCE
            else:  # stops carry no id: the doubled position is what shows it
                assert "quantity_mismatch" in {n["event"] for n in notices(db)}
                assert (await first.on_signal(later, TF_MS)).kind is OutcomeKind.SKIPPED
    finally:
        other.close()
