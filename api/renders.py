"""The API's own worker thread for chart renders, with a short queue.

The alerts render their charts in the loop's default executor; the API never does. A flood of
chart requests waits here (or gets 503 beyond the queue) instead of delaying an alert.
"""
from __future__ import annotations

import asyncio
import threading
from collections.abc import Awaitable, Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, TypeVar

R = TypeVar("R")
# What a DaemonView gets to render with: run(fn, arg) in the API's thread, fn(arg) -> PNG bytes.
Render = Callable[[Callable[[Any], bytes], Any], Awaitable[bytes]]


class RenderBusy(Exception):
    """Every worker is busy and the queue is full."""


class RenderPool:
    """`workers` threads and at most `waiting` renders queued behind them."""

    def __init__(self, workers: int = 1, waiting: int = 2) -> None:
        self._executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="api-render")
        self._slots = workers + waiting
        self._taken = 0
        self._lock = threading.Lock()  # released from the worker thread

    async def run(self, fn: Callable[[Any], R], arg: Any) -> R:
        """fn(arg) in the API's thread; RenderBusy when too many are queued already."""
        with self._lock:
            if self._taken >= self._slots:
                raise RenderBusy()
            self._taken += 1
        try:
            job = self._executor.submit(fn, arg)
        except RuntimeError:  # shut down: the server is stopping
            self._release(None)
            raise RenderBusy() from None
        # Freed when the render ends, not when its request does: a request that times out
        # leaves a render running, which still counts.
        job.add_done_callback(self._release)
        return await asyncio.wrap_future(job)

    def _release(self, _job: Future | None) -> None:
        with self._lock:
            self._taken -= 1

    def shutdown(self) -> None:
        """Drop queued renders; one already running ends on its own."""
        self._executor.shutdown(wait=False, cancel_futures=True)
