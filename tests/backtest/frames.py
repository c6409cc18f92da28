"""Tiny hand-made candle frames and events for the backtest tests."""
from __future__ import annotations

import pandas as pd

from backtest.simulate import Run, simulate
from choch import Event
from trading.rules import TradeRules

T0 = 1_769_904_000_000  # 2026-02-01 00:00 UTC
TF = 60_000


def frame(*rows: tuple[float, float, float, float], times: list[int] | None = None
          ) -> pd.DataFrame:
    """Candles (open, high, low, close) one minute apart from T0 (or at `times`)."""
    ts = times if times is not None else [T0 + i * TF for i in range(len(rows))]
    return pd.DataFrame({"timestamp": ts, "open": [r[0] for r in rows],
                         "high": [r[1] for r in rows], "low": [r[2] for r in rows],
                         "close": [r[3] for r in rows], "volume": [1.0] * len(rows)})


def event(bar: int, direction: str, close: float, extreme: float, kind: str = "CHOCH",
          times: list[int] | None = None) -> Event:
    """An event breaking on candle `bar` (its close and extreme as given)."""
    t = times[bar] if times is not None else T0 + bar * TF
    return Event(kind, direction, close, T0, t, t + TF, extreme, close)


def close_time(bar: int) -> int:
    return T0 + bar * TF + TF


def run(candles: pd.DataFrame, events: list[Event], **rules) -> Run:
    """simulate() with TradeRules defaults except `rules`, fees 0 unless given."""
    rules.setdefault("fee_rate", 0.0)
    return simulate(candles, events, TradeRules(**rules), TF, "TESTUSDT", "1m")
