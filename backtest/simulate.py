"""Replay detector events over their candles through the shared trade rules -> closed trades.

The reference implementation: backtest/columnar.py runs the same rules compiled, and the tests
hold the two to the same trades.

The loop runs over events, not bars: between two events the open position's first stop or
target touch is found with numpy over the bars in between, so a year of 1m bars costs about
as much as its few thousand events.

Timeframe detail (optional, as freqtrade's --timeframe-detail): a candle whose range touches
both the stop and the target does not say which came first. Given the shorter candles of the
same market (`detail`), the first of them inside that candle that touches either decides; if
that one touches both, or none inside it does (missing or inconsistent detail), stop first,
as without detail. Only the order changes: prices and exit times follow the candle's rule.
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from choch import Event
from domain.trade import Direction
from trading.rules import (
    CLOSE,
    END,
    REVERSE,
    STOP,
    TARGET,
    Position,
    Trade,
    TradeRules,
    close_position,
    exit_on_candle,
    open_position,
    signal_action,
)

from .run import Run

__all__ = ["Run", "simulate"]

FIRST_WINDOW = 256  # bars searched first for an exit; the window doubles until a touch


class _Bars:
    """The candle columns as numpy arrays, plus the close time of a bar."""

    def __init__(self, candles: pd.DataFrame, timeframe_ms: int) -> None:
        self.ts = candles["timestamp"].to_numpy(dtype=np.int64)
        self.o, self.h, self.l, self.c = (candles[k].to_numpy(dtype=np.float64)
                                          for k in ("open", "high", "low", "close"))
        self.tf = timeframe_ms
        self.n = len(self.ts)

    def close_time(self, i: int) -> int:
        """Open time + the timeframe (also before a gap)."""
        return int(self.ts[i]) + self.tf


def _first_touch(pos: Position, bars: _Bars, lo: int, hi: int) -> int:
    """Index of the first bar in [lo, hi) whose range reaches the stop or the target, else -1."""
    long = pos.side == Direction.LONG
    down, up = (pos.stop_price, pos.target_price) if long else (pos.target_price, pos.stop_price)
    start, width = lo, FIRST_WINDOW
    while start < hi:
        stop = min(hi, start + width)
        hit = (bars.l[start:stop] <= down) | (bars.h[start:stop] >= up)
        k = int(hit.argmax())
        if hit[k]:
            return start + k
        start, width = stop, width * 2
    return -1


class _Detail:
    """The shorter candles that order a stop and a target touched by the same bar."""

    def __init__(self, candles: pd.DataFrame) -> None:
        self.ts = candles["timestamp"].to_numpy(dtype=np.int64)
        self.h, self.l = (candles[k].to_numpy(dtype=np.float64) for k in ("high", "low"))
        self.target_first = 0  # ambiguous bars the detail resolved to the target
        self.stop_first = 0  # ambiguous bars the detail resolved to the stop
        self.undecided = 0  # ambiguous bars without a touching detail candle (stop first)

    def first_hit(self, pos: Position, open_ms: int, close_ms: int) -> str | None:
        """STOP or TARGET: what the first detail candle in [open_ms, close_ms) touched."""
        lo, hi = np.searchsorted(self.ts, (open_ms, close_ms), side="left").tolist()
        if pos.side == Direction.LONG:
            stop = self.l[lo:hi] <= pos.stop_price
            target = self.h[lo:hi] >= pos.target_price
        else:
            stop = self.h[lo:hi] >= pos.stop_price
            target = self.l[lo:hi] <= pos.target_price
        touched = stop | target
        if not touched.any():
            self.undecided += 1
            return None
        k = int(touched.argmax())
        if target[k] and not stop[k]:
            self.target_first += 1
            return TARGET
        self.stop_first += 1
        return STOP


def _touches_both(pos: Position, high: float, low: float) -> bool:
    """True when one candle's range reaches both the stop and the target."""
    if pos.side == Direction.LONG:
        return low <= pos.stop_price and high >= pos.target_price
    return high >= pos.stop_price and low <= pos.target_price


def _exit_at(pos: Position, bars: _Bars, j: int, rules: TradeRules,
             detail: _Detail | None = None) -> Trade:
    """The trade closed by bar j's stop or target (the rules decide which and at what price)."""
    o, h, lo = float(bars.o[j]), float(bars.h[j]), float(bars.l[j])
    if detail is not None and _touches_both(pos, h, lo) and \
            detail.first_hit(pos, int(bars.ts[j]), bars.close_time(j)) == TARGET:
        return close_position(pos, bars.close_time(j), pos.target_price, TARGET,
                              rules.fee_rate)
    hit = exit_on_candle(pos, o, h, lo, rules.slippage_bps)
    if hit is None:  # _first_touch found a touch on this bar: no exit here is a bug
        raise RuntimeError(f"bar {j} touches the position's stop or target, but gives no exit")
    return close_position(pos, bars.close_time(j), hit[1], hit[0], rules.fee_rate)


def simulate(candles: pd.DataFrame, events: Sequence[Event], rules: TradeRules,
             timeframe_ms: int, symbol: str = "", timeframe: str = "",
             detail: pd.DataFrame | None = None) -> Run:
    """Trades from `events` (detector order) over `candles` under `rules`; `detail`: shorter
    candles of the same market ordering a stop and a target touched by one candle."""
    bars = _Bars(candles, timeframe_ms)
    fine = _Detail(detail) if detail is not None else None
    run = Run(symbol, timeframe, [], [], bars.n, int(bars.ts[0]) if bars.n else 0,
              bars.close_time(bars.n - 1) if bars.n else 0)
    if bars.n == 0:
        return run
    at = np.searchsorted(bars.ts, np.fromiter((e.break_time for e in events), np.int64,
                                              len(events))).tolist()
    trade_on, opposite = rules.trade_on, rules.on_opposite
    pos: Position | None = None
    scanned = 0  # bars before this index were checked for the open position's exit
    trades, openers = run.trades, run.events
    for e, b in zip(events, at, strict=True):
        if e.kind not in trade_on:
            continue  # changes nothing; the open position's exit is found at the next signal
        if pos is not None:
            j = _first_touch(pos, bars, scanned, b + 1)
            if j >= 0:
                trades.append(_exit_at(pos, bars, j, rules, fine))
                pos = None
            else:
                scanned = b + 1
        run.signals += 1
        new = open_position(e.direction, e.close, e.extreme, bars.close_time(b), rules)
        if new is None:
            run.skipped += 1
            continue  # a skipped signal neither reverses nor closes
        action = signal_action(pos.side if pos is not None else None, new.side, opposite)
        if action == "ignore":
            continue
        if pos is not None:
            trades.append(close_position(pos, new.entry_time, new.entry_price,
                                         REVERSE if action == "reverse" else CLOSE,
                                         rules.fee_rate))
            pos = None
            if action == "close":
                continue
        # Every position closes exactly once, in opening order: run.events[i] opened trades[i].
        pos, scanned = new, b + 1
        openers.append(e)
    if pos is not None:
        j = _first_touch(pos, bars, scanned, bars.n)
        last = bars.n - 1
        trades.append(_exit_at(pos, bars, j, rules, fine) if j >= 0 else
                      close_position(pos, bars.close_time(last), float(bars.c[last]), END,
                                     rules.fee_rate))
    if fine is not None:
        run.extra.update(detail_target_first=fine.target_first, detail_stop_first=fine.stop_first,
                         detail_undecided=fine.undecided)
    return run
