"""The state database: one transaction per batch, events recorded once, outbox kept in order."""
from __future__ import annotations

import pytest

from choch import Event
from store import NewSignal, Store

PARAMS = "L5R5close"


def _event(pivot_time: int, direction: str = "bullish") -> Event:
    return Event("CHOCH", direction, 100.0, pivot_time, pivot_time + 600_000,
                 pivot_time + 660_000, 95.0, 101.0)


def _new(event: Event, alert: bool = True) -> NewSignal:
    return NewSignal(event, False, "pending", {"text": str(event.pivot_time)} if alert else None)


@pytest.fixture
def db(tmp_path):
    store = Store(tmp_path / "state.db")
    yield store
    store.close()


def test_an_event_is_recorded_once_with_one_outbox_row(db):
    e = _event(1_000)
    first = db.commit_candles("BTC/USDT", "15m", PARAMS, {"n": 1}, 5, [_new(e)], now_ms=10,
                              venue="binance")
    again = db.commit_candles("BTC/USDT", "15m", PARAMS, {"n": 2}, 6, [_new(e)], now_ms=11,
                              venue="binance")
    assert [s.event for s in first] == [e] and again == []
    assert [r.payload["text"] for r in db.pending()] == ["1000"]
    assert db.load_detector("BTC/USDT", "15m", PARAMS, venue="binance") == ({"n": 2}, 6)


def test_same_pivot_on_another_timeframe_or_direction_is_another_signal(db):
    e = _event(1_000)
    db.commit_candles("BTC/USDT", "15m", PARAMS, {}, 5, [_new(e)], now_ms=10, venue="binance")
    assert len(db.commit_candles("BTC/USDT", "1h", PARAMS, {}, 5, [_new(e)], now_ms=10,
                                 venue="binance")) == 1
    assert len(db.commit_candles("BTC/USDT", "15m", PARAMS, {}, 5,
                                 [_new(_event(1_000, "bearish"))], now_ms=10, venue="binance")) == 1
    assert len(db.pending()) == 3


def test_a_failure_inside_the_transaction_keeps_nothing(db, monkeypatch):
    def boom(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(db.outbox, "enqueue", boom)  # the part Signals queues into
    with pytest.raises(RuntimeError):
        db.commit_candles("BTC/USDT", "15m", PARAMS, {"n": 1}, 5, [_new(_event(1))], now_ms=10,
                          venue="binance")
    assert db.recent_signals() == []
    assert db.load_detector("BTC/USDT", "15m", PARAMS, venue="binance") is None


def test_a_signal_too_old_to_alert_is_recorded_without_outbox_row(db):
    db.commit_candles("BTC/USDT", "15m", PARAMS, {}, 5, [_new(_event(1), alert=False)], 10,
                      venue="binance")
    assert len(db.recent_signals()) == 1 and db.pending() == []


def test_state_survives_reopening_and_migrations_run_once(tmp_path):
    path = tmp_path / "state.db"
    first = Store(path)
    first.commit_candles("ETH/USDT", "1h", PARAMS, {"k": [1, 2]}, 7, [_new(_event(5))], 10,
                         venue="binance")
    first.put("paused", True)
    first.close()
    second = Store(path)
    assert second.load_detector("ETH/USDT", "1h", PARAMS, venue="binance") == ({"k": [1, 2]}, 7)
    assert second.get("paused") is True and len(second.pending()) == 1
    assert second.conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_outbox_rows_leave_pending_once_sent_or_failed_and_keep_order(db):
    ids = [db.enqueue("notice", {"i": i}, now_ms=i) for i in range(3)]
    assert db.enqueue("notice", {"i": 9}, now_ms=9, dedupe_key="k") is not None
    assert db.enqueue("notice", {"i": 9}, now_ms=9, dedupe_key="k") is None
    db.retry_later(ids[0], 500, "timeout")
    assert [r.id for r in db.pending()][:3] == ids and db.pending()[0].attempts == 1
    db.mark_sent(ids[0], 600)
    db.mark_failed(ids[1], "chat not found", 600)
    assert [r.payload["i"] for r in db.pending()] == [2, 9]
    assert db.outbox_counts() == {"sent": 1, "failed": 1, "pending": 2}


def test_trade_state_tracks_what_trading_did(db):
    [s] = db.commit_candles("BTC/USDT", "15m", PARAMS, {}, 5, [_new(_event(1))], 10,
                            venue="binance")
    assert [x.id for x in db.signals_to_trade()] == [s.id]
    db.set_trade_state(s.id, "skipped", "below minimum notional")
    assert db.signals_to_trade() == [] and db.signal(s.id).trade_note == "below minimum notional"


def test_rows_written_with_the_older_spellings_read_as_the_same_values(db):
    """A state DB from before the typed statuses keeps working: 'cancelled' is CANCELED (final)
    and a 'protection failed: ...' exit is PROTECTION_FAILED."""
    from domain.trade import Direction, ExitReason, OrderStatus

    db.record_intent("old-stop", None, "BTC/USDT", "stop", "sell", None, 49000.0, 1,
                     venue="binance")
    db.conn.execute("UPDATE order_intents SET status = 'cancelled' WHERE client_id = 'old-stop'")
    db.record_intent("new-stop", None, "BTC/USDT", "stop", "sell", None, 49000.0, 2,
                     venue="binance")
    db.update_intent("new-stop", OrderStatus.CANCELED, 3)
    assert db.intent("old-stop").status is OrderStatus.CANCELED
    assert db.intent("new-stop").status is OrderStatus.CANCELED
    assert db.intents(role="stop", unresolved=True) == []
    pos = db.add_position("demo", "BTC/USDT", Direction.LONG, 0.04, 50000.0, 49000.0, 52000.0,
                          None, 10, venue="binance")
    db.conn.execute("UPDATE positions SET status='closed', exit_reason=? WHERE id=?",
                    ("protection failed: stop rejected: -2021", pos))
    row = db.position(pos)
    assert (row.direction, row.exit_reason) == (Direction.LONG, ExitReason.PROTECTION_FAILED)


def test_trade_states_are_values(db):
    from domain.trade import TradeState

    [s] = db.commit_candles("BTC/USDT", "15m", PARAMS, {}, 5, [_new(_event(1))], 10,
                            venue="binance")
    assert s.trade_state is TradeState.PENDING
    db.set_trade_state(s.id, TradeState.NOT_TRADED, "CHOCH not in TRADE_ON")
    assert db.signal(s.id).trade_state is TradeState.NOT_TRADED and db.signals_to_trade() == []
