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
"""
from __future__ import annotations

import math
from collections.abc import Iterable, Sequence

import numpy as np

from trading.rules import Trade

from .calendar import covered_days, daily_sums
from .simulate import Run

DAY_MS = 86_400_000
YEAR_DAYS = 365


def _ordered(trades: Sequence[Trade]) -> list[Trade]:
    """Trades in exit order; sorted() is stable, so ties keep their opening order."""
    return sorted(trades, key=lambda t: t.exit_time)


def max_drawdown(pnls: Iterable[float]) -> float:
    """Largest peak-to-trough fall of the cumulative pnl, starting from 0 (positive)."""
    equity = np.cumsum(np.fromiter(pnls, np.float64))
    if equity.size == 0:
        return 0.0
    peak = np.maximum.accumulate(np.maximum(equity, 0.0))
    return float(max((peak - equity).max(), 0.0))


def daily_pnl(trades: Sequence[Trade], start_ms: int, end_ms: int) -> np.ndarray:
    """Net pnl per UTC day of exit, one value per day from start_ms's day to end_ms's."""
    first, last = start_ms // DAY_MS, max(end_ms - 1, start_ms) // DAY_MS
    days = np.zeros(int(last - first) + 1)
    if trades:
        idx = np.fromiter((t.exit_time // DAY_MS - first for t in trades), np.int64, len(trades))
        np.add.at(days, np.clip(idx, 0, len(days) - 1),
                  np.fromiter((t.pnl for t in trades), np.float64, len(trades)))
    return days


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


def summarize(trades: Sequence[Trade], start_ms: int, end_ms: int) -> dict:
    """The metrics of one set of trades over a data span (see the module docstring)."""
    pnls = [t.pnl for t in _ordered(trades)]
    wins = sum(p > 0 for p in pnls)
    losses = sum(p < 0 for p in pnls)
    gross_profit = sum(p for p in pnls if p > 0)
    gross_loss = -sum(p for p in pnls if p < 0)
    net = sum(pnls)
    sharpe, sortino = sharpe_sortino(daily_pnl(trades, start_ms, end_ms))
    span = end_ms - start_ms
    held = sum(t.exit_time - t.entry_time for t in trades)
    return {
        "trades": len(pnls), "wins": wins, "losses": losses,
        "win_rate": wins / len(pnls) if pnls else 0.0,
        "net_pnl": net, "fees": sum(t.fees for t in trades),
        "gross_profit": gross_profit, "gross_loss": gross_loss,
        "profit_factor": gross_profit / gross_loss if gross_loss > 0 else None,
        "max_drawdown": max_drawdown(pnls),
        "expectancy": net / len(pnls) if pnls else 0.0,
        "sharpe": sharpe, "sortino": sortino,
        "exposure": held / span if span > 0 else 0.0,
    }


def report(runs: Sequence[Run]) -> dict:
    """The whole backtest's metrics plus one row per symbol/timeframe (`by_symbol`)."""
    if not runs:
        return {**summarize([], 0, 0), "by_symbol": []}
    trades = [t for r in runs for t in r.trades]
    start, end = min(r.start_ms for r in runs), max(r.end_ms for r in runs)
    total = summarize(trades, start, end)
    days = covered_days((r.start_ms, r.end_ms) for r in runs)
    total["sharpe"], total["sortino"] = sharpe_sortino(daily_sums(
        days, [t.exit_time for t in trades], [t.pnl for t in trades]))
    spans = sum(r.end_ms - r.start_ms for r in runs)
    held = sum(t.exit_time - t.entry_time for t in trades)
    total["exposure"] = held / spans if spans > 0 else 0.0
    total["candles"] = sum(r.candles for r in runs)
    total["by_symbol"] = [{"symbol": r.symbol, "timeframe": r.timeframe, "candles": r.candles,
                           **summarize(r.trades, r.start_ms, r.end_ms)} for r in runs]
    return total
