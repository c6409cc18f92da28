"""GroupCommit: the commits asked for in one turn of the event loop, written in one transaction.

A close on the stream completes hundreds of series at once; each records its detector state and
signals atomically. With SQLite at synchronous=FULL every transaction is an fsync, so one per
series would make the last series wait for hundreds of them. Here every commit asked before the
loop comes back to this group is written between one BEGIN and one COMMIT (one fsync), each in
its own savepoint: one that fails is rolled back alone and raises in its own caller, the others
are written. Each caller resumes only after the COMMIT, so an alert or an order never follows a
write that could still be lost.
"""
from __future__ import annotations

import asyncio
import contextlib
import sqlite3
from collections.abc import Callable, Iterator
from typing import Any

Work = Callable[[], Any]


class GroupCommit:
    """Runs commit callables in shared transactions on one SQLite connection."""

    def __init__(self, transaction: Callable[[], contextlib.AbstractContextManager[Any]],
                 conn: sqlite3.Connection) -> None:
        self.transaction = transaction  # the store's BEGIN IMMEDIATE ... COMMIT
        self.conn = conn
        self._pending: list[tuple[Work, asyncio.Future[Any]]] = []
        self.groups = 0  # transactions written, for tests

    async def run(self, work: Work) -> Any:
        """`work()` inside the next group's transaction; its result once that has committed."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Any] = loop.create_future()
        self._pending.append((work, future))
        if len(self._pending) == 1:
            loop.call_soon(self._flush)
        return await future

    def _flush(self) -> None:
        batch, self._pending = self._pending, []
        done: list[tuple[asyncio.Future[Any], Any, BaseException | None]] = []
        try:
            with self.transaction():
                for work, future in batch:
                    try:
                        with self._savepoint():
                            done.append((future, work(), None))
                    except Exception as e:  # noqa: BLE001 - raised in its own caller
                        done.append((future, None, e))
        except Exception as e:  # noqa: BLE001 - the COMMIT failed: nothing was written
            for _, future in batch:
                if not future.done():
                    future.set_exception(e)
            return
        self.groups += 1
        for future, result, error in done:
            if future.done():  # its caller was cancelled meanwhile
                continue
            if error is None:
                future.set_result(result)
            else:
                future.set_exception(error)

    @contextlib.contextmanager
    def _savepoint(self) -> Iterator[None]:
        self.conn.execute("SAVEPOINT series")
        try:
            yield
        except BaseException:
            self.conn.execute("ROLLBACK TO series")
            self.conn.execute("RELEASE series")
            raise
        self.conn.execute("RELEASE series")
