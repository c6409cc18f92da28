"""The detector for backtests, compiled: choch.StructureDetector's rules in one pass over arrays.

choch.scan_arrays (numpy, vectorised) is the detector's batch path; this gives the same events
(tests/backtest/test_detect.py holds them equal on random and real candles) in a fraction of
its time. The pivots come from choch's vectorised pivot_rows; one compiled pass over the bars
then does what the streaming detector does per bar: the breaks of the two armed levels, then
arming the pivot the bar confirms. Compiled and cached like the trade loop (backtest/kernel.py).
"""
from __future__ import annotations

from typing import Any

import numpy as np

from choch import Bars, EventColumns
from choch.batch import pivot_rows
from choch.event import check_parameters

from .kernel import compiled, contiguous


def _scan(o: np.ndarray, h: np.ndarray, lo: np.ndarray, c: np.ndarray, highs: np.ndarray,
          lows: np.ndarray, right: int, wick: bool) -> tuple:
    """(choch, bullish, level, pivot bar, break bar, extreme) per event, in order.

    highs, lows: the pivot rows (choch.batch.pivot_rows), each armed on its confirmation bar
    (pivot + right).
    """
    n = c.size
    cap = highs.size + lows.size  # a level breaks at most once
    is_choch = np.empty(cap, np.bool_)
    bull = np.empty(cap, np.bool_)
    level = np.empty(cap, np.float64)
    pivot = np.empty(cap, np.int64)
    brk = np.empty(cap, np.int64)
    extreme = np.empty(cap, np.float64)
    hi_armed, hi_price, hi_bar, hi_ext = False, 0.0, 0, 0.0
    lo_armed, lo_price, lo_bar, lo_ext = False, 0.0, 0, 0.0
    trend, k, nh, nl = 0, 0, 0, 0
    for i in range(n):
        up = down = False
        if hi_armed:
            if lo[i] < hi_ext:
                hi_ext = lo[i]
            up = (h[i] if wick else c[i]) > hi_price
        if lo_armed:
            if h[i] > lo_ext:
                lo_ext = h[i]
            down = (lo[i] if wick else c[i]) < lo_price
        if up or down:
            bear_first = up and down and c[i] >= o[i]
            for step in range(2):
                # Two breaks on one bar: the candle's colour says which comes first.
                is_up = (step == 1) if bear_first else (step == 0)
                if not (up if is_up else down):
                    continue
                direction = 1 if is_up else -1
                is_choch[k] = trend != 0 and trend != direction
                bull[k], brk[k] = is_up, i
                if is_up:
                    hi_armed = False
                    level[k], pivot[k], extreme[k] = hi_price, hi_bar, hi_ext
                else:
                    lo_armed = False
                    level[k], pivot[k], extreme[k] = lo_price, lo_bar, lo_ext
                trend, k = direction, k + 1
        # The pivot confirmed by this bar (found beforehand, vectorised): the new armed level.
        if nh < highs.size and highs[nh] + right == i:
            p, nh = highs[nh], nh + 1
            hi_armed, hi_price, hi_bar, hi_ext = True, h[p], p, lo[p + 1:i + 1].min()
        if nl < lows.size and lows[nl] + right == i:
            p, nl = lows[nl], nl + 1
            lo_armed, lo_price, lo_bar, lo_ext = True, lo[p], p, h[p + 1:i + 1].max()
    return is_choch[:k], bull[:k], level[:k], pivot[:k], brk[:k], extreme[:k]


_compiled_scan: Any = compiled(_scan)


def scan_bars(bars: Bars, left: int, right: int, break_on: str,
              timeframe_ms: int | None) -> EventColumns:
    """choch.scan_arrays(bars, ...), compiled (the bars validated by choch.candle_arrays)."""
    check_parameters(left, right, break_on)
    ts, o, h, lo, c = contiguous(bars)  # one layout, so one compiled version of the loop
    if timeframe_ms is not None and timeframe_ms <= 0:
        raise ValueError(f"timeframe_ms must be a positive integer, got {timeframe_ms!r}")
    highs, lows = pivot_rows(h, left, right, True), pivot_rows(lo, left, right, False)
    kind, bull, level, pivot, brk, extreme = _compiled_scan(o, h, lo, c, highs, lows, right,
                                                            break_on == "wick")
    at = ts[brk]
    if timeframe_ms is not None:
        span: np.ndarray | int = timeframe_ms
    else:  # the smallest spacing up to the break bar, as StructureDetector (0 on the first)
        steps = np.zeros(ts.size, np.int64)
        steps[1:] = np.minimum.accumulate(np.diff(ts))
        span = steps[brk]
    return EventColumns(kind, bull, level, ts[pivot], at, at + span, extreme, c[brk], brk)
