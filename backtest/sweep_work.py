"""The worker side of a sweep: one task per candle file, and where the tasks run.

A task detects once per detector setting and simulates every trade-rule combination of that
setting on the same events, all on columns (backtest/columnar.py). Locally the tasks run on a
persistent pool of worker processes (loky's reusable executor, also joblib's): it outlives a
sweep, so a second sweep in the same process starts no process and loads no code; each worker
loads the compiled loops from numba's disk cache once, when it starts. A task carries its file's
candles as five arrays, pickled by the pool's feeder thread while the workers already run.
"""
from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np
import pandas as pd

import choch
from trading.rules import TradeRules

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


def run_file(source: Any, tf_ms: int, groups: Sequence[Group]) -> list[list[Digest]]:
    """For each (detector setting, rules) group: detect once, then simulate each of the rules.

    `source` is the candles: a DataFrame (scattered to a Dask worker, or in this process) or the
    five arrays LocalExecutor.put makes of them.
    """
    from .columnar import simulate_bars
    from .detect import scan_bars

    bars = choch.checked_bars(source) if isinstance(source, tuple) else \
        choch.candle_arrays(source)
    out = []
    for (left, right, break_on), rules in groups:
        events = scan_bars(bars, left, right, break_on, tf_ms)
        digests = []
        for r in rules:
            run = simulate_bars(bars, events, r, tf_ms)
            t = run.columns
            digests.append(Digest(t.exit_time, t.pnl, t.fees,
                                  int((t.exit_time - t.entry_time).sum()), run.start_ms,
                                  run.end_ms, run.candles))
        out.append(digests)
    return out


def warm() -> None:
    """Load the compiled trade loop (from the disk cache) by running it on two candles."""
    from .columnar import run_backtest
    two = pd.DataFrame({"timestamp": [0, 60_000], "open": [1.0, 1.0], "high": [1.0, 1.0],
                        "low": [1.0, 1.0], "close": [1.0, 1.0]})
    run_backtest(two, 1, 1, "close", TradeRules(), 60_000)


class Executor(Protocol):
    """Where the tasks run: `put` ships a file's candles once, `run` maps tasks in order."""

    def put(self, candles: pd.DataFrame) -> Any:
        """A handle tasks receive instead of the candles."""

    def run(self, tasks: list[tuple]) -> list[list[list[Digest]]]:
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

    def run(self, tasks: list[tuple]) -> list[list[list[Digest]]]:
        """run_file(*task) for every task, in order."""
        return [run_file(*t) for t in tasks]


class LocalExecutor:
    """The persistent pool of worker processes on this machine."""

    def __init__(self, jobs: int) -> None:
        self.jobs = jobs

    def put(self, candles: pd.DataFrame) -> tuple[np.ndarray, ...]:
        """The candles as five contiguous arrays (cheap to pickle, no DataFrame to rebuild)."""
        return (candles["timestamp"].to_numpy(np.int64),
                *(np.ascontiguousarray(candles[k].to_numpy(np.float64)) for k in PRICES))

    def run(self, tasks: list[tuple]) -> list[list[list[Digest]]]:
        """Every task on the pool, results in order (largest files first, to end together)."""
        executor = pool(self.jobs)
        order = sorted(range(len(tasks)), key=lambda i: -len(tasks[i][0][0]))
        futures = {i: executor.submit(run_file, *tasks[i]) for i in order}
        return [futures[i].result() for i in range(len(tasks))]


class DaskExecutor:
    """A Dask distributed cluster, through a connected dask.distributed.Client."""

    def __init__(self, client: Any) -> None:
        self.client = client

    def put(self, candles: pd.DataFrame) -> Any:
        """Scatter once; tasks that take the future get the candles on their worker."""
        return self.client.scatter(candles[["timestamp", *PRICES]], hash=False)

    def run(self, tasks: list[tuple]) -> list[list[list[Digest]]]:
        """client.submit for each task, gathered in order."""
        futures = [self.client.submit(run_file, *t, pure=False) for t in tasks]
        return self.client.gather(futures)
