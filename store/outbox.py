"""The alert outbox: rows written with what caused them, drained in order by the notifier."""
from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from .base import Database


@dataclass(frozen=True)
class OutboxRow:
    """One message waiting to be (or already) delivered."""

    id: int
    topic: str
    payload: dict[str, Any]
    status: str
    attempts: int
    next_attempt_at: int
    created_at: int
    signal_id: int | None
    error: str | None


def _row(r) -> OutboxRow:
    return OutboxRow(r["id"], r["topic"], json.loads(r["payload"]), r["status"], r["attempts"],
                     r["next_attempt_at"], r["created_at"], r["signal_id"], r["error"])


class Outbox:
    """The outbox's rows: added, read in order, marked sent, failed or due again."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def enqueue(self, topic: str, payload: dict[str, Any], now_ms: int, *,
                dedupe_key: str | None = None, signal_id: int | None = None) -> int | None:
        """Add a message; returns its id, or None when a row with `dedupe_key` already exists."""
        with self.db.transaction() as db:
            cur = db.execute(
                "INSERT OR IGNORE INTO outbox (topic, dedupe_key, signal_id, payload, created_at, "
                "next_attempt_at) VALUES (?,?,?,?,?,?)",
                (topic, dedupe_key, signal_id, json.dumps(payload), now_ms, now_ms))
            return cur.lastrowid if cur.rowcount else None

    def pending(self, limit: int = 50) -> list[OutboxRow]:
        """Undelivered rows, oldest first (delivery keeps this order)."""
        rows = self.db.conn.execute(
            "SELECT * FROM outbox WHERE status = 'pending' ORDER BY id LIMIT ?", (limit,))
        return [_row(r) for r in rows]

    def mark_sent(self, row_id: int, now_ms: int) -> None:
        """The message was accepted by the receiver: never send it again."""
        with self.db.transaction() as db:
            db.execute("UPDATE outbox SET status='sent', sent_at=?, attempts=attempts+1, "
                       "error=NULL WHERE id=?", (now_ms, row_id))

    def mark_failed(self, row_id: int, error: str, now_ms: int) -> None:
        """A permanent failure (bad request, chat not found): logged, not retried."""
        with self.db.transaction() as db:
            db.execute("UPDATE outbox SET status='failed', sent_at=?, attempts=attempts+1, "
                       "error=? WHERE id=?", (now_ms, error[:500], row_id))

    def retry_later(self, row_id: int, at_ms: int, error: str) -> None:
        """A transient failure: try again at `at_ms`."""
        with self.db.transaction() as db:
            db.execute("UPDATE outbox SET attempts=attempts+1, next_attempt_at=?, error=? "
                       "WHERE id=?", (at_ms, error[:500], row_id))

    def outbox_row(self, row_id: int) -> OutboxRow | None:
        """One row by id."""
        r = self.db.conn.execute("SELECT * FROM outbox WHERE id = ?", (row_id,)).fetchone()
        return _row(r) if r else None

    def outbox_counts(self) -> dict[str, int]:
        """How many rows are in each status."""
        rows = self.db.conn.execute("SELECT status, COUNT(*) AS n FROM outbox GROUP BY status")
        return {r["status"]: r["n"] for r in rows}
