"""Parameter sweeps: every combination of a grid over every candle file, in parallel, ranked.

One task per file (backtest/sweep_work.py): the detector runs once per detector setting and
every trade-rule combination of that setting is simulated on its events. Candles reach the
workers once per file: a local sweep (a persistent pool of worker processes) copies them to a
shared-memory arena the workers read in place (backtest/arena.py); a Dask sweep sends them with
Client.scatter. A task returns its runs' trades packed in three arrays; the main process joins
them and pools each combination's trades in one compiled pass (backtest/pooled.py), on as many
threads as there are local workers, and ranks in a fixed order, so the rows do not depend on
where the work ran.

Ranking (backtest.ranking): by default net_pnl, higher first; then profit_factor, higher first
(none, i.e. no losing trade, counts as infinite when there is a profit and as 0 when there is
none); then grid order. `rank_by` puts another metric first.
"""
from __future__ import annotations

import csv
import itertools
import math
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from functools import lru_cache
from typing import IO, Any

import numpy as np

from domain.parsing import choice, number, parse_trade_on
from trading.rules import TradeRules

from . import ranking
from .calendar import covered_days
from .pooled import pooled_ranges
from .sweep_work import (
    Batch,
    DaskExecutor,
    Digest,
    Executor,
    InProcess,
    LocalExecutor,
    SweepFile,
    run_file,
    workers,
)

__all__ = ["DaskExecutor", "Digest", "Executor", "GridError", "InProcess", "LocalExecutor",
           "SweepFile", "combinations", "parse_grid", "print_table", "run_file", "run_sweep",
           "sweep", "write_csv"]
SMALL = 20_000_000  # candles x combinations below which a local sweep runs in-process (~1 s)

DETECTOR_KEYS = ("left", "right", "break_on")
RULE_KEYS = ("trade_on", "risk_reward", "on_opposite", "fee_rate", "slippage_bps")
GRID_KEYS = DETECTOR_KEYS + RULE_KEYS  # also the column order and the combination order
METRIC_KEYS = ("trades", "wins", "losses", "win_rate", "net_pnl", "fees", "gross_profit",
               "gross_loss", "profit_factor", "max_drawdown", "expectancy", "sharpe", "sortino",
               "exposure")
COLUMNS = ("rank",) + GRID_KEYS + ("symbols", "candles") + METRIC_KEYS


class GridError(ValueError):
    """A grid key or value that cannot be used; `key` names it."""

    def __init__(self, key: str, message: str) -> None:
        super().__init__(f"{key}: {message}")
        self.key = key


def _kinds(text: str) -> frozenset[str]:
    """'CHOCH+BOS' -> {'CHOCH', 'BOS'} (a comma separates grid values, so '+' joins kinds)."""
    try:
        return frozenset(parse_trade_on(text.replace("+", ",")))
    except ValueError:
        raise ValueError("CHOCH, BOS or CHOCH+BOS") from None


PARSERS: dict[str, Callable[[str], Any]] = {
    "left": number(int, 1, 500), "right": number(int, 1, 500),
    "break_on": choice("close", "wick"), "trade_on": _kinds,
    "risk_reward": number(float, 0, 100, low_open=True),
    "on_opposite": choice("reverse", "close", "ignore"),
    "fee_rate": number(float, 0, 0.01), "slippage_bps": number(float, 0, 1000),
}


def parse_grid(words: Sequence[str]) -> dict[str, tuple]:
    """'left=3,5 risk_reward=1.5,2' (one or several words) -> {key: values}; GridError names
    the first bad key or value."""
    grid: dict[str, tuple] = {}
    for word in (w for text in words for w in text.split()):
        key, sep, values = word.partition("=")
        if key not in PARSERS:
            raise GridError(key, f"unknown grid key (one of {', '.join(GRID_KEYS)})")
        if not sep or not values.strip(","):
            raise GridError(key, "no values (write key=v1,v2)")
        if key in grid:
            raise GridError(key, "given twice")
        parsed = []
        for text in values.split(","):
            try:
                value = PARSERS[key](text)
            except ValueError as e:
                raise GridError(key, f"{text!r} is not {e}") from None
            if value in parsed:
                raise GridError(key, f"{text!r} given twice")
            parsed.append(value)
        grid[key] = tuple(parsed)
    if not grid:
        raise GridError("grid", "empty")
    return grid


def combinations(grid: dict[str, tuple], base: dict[str, Any]) -> list[dict[str, Any]]:
    """Every combination, in GRID_KEYS order (the last key varies fastest); keys not in the grid
    keep their `base` value."""
    axes = [grid.get(k, (base[k],)) for k in GRID_KEYS]
    return [dict(zip(GRID_KEYS, values, strict=True)) for values in itertools.product(*axes)]


# -- aggregation and ranking ----------------------------------------------------------------------
def summarize(batch: Batch, ends: np.ndarray, runs: Sequence[int]) -> dict[str, Any]:
    """The metrics of backtest.metrics.report, over several runs of one combination: the runs
    `runs` of `batch`, whose trades end at `ends` (the running sum of its trade counts)."""
    at = np.asarray(runs, np.int64)
    meta = batch.meta[at]
    held = int(meta[:, 1].sum())
    row = pooled_ranges(batch.exit_time, batch.money[0], batch.money[1], ends[at] - meta[:, 0],
                        ends[at], held, int(meta[:, 2].min()), int(meta[:, 3].max()),
                        _covered(tuple(map(tuple, meta[:, 2:4].tolist()))))
    spans = int((meta[:, 3] - meta[:, 2]).sum())
    row["exposure"] = held / spans if spans > 0 else 0.0
    return row


class Joined:
    """The buffer sweeps join their tasks' results in, kept from one sweep to the next (`lock`
    held while one uses it): a new one of tens of MB would fault its pages in again, which takes
    from 10 ms to over 100 ms where huge pages must first be compacted."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.space = np.empty(0, np.uint8)

    def room(self, size: int) -> np.ndarray:
        """At least `size` bytes (a new, larger buffer when needed)."""
        if self.space.size < size:
            self.space = np.empty(0, np.uint8)  # the old one goes first
            self.space = np.empty(size, np.uint8)
        return self.space


JOINED = Joined()


@lru_cache(maxsize=8)
def _covered(spans: tuple[tuple[int, int], ...]) -> np.ndarray:
    """backtest.calendar.covered_days, once per set of files (every combination has the same)."""
    return covered_days(spans)


def rank_key(row: dict[str, Any]) -> tuple[float, float, float, int]:
    """Sort key: net_pnl and profit_factor descending, then grid order."""
    return ranking.rank_key(row, "net_pnl")


def sweep(files: Sequence[SweepFile], combos: Sequence[dict[str, Any]], base: TradeRules,
          executor: Executor, rank_by: str = "net_pnl", parts: int = 1,
          threads: int = 1) -> list[dict[str, Any]]:
    """Every combination over every file through `executor`: rows ranked by `rank_by`
    (backtest.ranking).

    One task per file, or `parts` per file (its detector settings split between them), so that
    fewer files than workers still keep every worker busy. The combinations are pooled on
    `threads` threads (each combination one compiled call that holds no lock), so that the
    local cores that ran the tasks also share the pooling.
    """
    detectors = list(dict.fromkeys(tuple(c[k] for k in DETECTOR_KEYS) for c in combos))
    by_detector: dict[tuple, list[int]] = {d: [] for d in detectors}
    for i, c in enumerate(combos):
        by_detector[tuple(c[k] for k in DETECTOR_KEYS)].append(i)
    handles = [executor.put(f.candles) for f in files]  # once per file
    groups = [(d, [replace(base, **{key: combos[i][key] for key in RULE_KEYS})
                   for i in by_detector[d]]) for d in detectors]
    size = math.ceil(len(groups) / max(1, min(parts, len(groups))))
    chunks = [groups[g:g + size] for g in range(0, len(groups), size)]
    tasks = [(handles[k], f.timeframe_ms, chunk) for k, f in enumerate(files) for chunk in chunks]
    # Each combination's runs in file order: the tasks' runs follow one another in the batch.
    per_combo: list[list[int]] = [[] for _ in combos]
    at = 0
    for chunk in chunks * len(files):
        for d, _ in chunk:
            for i in by_detector[d]:
                per_combo[i].append(at)
                at += 1
    results = executor.run(tasks)
    with JOINED.lock:
        batch = Batch.join(results, JOINED.room)
        del results  # the tasks' own arrays (shared memory, for local workers) can go
        ends = np.cumsum(batch.meta[:, 0])
        if threads > 1:
            with ThreadPoolExecutor(threads) as pool:
                pooled_rows = list(pool.map(lambda runs: summarize(batch, ends, runs),
                                            per_combo))
        else:
            pooled_rows = [summarize(batch, ends, runs) for runs in per_combo]
        candles = [int(batch.meta[runs, 4].sum()) for runs in per_combo]
    rows = [{"order": i, **c, "symbols": len(files), "candles": candles[i], **pooled_rows[i]}
            for i, c in enumerate(combos)]
    rows.sort(key=lambda row: ranking.rank_key(row, rank_by))
    for r, row in enumerate(rows, 1):
        row["rank"] = r
    return rows


def run_sweep(files: Sequence[SweepFile], combos: Sequence[dict[str, Any]], base: TradeRules,
              *, jobs: int = -1, scheduler: Any | None = None, rank_by: str = "net_pnl",
              small: int = SMALL) -> list[dict[str, Any]]:
    """sweep() on local processes, or on the Dask cluster at `scheduler` (an address or a
    connected Client). A local sweep of fewer than `small` candles x combinations runs in this
    process: starting the workers would take longer than the work."""
    if scheduler is None:
        n = workers(jobs)
        if n == 1 or sum(len(f.candles) for f in files) * len(combos) < small:
            return sweep(files, combos, base, InProcess(), rank_by)
        return sweep(files, combos, base, LocalExecutor(jobs), rank_by,
                     parts=math.ceil(n / len(files)), threads=n)
    if isinstance(scheduler, str):
        from .cluster import client_class
        with client_class()(scheduler, timeout="10s") as client:
            return sweep(files, combos, base, DaskExecutor(client), rank_by)
    return sweep(files, combos, base, DaskExecutor(scheduler), rank_by)


# -- output ---------------------------------------------------------------------------------------
def shown(key: str, value: Any) -> str:
    """A cell: kinds joined by '+', floats at full (repr) precision, none as empty."""
    if value is None:
        return ""
    if key == "trade_on":
        return "+".join(k for k in ("CHOCH", "BOS") if k in value)
    return repr(value) if isinstance(value, float) else str(value)


def write_csv(rows: Sequence[dict[str, Any]], out: IO[str]) -> None:
    """One row per combination, ranked, with the COLUMNS header."""
    w = csv.writer(out, lineterminator="\n")
    w.writerow(COLUMNS)
    for row in rows:
        w.writerow([shown(k, row[k]) for k in COLUMNS])


TABLE = (("rank", 4), ("left", 4), ("right", 5), ("break_on", 8), ("trade_on", 9),
         ("risk_reward", 11), ("on_opposite", 11), ("fee_rate", 8), ("slippage_bps", 12),
         ("trades", 7), ("win_rate", 8), ("net_pnl", 12), ("profit_factor", 13),
         ("max_drawdown", 12), ("sharpe", 8))


def _cell(key: str, value: Any) -> str:
    if value is None:
        return "-"
    if key == "trade_on":
        return shown(key, value)
    if isinstance(value, float):
        return f"{value:,.4f}" if key in METRIC_KEYS else f"{value:g}"
    return f"{value:,}" if isinstance(value, int) else str(value)


def print_table(rows: Sequence[dict[str, Any]], out: IO[str], limit: int) -> None:
    """The first `limit` ranked rows as an aligned table."""
    print("  ".join(f"{k:>{w}}" for k, w in TABLE), file=out)
    for row in rows[:limit]:
        print("  ".join(f"{_cell(k, row[k]):>{w}}" for k, w in TABLE), file=out)
