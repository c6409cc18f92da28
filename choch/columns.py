"""Detector output as columns: one numpy array per Event field, plus the break candle's row."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .event import BEARISH, BOS, BULLISH, CHOCH, Event


@dataclass(frozen=True)
class EventColumns:
    """Events in detector order, one array per field (objects only on request: `to_events`)."""

    choch: np.ndarray  # bool: CHoCH, else BOS
    bullish: np.ndarray  # bool: bullish, else bearish
    level: np.ndarray
    pivot_time: np.ndarray
    break_time: np.ndarray
    confirmed_at: np.ndarray
    extreme: np.ndarray
    close: np.ndarray
    bar: np.ndarray  # int64: row of the break candle in the candles scanned

    def __len__(self) -> int:
        return int(self.bar.size)

    def kinds(self, trade_on: frozenset[str]) -> np.ndarray:
        """Mask of the events whose kind is in `trade_on`."""
        if CHOCH in trade_on and BOS in trade_on:
            return np.ones(self.bar.size, dtype=bool)
        if CHOCH in trade_on:
            return self.choch.copy()
        if BOS in trade_on:
            return ~self.choch
        return np.zeros(self.bar.size, dtype=bool)

    def to_events(self, rows: np.ndarray | None = None) -> list[Event]:
        """The Event objects of all rows (or of `rows`, in that order)."""
        pick = slice(None) if rows is None else rows
        return [
            Event(CHOCH if k else BOS, BULLISH if b else BEARISH, lv, pt, bt, ca, ex, cl)
            for k, b, lv, pt, bt, ca, ex, cl in zip(
                self.choch[pick].tolist(), self.bullish[pick].tolist(),
                self.level[pick].tolist(), self.pivot_time[pick].tolist(),
                self.break_time[pick].tolist(), self.confirmed_at[pick].tolist(),
                self.extreme[pick].tolist(), self.close[pick].tolist(), strict=True)
        ]

    @classmethod
    def from_events(cls, events: list[Event], timestamps: np.ndarray) -> EventColumns:
        """Columns of Event objects; `bar` is each break_time's row in `timestamps`."""
        n = len(events)

        def col(name: str, dtype: type) -> np.ndarray:
            return np.fromiter((getattr(e, name) for e in events), dtype, n)

        brk = col("break_time", np.int64)
        return cls(np.fromiter((e.kind == CHOCH for e in events), bool, n),
                   np.fromiter((e.direction == BULLISH for e in events), bool, n),
                   col("level", np.float64), col("pivot_time", np.int64), brk,
                   col("confirmed_at", np.int64), col("extreme", np.float64),
                   col("close", np.float64), np.searchsorted(timestamps, brk).astype(np.int64))
