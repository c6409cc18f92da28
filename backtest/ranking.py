"""How sweep rows are ranked (--rank-by): by one metric, best first, then net_pnl and
profit_factor (both higher first), then grid order.

A metric a row cannot have (a Sharpe ratio without a deviation) ranks it after every row that has
one. profit_factor without a losing trade counts as infinite with a profit and as 0 without.
max_drawdown and fees rank lower first.
"""
from __future__ import annotations

import math
from typing import Any

HIGHER = ("net_pnl", "profit_factor", "sharpe", "sortino", "expectancy", "win_rate", "trades",
          "wins", "exposure")
LOWER = ("max_drawdown", "fees", "losses")
RANK_BY = HIGHER + LOWER


def profit_factor(row: dict[str, Any]) -> float:
    """The profit factor as a number (no losing trade: infinite with a profit, else 0)."""
    pf = row["profit_factor"]
    if pf is None:
        return math.inf if row["gross_profit"] > 0 else 0.0
    return float(pf)


def score(row: dict[str, Any], metric: str) -> float:
    """The metric as 'lower is better' (ValueError for a metric not in RANK_BY)."""
    if metric not in RANK_BY:
        raise ValueError(f"cannot rank by {metric!r}: one of {', '.join(RANK_BY)}")
    value = profit_factor(row) if metric == "profit_factor" else row[metric]
    if value is None:
        return math.inf
    return float(value) if metric in LOWER else -float(value)


def rank_key(row: dict[str, Any], metric: str = "net_pnl") -> tuple[float, float, float, int]:
    """Sort key: `metric` best first, then net_pnl and profit_factor descending, grid order."""
    return (score(row, metric), -row["net_pnl"], -profit_factor(row), row["order"])
