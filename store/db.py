"""SQLite connection (WAL, synchronous FULL) and the Store that groups the state's operations."""
from __future__ import annotations

import json
import os
import sqlite3
from collections.abc import Iterable
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

from domain.trade import Direction, ExitReason, OrderStatus, TradeState

from .base import Database
from .orders import IntentRow, Orders, PositionRow
from .outbox import Outbox, OutboxRow
from .schema import MIGRATIONS
from .signals import NewSignal, SignalRow, Signals


def connect(path: str | os.PathLike[str]) -> sqlite3.Connection:
    """Open (creating and migrating) the state database at `path` (':memory:' for tests)."""
    if str(path) != ":memory:":
        Path(path).parent.mkdir(parents=True, exist_ok=True)
    # isolation_level=None: we open transactions ourselves, so one signal, its outbox rows and the
    # detector's state land together or not at all.
    conn = sqlite3.connect(str(path), isolation_level=None, timeout=10.0)
    conn.row_factory = sqlite3.Row
    conn.execute("PRAGMA journal_mode=WAL")
    # FULL: a committed transaction survives even a power cut, not only a kill -9.
    conn.execute("PRAGMA synchronous=FULL")
    version = conn.execute("PRAGMA user_version").fetchone()[0]
    # Foreign keys are still off here: a migration that rebuilds a referenced table (drop the
    # old one, rename the new one in) must not cascade into or check the rows pointing at it.
    for number, script in enumerate(MIGRATIONS[version:], start=version + 1):
        conn.executescript(f"BEGIN IMMEDIATE; {script}; PRAGMA user_version={number}; COMMIT;")
    broken = conn.execute("PRAGMA foreign_key_check").fetchall() \
        if version < len(MIGRATIONS) else []
    if broken:
        raise sqlite3.DatabaseError(f"foreign keys broken after migrating: {len(broken)} rows")
    conn.execute("PRAGMA foreign_keys=ON")
    return conn


class Store:
    """All durable state of one daemon: `signals`, `outbox` and `orders` over one `Database`."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = str(path)
        self.conn = connect(path)
        self._identity = _file_identity(self.path)
        self.database = Database(self.conn)
        self.outbox = Outbox(self.database)
        self.signals = Signals(self.database, self.outbox)
        self.orders = Orders(self.database)

    def replaced(self) -> str | None:
        """Why `path` no longer names the file this Store has open (deleted or swapped), or None.

        SQLite keeps writing to an unlinked file: without this check a deleted DB would go
        unnoticed until the next start, which would then silently begin from nothing.
        """
        if self._identity is None:
            return None
        now = _file_identity(self.path)
        if now is None:
            return f"{self.path} was deleted while the daemon was running"
        if now != self._identity:
            return f"{self.path} was replaced by another file while the daemon was running"
        return None

    def transaction(self) -> AbstractContextManager[sqlite3.Connection]:
        """BEGIN IMMEDIATE ... COMMIT, rolled back on any exception."""
        return self.database.transaction()

    def get(self, key: str, default: Any = None) -> Any:
        """A small JSON value kept under `key` (pause flags, counters)."""
        row = self.conn.execute("SELECT value FROM kv WHERE key = ?", (key,)).fetchone()
        return json.loads(row[0]) if row else default

    def put(self, key: str, value: Any) -> None:
        """Store a small JSON value under `key`."""
        with self.transaction() as db:
            db.execute("INSERT INTO kv (key, value) VALUES (?, ?) ON CONFLICT (key) "
                       "DO UPDATE SET value = excluded.value", (key, json.dumps(value)))

    def close(self) -> None:
        """Close the connection (the WAL is checkpointed by SQLite)."""
        self.conn.close()

    # Signals and detector states (self.signals)
    def load_detector(self, symbol: str, timeframe: str, params: str, *,
                      venue: str) -> tuple[dict[str, Any], int] | None:
        """The saved detector state and the open time of its last candle, or None."""
        return self.signals.load_detector(symbol, timeframe, params, venue=venue)

    def commit_candles(self, symbol: str, timeframe: str, params: str,
                       state: dict[str, Any], last_ts: int,
                       signals: Iterable[NewSignal], now_ms: int, *,
                       venue: str) -> list[SignalRow]:
        """In one transaction: record new signals and their outbox rows, save the detector state.

        Returns the signals that were new (an event already recorded is ignored, never repeated).
        """
        return self.signals.commit_candles(symbol, timeframe, params, state, last_ts, signals,
                                           now_ms, venue=venue)

    def signals_to_trade(self) -> list[SignalRow]:
        """Signals recorded for trading that no trading decision has been written for yet."""
        return self.signals.signals_to_trade()

    def set_trade_state(self, signal_id: int, state: TradeState, note: str | None = None) -> None:
        """Record what trading did with a signal (done, skipped with a reason, ...)."""
        return self.signals.set_trade_state(signal_id, state, note)

    def recent_signals(self, limit: int = 10) -> list[SignalRow]:
        """The newest recorded signals, newest first."""
        return self.signals.recent_signals(limit)

    def signal(self, signal_id: int) -> SignalRow | None:
        """One signal by id."""
        return self.signals.signal(signal_id)

    def last_candles(self) -> dict[tuple[str, str], int]:
        """(symbol, timeframe) -> open time of the last candle processed (for /status)."""
        return self.signals.last_candles()

    # The alert outbox (self.outbox)
    def enqueue(self, topic: str, payload: dict[str, Any], now_ms: int, *,
                dedupe_key: str | None = None, signal_id: int | None = None) -> int | None:
        """Add a message; returns its id, or None when a row with `dedupe_key` already exists."""
        return self.outbox.enqueue(topic, payload, now_ms, dedupe_key=dedupe_key,
                                   signal_id=signal_id)

    def pending(self, limit: int = 50) -> list[OutboxRow]:
        """Undelivered rows, oldest first (delivery keeps this order)."""
        return self.outbox.pending(limit)

    def mark_sent(self, row_id: int, now_ms: int) -> None:
        """The message was accepted by the receiver: never send it again."""
        return self.outbox.mark_sent(row_id, now_ms)

    def mark_failed(self, row_id: int, error: str, now_ms: int) -> None:
        """A permanent failure (bad request, chat not found): logged, not retried."""
        return self.outbox.mark_failed(row_id, error, now_ms)

    def retry_later(self, row_id: int, at_ms: int, error: str) -> None:
        """A transient failure: try again at `at_ms`."""
        return self.outbox.retry_later(row_id, at_ms, error)

    def outbox_row(self, row_id: int) -> OutboxRow | None:
        """One row by id."""
        return self.outbox.outbox_row(row_id)

    def outbox_counts(self) -> dict[str, int]:
        """How many rows are in each status."""
        return self.outbox.outbox_counts()

    # Order intents and positions (self.orders)
    def record_intent(self, client_id: str, signal_id: int | None, symbol: str, role: str,
                      side: str, quantity: float | None, price: float | None,
                      now_ms: int, detail: dict[str, Any] | None = None, *,
                      venue: str) -> bool:
        """Write an intent before its order is sent; False when that client id already exists."""
        return self.orders.record_intent(client_id, signal_id, symbol, role, side, quantity, price,
                                         now_ms, detail, venue=venue)

    def update_intent(self, client_id: str, status: OrderStatus, now_ms: int, *,
                      exchange_id: str | None = None, quantity: float | None = None,
                      price: float | None = None, detail: dict[str, Any] | None = None) -> None:
        """Move an intent on (sent, open, filled, rejected, unknown...), merging `detail`."""
        return self.orders.update_intent(client_id, status, now_ms, exchange_id=exchange_id,
                                         quantity=quantity, price=price, detail=detail)

    def intent(self, client_id: str) -> IntentRow | None:
        """One intent by client id."""
        return self.orders.intent(client_id)

    def intent_by_exchange_id(self, exchange_id: str, venue: str) -> IntentRow | None:
        """The newest intent the venue's order id `exchange_id` was recorded on."""
        return self.orders.intent_by_exchange_id(exchange_id, venue)

    def intents(self, *, signal_id: int | None = None, role: str | None = None,
                unresolved: bool = False, venue: str | None = None) -> list[IntentRow]:
        """Intents filtered by signal, role and venue; unresolved = not in a final status."""
        return self.orders.intents(signal_id=signal_id, role=role, unresolved=unresolved,
                                   venue=venue)

    def add_position(self, mode: str, symbol: str, direction: Direction, quantity: float,
                     entry_price: float, stop: float | None, target: float | None,
                     signal_id: int | None, now_ms: int, *,
                     venue: str) -> int:
        """Record a freshly opened position; returns its id."""
        return self.orders.add_position(mode, symbol, direction, quantity, entry_price, stop,
                                        target, signal_id, now_ms, venue=venue)

    def close_position(self, position_id: int, exit_price: float | None, pnl: float | None,
                       reason: ExitReason, now_ms: int) -> None:
        """Mark a position closed with its exit price, realised PnL and why."""
        return self.orders.close_position(position_id, exit_price, pnl, reason, now_ms)

    def open_positions(self, mode: str | None = None, venue: str | None = None
                       ) -> list[PositionRow]:
        """Positions still open (of one mode and venue, or all)."""
        return self.orders.open_positions(mode, venue)

    def open_position(self, symbol: str, mode: str | None = None,
                      venue: str | None = None) -> PositionRow | None:
        """The open position on `symbol`, if any."""
        return self.orders.open_position(symbol, mode, venue)

    def position(self, position_id: int) -> PositionRow | None:
        """One position by id."""
        return self.orders.position(position_id)

    def existing_position(self, position_id: int) -> PositionRow:
        """A position this store recorded (an id it returned); LookupError if it is not there."""
        return self.orders.existing_position(position_id)

    def position_for_signal(self, signal_id: int) -> PositionRow | None:
        """The position a signal opened, if it opened one."""
        return self.orders.position_for_signal(signal_id)

    def closed_positions(self, limit: int = 20, offset: int = 0) -> list[PositionRow]:
        """The most recently closed positions, newest first, skipping the first `offset`."""
        return self.orders.closed_positions(limit, offset)

    def closed_count(self) -> int:
        """How many positions have closed (every mode)."""
        return self.orders.closed_count()

    def realised_by_day(self, mode: str) -> list[tuple[str, int, int, float]]:
        """Per UTC day of closing, oldest first: (YYYY-MM-DD, trades, winners, realised PnL)."""
        return self.orders.realised_by_day(mode)

    def day_stats(self, mode: str, day_start_ms: int) -> tuple[int, float]:
        """(positions opened, realised PnL of positions closed) since `day_start_ms`."""
        return self.orders.day_stats(mode, day_start_ms)


def _file_identity(path: str) -> tuple[int, int] | None:
    """(device, inode) of the file at path; None for ':memory:' or a missing file."""
    if path == ":memory:":
        return None
    try:
        st = Path(path).stat()
    except FileNotFoundError:
        return None
    return st.st_dev, st.st_ino
