"""Parameter sweeps: every combination of a grid over every candle file, in parallel, ranked.

One task per (file, detector setting): the detector runs once and every trade-rule combination
is simulated on its events. Candles reach the workers once per file: a local sweep (joblib,
loky processes) writes them once to .npy files that every worker memory-maps; a Dask sweep
sends them once with Client.scatter. Workers return compact arrays per run; the main process
aggregates and ranks in a fixed order, so the rows do not depend on where the work ran.

Ranking (backtest.ranking): by default net_pnl, higher first; then profit_factor, higher first
(none, i.e. no losing trade, counts as infinite when there is a profit and as 0 when there is
none); then grid order. `rank_by` puts another metric first.
"""
from __future__ import annotations

import csv
import itertools
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from functools import lru_cache
from pathlib import Path
from typing import IO, Any, Protocol

import numpy as np
import pandas as pd

import choch
from domain.parsing import choice, number, parse_trade_on
from trading.rules import TradeRules

from . import ranking
from .calendar import covered_days, daily_sums
from .metrics import max_drawdown, sharpe_sortino
from .simulate import simulate

DETECTOR_KEYS = ("left", "right", "break_on")
RULE_KEYS = ("trade_on", "risk_reward", "on_opposite", "fee_rate", "slippage_bps")
GRID_KEYS = DETECTOR_KEYS + RULE_KEYS  # also the column order and the combination order
METRIC_KEYS = ("trades", "wins", "losses", "win_rate", "net_pnl", "fees", "gross_profit",
               "gross_loss", "profit_factor", "max_drawdown", "expectancy", "sharpe", "sortino",
               "exposure")
COLUMNS = ("rank",) + GRID_KEYS + ("symbols", "candles") + METRIC_KEYS
PRICES = ("open", "high", "low", "close")


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

    entry_time: np.ndarray
    exit_time: np.ndarray
    pnl: np.ndarray
    fees: np.ndarray
    start_ms: int
    end_ms: int
    candles: int


# -- worker side ----------------------------------------------------------------------------------
@lru_cache(maxsize=2)
def _mapped(path: str) -> pd.DataFrame:
    """The candles a local sweep wrote to `path`.*.npy, read once per worker process."""
    ts = np.load(path + ".ts.npy", mmap_mode="r")
    ohlc = np.load(path + ".ohlc.npy", mmap_mode="r")
    return pd.DataFrame({"timestamp": np.asarray(ts),
                         **{k: np.asarray(ohlc[:, i]) for i, k in enumerate(PRICES)}})


def _digest(candles: pd.DataFrame, events: list, rules: TradeRules, tf_ms: int) -> Digest:
    run = simulate(candles, events, rules, tf_ms)
    n = len(run.trades)
    return Digest(np.fromiter((t.entry_time for t in run.trades), np.int64, n),
                  np.fromiter((t.exit_time for t in run.trades), np.int64, n),
                  np.fromiter((t.pnl for t in run.trades), np.float64, n),
                  np.fromiter((t.fees for t in run.trades), np.float64, n),
                  run.start_ms, run.end_ms, run.candles)


def run_group(source: Any, tf_ms: int, detector: tuple[int, int, str],
              rules: Sequence[TradeRules]) -> list[Digest]:
    """Detect once with `detector` (left, right, break_on), then simulate each of `rules`.

    `source` is the candles (scattered to a Dask worker) or the path a local sweep wrote them to.
    """
    candles = _mapped(source) if isinstance(source, str) else source
    events = choch.scan(candles, *detector, tf_ms)
    return [_digest(candles, events, r, tf_ms) for r in rules]


# -- executors ------------------------------------------------------------------------------------
class Executor(Protocol):
    """Where the tasks run: `put` ships a file's candles once, `run` maps tasks in order."""

    def put(self, candles: pd.DataFrame) -> Any:
        """A handle tasks receive instead of the candles."""

    def run(self, tasks: list[tuple]) -> list[list[Digest]]:
        """run_group(*task) for every task; results in task order."""


class LocalExecutor:
    """joblib with the loky backend: worker processes on this machine."""

    def __init__(self, jobs: int, folder: str) -> None:
        self.jobs, self.folder, self._files = jobs, folder, 0

    def put(self, candles: pd.DataFrame) -> str:
        """Write the candles once; workers memory-map them."""
        self._files += 1
        path = str(Path(self.folder) / f"candles{self._files}")
        np.save(path + ".ts.npy", candles["timestamp"].to_numpy(np.int64))
        np.save(path + ".ohlc.npy", candles[list(PRICES)].to_numpy(np.float64))
        return path

    def run(self, tasks: list[tuple]) -> list[list[Digest]]:
        """joblib.Parallel over the tasks, results in order."""
        from joblib import Parallel, delayed
        return Parallel(n_jobs=self.jobs, backend="loky")(delayed(run_group)(*t) for t in tasks)


class DaskExecutor:
    """A Dask distributed cluster, through a connected dask.distributed.Client."""

    def __init__(self, client: Any) -> None:
        self.client = client

    def put(self, candles: pd.DataFrame) -> Any:
        """Scatter once; tasks that take the future get the candles on their worker."""
        return self.client.scatter(candles[["timestamp", *PRICES]], hash=False)

    def run(self, tasks: list[tuple]) -> list[list[Digest]]:
        """client.submit for each task, gathered in order."""
        futures = [self.client.submit(run_group, *t, pure=False) for t in tasks]
        return self.client.gather(futures)


# -- aggregation and ranking ----------------------------------------------------------------------
def summarize(digests: Sequence[Digest]) -> dict[str, Any]:
    """The metrics of backtest.metrics.report, over several runs of one combination."""
    pnl_open = [p for d in digests for p in d.pnl.tolist()]
    exit_t = np.concatenate([d.exit_time for d in digests])
    pnls = [pnl_open[i] for i in np.argsort(exit_t, kind="stable").tolist()]  # ties: opening
    n = len(pnls)
    wins, losses = sum(p > 0 for p in pnls), sum(p < 0 for p in pnls)
    gross_profit = sum(p for p in pnls if p > 0)
    gross_loss = -sum(p for p in pnls if p < 0)
    net = sum(pnls)
    days = covered_days((d.start_ms, d.end_ms) for d in digests)
    sharpe, sortino = sharpe_sortino(daily_sums(days, exit_t, pnl_open))
    spans = sum(d.end_ms - d.start_ms for d in digests)
    held = sum(int((d.exit_time - d.entry_time).sum()) for d in digests)
    return {"trades": n, "wins": wins, "losses": losses, "win_rate": wins / n if n else 0.0,
            "net_pnl": net, "fees": sum(f for d in digests for f in d.fees.tolist()),
            "gross_profit": gross_profit, "gross_loss": gross_loss,
            "profit_factor": gross_profit / gross_loss if gross_loss > 0 else None,
            "max_drawdown": max_drawdown(pnls), "expectancy": net / n if n else 0.0,
            "sharpe": sharpe, "sortino": sortino,
            "exposure": held / spans if spans > 0 else 0.0}


def rank_key(row: dict[str, Any]) -> tuple[float, float, float, int]:
    """Sort key: net_pnl and profit_factor descending, then grid order."""
    return ranking.rank_key(row, "net_pnl")


def sweep(files: Sequence[SweepFile], combos: Sequence[dict[str, Any]], base: TradeRules,
          executor: Executor, rank_by: str = "net_pnl") -> list[dict[str, Any]]:
    """Every combination over every file through `executor`: rows ranked by `rank_by`
    (backtest.ranking)."""
    detectors = list(dict.fromkeys(tuple(c[k] for k in DETECTOR_KEYS) for c in combos))
    by_detector: dict[tuple, list[int]] = {d: [] for d in detectors}
    for i, c in enumerate(combos):
        by_detector[tuple(c[k] for k in DETECTOR_KEYS)].append(i)
    handles = [executor.put(f.candles) for f in files]  # once per file
    tasks, where = [], []
    for k, f in enumerate(files):
        for d in detectors:
            rules = [replace(base, **{key: combos[i][key] for key in RULE_KEYS})
                     for i in by_detector[d]]
            tasks.append((handles[k], f.timeframe_ms, d, rules))
            where.append(by_detector[d])
    per_combo: list[list[Digest]] = [[] for _ in combos]
    # File order kept per combination; one result per task, one digest per rule of a task.
    for indices, digests in zip(where, executor.run(tasks), strict=True):
        for i, dg in zip(indices, digests, strict=True):
            per_combo[i].append(dg)
    rows = [{"order": i, **c, "symbols": len(files),
             "candles": sum(d.candles for d in per_combo[i]), **summarize(per_combo[i])}
            for i, c in enumerate(combos)]
    rows.sort(key=lambda row: ranking.rank_key(row, rank_by))
    for r, row in enumerate(rows, 1):
        row["rank"] = r
    return rows


def run_sweep(files: Sequence[SweepFile], combos: Sequence[dict[str, Any]], base: TradeRules,
              *, jobs: int = -1, scheduler: Any | None = None, rank_by: str = "net_pnl"
              ) -> list[dict[str, Any]]:
    """sweep() on local processes, or on the Dask cluster at `scheduler` (an address or a
    connected Client)."""
    if scheduler is None:
        with tempfile.TemporaryDirectory(prefix="choch-sweep-") as folder:
            return sweep(files, combos, base, LocalExecutor(jobs, folder), rank_by)
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
