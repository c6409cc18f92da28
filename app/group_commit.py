"""GroupCommit: the commits asked for within a few milliseconds, written in one transaction.

A close on the stream completes hundreds of series at once; each records its detector state and
signals atomically. With SQLite at synchronous=FULL every transaction is an fsync, so one per
series would make the last series wait for hundreds of them. Here the commits asked within
WINDOW_S of the first (a close's frames are read one by one, each series' feed a task of its
own) are written between one BEGIN and one COMMIT (one fsync). Each runs in its own savepoint:
one that fails is rolled back alone and raises in its own caller, the others are written. Each
caller resumes only after the COMMIT, so an alert or an order never follows a write that could
still be lost.
"""
from __future__ import annotations

import asyncio
import contextlib
import sqlite3
from collections.abc import Callable, Iterator
from typing import Any

Work = Callable[[], Any]
WINDOW_S = 0.005  # the longest a commit waits for others to join it (an fsync takes ~0.3-5 ms)


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
            loop.call_later(WINDOW_S, self._flush)
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
