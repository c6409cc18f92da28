"""Candlestick chart of a signal (matplotlib Agg, no pyplot): pivots, broken level, break candle.

Built on a bare Figure with its own Agg canvas, so renders in worker threads
(asyncio.to_thread) share no global pyplot state.
"""
from __future__ import annotations

import io
from collections.abc import Mapping
from typing import Any

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.collections import LineCollection, PolyCollection
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from .messages import price, utc

UP, DOWN = "#26a69a", "#ef5350"
SIZE_IN, DPI = (9.0, 5.0), 100  # 900 x 500 px: readable on a phone, small to upload


def render_chart(payload: Mapping[str, Any],
                 levels: Mapping[str, float] | None = None) -> bytes:
    """PNG bytes of the signal's chart, from a 'signal' outbox payload; `levels` adds labelled
    horizontal lines (e.g. a trade's stop and target)."""
    rows = np.asarray(payload["candles"], dtype=np.float64)
    if rows.ndim != 2 or rows.shape[0] == 0 or rows.shape[1] < 5:
        raise ValueError("payload has no candles to draw")
    ev = payload["event"]
    ts, o, h, lo, c = rows[:, 0], rows[:, 1], rows[:, 2], rows[:, 3], rows[:, 4]
    n = len(ts)
    x = np.arange(n, dtype=np.float64)
    up = c >= o

    fig = Figure(figsize=SIZE_IN, dpi=DPI)
    FigureCanvasAgg(fig)
    ax = fig.add_axes((0.05, 0.08, 0.86, 0.8))
    colors = np.where(up, UP, DOWN)

    # Collections draw 120 candles in two artists: far faster than one bar/line per candle.
    wicks = np.stack([np.column_stack([x, lo]), np.column_stack([x, h])], axis=1)
    ax.add_collection(LineCollection(list(wicks), colors=colors, linewidths=0.8))
    half = 0.35
    bottom, top = np.minimum(o, c), np.maximum(o, c)
    # A doji (open == close) gets a hairline body so it stays visible.
    top = np.where(top - bottom > 0, top, bottom + (h.max() - lo.min()) * 1e-4)
    bodies = np.stack([np.column_stack([x - half, bottom]), np.column_stack([x - half, top]),
                       np.column_stack([x + half, top]), np.column_stack([x + half, bottom])],
                      axis=1)
    ax.add_collection(PolyCollection(list(bodies), facecolors=colors, edgecolors=colors,
                                     linewidths=0.5))

    span = float(h.max() - lo.min()) or abs(float(h.max())) * 0.01 or 1.0
    ph = [i for i in payload.get("pivot_highs", []) if 0 <= i < n]
    pl = [i for i in payload.get("pivot_lows", []) if 0 <= i < n]
    if ph:
        ax.scatter(x[ph], h[ph] + span * 0.02, marker="v", s=22, color="#455a64", zorder=3,
                   label="pivot high")
    if pl:
        ax.scatter(x[pl], lo[pl] - span * 0.02, marker="^", s=22, color="#455a64", zorder=3,
                   label="pivot low")

    brk = int(np.searchsorted(ts, ev["break_time"]))
    piv = int(np.searchsorted(ts, ev["pivot_time"]))
    level = float(ev["level"])
    bull = ev["direction"] == "bullish"
    start = piv if 0 <= piv < n and ts[piv] == ev["pivot_time"] else 0
    ax.hlines(level, start, min(brk, n - 1) + 0.5, colors="#1e88e5", linewidths=1.2,
              linestyles="--", zorder=2, label=f"broken level {price(level)}")
    if brk < n:
        ax.axvspan(brk - 0.5, brk + 0.5, color="#ffb300", alpha=0.25, zorder=0,
                   label="break candle")
    ax.axhline(float(ev["extreme"]), color="#8e24aa", linewidth=0.8, linestyle=":",
               label=f"stop ref {price(ev['extreme'])}")

    extra = [float(v) for v in (levels or {}).values()]
    # strict=False: a colour for each of up to three levels (the callers pass stop and target).
    for (name, value), color in zip((levels or {}).items(), ("#d32f2f", "#2e7d32", "#616161"),
                                    strict=False):
        ax.axhline(float(value), color=color, linewidth=0.9, linestyle="-.",
                   label=f"{name} {price(value)}")
    ax.set_xlim(-1, n + 1)
    ax.set_ylim(min(lo.min(), float(ev["extreme"]), *extra) - span * 0.06,
                max(h.max(), float(ev["extreme"]), *extra) + span * 0.06)
    ax.yaxis.tick_right()
    ticks = np.linspace(0, n - 1, num=min(6, n), dtype=int)
    ax.set_xticks(ticks, [utc(int(ts[i]))[5:16] for i in ticks], fontsize=8)
    ax.yaxis.set_major_locator(MaxNLocator(6))  # fewer ticks: text drawing is most of the time
    ax.tick_params(axis="y", labelsize=8)
    ax.grid(True, linewidth=0.3, alpha=0.5)
    kind = "CHoCH" if str(ev["kind"]).upper() == "CHOCH" else str(ev["kind"])
    shown = payload.get("shown") or payload["symbol"]
    fig.suptitle(f"{shown} {payload['timeframe']}  {kind} {ev['direction']}  "
                 f"close {price(ev['close'])}", fontsize=10, y=0.975, color=UP if bull else DOWN)
    # Above the plot, in one row: a legend inside would hide candles.
    ax.legend(loc="lower left", bbox_to_anchor=(0.0, 1.0), ncol=5, fontsize=7, frameon=False)

    buf = io.BytesIO()
    # zlib level 3 instead of 6: a few KiB larger, markedly faster to encode.
    fig.savefig(buf, format="png", dpi=DPI, pil_kwargs={"compress_level": 3})
    return buf.getvalue()
