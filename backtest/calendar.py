"""The days a backtest covers: the union of its series' UTC days, so a pooled daily figure over
files from different periods counts only the days that had data, never the gap between them."""
from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np

from domain.timeframe import DAY_MS


def covered_days(spans: Iterable[tuple[int, int]]) -> np.ndarray:
    """Sorted UTC day numbers touched by any [start_ms, end_ms) span (empty spans add none)."""
    days: set[int] = set()
    for start, end in spans:
        if end > start:
            days.update(range(start // DAY_MS, (end - 1) // DAY_MS + 1))
    return np.array(sorted(days), dtype=np.int64)


def daily_sums(days: np.ndarray, exit_ms: Sequence[int] | np.ndarray,
               values: Sequence[float] | np.ndarray) -> np.ndarray:
    """values summed per covered day of their exit; an exit on an uncovered day (a close at the
    last candle's end, on midnight) counts on the covered day before it."""
    out = np.zeros(len(days))
    exits = np.asarray(exit_ms, dtype=np.int64)
    if exits.size and days.size:
        at = np.searchsorted(days, exits // DAY_MS, side="right") - 1
        np.add.at(out, np.clip(at, 0, len(days) - 1), np.asarray(values, dtype=np.float64))
    return out
