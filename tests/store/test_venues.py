"""Signals, detector states, positions and order intents carry their venue; a database written
before venues existed is migrated in place, its rows Binance's."""
from __future__ import annotations

import sqlite3

import pytest

from choch import Event
from domain.trade import Direction
from store import NewSignal, Store
from store.schema import MIGRATIONS

PARAMS = "L5R5close"


def _event(pivot_time: int) -> Event:
    return Event("CHOCH", "bullish", 100.0, pivot_time, pivot_time + 600_000,
                 pivot_time + 660_000, 95.0, 101.0)


def _old_database(path) -> None:
    """A state DB as the schema before venues wrote it, with a row in every table."""
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA foreign_keys=ON")
    conn.executescript(f"BEGIN; {MIGRATIONS[0]}; PRAGMA user_version=1; COMMIT;")
    conn.execute(
        "INSERT INTO signals (id, symbol, timeframe, params, direction, pivot_time, kind, level, "
        "break_time, confirmed_at, extreme, close, detected_at, catch_up, trade_state) "
        "VALUES (7, 'BTC/USDT', '15m', ?, 'bullish', 1000, 'CHOCH', 100, 1600, 1660, 95, 101, "
        "1700, 0, 'done')", (PARAMS,))
    conn.execute("INSERT INTO detectors VALUES ('BTC/USDT', '15m', ?, '{\"n\": 1}', 5, 6)",
                 (PARAMS,))
    conn.execute("INSERT INTO outbox (topic, dedupe_key, signal_id, payload, created_at) "
                 "VALUES ('signal', 'signal:x', 7, '{}', 1700)")
    conn.execute("INSERT INTO order_intents (client_id, signal_id, symbol, role, side, status, "
                 "created_at, updated_at) VALUES ('chx0123456789abcdef01234567-e', 7, "
                 "'BTC/USDT', 'entry', 'buy', 'filled', 1700, 1700)")
    conn.execute("INSERT INTO positions (mode, symbol, direction, quantity, entry_price, "
                 "signal_id, status, opened_at) VALUES ('demo', 'BTC/USDT', 'long', 0.04, "
                 "50000, 7, 'open', 1700)")
    conn.close()


def test_a_database_of_the_schema_before_venues_is_migrated_with_its_rows_binances(tmp_path):
    path = tmp_path / "state.db"
    _old_database(path)
    db = Store(path)
    try:
        assert db.conn.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS) == 2
        assert db.conn.execute("PRAGMA foreign_keys").fetchone()[0] == 1
        assert db.conn.execute("PRAGMA foreign_key_check").fetchall() == []
        signal = db.signal(7)
        assert signal.venue == "binance" and signal.identity.startswith("binance|BTC/USDT|15m|")
        assert db.load_detector("BTC/USDT", "15m", PARAMS, venue="binance") == ({"n": 1}, 5)
        assert db.intent("chx0123456789abcdef01234567-e").venue == "binance"
        [pos] = db.open_positions("demo", "binance")
        assert pos.venue == "binance" and pos.signal_id == 7
        assert db.open_positions("demo", "bybit") == []
        # The outbox row still points at its signal; the signal cannot be orphaned.
        assert db.conn.execute("SELECT signal_id FROM outbox").fetchone()[0] == 7
        with pytest.raises(sqlite3.IntegrityError):
            db.conn.execute("DELETE FROM signals WHERE id = 7")
    finally:
        db.close()
    again = Store(path)  # opening it again migrates nothing more
    assert again.signal(7).venue == "binance"
    again.close()


def test_the_same_signal_on_two_venues_is_two_signals_with_two_identities(tmp_path):
    db = Store(tmp_path / "state.db")
    e = _event(1_000)
    new = NewSignal(e, False, "pending", {"text": "x"})
    on_binance = db.commit_candles("BTC/USDT", "15m", PARAMS, {"v": "b"}, 5, [new], 10,
                                   venue="binance")
    on_bybit = db.commit_candles("BTC/USDT", "15m", PARAMS, {"v": "y"}, 6, [new], 10,
                                 venue="bybit")
    again = db.commit_candles("BTC/USDT", "15m", PARAMS, {"v": "y"}, 6, [new], 10,
                              venue="bybit")
    assert len(on_binance) == len(on_bybit) == 1 and again == []
    assert on_binance[0].identity != on_bybit[0].identity
    assert (on_binance[0].venue, on_bybit[0].venue) == ("binance", "bybit")
    assert db.load_detector("BTC/USDT", "15m", PARAMS, venue="bybit") == ({"v": "y"}, 6)
    assert db.load_detector("BTC/USDT", "15m", PARAMS, venue="binance") == ({"v": "b"}, 5)
    assert len(db.pending()) == 2  # one alert per venue's signal
    db.close()


def test_positions_and_intents_record_their_trading_venue(tmp_path):
    db = Store(tmp_path / "state.db")
    db.add_position("demo", "BTC/USDT", Direction.LONG, 1.0, 10.0, 9.0, 12.0, None, 1,
                    venue="okx")
    db.record_intent("chxaa", None, "BTC/USDT", "stop", "sell", None, 9.0, 1, venue="okx")
    assert db.open_position("BTC/USDT", "demo", "okx").venue == "okx"
    assert db.open_position("BTC/USDT", "demo", "binance") is None
    assert db.intent("chxaa").venue == "okx"
    assert [i.client_id for i in db.intents(venue="okx")] == ["chxaa"]
    assert db.intents(venue="binance") == []
    db.close()
