"""Signals and detector states: written together, so a restart neither repeats nor misses one."""
from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from choch import Event
from domain.trade import TradeState

from .base import Database
from .outbox import Outbox


def event_identity(symbol: str, timeframe: str, params: str, event: Event, venue: str) -> str:
    """The identity of an event: (venue, symbol, timeframe, parameters, direction, pivot_time);
    the venue keeps the same symbol on two venues two signals (and two sets of order ids)."""
    return f"{venue}|{symbol}|{timeframe}|{params}|{event.direction}|{event.pivot_time}"


@dataclass(frozen=True)
class NewSignal:
    """An event the daemon wants recorded, with what to do about it."""

    event: Event
    catch_up: bool                      # found while catching up after downtime
    trade_state: TradeState
    alert: dict[str, Any] | None     # outbox payload, or None when too old to alert


@dataclass(frozen=True)
class SignalRow:
    """A recorded signal as read back from the database."""

    id: int
    symbol: str
    timeframe: str
    params: str
    event: Event
    detected_at: int
    catch_up: bool
    trade_state: TradeState
    trade_note: str | None
    venue: str

    @property
    def identity(self) -> str:
        """The event identity string (idempotency key for alerts and orders)."""
        return event_identity(self.symbol, self.timeframe, self.params, self.event, self.venue)


def _signal(row) -> SignalRow:
    event = Event(row["kind"], row["direction"], row["level"], row["pivot_time"],
                  row["break_time"], row["confirmed_at"], row["extreme"], row["close"])
    return SignalRow(row["id"], row["symbol"], row["timeframe"], row["params"], event,
                     row["detected_at"], bool(row["catch_up"]), TradeState(row["trade_state"]),
                     row["trade_note"], row["venue"])


class Signals:
    """Signals and detector states; a new signal's alert is queued in the same transaction."""

    def __init__(self, db: Database, outbox: Outbox) -> None:
        self.db = db
        self.outbox = outbox

    def load_detector(self, symbol: str, timeframe: str, params: str, *,
                      venue: str) -> tuple[dict[str, Any], int] | None:
        """The saved detector state and the open time of its last candle, or None."""
        row = self.db.conn.execute(
            "SELECT state, last_ts FROM detectors WHERE venue=? AND symbol=? AND timeframe=? "
            "AND params=?", (venue, symbol, timeframe, params)).fetchone()
        return (json.loads(row["state"]), row["last_ts"]) if row else None

    def commit_candles(self, symbol: str, timeframe: str, params: str,
                       state: dict[str, Any], last_ts: int,
                       signals: Iterable[NewSignal], now_ms: int, *,
                       venue: str) -> list[SignalRow]:
        """In one transaction: record new signals and their outbox rows, save the detector state.

        Returns the signals that were new (an event already recorded is ignored, never repeated).
        """
        fresh: list[SignalRow] = []
        with self.db.transaction() as db:
            for s in signals:
                e = s.event
                cur = db.execute(
                    "INSERT OR IGNORE INTO signals (venue, symbol, timeframe, params, direction, "
                    "pivot_time, kind, level, break_time, confirmed_at, extreme, close, "
                    "detected_at, catch_up, trade_state) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                    (venue, symbol, timeframe, params, e.direction, e.pivot_time, e.kind, e.level,
                     e.break_time, e.confirmed_at, e.extreme, e.close, now_ms, int(s.catch_up),
                     s.trade_state))
                if cur.rowcount == 0:
                    continue
                row = db.execute("SELECT * FROM signals WHERE id = ?", (cur.lastrowid,)).fetchone()
                signal = _signal(row)
                fresh.append(signal)
                if s.alert is not None:
                    self.outbox.enqueue("signal", {**s.alert, "signal_id": signal.id}, now_ms,
                                        dedupe_key=f"signal:{signal.identity}", signal_id=signal.id)
            db.execute(
                "INSERT INTO detectors (venue, symbol, timeframe, params, state, last_ts, "
                "updated_at) VALUES (?,?,?,?,?,?,?) ON CONFLICT (venue, symbol, timeframe, params) "
                "DO UPDATE SET state=excluded.state, last_ts=excluded.last_ts, "
                "updated_at=excluded.updated_at",
                (venue, symbol, timeframe, params, json.dumps(state), last_ts, now_ms))
        return fresh

    def signals_to_trade(self) -> list[SignalRow]:
        """Signals recorded for trading that no trading decision has been written for yet."""
        rows = self.db.conn.execute(
            "SELECT * FROM signals WHERE trade_state = ? ORDER BY confirmed_at, id",
            (TradeState.PENDING,))
        return [_signal(r) for r in rows]

    def set_trade_state(self, signal_id: int, state: TradeState, note: str | None = None) -> None:
        """Record what trading did with a signal (done, skipped with a reason, ...)."""
        with self.db.transaction() as db:
            db.execute("UPDATE signals SET trade_state = ?, trade_note = ? WHERE id = ?",
                       (state, note, signal_id))

    def recent_signals(self, limit: int = 10) -> list[SignalRow]:
        """The newest recorded signals, newest first."""
        rows = self.db.conn.execute(
            "SELECT * FROM signals ORDER BY confirmed_at DESC, id DESC LIMIT ?", (limit,))
        return [_signal(r) for r in rows]

    def signal(self, signal_id: int) -> SignalRow | None:
        """One signal by id."""
        row = self.db.conn.execute("SELECT * FROM signals WHERE id = ?", (signal_id,)).fetchone()
        return _signal(row) if row else None

    def last_candles(self) -> dict[tuple[str, str], int]:
        """(symbol, timeframe) -> open time of the last candle processed (for /status)."""
        rows = self.db.conn.execute("SELECT symbol, timeframe, MAX(last_ts) AS ts FROM detectors "
                                    "GROUP BY symbol, timeframe")
        return {(r["symbol"], r["timeframe"]): r["ts"] for r in rows}
