"""Backtest metrics over closed trades. Every figure is in USDT unless it says otherwise.

Definitions (pnl is a trade's net pnl, after fees):
- trades: closed trades; wins: pnl > 0; losses: pnl < 0 (a pnl of exactly 0 is neither);
  win_rate = wins / trades (0 with no trades).
- net_pnl = sum of pnl; fees = sum of fees; gross_profit = sum of the positive pnl;
  gross_loss = -(sum of the negative pnl), a positive number.
- profit_factor = gross_profit / gross_loss; null when there is no losing trade.
- max_drawdown: the largest fall from a peak of the cumulative pnl, trades taken in exit order
  (ties in the order they were opened), starting from 0 before the first trade; positive.
- expectancy = net_pnl / trades (0 with no trades).
- sharpe, sortino (daily): pnl summed per UTC day of the exit, over every day from the first
  candle's day to the last candle's (days without exits count as 0); over several series, the
  days any of them covers (backtest.calendar), so files from different periods never count the
  days between them. sharpe = mean / sample
  standard deviation x sqrt(365); sortino = mean / sqrt(mean(min(day, 0)^2)) x sqrt(365). null
  with fewer than two days, a zero deviation, or (sortino) no losing day.
- exposure: time in a position (exit_time - entry_time summed) / the data's time span (first
  open to last close), 0..1.

Every figure is computed on arrays (backtest.run.TradeColumns); sums run left to right in the
order named above, as Python's sum() over the trades does, so the figures do not depend on
whether the trades came as objects or as columns.
"""
from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from trading.rules import Trade

from .calendar import covered_days, daily_sums
from .run import Run, TradeColumns

DAY_MS = 86_400_000
YEAR_DAYS = 365


def _total(values: np.ndarray) -> float:
    """Left-to-right sum (the order sum() adds in); 0.0 when empty."""
    return float(np.add.accumulate(values)[-1]) if values.size else 0.0


def max_drawdown(pnls: Sequence[float] | np.ndarray) -> float:
    """Largest peak-to-trough fall of the cumulative pnl, starting from 0 (positive)."""
    equity = np.cumsum(np.asarray(pnls, dtype=np.float64))
    if equity.size == 0:
        return 0.0
    peak = np.maximum.accumulate(np.maximum(equity, 0.0))
    return float(max((peak - equity).max(), 0.0))


def daily_values(exit_time: np.ndarray, pnl: np.ndarray, start_ms: int,
                 end_ms: int) -> np.ndarray:
    """Net pnl per UTC day of exit, one value per day from start_ms's day to end_ms's; each day
    adds its trades in the order given."""
    first, last = start_ms // DAY_MS, max(end_ms - 1, start_ms) // DAY_MS
    size = int(last - first) + 1
    if exit_time.size == 0:
        return np.zeros(size)
    idx = np.clip(exit_time // DAY_MS - first, 0, size - 1)
    return np.bincount(idx, weights=pnl, minlength=size).astype(np.float64)


def daily_pnl(trades: Sequence[Trade], start_ms: int, end_ms: int) -> np.ndarray:
    """daily_values() of Trade objects."""
    cols = TradeColumns.from_trades(trades)
    return daily_values(cols.exit_time, cols.pnl, start_ms, end_ms)


def sharpe_sortino(days: np.ndarray) -> tuple[float | None, float | None]:
    """Annualised daily Sharpe and Sortino ratios (None when undefined)."""
    if days.size < 2:
        return None, None
    mean = float(days.mean())
    std = float(days.std(ddof=1))
    down = math.sqrt(float(np.mean(np.minimum(days, 0.0) ** 2)))
    scale = math.sqrt(YEAR_DAYS)
    return (mean / std * scale if std > 0 else None,
            mean / down * scale if down > 0 else None)


def summarize_arrays(exit_time: np.ndarray, pnl: np.ndarray, fees: np.ndarray, held: int,
                     start_ms: int, end_ms: int, days: np.ndarray | None = None) -> dict:
    """The metrics of trades given as arrays in opening order, `held` their summed time in a
    position (ms); daily ratios over `days` (backtest.calendar) when given, else over every day
    from start_ms to end_ms (see the module docstring)."""
    n = int(pnl.size)
    pnls = pnl[np.argsort(exit_time, kind="stable")]  # exit order; ties keep opening order
    wins, losses = int(np.count_nonzero(pnls > 0)), int(np.count_nonzero(pnls < 0))
    gross_profit = _total(pnls[pnls > 0])
    gross_loss = -_total(pnls[pnls < 0])
    net = _total(pnls)
    sharpe, sortino = sharpe_sortino(daily_values(exit_time, pnl, start_ms, end_ms)
                                     if days is None else daily_sums(days, exit_time, pnl))
    span = end_ms - start_ms
    return {
        "trades": n, "wins": wins, "losses": losses,
        "win_rate": wins / n if n else 0.0,
        "net_pnl": net, "fees": _total(fees),
        "gross_profit": gross_profit, "gross_loss": gross_loss,
        "profit_factor": gross_profit / gross_loss if gross_loss > 0 else None,
        "max_drawdown": max_drawdown(pnls),
        "expectancy": net / n if n else 0.0,
        "sharpe": sharpe, "sortino": sortino,
        "exposure": held / span if span > 0 else 0.0,
    }


def summarize_columns(cols: TradeColumns, start_ms: int, end_ms: int) -> dict:
    """summarize_arrays() of trade columns."""
    held = int((cols.exit_time - cols.entry_time).sum())
    return summarize_arrays(cols.exit_time, cols.pnl, cols.fees, held, start_ms, end_ms)


def summarize(trades: Sequence[Trade], start_ms: int, end_ms: int) -> dict:
    """The metrics of Trade objects over a data span (see the module docstring)."""
    return summarize_columns(TradeColumns.from_trades(trades), start_ms, end_ms)


def report(runs: Sequence[Run]) -> dict:
    """The whole backtest's metrics plus one row per symbol/timeframe (`by_symbol`)."""
    if not runs:
        return {**summarize([], 0, 0), "by_symbol": []}
    parts = [r.columns for r in runs]
    every = TradeColumns.concat(parts)
    start, end = min(r.start_ms for r in runs), max(r.end_ms for r in runs)
    held = int((every.exit_time - every.entry_time).sum())
    total = summarize_arrays(every.exit_time, every.pnl, every.fees, held, start, end,
                             covered_days((r.start_ms, r.end_ms) for r in runs))
    spans = sum(r.end_ms - r.start_ms for r in runs)
    total["exposure"] = held / spans if spans > 0 else 0.0
    total["candles"] = sum(r.candles for r in runs)
    total["by_symbol"] = [{"symbol": r.symbol, "timeframe": r.timeframe, "candles": r.candles,
                           **summarize_columns(c, r.start_ms, r.end_ms)}
                          for r, c in zip(runs, parts, strict=True)]
    return total
