"""The backtest on columns: detector arrays in, the compiled trade loop, trade columns out.

The same rules and results as the reference simulator (backtest/simulate.py): per signal, the
entry, stop, target and quantity come from trading/rules.py's formulas applied to whole arrays
(the same floating-point operations, so the same bits), the compiled loop (backtest/kernel.py)
decides every exit, and fees and pnl are again the rules' formulas over arrays.
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

import choch
from choch import Bars, Event, EventColumns
from trading.rules import TradeRules, floor_to

from .detect import scan_bars
from .kernel import COUNTS, OPPOSITE, contiguous, trade_loop
from .run import Run, TradeColumns


def bars_of(candles: pd.DataFrame) -> Bars:
    """The timestamp/open/high/low/close columns as int64/float64 arrays."""
    def col(name: str) -> np.ndarray:
        return candles[name].to_numpy(dtype=np.float64)

    return (candles["timestamp"].to_numpy(dtype=np.int64), col("open"), col("high"), col("low"),
            col("close"))


def run_backtest(candles: pd.DataFrame, left: int, right: int, break_on: str, rules: TradeRules,
                 timeframe_ms: int, symbol: str = "", timeframe: str = "",
                 detail: pd.DataFrame | None = None) -> tuple[EventColumns, Run]:
    """Detect (validating the candles once) and simulate: (all events, the run)."""
    bars = choch.candle_arrays(candles)
    events = scan_bars(bars, left, right, break_on, timeframe_ms)
    return events, simulate_bars(bars, events, rules, timeframe_ms, symbol, timeframe,
                                 None if detail is None else bars_of(detail))


def simulate_columns(candles: pd.DataFrame, events: EventColumns | Sequence[Event],
                     rules: TradeRules, timeframe_ms: int, symbol: str = "", timeframe: str = "",
                     detail: pd.DataFrame | None = None) -> Run:
    """backtest.simulate.simulate's signature and result, compiled. Event objects are accepted
    (their break_time finds their candle); EventColumns must come from these candles."""
    bars = bars_of(candles)
    if not isinstance(events, EventColumns):
        events = EventColumns.from_events(list(events), bars[0])
    return simulate_bars(bars, events, rules, timeframe_ms, symbol, timeframe,
                         None if detail is None else bars_of(detail))


def _signals(events: EventColumns, rules: TradeRules) -> tuple[np.ndarray, ...]:
    """(rows, side is long, entry, stop, target, quantity, may open) of the tradable events:
    trading.rules.open_position over arrays."""
    rows = np.flatnonzero(events.kinds(rules.trade_on))
    long_ = events.bullish[rows]
    close, stop = events.close[rows], events.extreme[rows]
    slip = rules.slippage_bps / 1e4
    entry = np.where(long_, close * (1 + slip), close * (1 - slip))
    valid = np.where(long_, stop < entry, stop > entry)
    with np.errstate(divide="ignore", invalid="ignore"):
        qty = rules.position_size * rules.leverage / entry
    if rules.step:
        qty = np.array([floor_to(q, rules.step) if ok else q
                        for q, ok in zip(qty.tolist(), valid.tolist(), strict=True)])
    valid &= qty > 0
    risk = rules.risk_reward * np.abs(entry - stop)
    target = np.where(long_, entry + risk, entry - risk)
    return rows, long_, entry, stop, target, qty, valid


def simulate_bars(bars: Bars, events: EventColumns, rules: TradeRules, timeframe_ms: int,
                  symbol: str = "", timeframe: str = "", detail: Bars | None = None) -> Run:
    """The run of `events` (scanned from `bars`) under `rules`; `detail`: shorter candles
    ordering a stop and a target touched by one candle (as the reference simulator)."""
    ts, o, h, lo, c = contiguous(bars)  # one layout, so one compiled version of the loop
    n = ts.size
    if n == 0:
        return Run(symbol, timeframe, [], [], 0, 0, 0)
    rows, long_, entry, stop, target, qty, valid = _signals(events, rules)
    dts, dh, dl = contiguous((detail[0], detail[2], detail[3]) if detail is not None else
                             (np.empty(0, np.int64), np.empty(0), np.empty(0)))
    opener, exit_time, exit_price, reason, counts = trade_loop(
        ts, o, h, lo, c, timeframe_ms, events.bar[rows], long_, entry, stop, target, valid,
        OPPOSITE.index(rules.on_opposite), float(rules.slippage_bps),
        dts, dh, dl, detail is not None)
    long_t, entry_t, qty_t = long_[opener], entry[opener], qty[opener]
    # trading.rules.fees and pnl, element by element.
    fees = rules.fee_rate * (entry_t * qty_t + exit_price * qty_t)
    pnl = np.where(long_t, exit_price - entry_t, entry_t - exit_price) * qty_t - fees
    opened = ts[events.bar[rows][opener]] + timeframe_ms
    columns = TradeColumns(np.where(long_t, 1, -1).astype(np.int8), opened, opened, entry_t,
                           stop[opener], target[opener], exit_time, exit_price, reason, qty_t,
                           fees, pnl)
    stats = dict(zip(COUNTS, counts.tolist(), strict=True))
    extra = {k: stats[k] for k in COUNTS[2:]} if detail is not None else {}
    return Run(symbol, timeframe, None, None, n, int(ts[0]), int(ts[-1]) + timeframe_ms,
               stats["signals"], stats["skipped"], extra, columns=columns,
               event_columns=events, openers=rows[opener])
