"""Order intents (written before an order is sent) and the positions the daemon opened."""
from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from typing import Any

from domain.trade import FINAL_INTENT, Direction, ExitReason, OrderStatus

from .base import Database

# What the SQL filter excludes: the final values plus their older spellings still on disk.
_FINAL_STORED = sorted({s.value for s in FINAL_INTENT} | {"cancelled"})


@dataclass(frozen=True)
class IntentRow:
    """One order the daemon meant to send, keyed by its client id."""

    client_id: str
    signal_id: int | None
    symbol: str
    role: str            # entry | stop | target | close
    side: str
    quantity: float | None
    price: float | None
    status: OrderStatus
    exchange_id: str | None
    detail: dict[str, Any]
    created_at: int
    updated_at: int
    venue: str   # the trading venue the order went to


@dataclass(frozen=True)
class PositionRow:
    """A position the daemon opened (paper, demo or live)."""

    id: int
    mode: str
    symbol: str
    direction: Direction
    quantity: float
    entry_price: float
    stop: float | None
    target: float | None
    signal_id: int | None
    status: str          # open | closed
    opened_at: int
    closed_at: int | None
    exit_price: float | None
    pnl: float | None
    exit_reason: ExitReason | None
    venue: str   # the trading venue holding it


def _intent(r) -> IntentRow:
    return IntentRow(r["client_id"], r["signal_id"], r["symbol"], r["role"], r["side"],
                     r["quantity"], r["price"], OrderStatus.parse(r["status"]), r["exchange_id"],
                     json.loads(r["detail"]) if r["detail"] else {}, r["created_at"],
                     r["updated_at"], r["venue"])


def _position(r) -> PositionRow:
    row = {k: r[k] for k in PositionRow.__dataclass_fields__}
    reason = row["exit_reason"]
    return PositionRow(**{**row, "direction": Direction(row["direction"]),
                          "exit_reason": ExitReason.parse(reason) if reason else None})


class Orders:
    """Order intents and positions."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def record_intent(self, client_id: str, signal_id: int | None, symbol: str, role: str,
                      side: str, quantity: float | None, price: float | None,
                      now_ms: int, detail: dict[str, Any] | None = None, *,
                      venue: str) -> bool:
        """Write an intent before its order is sent; False when that client id already exists."""
        with self.db.transaction() as db:
            cur = db.execute(
                "INSERT OR IGNORE INTO order_intents (client_id, signal_id, symbol, role, side, "
                "quantity, price, status, detail, created_at, updated_at, venue) "
                "VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
                (client_id, signal_id, symbol, role, side, quantity, price, OrderStatus.INTENDED,
                 json.dumps(detail or {}), now_ms, now_ms, venue))
            return cur.rowcount == 1

    def update_intent(self, client_id: str, status: OrderStatus, now_ms: int, *,
                      exchange_id: str | None = None, quantity: float | None = None,
                      price: float | None = None, detail: dict[str, Any] | None = None) -> None:
        """Move an intent on (sent, open, filled, rejected, unknown...), merging `detail`."""
        with self.db.transaction() as db:
            row = db.execute("SELECT detail FROM order_intents WHERE client_id = ?",
                             (client_id,)).fetchone()
            merged = {**(json.loads(row["detail"]) if row and row["detail"] else {}),
                      **(detail or {})}
            db.execute(
                "UPDATE order_intents SET status=?, updated_at=?, "
                "exchange_id=COALESCE(?, exchange_id), quantity=COALESCE(?, quantity), "
                "price=COALESCE(?, price), detail=? WHERE client_id=?",
                (status, now_ms, exchange_id, quantity, price, json.dumps(merged), client_id))

    def intent(self, client_id: str) -> IntentRow | None:
        """One intent by client id."""
        r = self.db.conn.execute("SELECT * FROM order_intents WHERE client_id = ?",
                                 (client_id,)).fetchone()
        return _intent(r) if r else None

    def intent_by_exchange_id(self, exchange_id: str, venue: str) -> IntentRow | None:
        """The newest intent the venue's order id `exchange_id` was recorded on."""
        r = self.db.conn.execute(
            "SELECT * FROM order_intents WHERE exchange_id = ? AND venue = ? "
            "ORDER BY created_at DESC LIMIT 1", (exchange_id, venue)).fetchone()
        return _intent(r) if r else None

    def intents(self, *, signal_id: int | None = None, role: str | None = None,
                unresolved: bool = False, venue: str | None = None) -> list[IntentRow]:
        """Intents filtered by signal, role and venue; unresolved = not in a final status."""
        sql, args = "SELECT * FROM order_intents WHERE 1=1", list[Any]()
        if venue is not None:
            sql, args = sql + " AND venue = ?", args + [venue]
        if signal_id is not None:
            sql, args = sql + " AND signal_id = ?", args + [signal_id]
        if role is not None:
            sql, args = sql + " AND role = ?", args + [role]
        if unresolved:
            sql += f" AND status NOT IN ({','.join('?' * len(_FINAL_STORED))})"
            args += _FINAL_STORED
        return [_intent(r) for r in self.db.conn.execute(sql + " ORDER BY created_at, rowid", args)]

    def add_position(self, mode: str, symbol: str, direction: Direction, quantity: float,
                     entry_price: float, stop: float | None, target: float | None,
                     signal_id: int | None, now_ms: int, *,
                     venue: str) -> int:
        """Record a freshly opened position; returns its id."""
        with self.db.transaction() as db:
            cur = db.execute(
                "INSERT INTO positions (mode, symbol, direction, quantity, entry_price, stop, "
                "target, signal_id, status, opened_at, venue) "
                "VALUES (?,?,?,?,?,?,?,?,'open',?,?)",
                (mode, symbol, direction, quantity, entry_price, stop, target, signal_id, now_ms,
                 venue))
            return _row_id(cur)

    def close_position(self, position_id: int, exit_price: float | None, pnl: float | None,
                       reason: ExitReason, now_ms: int) -> None:
        """Mark a position closed with its exit price, realised PnL and why."""
        with self.db.transaction() as db:
            db.execute("UPDATE positions SET status='closed', closed_at=?, exit_price=?, pnl=?, "
                       "exit_reason=? WHERE id=? AND status='open'",
                       (now_ms, exit_price, pnl, reason, position_id))

    def open_positions(self, mode: str | None = None, venue: str | None = None
                       ) -> list[PositionRow]:
        """Positions still open (of one mode and venue, or all)."""
        sql, args = "SELECT * FROM positions WHERE status='open'", list[Any]()
        if mode:
            sql, args = sql + " AND mode=?", args + [mode]
        if venue:
            sql, args = sql + " AND venue=?", args + [venue]
        return [_position(r) for r in self.db.conn.execute(sql + " ORDER BY id", args)]

    def open_position(self, symbol: str, mode: str | None = None,
                      venue: str | None = None) -> PositionRow | None:
        """The open position on `symbol`, if any."""
        return next((p for p in self.open_positions(mode, venue) if p.symbol == symbol), None)

    def position(self, position_id: int) -> PositionRow | None:
        """One position by id."""
        r = self.db.conn.execute("SELECT * FROM positions WHERE id = ?", (position_id,)).fetchone()
        return _position(r) if r else None

    def existing_position(self, position_id: int) -> PositionRow:
        """A position this store recorded (an id it returned); LookupError if it is not there."""
        pos = self.position(position_id)
        if pos is None:
            raise LookupError(f"no position {position_id} in the state DB")
        return pos

    def position_for_signal(self, signal_id: int) -> PositionRow | None:
        """The position a signal opened, if it opened one."""
        r = self.db.conn.execute("SELECT * FROM positions WHERE signal_id = ? ORDER BY id LIMIT 1",
                                 (signal_id,)).fetchone()
        return _position(r) if r else None

    def closed_positions(self, limit: int = 20, offset: int = 0) -> list[PositionRow]:
        """The most recently closed positions, newest first, skipping the first `offset`."""
        rows = self.db.conn.execute("SELECT * FROM positions WHERE status='closed' "
                                    "ORDER BY closed_at DESC, id DESC LIMIT ? OFFSET ?",
                                    (limit, offset))
        return [_position(r) for r in rows]

    def closed_count(self) -> int:
        """How many positions have closed (every mode)."""
        return int(self.db.conn.execute(
            "SELECT COUNT(*) FROM positions WHERE status='closed'").fetchone()[0])

    def realised_by_day(self, mode: str) -> list[tuple[str, int, int, float]]:
        """Per UTC day of closing, oldest first: (YYYY-MM-DD, trades, winners, realised PnL)."""
        rows = self.db.conn.execute(
            "SELECT strftime('%Y-%m-%d', closed_at / 1000, 'unixepoch') AS day, COUNT(*), "
            "SUM(pnl > 0), COALESCE(SUM(pnl), 0) FROM positions WHERE mode=? AND "
            "status='closed' AND pnl IS NOT NULL GROUP BY day ORDER BY day", (mode,))
        return [(r[0], int(r[1]), int(r[2]), float(r[3])) for r in rows]

    def day_stats(self, mode: str, day_start_ms: int) -> tuple[int, float]:
        """(positions opened, realised PnL of positions closed) since `day_start_ms`."""
        opened = self.db.conn.execute("SELECT COUNT(*) FROM positions WHERE mode=? AND "
                                      "opened_at>=?", (mode, day_start_ms)).fetchone()[0]
        pnl = self.db.conn.execute("SELECT COALESCE(SUM(pnl), 0) FROM positions WHERE mode=? AND "
                                   "status='closed' AND closed_at>=?",
                                   (mode, day_start_ms)).fetchone()[0]
        return int(opened), float(pnl)


def _row_id(cursor: sqlite3.Cursor) -> int:
    """The id of the row an INSERT just added (sqlite3 types it Optional for other statements)."""
    if cursor.lastrowid is None:
        raise sqlite3.DatabaseError("INSERT returned no row id")
    return cursor.lastrowid
