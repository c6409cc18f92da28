"""GroupCommit: the commits asked for within a few milliseconds, written in one transaction.

A close on the stream completes hundreds of series at once; each records its detector state and
signals atomically. With SQLite at synchronous=FULL every transaction is an fsync, so one per
series would make the last series wait for hundreds of them. Here the commits asked within
WINDOW_S of the first (a close's frames are read one by one, each series' feed a task of its
own) are written between one BEGIN and one COMMIT (one fsync). A work that raises is left out:
the transaction is rolled back and written again without it, and the error is raised in its
own caller. Each caller resumes only after the COMMIT, so an alert or an order never follows a
write that could still be lost.
"""
from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from typing import Any

Work = Callable[[], Any]
WINDOW_S = 0.005  # the longest a commit waits for others to join it (an fsync takes ~0.3-5 ms)


class GroupCommit:
    """Runs commit callables in shared transactions on one SQLite connection."""

    def __init__(self, transaction: Callable[[], contextlib.AbstractContextManager[Any]]
                 ) -> None:
        self.transaction = transaction  # the store's BEGIN IMMEDIATE ... COMMIT
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
        failed: dict[int, Exception] = {}
        while True:
            try:
                results = self._write(batch, failed)
            except _Again:
                continue  # rolled back: written again without the work that failed
            except Exception as e:  # noqa: BLE001 - the COMMIT failed: nothing was written
                for n, (_, future) in enumerate(batch):
                    if not future.done():
                        future.set_exception(failed.get(n, e))
                return
            break
        self.groups += 1
        for n, (_, future) in enumerate(batch):
            if future.done():  # its caller was cancelled meanwhile
                continue
            if n in failed:
                future.set_exception(failed[n])
            else:
                future.set_result(results[n])

    def _write(self, batch: list[tuple[Work, asyncio.Future[Any]]],
               failed: dict[int, Exception]) -> dict[int, Any]:
        """Every work not failed yet, in one transaction; a failure rolls the whole of it back
        (_Again), so that what the failing work wrote before raising is not kept either."""
        results: dict[int, Any] = {}
        with self.transaction():
            for n, (work, _) in enumerate(batch):
                if n in failed:
                    continue
                try:
                    results[n] = work()
                except Exception as e:
                    failed[n] = e
                    raise _Again from e
        return results


class _Again(Exception):
    """One work of a group failed: the group is written again without it."""
