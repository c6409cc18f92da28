"""The outbox payload of a signal alert: everything the text and the chart need, JSON-ready."""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd

from choch import Event, pivots

CHART_CANDLES = 120
PAYLOAD_VERSION = 1
MODES = ("paper", "demo", "live")  # the words of app.banner.trading_mode


def _event_dict(event: Event | Mapping[str, Any]) -> dict[str, Any]:
    """The event's spec fields as a plain dict (accepts an Event or a dict of its fields)."""
    data = event.to_dict() if isinstance(event, Event) else dict(event)
    fields = ("kind", "direction", "level", "pivot_time", "break_time", "confirmed_at",
              "extreme", "close")
    missing = [f for f in fields if f not in data]
    if missing:
        raise ValueError(f"event is missing {', '.join(missing)}")
    return {f: data[f] for f in fields}


def signal_payload(symbol: str, timeframe: str, event: Event | Mapping[str, Any], mode: str,
                   params: Any, candles_df: pd.DataFrame, left: int, right: int, *,
                   shown: str | None = None, chart: str | None = None) -> dict:
    """The 'signal' outbox payload: the event, the mode and the last ~120 candles up to the break.

    Candles after the break bar are left out, so the chart shows what was knowable when the
    signal fired (no repainting), even when the daemon found it while catching up. `shown` is
    the symbol as the venue's contract reads ('BTC/USDT (BTCUSD perpetual)'), `chart` the
    TradingView symbol of that contract ('OKX:BTCUSDT.P').
    """
    ev = _event_dict(event)
    df = candles_df[candles_df["timestamp"] <= ev["break_time"]]
    # Pivots need `left` bars before them and `right` after: compute on a slightly longer tail,
    # then keep the ones inside the window sent.
    wide = df.tail(CHART_CANDLES + left).reset_index(drop=True)
    offset = len(wide) - min(len(wide), CHART_CANDLES)
    highs, lows = pivots(wide, left, right) if len(wide) else ([], [])
    window = wide.iloc[offset:]
    rows = [[int(t), float(o), float(h), float(lo), float(c)] for t, o, h, lo, c in zip(
        window["timestamp"], window["open"], window["high"], window["low"], window["close"],
        strict=True)]
    return {
        "v": PAYLOAD_VERSION,
        "symbol": symbol,
        "timeframe": timeframe,
        "mode": mode,
        "params": params if isinstance(params, (str, int, float, type(None))) else dict(params),
        "left": int(left),
        "right": int(right),
        "event": ev,
        "candles": rows,  # [open time ms, open, high, low, close], oldest first
        "pivot_highs": [p - offset for p in highs if p >= offset],
        "pivot_lows": [p - offset for p in lows if p >= offset],
        **({"shown": shown} if shown and shown != symbol else {}),
        **({"chart": chart} if chart else {}),
    }
