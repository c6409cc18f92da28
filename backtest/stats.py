"""The summary a backtesting.py user reads, from the closed trades and a starting balance.

Definitions (equity is realised: the starting balance plus the net pnl of the trades closed so
far, trades in exit order):
- return_pct = net pnl / starting balance; buy_hold_pct: each series' last close over its first
  close, minus 1, averaged over the series.
- exposure_pct: time in a position / the series' spans summed.
- days: the UTC days with data, pooled over the series (backtest.calendar): files from different
  periods count their own days, never the days between them.
- daily returns: each covered day's pnl / the equity before that day.
- annual_return_pct = (final / starting) ^ (365 / days) - 1; annual_volatility_pct = sample
  standard deviation of the daily returns x sqrt(365).
- sharpe = mean / sample std of the daily returns x sqrt(365); sortino = mean /
  sqrt(mean(min(r, 0)^2)) x sqrt(365); calmar = annual return / max drawdown. All three need at
  least `min_days` days (MIN_RATIO_DAYS): below that they are None and `ratios_note` says why.
- max_drawdown_pct: the largest fall of equity from its running peak (the starting balance
  counts), as a share of that peak; its duration runs from the peak to the first exit back at or
  above it, or to the end of the data; ruined_ms: the exit at which equity first reached zero
  (the balance too small for the trades' margin), None if it never did; the trades after it
  still count.
- trade %: a trade's pnl / its margin (entry notional / leverage), as freqtrade's profit %.
- expectancy: mean pnl (USDT); sqn = sqrt(trades) x mean pnl / sample std of pnl.
"""
from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pandas as pd

from trading.rules import Trade

from .calendar import covered_days, daily_sums
from .simulate import Run

MIN_RATIO_DAYS = 30
YEAR_DAYS = 365


def trade_pct(t: Trade, leverage: float) -> float:
    """The trade's pnl as a percentage of its margin."""
    margin = t.entry_price * t.quantity / leverage
    return 100.0 * t.pnl / margin if margin > 0 else 0.0


def in_exit_order(runs: Sequence[Run]) -> list[Trade]:
    """Every trade by exit time; ties keep run order, then opening order."""
    return sorted((t for r in runs for t in r.trades), key=lambda t: t.exit_time)


def buy_and_hold_pct(candles: Sequence[pd.DataFrame]) -> float | None:
    """Mean over the series of last close / first close - 1, in percent (None without data)."""
    moves = [float(c["close"].iloc[-1]) / float(c["close"].iloc[0]) - 1.0
             for c in candles if len(c) and float(c["close"].iloc[0]) > 0]
    return 100.0 * sum(moves) / len(moves) if moves else None


def drawdown(trades: Sequence[Trade], balance: float, start_ms: int, end_ms: int
             ) -> tuple[float, int, float]:
    """(max drawdown as a fraction of its peak, at most 1: all of it; its longest duration in
    ms; peak equity)."""
    equity, peak, peak_at = balance, balance, start_ms
    worst, longest, below = 0.0, 0, False
    for t in trades:
        equity += t.pnl
        if equity >= peak:
            if below:
                longest = max(longest, t.exit_time - peak_at)
            peak, peak_at, below = equity, t.exit_time, False
        else:
            below = True
            worst = min(max(worst, (peak - equity) / peak), 1.0) if peak > 0 else worst
    if below:
        longest = max(longest, end_ms - peak_at)
    return worst, longest, peak


def ruined_at(trades: Sequence[Trade], balance: float) -> int | None:
    """The exit time at which equity first fell to zero or below, if it did."""
    equity = balance
    for t in trades:
        equity += t.pnl
        if equity <= 0:
            return t.exit_time
    return None


def daily_returns(runs: Sequence[Run], trades: Sequence[Trade], balance: float
                  ) -> np.ndarray:
    """Each covered day's pnl over the equity before it (stops at a day starting at or below 0)."""
    days = covered_days((r.start_ms, r.end_ms) for r in runs)
    pnl = daily_sums(days, [t.exit_time for t in trades], [t.pnl for t in trades])
    before = balance + np.concatenate([[0.0], np.cumsum(pnl)[:-1]]) if pnl.size else pnl
    alive = before > 0
    cut = int(np.argmin(alive)) if not alive.all() else len(pnl)
    return pnl[:cut] / before[:cut]


def ratios(returns: np.ndarray, days: int, annual_return: float | None, max_dd: float,
           min_days: int, ruined: bool = False) -> dict:
    """Sharpe, Sortino and Calmar, or None each with the reason in `ratios_note`."""
    none = {"sharpe": None, "sortino": None, "calmar": None}
    if days < min_days:
        return {**none, "ratios_note": f"Sharpe, Sortino and Calmar need at least {min_days} "
                                       f"days of data; this backtest has {days}"}
    if ruined or returns.size < days:
        return {**none, "ratios_note": "Sharpe, Sortino and Calmar are not defined once "
                                       "equity reaches zero"}
    if returns.size < 2:
        return {**none, "ratios_note": "Sharpe, Sortino and Calmar need two days or more"}
    scale = math.sqrt(YEAR_DAYS)
    mean, std = float(returns.mean()), float(returns.std(ddof=1))
    down = math.sqrt(float(np.mean(np.minimum(returns, 0.0) ** 2)))
    return {"sharpe": mean / std * scale if std > 0 else None,
            "sortino": mean / down * scale if down > 0 else None,
            "calmar": annual_return / max_dd if annual_return is not None and max_dd > 0
            else None, "ratios_note": None}


def _trade_figures(trades: Sequence[Trade], leverage: float) -> dict:
    """Win rate, best/worst/average trade %, durations, profit factor, expectancy, SQN."""
    if not trades:
        return {"trades": 0, "win_rate_pct": None, "best_trade_pct": None,
                "worst_trade_pct": None, "avg_trade_pct": None, "max_trade_duration_ms": None,
                "avg_trade_duration_ms": None, "profit_factor": None, "expectancy": None,
                "expectancy_pct": None, "sqn": None}
    pct = np.array([trade_pct(t, leverage) for t in trades])
    pnl = np.array([t.pnl for t in trades])
    held = np.array([t.exit_time - t.entry_time for t in trades], dtype=np.int64)
    gross_loss = -float(pnl[pnl < 0].sum())
    std = float(pnl.std(ddof=1)) if pnl.size > 1 else 0.0
    return {"trades": len(trades), "win_rate_pct": 100.0 * float((pnl > 0).mean()),
            "best_trade_pct": float(pct.max()), "worst_trade_pct": float(pct.min()),
            "avg_trade_pct": float(pct.mean()), "max_trade_duration_ms": int(held.max()),
            "avg_trade_duration_ms": int(round(float(held.mean()))),
            "profit_factor": float(pnl[pnl > 0].sum()) / gross_loss if gross_loss > 0 else None,
            "expectancy": float(pnl.mean()), "expectancy_pct": float(pct.mean()),
            "sqn": math.sqrt(pnl.size) * float(pnl.mean()) / std if std > 0 else None}


def summary(runs: Sequence[Run], balance: float, leverage: float,
            buy_hold_pct: float | None = None, min_days: int = MIN_RATIO_DAYS) -> dict:
    """The figures of the module docstring (times in ms, money in USDT, *_pct in percent)."""
    trades = in_exit_order(runs)
    spanned = [r for r in runs if r.end_ms > r.start_ms]
    start = min((r.start_ms for r in spanned), default=0)
    end = max((r.end_ms for r in spanned), default=0)
    days = len(covered_days((r.start_ms, r.end_ms) for r in runs))
    final = balance + sum(t.pnl for t in trades)
    worst, longest, peak = drawdown(trades, balance, start, end)
    spans = sum(r.end_ms - r.start_ms for r in spanned)
    returns = daily_returns(runs, trades, balance)
    ruined = ruined_at(trades, balance)
    growth = final / balance if balance > 0 else 0.0
    annual = ((growth ** (YEAR_DAYS / days) - 1.0) if growth > 0 else -1.0) if days else None
    vol = float(returns.std(ddof=1)) * math.sqrt(YEAR_DAYS) if returns.size > 1 else None
    return {"start_ms": start, "end_ms": end, "duration_ms": end - start, "days": days,
            "exposure_pct": 100.0 * sum(t.exit_time - t.entry_time for t in trades) / spans
            if spans > 0 else 0.0,
            "starting_balance": balance, "final_equity": final, "peak_equity": peak,
            "return_pct": 100.0 * (final - balance) / balance if balance > 0 else None,
            "buy_hold_pct": buy_hold_pct,
            "annual_return_pct": None if annual is None else 100.0 * annual,
            "annual_volatility_pct": None if vol is None else 100.0 * vol,
            **ratios(returns, days, annual, worst, min_days, ruined is not None),
            "max_drawdown_pct": 100.0 * worst, "max_drawdown_duration_ms": longest,
            "ruined_ms": ruined,
            **_trade_figures(trades, leverage)}
