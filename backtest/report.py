"""A self-contained HTML report (every image inline as a data URI, no network) plus its PNGs."""
from __future__ import annotations

import base64
import html
import io
import json
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

import choch
from alerts.chart import render_chart
from trading.rules import Trade

from . import stats
from .breakdowns import breakdowns
from .chartdata import chart_data, equity_data
from .report_html import (
    MAX_CHARTS,
    breakdown_tables,
    charts_section,
    equity_section,
    page,
    settings_table,
    summary_table,
    trades_table,
)
from .simulate import Run
from .tradesio import iso_utc, write_trades

SHOWN_TRADES = 1000  # the HTML lists this many; trades.csv next to it has them all
CHARTED_TRADES = 4
MARGIN_BARS = 15  # candles drawn before the pivot and after the exit
MAX_CHART_BARS = 240
DEFAULT_BALANCE = 1000.0  # USDT, --starting-balance


def _png(fig: Figure) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100)
    return buf.getvalue()


def equity_png(runs: Sequence[Run]) -> bytes:
    """Cumulative net pnl and its drawdown from the running peak (starting at 0), by exit time."""
    trades = sorted((t for r in runs for t in r.trades), key=lambda t: t.exit_time)
    when = pd.to_datetime([runs[0].start_ms if runs else 0] + [t.exit_time for t in trades],
                          unit="ms", utc=True)
    equity = np.concatenate([[0.0], np.cumsum([t.pnl for t in trades])])
    drawdown = equity - np.maximum.accumulate(np.maximum(equity, 0.0))
    fig = Figure(figsize=(10, 6), dpi=100)
    FigureCanvasAgg(fig)
    top, bottom = fig.subplots(2, 1, sharex=True, gridspec_kw={"height_ratios": (2, 1)})
    top.step(when, equity, where="post", color="#1e88e5", linewidth=1)
    top.set_ylabel("cumulative net pnl (USDT)")
    top.grid(True, linewidth=0.3)
    bottom.fill_between(when, drawdown, 0, step="post", color="#ef5350", alpha=0.5)
    bottom.set_ylabel("drawdown (USDT)")
    bottom.grid(True, linewidth=0.3)
    fig.autofmt_xdate()
    return _png(fig)


def _picked(run: Run) -> list[int]:
    """A few trades worth looking at: the first two, the best and the worst."""
    if not run.trades:
        return []
    pnls = [t.pnl for t in run.trades]
    order = [0, 1, int(np.argmax(pnls)), int(np.argmin(pnls))]
    return list(dict.fromkeys(i for i in order if i < len(run.trades)))[:CHARTED_TRADES]


def trade_png(run: Run, candles: pd.DataFrame, i: int, left: int, right: int,
              timeframe_ms: int) -> bytes:
    """The alert chart of trade i's signal, with its stop and target, from pivot to exit."""
    t, e = run.trades[i], run.events[i]
    ts = candles["timestamp"].to_numpy()
    first = max(int(np.searchsorted(ts, e.pivot_time)) - MARGIN_BARS, 0)
    last = int(np.searchsorted(ts, t.exit_time - timeframe_ms)) + MARGIN_BARS
    last = min(last, first + MAX_CHART_BARS, len(ts) - 1)
    window = candles.iloc[first:last + 1]
    highs, lows = choch.pivots(window, left, right) if len(window) else ([], [])
    payload = {"symbol": run.symbol, "timeframe": run.timeframe, "event": e.to_dict(),
               "candles": window[["timestamp", "open", "high", "low", "close"]].to_numpy(),
               "pivot_highs": highs, "pivot_lows": lows}
    return render_chart(payload, levels={"stop": shown_price(t.stop_price),
                                         "target": shown_price(t.target_price)})


def shown_price(value: float) -> float:
    """A computed price as a chart label shows it: 12 significant digits drop the noise of
    entry + rr x risk (59.819999999999986 -> 59.82); the CSV keeps the exact value."""
    return float(f"{value:.12g}")


def _trade_dict(run: Run, t: Trade) -> dict:
    return {"symbol": run.symbol, "timeframe": run.timeframe, "side": t.side,
            "entry_time": t.entry_time, "entry_price": t.entry_price,
            "stop_price": t.stop_price, "target_price": t.target_price,
            "exit_time": t.exit_time, "exit_price": t.exit_price,
            "exit_reason": t.exit_reason, "fees": t.fees, "pnl": t.pnl}


def _img(data: bytes, alt: str) -> str:
    return (f'<img alt="{html.escape(alt)}" '
            f'src="data:image/png;base64,{base64.b64encode(data).decode()}">')


def _period(runs: Sequence[Run]) -> str:
    """'LTCUSDT 1m, 2026-02-01 00:00 to 2026-02-04 00:00 UTC'."""
    names = ", ".join(dict.fromkeys(f"{r.symbol} {r.timeframe}" for r in runs))
    spanned = [r for r in runs if r.end_ms > r.start_ms]
    if not spanned:
        return names
    start = iso_utc(min(r.start_ms for r in spanned)).replace("T", " ")[:16]
    end = iso_utc(max(r.end_ms for r in spanned)).replace("T", " ")[:16]
    return f"{names}; {start} to {end} UTC"


def write_report(folder: str | Path, runs: Sequence[Run], candles: Sequence[pd.DataFrame],
                 summary: dict, settings: dict, left: int, right: int,
                 timeframe_ms: Sequence[int], *, starting_balance: float = DEFAULT_BALANCE,
                 leverage: float | None = None) -> Path:
    """Write index.html, equity.png, trade-*.png, trades.csv and summary.json into `folder`."""
    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    lev = float(leverage or settings.get("leverage") or 1.0)
    figures = stats.summary(runs, starting_balance, lev, stats.buy_and_hold_pct(candles))
    tables = breakdowns(runs, starting_balance, lev)
    equity = equity_png(runs)
    (out / "equity.png").write_bytes(equity)
    charts = []
    for run, frame, tf in zip(runs, candles, timeframe_ms, strict=True):
        for i in _picked(run):
            png = trade_png(run, frame, i, left, right, tf)
            name = f"trade-{run.symbol}-{run.timeframe}-{i + 1}.png"
            (out / name).write_bytes(png)
            charts.append((f"{run.symbol} {run.timeframe} trade #{i + 1} "
                           f"({run.trades[i].exit_reason}, pnl {run.trades[i].pnl:,.4f})", png))
    with (out / "trades.csv").open("w", newline="") as f:
        write_trades(runs, f)
    (out / "summary.json").write_text(json.dumps(
        {**summary, "stats": figures, "breakdowns": tables, "settings": settings}, indent=2))
    trades = [_trade_dict(r, t) for r in runs for t in r.trades]
    trades.sort(key=lambda d: d["entry_time"])
    more = (f"<p>The first {SHOWN_TRADES:,} of {len(trades):,} trades; trades.csv has them "
            "all.</p>" if len(trades) > SHOWN_TRADES else "")
    charted = sorted(range(len(runs)), key=lambda k: -len(runs[k].trades))[:MAX_CHARTS]
    interactive = [chart_data(runs[k], candles[k]) for k in sorted(charted)]
    left_out = (f'<p class="note">The {MAX_CHARTS} series with the most trades are charted; '
                "the breakdowns cover all.</p>" if len(runs) > MAX_CHARTS else "")
    pngs = "".join(f"<h3>{html.escape(title)}</h3>{_img(png, title)}" for title, png in charts)
    text = page("Backtest", [
        ("", f"<p>{html.escape(_period(runs))}</p>"),
        ("Summary", summary_table(figures, summary.get("fees", 0.0))),
        ("Equity and drawdown", equity_section()),
        ("Candles, entries and exits", left_out + charts_section(
            interactive, equity_data(stats.in_exit_order(runs), starting_balance,
                                     figures["start_ms"]))),
        ("Breakdowns", breakdown_tables(tables)),
        ("Some trades with their pivots", pngs),
        ("Trades", more + trades_table(trades[:SHOWN_TRADES])),
        ("Settings", settings_table({**settings, "starting_balance": starting_balance}))],
        charts=True)
    (out / "index.html").write_text(text, encoding="utf-8")
    return out / "index.html"
