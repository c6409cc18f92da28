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

from .simulate import Run
from .tradesio import iso_utc, write_trades

SHOWN_TRADES = 1000  # the HTML lists this many; trades.csv next to it has them all
CHARTED_TRADES = 4
MARGIN_BARS = 15  # candles drawn before the pivot and after the exit
MAX_CHART_BARS = 240


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


def _cell(v) -> str:
    if isinstance(v, float):
        return f"{v:,.4f}" if abs(v) < 1e6 else f"{v:,.0f}"
    return html.escape("—" if v is None else str(v))


def _table(rows: list[dict], keys: Sequence[str]) -> str:
    head = "".join(f"<th>{html.escape(k)}</th>" for k in keys)
    body = "".join("<tr>" + "".join(f"<td>{_cell(r.get(k))}</td>" for k in keys) + "</tr>"
                   for r in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _trade_dict(run: Run, t: Trade) -> dict:
    return {"symbol": run.symbol, "timeframe": run.timeframe, "side": t.side,
            "entry_time": iso_utc(t.entry_time), "entry_price": t.entry_price,
            "stop_price": t.stop_price, "target_price": t.target_price,
            "exit_time": iso_utc(t.exit_time), "exit_price": t.exit_price,
            "exit_reason": t.exit_reason, "fees": t.fees, "pnl": t.pnl}


def _img(data: bytes, alt: str) -> str:
    return (f'<img alt="{html.escape(alt)}" '
            f'src="data:image/png;base64,{base64.b64encode(data).decode()}">')


STYLE = """body{font-family:system-ui,sans-serif;margin:2em;color:#222}
table{border-collapse:collapse;font-size:13px}td,th{border:1px solid #ccc;padding:2px 6px;
text-align:right}th{background:#f3f3f3}img{max-width:100%}"""

SUMMARY_KEYS = ("trades", "wins", "losses", "win_rate", "net_pnl", "fees", "profit_factor",
                "max_drawdown", "expectancy", "sharpe", "sortino", "exposure")
TRADE_KEYS = ("symbol", "timeframe", "side", "entry_time", "entry_price", "stop_price",
              "target_price", "exit_time", "exit_price", "exit_reason", "fees", "pnl")


def write_report(folder: str | Path, runs: Sequence[Run], candles: Sequence[pd.DataFrame],
                 summary: dict, settings: dict, left: int, right: int,
                 timeframe_ms: Sequence[int]) -> Path:
    """Write index.html, equity.png, trade-*.png, trades.csv and summary.json into `folder`."""
    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
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
    (out / "summary.json").write_text(json.dumps({**summary, "settings": settings}, indent=2))
    trades = [_trade_dict(r, t) for r in runs for t in r.trades]
    trades.sort(key=lambda d: d["entry_time"])
    more = (f"<p>The first {SHOWN_TRADES:,} of {len(trades):,} trades; trades.csv has them "
            "all.</p>" if len(trades) > SHOWN_TRADES else "")
    page = f"""<!DOCTYPE html><html><head><meta charset="utf-8"><title>Backtest</title>
<style>{STYLE}</style></head><body><h1>Backtest</h1>
<p>{html.escape(json.dumps(settings))}</p>
<h2>Summary</h2>{_table([summary], SUMMARY_KEYS)}
<h2>Equity and drawdown</h2>{_img(equity, "equity and drawdown")}
<h2>Per symbol and timeframe</h2>{_table(summary["by_symbol"], ("symbol", "timeframe", "candles")
                                         + SUMMARY_KEYS)}
<h2>Some trades on their candles</h2>
{"".join(f"<h3>{html.escape(title)}</h3>{_img(png, title)}" for title, png in charts)}
<h2>Trades</h2>{more}{_table(trades[:SHOWN_TRADES], TRADE_KEYS)}
</body></html>"""
    (out / "index.html").write_text(page, encoding="utf-8")
    return out / "index.html"
