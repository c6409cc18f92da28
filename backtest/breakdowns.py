"""freqtrade's breakdowns of a backtest: per pair, per exit reason, long vs short, per day and
per week of exit (UTC; a week starts on Monday)."""
from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta

from trading.rules import Trade

from .simulate import Run
from .stats import trade_pct

Item = tuple[str, Trade]  # "SYMBOL timeframe", the trade


def _day(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, tz=UTC)


def exit_day(item: Item) -> str:
    """'2026-02-01': the UTC day of the exit candle (one closing at midnight is the day before)."""
    return _day(item[1].exit_time - 1).strftime("%Y-%m-%d")


def exit_week(item: Item) -> str:
    """'2026-01-26': the Monday of the exit candle's UTC week."""
    when = _day(item[1].exit_time - 1)
    return (when - timedelta(days=when.weekday())).strftime("%Y-%m-%d")


def row(key: str, trades: Sequence[Trade], balance: float, leverage: float) -> dict:
    """One line: counts, win rate, average trade %, net pnl, its share of the balance, time held."""
    n = len(trades)
    wins = sum(t.pnl > 0 for t in trades)
    losses = sum(t.pnl < 0 for t in trades)
    net = sum(t.pnl for t in trades)
    return {"key": key, "trades": n, "wins": wins, "draws": n - wins - losses, "losses": losses,
            "win_rate_pct": 100.0 * wins / n if n else 0.0,
            "avg_trade_pct": sum(trade_pct(t, leverage) for t in trades) / n if n else 0.0,
            "net_pnl": net, "total_pct": 100.0 * net / balance if balance > 0 else 0.0,
            "avg_duration_ms": (sum(t.exit_time - t.entry_time for t in trades) // n) if n
            else 0}


def group(items: Sequence[Item], key: Callable[[Item], str], balance: float, leverage: float
          ) -> list[dict]:
    """One row per key, in the order the keys first appear."""
    groups: dict[str, list[Trade]] = {}
    for item in items:
        groups.setdefault(key(item), []).append(item[1])
    return [row(k, ts, balance, leverage) for k, ts in groups.items()]


def _most_trades_first(rows: list[dict]) -> list[dict]:
    return sorted(rows, key=lambda x: -x["trades"])


def breakdowns(runs: Sequence[Run], balance: float, leverage: float) -> dict[str, list[dict]]:
    """pair (best net pnl first), exit_reason and side (most trades first), day and week (in
    time order); the totals are the summary's."""
    items = sorted(((f"{r.symbol} {r.timeframe}", t) for r in runs for t in r.trades),
                   key=lambda it: it[1].exit_time)
    pairs = [row(f"{r.symbol} {r.timeframe}", r.trades, balance, leverage) for r in runs]
    return {"pair": sorted(pairs, key=lambda x: -x["net_pnl"]),
            "exit_reason": _most_trades_first(group(items, lambda it: it[1].exit_reason, balance,
                                           leverage)),
            "side": _most_trades_first(group(items, lambda it: it[1].side, balance, leverage)),
            "day": group(items, exit_day, balance, leverage),
            "week": group(items, exit_week, balance, leverage)}
