"""What the report's interactive candle chart of one series draws, as plain JSON values.

Times are UTC seconds (lightweight-charts' UTCTimestamp). A long series is drawn with fewer,
longer candles (`per_candle` of them merged into one, as backtesting.py resamples) and with its
last MAX_TRADES trades, both said on the page. Stops and targets are horizontal segments over the
bars a position was held; consecutive trades alternate between two line series, so a
reversal's segments never join.
"""
from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import numpy as np
import pandas as pd

from trading.rules import Trade

from .simulate import Run

MAX_CANDLES = 5000
MAX_TRADES = 1500
WIN, LOSS, LONG, SHORT = "#26a69a", "#ef5350", "#1e88e5", "#fb8c00"


def merged(candles: pd.DataFrame, per_candle: int) -> pd.DataFrame:
    """Every `per_candle` consecutive candles as one (first open, max high, min low, last close)."""
    if per_candle <= 1:
        return candles[["timestamp", "open", "high", "low", "close"]]
    key = np.arange(len(candles)) // per_candle
    g = candles.groupby(key, sort=True)
    return pd.DataFrame({"timestamp": g["timestamp"].first(), "open": g["open"].first(),
                         "high": g["high"].max(), "low": g["low"].min(),
                         "close": g["close"].last()}).reset_index(drop=True)


class _Axis:
    """The chart's candle times (UTC seconds) and the candle holding an instant."""

    def __init__(self, times: np.ndarray) -> None:
        self.times = times

    def snap(self, ms: int) -> int:
        """The chart candle holding the instant `ms` (the first one before the data)."""
        i = int(np.searchsorted(self.times, ms // 1000, side="right")) - 1
        return int(self.times[max(i, 0)])

    def after(self, s: int) -> int | None:
        """The chart candle after the one at `s`, if any."""
        i = int(np.searchsorted(self.times, s, side="right"))
        return int(self.times[i]) if i < len(self.times) else None


def _segments(trades: list[Trade], axis: _Axis, price: Callable[[Trade], float]) -> list[list]:
    """Two line series of [time, price] points, [time] breaking a line, times increasing."""
    series: list[list] = [[], []]
    for i, t in enumerate(trades):
        line = series[i % 2]
        first, last = axis.snap(t.entry_time), axis.snap(t.exit_time - 1)
        if line and line[-1][0] >= first:
            continue  # squeezed out by merged candles: not drawn rather than drawn wrong
        gap = axis.after(line[-1][0]) if line else None
        if gap is not None and gap < first:
            line.append([gap])
        line.append([first, price(t)])
        if last > first:
            line.append([last, price(t)])
    return series


def _markers(trades: list[Trade], axis: _Axis) -> list[dict]:
    """An arrow on each break candle (entry at its close) and a dot on each exit candle."""
    out = []
    for t in trades:
        long = t.side == "long"
        out.append({"time": axis.snap(t.entry_time - 1), "position": "belowBar" if long else
                    "aboveBar", "shape": "arrowUp" if long else "arrowDown",
                    "color": LONG if long else SHORT, "text": "L" if long else "S"})
        out.append({"time": axis.snap(t.exit_time - 1), "position": "aboveBar" if long else
                    "belowBar", "shape": "circle", "color": WIN if t.pnl > 0 else LOSS,
                    "text": t.exit_reason})
    return sorted(out, key=lambda m: m["time"])


def chart_data(run: Run, candles: pd.DataFrame) -> dict:
    """The candles, entry/exit markers and stop/target segments of one series."""
    per_candle = max(1, math.ceil(len(candles) / MAX_CANDLES))
    bars = merged(candles, per_candle)
    times = bars["timestamp"].to_numpy(np.int64) // 1000
    trades = run.trades[-MAX_TRADES:] if len(times) else []  # where the chart opens
    axis = _Axis(times)
    rows = bars[["open", "high", "low", "close"]].to_numpy(np.float64).tolist()
    return {"title": f"{run.symbol} {run.timeframe}", "per_candle": per_candle,
            "trades_drawn": len(trades), "trades": len(run.trades),
            "candles": [[int(t), *r] for t, r in zip(times.tolist(), rows, strict=True)],
            "markers": _markers(trades, axis),
            "stops": _segments(trades, axis, lambda t: t.stop_price),
            "targets": _segments(trades, axis, lambda t: t.target_price)}


def equity_data(trades: Sequence[Trade], balance: float, start_ms: int) -> dict:
    """Realised equity from `balance` and its fall from the running peak in percent (<= 0), one
    point per exit second (trades in exit order)."""
    points = {start_ms // 1000: balance}
    equity = balance
    for t in trades:
        equity += t.pnl
        points[t.exit_time // 1000] = equity
    line, drawdown, peak = [], [], balance
    for s in sorted(points):
        peak = max(peak, points[s])
        line.append([s, points[s]])
        drawdown.append([s, 100.0 * (points[s] - peak) / peak if peak > 0 else 0.0])
    return {"equity": line, "drawdown": drawdown}
