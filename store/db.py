"""SQLite connection (WAL, synchronous FULL) and the Store that groups the state's operations."""
from __future__ import annotations

import contextlib
import json
import os
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from .orders import OrdersMixin
from .outbox import OutboxMixin
from .schema import MIGRATIONS
from .signals import SignalsMixin


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


class Store(SignalsMixin, OutboxMixin, OrdersMixin):
    """All durable state of one daemon, over a single SQLite connection used from one thread."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = str(path)
        self.conn = connect(path)
        self._identity = _file_identity(self.path)

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


def _file_identity(path: str) -> tuple[int, int] | None:
    """(device, inode) of the file at path; None for ':memory:' or a missing file."""
    if path == ":memory:":
        return None
    try:
        st = Path(path).stat()
    except FileNotFoundError:
        return None
    return st.st_dev, st.st_ino
