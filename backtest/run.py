"""One backtest's result: its trades as columns, and as Trade/Event objects when files need them."""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from choch import Event, EventColumns
from domain.trade import Direction
from trading.rules import EXIT_REASONS, Trade

_INT = ("signal_time", "entry_time", "exit_time")


@dataclass(frozen=True)
class TradeColumns:
    """Trades in opening order, one array per Trade field; side is +1 long / -1 short and
    reason an index into trading.rules.EXIT_REASONS."""

    side: np.ndarray
    signal_time: np.ndarray
    entry_time: np.ndarray
    entry_price: np.ndarray
    stop_price: np.ndarray
    target_price: np.ndarray
    exit_time: np.ndarray
    exit_price: np.ndarray
    reason: np.ndarray
    quantity: np.ndarray
    fees: np.ndarray
    pnl: np.ndarray

    def __len__(self) -> int:
        return int(self.pnl.size)

    def to_trades(self) -> list[Trade]:
        """The Trade objects (for files and reports)."""
        sides = [Direction.LONG if s > 0 else Direction.SHORT for s in self.side.tolist()]
        reasons = [EXIT_REASONS[r] for r in self.reason.tolist()]
        return [Trade(*row) for row in zip(
            sides, self.signal_time.tolist(), self.entry_time.tolist(),
            self.entry_price.tolist(), self.stop_price.tolist(), self.target_price.tolist(),
            self.exit_time.tolist(), self.exit_price.tolist(), reasons,
            self.quantity.tolist(), self.fees.tolist(), self.pnl.tolist(), strict=True)]

    @classmethod
    def from_trades(cls, trades: Sequence[Trade]) -> TradeColumns:
        """Columns of Trade objects."""
        n = len(trades)
        cols: dict[str, Any] = {
            "side": np.fromiter((1 if t.side == Direction.LONG else -1 for t in trades),
                                np.int8, n),
            "reason": np.fromiter((EXIT_REASONS.index(t.exit_reason) for t in trades),
                                  np.int8, n)}
        for name in cls.__dataclass_fields__:
            if name not in cols:
                cols[name] = np.fromiter((getattr(t, name) for t in trades),
                                         np.int64 if name in _INT else np.float64, n)
        return cls(**cols)

    @classmethod
    def concat(cls, parts: Sequence[TradeColumns]) -> TradeColumns:
        """The parts one after the other."""
        if not parts:
            return cls.from_trades([])
        return cls(**{k: np.concatenate([getattr(p, k) for p in parts])
                      for k in cls.__dataclass_fields__})


class Run:
    """One backtest of one candle series: its trades and what the metrics need to know.

    Built from lists (the reference simulator appends to `trades` and `events`) or from columns
    (`columns` plus the event columns and the rows that opened each trade); either view is
    derived from the other on first use.
    """

    def __init__(self, symbol: str, timeframe: str, trades: list[Trade] | None = None,
                 events: list[Event] | None = None, candles: int = 0, start_ms: int = 0,
                 end_ms: int = 0, signals: int = 0, skipped: int = 0,
                 extra: dict | None = None, *, columns: TradeColumns | None = None,
                 event_columns: EventColumns | None = None,
                 openers: np.ndarray | None = None) -> None:
        self.symbol, self.timeframe = symbol, timeframe
        self.candles, self.start_ms, self.end_ms = candles, start_ms, end_ms
        self.signals, self.skipped = signals, skipped  # tradable events; of them skipped
        self.extra = extra if extra is not None else {}
        self._trades = trades if trades is not None or columns is not None else []
        self._events = events if events is not None or event_columns is not None else []
        self._columns, self._event_columns, self._openers = columns, event_columns, openers

    @property
    def trades(self) -> list[Trade]:
        """The trades in opening order."""
        if self._trades is None:
            self._trades = self._columns.to_trades() if self._columns is not None else []
        return self._trades

    @property
    def events(self) -> list[Event]:
        """The event that opened each trade (same order as `trades`)."""
        if self._events is None:
            cols = self._event_columns
            self._events = cols.to_events(self._openers) if cols is not None else []
        return self._events

    @property
    def columns(self) -> TradeColumns:
        """The trades as columns (from the list when the run was built from one)."""
        if self._columns is not None:
            return self._columns
        return TradeColumns.from_trades(self.trades)

    def __repr__(self) -> str:
        return (f"Run({self.symbol!r}, {self.timeframe!r}, {len(self.columns)} trades, "
                f"{self.candles} candles)")
