"""The connection and its transactions, shared by the Store's parts (signals, outbox, orders)."""
from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Iterator


class Database:
    """One SQLite connection, used from one thread, and the transactions opened on it."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn

    @contextlib.contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """BEGIN IMMEDIATE ... COMMIT, rolled back on any exception."""
        if self.conn.in_transaction:  # nested use joins the outer transaction
            yield self.conn
            return
        self.conn.execute("BEGIN IMMEDIATE")
        try:
            yield self.conn
        except BaseException:
            self.conn.execute("ROLLBACK")
            raise
        self.conn.execute("COMMIT")
