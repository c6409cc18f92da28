"""Tiny hand-made candle frames and events for the backtest tests."""
from __future__ import annotations

import math

import pandas as pd

from backtest.columnar import simulate_columns
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
    """simulate() with TradeRules defaults except `rules`, fees 0 unless given; the compiled
    path (backtest.columnar) must give the same run."""
    rules.setdefault("fee_rate", 0.0)
    return both(candles, events, TradeRules(**rules), TF, "TESTUSDT", "1m")


def both(candles: pd.DataFrame, events: list[Event], rules: TradeRules, tf: int,
         symbol: str = "", timeframe: str = "", detail: pd.DataFrame | None = None) -> Run:
    """The reference run, after checking that the compiled path gives the same one."""
    ref = simulate(candles, events, rules, tf, symbol, timeframe, detail)
    assert_same(ref, simulate_columns(candles, events, rules, tf, symbol, timeframe, detail))
    return ref


def assert_same(ref: Run, got: Run) -> None:
    """Equal trades (prices to 1e-9 relative), openers, counts and detail figures."""
    assert len(got.trades) == len(ref.trades)
    for i, (a, b) in enumerate(zip(got.trades, ref.trades, strict=True)):
        for name in a.__dataclass_fields__:
            x, y = getattr(a, name), getattr(b, name)
            same = math.isclose(x, y, rel_tol=1e-9, abs_tol=1e-9) if isinstance(y, float) \
                else x == y
            assert same, f"trade {i} {name}: {x!r} != {y!r}"
    assert got.events == ref.events
    assert (got.signals, got.skipped, got.candles, got.start_ms, got.end_ms, got.extra) == \
        (ref.signals, ref.skipped, ref.candles, ref.start_ms, ref.end_ms, ref.extra)
