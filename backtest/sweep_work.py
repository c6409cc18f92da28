"""The worker side of a sweep: one task per candle file, and where the tasks run.

A task detects once per detector setting and simulates every trade-rule combination of that
setting on the same events, all on columns (backtest/columnar.py). Locally the tasks run on a
persistent pool of worker processes (loky's reusable executor, also joblib's): it outlives a
sweep, so a second sweep in the same process starts no process and loads no code; each worker
loads the compiled loops from numba's disk cache once, when it starts. The tasks travel in
chunks (a few per worker, the costliest first, shrinking towards the end: `chunked`), each chunk
one message out and one back. A chunk names where its files' candles lie in shared memory
(backtest/arena.py), where the worker reads them in place (without /dev/shm, the chunk carries
the five arrays). A chunk's results come back in three arrays (Batch), which the main process
splits into its tasks' batches.
"""
from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np
import pandas as pd
import structlog

import choch
from trading.rules import TradeRules

from . import arena

log = structlog.get_logger(__name__)

PRICES = ("open", "high", "low", "close")
IDLE_S = 600  # a pool worker left without work for this long exits (the pool restarts it)


@dataclass(frozen=True)
class SweepFile:
    """One candle series to sweep: its candles and the names written for it."""

    candles: pd.DataFrame
    symbol: str
    timeframe: str
    timeframe_ms: int


@dataclass(frozen=True)
class Digest:
    """What the ranking needs from one backtest run: per-trade arrays in opening order."""

    exit_time: np.ndarray
    pnl: np.ndarray
    fees: np.ndarray
    held: int  # ms in a position, summed over the trades
    start_ms: int
    end_ms: int
    candles: int


Group = tuple[tuple[int, int, str], Sequence[TradeRules]]  # (left, right, break_on), rules


@dataclass(frozen=True)
class Batch:
    """A task's digests packed into three arrays (one pickle each, whatever the run count): per
    run (trades, held, start_ms, end_ms, candles), then every run's trades one after another."""

    meta: np.ndarray  # int64, (runs, 5)
    exit_time: np.ndarray  # int64
    money: np.ndarray  # float64, (2, trades): pnl, fees

    @staticmethod
    def meta_of(digests: Sequence[Digest]) -> np.ndarray:
        """The `meta` rows of the digests."""
        return np.array([(d.pnl.size, d.held, d.start_ms, d.end_ms, d.candles) for d in digests],
                        dtype=np.int64).reshape(-1, 5)

    @classmethod
    def pack(cls, digests: Sequence[Digest]) -> Batch:
        """The digests, in order."""
        meta = cls.meta_of(digests)
        money = np.empty((2, int(meta[:, 0].sum())))
        np.concatenate([d.pnl for d in digests] or [np.empty(0)], out=money[0])
        np.concatenate([d.fees for d in digests] or [np.empty(0)], out=money[1])
        return cls(meta, np.concatenate([d.exit_time for d in digests] or
                                        [np.empty(0, np.int64)]), money)

    @classmethod
    def join(cls, batches: Sequence[Batch],
             room: Callable[[int], np.ndarray] = lambda n: np.empty(n, np.uint8)) -> Batch:
        """The batches' runs one after another, in one batch whose arrays are views of
        room(bytes needed) (a new buffer unless given one to reuse)."""
        runs = sum(b.meta.shape[0] for b in batches)
        trades = sum(b.exit_time.size for b in batches)
        words = room(8 * (5 * runs + 3 * trades))[:8 * (5 * runs + 3 * trades)].view(np.int64)
        out = cls(words[:5 * runs].reshape(runs, 5), words[5 * runs:5 * runs + trades],
                  words[5 * runs + trades:].view(np.float64).reshape(2, trades))
        if batches:
            np.concatenate([b.meta for b in batches], out=out.meta)
            np.concatenate([b.exit_time for b in batches], out=out.exit_time)
            np.concatenate([b.money for b in batches], axis=1, out=out.money)
        return out

    def split(self, runs: Sequence[int]) -> list[Batch]:
        """The batches of consecutive tasks of `runs` runs each (views of this one's arrays)."""
        trades = np.concatenate([[0], np.cumsum(self.meta[:, 0])]).tolist()
        out, at = [], 0
        for n in runs:
            a, b = trades[at], trades[at + n]
            out.append(Batch(self.meta[at:at + n], self.exit_time[a:b], self.money[:, a:b]))
            at += n
        return out

    def digests(self) -> list[Digest]:
        """The digests again (their arrays are views of the packed ones)."""
        ends = np.cumsum(self.meta[:, 0]).tolist()
        out = []
        for (n, held, start, end, candles), stop in zip(self.meta.tolist(), ends, strict=True):
            at = slice(stop - n, stop)
            out.append(Digest(self.exit_time[at], self.money[0, at], self.money[1, at], held,
                              start, end, candles))
        return out


def run_file(source: Any, tf_ms: int, groups: Sequence[Group]) -> Batch:
    """For each (detector setting, rules) group: detect once, then simulate each of the rules;
    the digests of every group's runs, in order, packed.

    `source` is the candles: a DataFrame (scattered to a Dask worker, or in this process), or
    what LocalExecutor.run makes of them (an arena Slot, or five arrays).
    """
    return Batch.pack(_digests(source, tf_ms, groups))


def run_files(tasks: Sequence[tuple]) -> Batch:
    """run_file(*task) for each of several tasks, their digests packed one after another."""
    return Batch.pack([d for t in tasks for d in _digests(*t)])


def _digests(source: Any, tf_ms: int, groups: Sequence[Group]) -> list[Digest]:
    """run_file's digests, unpacked."""
    from .columnar import simulate_bars
    from .detect import scan_bars

    if isinstance(source, arena.Slot):
        source = source.load()
    bars = choch.checked_bars(source) if isinstance(source, tuple) else \
        choch.candle_arrays(source)
    digests = []
    for (left, right, break_on), rules in groups:
        events = scan_bars(bars, left, right, break_on, tf_ms)
        for r in rules:
            run = simulate_bars(bars, events, r, tf_ms)
            t = run.columns
            digests.append(Digest(t.exit_time, t.pnl, t.fees,
                                  int((t.exit_time - t.entry_time).sum()), run.start_ms,
                                  run.end_ms, run.candles))
    return digests


def run_shared(tasks: Sequence[tuple]) -> arena.Parcel:
    """run_files on candles in the arena (each task's first item a Slot), its Batch returned
    through shared memory: written from the runs' own arrays, never packed in this process."""
    digests = [d for t in tasks for d in _digests(*t)]
    meta = Batch.meta_of(digests)
    trades = int(meta[:, 0].sum())
    return arena.Parcel.send(tasks[0][0], (
        meta, arena.Pieces("<i8", (trades,), [d.exit_time for d in digests]),
        arena.Pieces("<f8", (2, trades), [d.pnl for d in digests] + [d.fees for d in digests])))


def warm() -> None:
    """Load the compiled loops a sweep runs (from the disk cache): the backtest's, by running it
    on two candles, and the pooling pass, on their trades."""
    from .columnar import run_backtest
    from .pooled import pooled, pooled_ranges
    two = pd.DataFrame({"timestamp": [0, 60_000], "open": [1.0, 1.0], "high": [1.0, 1.0],
                        "low": [1.0, 1.0], "close": [1.0, 1.0]})
    run_backtest(two, 1, 1, "close", TradeRules(), 60_000)
    one, at = (np.zeros(1, np.int64), np.zeros(1), np.zeros(1)), np.zeros(1, np.int64)
    pooled(*one, 0, 0, 60_000, at)
    pooled_ranges(*one, at, at + 1, 0, 0, 60_000, at)


class Executor(Protocol):
    """Where the tasks run: `put` ships a file's candles once, `run` maps tasks in order."""

    def put(self, candles: pd.DataFrame) -> Any:
        """A handle tasks receive instead of the candles."""

    def run(self, tasks: list[tuple]) -> list[Batch]:
        """run_file(*task) for every task; results in task order."""


def workers(jobs: int) -> int:
    """--jobs as a process count: N, or every core (-1), every core but one (-2), ..."""
    if jobs > 0:
        return jobs
    return max(1, (os.cpu_count() or 1) + 1 + jobs)


def pool(jobs: int) -> Any:
    """The persistent local worker pool of `jobs` processes (the same one while it lives)."""
    from joblib.externals.loky import get_reusable_executor
    return get_reusable_executor(max_workers=workers(jobs), timeout=IDLE_S, initializer=warm)


class InProcess:
    """No workers: the tasks run in this process (a small sweep, or --jobs 1)."""

    def put(self, candles: pd.DataFrame) -> pd.DataFrame:
        """The candles themselves."""
        return candles

    def run(self, tasks: list[tuple]) -> list[Batch]:
        """run_file(*task) for every task, in order."""
        return [run_file(*t) for t in tasks]


class LocalExecutor:
    """The persistent pool of worker processes on this machine."""

    def __init__(self, jobs: int) -> None:
        self.jobs = jobs

    def put(self, candles: pd.DataFrame) -> pd.DataFrame:
        """The candles themselves: run copies their columns once, to where the workers read."""
        return candles

    def run(self, tasks: list[tuple]) -> list[Batch]:
        """Every task on the pool, results in order.

        The tasks go in chunks (chunked), each chunk one message to a worker and one back.
        Each file's candles are copied to this process's shared-memory arena (backtest.arena)
        just before the first chunk that needs them is submitted, so the workers start while
        the rest is copied. Without /dev/shm the chunks carry the arrays."""
        executor = pool(self.jobs)
        runs = [sum(len(rules) for _, rules in t[2]) for t in tasks]
        plan = chunked([_rows(t[0]) * n for t, n in zip(tasks, runs, strict=True)],
                       workers(self.jobs))
        size = sum(5 * 8 * _rows(src) for src in {id(t[0]): t[0] for t in tasks}.values())
        if not arena.available(size):
            return _piped(executor, tasks, plan, runs)
        with arena.ARENA.lock:
            try:
                arena.ARENA.reserve(size)
            except OSError as e:  # /dev/shm filled meanwhile: the arrays go with the tasks
                log.warning("sweep_shared_memory_full", error=str(e))
                return _piped(executor, tasks, plan, runs)
            slots: dict[int, arena.Slot] = {}
            futures: dict[int, Any] = {}
            offset = 0
            try:
                for c, chunk in enumerate(plan):
                    for i in chunk:
                        src = tasks[i][0]
                        if id(src) not in slots:
                            slots[id(src)] = arena.ARENA.write(offset, columns(src))
                            offset += 5 * 8 * _rows(src)
                    futures[c] = executor.submit(
                        run_shared, [(slots[id(tasks[i][0])], *tasks[i][1:]) for i in chunk])
                return _placed(plan, runs, [Batch(*futures.pop(c).result().receive())
                                            for c in range(len(plan))])
            finally:
                _discard(futures.values())


def columns(source: pd.DataFrame | tuple[np.ndarray, ...]) -> tuple[np.ndarray, ...]:
    """A file's candles as five arrays: timestamp (int64), open, high, low, close (float64)."""
    if isinstance(source, tuple):
        return source
    return (source["timestamp"].to_numpy(np.int64),
            *(source[k].to_numpy(np.float64) for k in PRICES))


def _rows(source: pd.DataFrame | tuple[np.ndarray, ...]) -> int:
    """How many candles a file has."""
    return len(source[0]) if isinstance(source, tuple) else len(source)


def _piped(executor: Any, tasks: list[tuple], plan: list[list[int]],
           runs: list[int]) -> list[Batch]:
    """LocalExecutor.run without shared memory: each chunk carries its files' arrays."""
    cols = {id(t[0]): columns(t[0]) for t in tasks}
    futures = [executor.submit(run_files, [(cols[id(tasks[i][0])], *tasks[i][1:])
                                           for i in chunk]) for chunk in plan]
    return _placed(plan, runs, [f.result() for f in futures])


SHARE = 2  # a chunk holds about 1/(SHARE x workers) of the work not yet handed out


def chunked(costs: Sequence[int], n: int) -> list[list[int]]:
    """Task indices in chunks for `n` workers, the costliest tasks first: one task for each
    worker to start on while the main process copies the next chunks' candles, then each chunk
    about 1/(SHARE x n) of the cost still left, so that the early chunks are large (few
    messages, little overhead per task) and the last ones small (the workers end together)."""
    order = sorted(range(len(costs)), key=lambda i: -costs[i])
    left = sum(costs)
    plan: list[list[int]] = []
    at = 0
    while at < len(order):
        target, start, cost = left / (SHARE * n) if len(plan) >= n else 0, at, 0
        while at < len(order) and (at == start or cost < target):
            cost += costs[order[at]]
            at += 1
        plan.append(order[start:at])
        left -= cost
    return plan


def _placed(plan: list[list[int]], runs: list[int], batches: list[Batch]) -> list[Batch]:
    """Each chunk's batch split into its tasks' batches, in task order."""
    out: list[Batch | None] = [None] * len(runs)
    for chunk, batch in zip(plan, batches, strict=True):
        for i, part in zip(chunk, batch.split([runs[i] for i in chunk]), strict=True):
            out[i] = part
    return out  # type: ignore[return-value]  # every index is in one chunk


def _discard(futures: Any) -> None:
    """After a failed task: cancel the tasks not started, remove the parcels of the others."""
    for f in futures:
        if not f.cancel() and f.exception() is None:
            f.result().receive()


class DaskExecutor:
    """A Dask distributed cluster, through a connected dask.distributed.Client."""

    def __init__(self, client: Any) -> None:
        self.client = client

    def put(self, candles: pd.DataFrame) -> Any:
        """Scatter once; tasks that take the future get the candles on their worker."""
        return self.client.scatter(candles[["timestamp", *PRICES]], hash=False)

    def run(self, tasks: list[tuple]) -> list[Batch]:
        """client.submit for each task, gathered in order."""
        futures = [self.client.submit(run_file, *t, pure=False) for t in tasks]
        return self.client.gather(futures)
