"""The report's page: the summary, breakdowns, interactive candle charts and settings, readable
on a phone, opening from file:// with no network (the chart library is inlined)."""
from __future__ import annotations

import html
import json
import math
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path

from .tradesio import iso_utc

VENDOR = Path(__file__).parent / "vendor" / "lightweight-charts"
LIBRARY = VENDOR / "lightweight-charts.standalone.production.js"
LIBRARY_VERSION = "5.3.0"
MAX_CHARTS = 12  # series charted, most trades first; the breakdowns list them all
FOLDED_ROWS = 31  # a longer breakdown opens folded
SHOWN_BARS = 300  # a chart opens on its last this many candles; zoom out for the rest

# (key, label, kind): kind formats the value (see _value).
SUMMARY_ROWS = (
    ("start_ms", "Start", "time"), ("end_ms", "End", "time"),
    ("duration_ms", "Duration", "duration"), ("days", "Days with data", "int"),
    ("exposure_pct", "Exposure time [%]", "pct"),
    ("starting_balance", "Equity start [USDT]", "money"),
    ("final_equity", "Equity final [USDT]", "money"),
    ("peak_equity", "Equity peak [USDT]", "money"), ("return_pct", "Return [%]", "pct"),
    ("buy_hold_pct", "Buy & hold return [%]", "pct"),
    ("annual_return_pct", "Return (ann.) [%]", "pct"),
    ("annual_volatility_pct", "Volatility (ann.) [%]", "pct"),
    ("sharpe", "Sharpe ratio", "ratio"), ("sortino", "Sortino ratio", "ratio"),
    ("calmar", "Calmar ratio", "ratio"), ("max_drawdown_pct", "Max. drawdown [%]", "pct"),
    ("max_drawdown_duration_ms", "Max. drawdown duration", "duration"),
    ("trades", "# Trades", "int"), ("win_rate_pct", "Win rate [%]", "pct"),
    ("best_trade_pct", "Best trade [%]", "pct"), ("worst_trade_pct", "Worst trade [%]", "pct"),
    ("avg_trade_pct", "Avg. trade [%]", "pct"),
    ("max_trade_duration_ms", "Max. trade duration", "duration"),
    ("avg_trade_duration_ms", "Avg. trade duration", "duration"),
    ("profit_factor", "Profit factor", "ratio"), ("expectancy", "Expectancy [USDT]", "money"),
    ("expectancy_pct", "Expectancy [%]", "pct"), ("sqn", "SQN", "ratio"),
    ("fees", "Fees [USDT]", "money"))
BREAKDOWN_COLUMNS = (("trades", "Trades", "int", ""), ("wdl", "W/D/L", "text", "opt"),
                     ("win_rate_pct", "Win %", "pct", ""),
                     ("avg_trade_pct", "Avg %", "pct", "opt"),
                     ("net_pnl", "Net USDT", "money", ""), ("total_pct", "Total %", "pct", ""),
                     ("avg_duration_ms", "Avg held", "duration", "opt"))
BREAKDOWNS = (("pair", "Per pair"), ("exit_reason", "Per exit reason"),
              ("side", "Long vs short"), ("day", "Per day (UTC, by exit)"),
              ("week", "Per week (UTC, from Monday, by exit)"))
TRADE_COLUMNS = (("side", "Side", "text", ""), ("entry_time", "Entry", "time", "opt"),
                 ("entry_price", "Entry price", "price", "opt"),
                 ("stop_price", "Stop", "price", "opt"),
                 ("target_price", "Target", "price", "opt"), ("exit_time", "Exit", "time", ""),
                 ("exit_price", "Exit price", "price", "opt"),
                 ("exit_reason", "Reason", "text", ""), ("fees", "Fees", "money", "opt"),
                 ("pnl", "PnL USDT", "money", ""))

STYLE = """*{box-sizing:border-box}body{font-family:system-ui,sans-serif;margin:0 auto;
padding:12px;max-width:1200px;color:#222}h1{font-size:1.4em}h2{font-size:1.15em;margin-top:1.6em}
h3{font-size:1em}
table{border-collapse:collapse;font-size:13px;margin:.4em 0}td,th{border:1px solid #ddd;
padding:3px 6px;text-align:right;white-space:nowrap}th{background:#f3f3f3}
td:first-child,th:first-child{text-align:left}table.kv{width:100%;max-width:520px}
table.kv td{white-space:normal;overflow-wrap:anywhere}.neg{color:#c62828}.pos{color:#2e7d32}
.note{color:#666;font-size:12px}img{max-width:100%;height:auto}.wide{overflow-x:auto;
max-width:100%}.chart{width:100%;height:400px;margin:.4em 0 1.2em}.grid{display:flex;
align-items:flex-start;flex-wrap:wrap;gap:0 24px}
@media (max-width:640px){body{padding:8px}.opt{display:none}.chart{height:300px}
td,th{padding:3px 4px;font-size:12px}.wide td,.wide th{padding:2px 3px;font-size:11px}}"""

CHART_JS = """(function(){
const LC=window.LightweightCharts;
const all=JSON.parse(document.getElementById('chart-data').textContent);
const base={autoSize:true,layout:{background:{color:'#ffffff'},textColor:'#222'},
 timeScale:{timeVisible:true,secondsVisible:false},
 grid:{vertLines:{color:'#f0f0f0'},horzLines:{color:'#f0f0f0'}}};
function points(list){return list.map(function(p){
 return p.length>1?{time:p[0],value:p[1]}:{time:p[0]};});}
const eq=document.getElementById('equity');
if(eq&&all.equity){
 const chart=LC.createChart(eq,base);
 const money={type:'price',precision:2,minMove:0.01};
 chart.addSeries(LC.LineSeries,{color:'#1e88e5',lineWidth:2,priceFormat:money,
  title:'equity'}).setData(points(all.equity.equity));
 chart.addSeries(LC.AreaSeries,{lineColor:'#ef5350',topColor:'rgba(239,83,80,0.1)',
  bottomColor:'rgba(239,83,80,0.4)',lineWidth:1,priceFormat:money,title:'drawdown %',
  invertFilledArea:true},1).setData(points(all.equity.drawdown));
 chart.timeScale().fitContent();
 eq.dataset.ready='1';
}
all.series.forEach(function(d,i){
 const el=document.getElementById('chart-'+i);
 const chart=LC.createChart(el,base);
 const fmt={type:'price',precision:d.precision,minMove:Math.pow(10,-d.precision)};
 const candles=chart.addSeries(LC.CandlestickSeries,{upColor:'#26a69a',downColor:'#ef5350',
  borderVisible:false,wickUpColor:'#26a69a',wickDownColor:'#ef5350',priceFormat:fmt});
 candles.setData(d.candles.map(function(c){
  return {time:c[0],open:c[1],high:c[2],low:c[3],close:c[4]};}));
 LC.createSeriesMarkers(candles,d.markers);
 function line(list,color){
  chart.addSeries(LC.LineSeries,{color:color,lineWidth:1,lineStyle:2,priceLineVisible:false,
   lastValueVisible:false,crosshairMarkerVisible:false,priceFormat:fmt}).setData(points(list));
 }
 d.stops.forEach(function(p){line(p,'#ef5350');});
 d.targets.forEach(function(p){line(p,'#26a69a');});
 const n=d.candles.length;
 if(n>SHOWN_BARS){chart.timeScale().setVisibleLogicalRange({from:n-SHOWN_BARS,to:n+2});}
 else{chart.timeScale().fitContent();}
 el.dataset.ready='1';
});
})();"""


@lru_cache(maxsize=1)
def library() -> str:
    """The vendored lightweight-charts build, checked safe to inline in a <script>."""
    text = LIBRARY.read_text(encoding="utf-8")
    if "</script" in text.lower():
        raise ValueError(f"{LIBRARY} contains '</script' and cannot be inlined")
    return text


def short_time(ms: int) -> str:
    """'2026-02-01 00:33' (seconds shown only when not zero), UTC."""
    text = iso_utc(ms).replace("T", " ").rstrip("Z")
    return text[:16] if text.endswith(":00") else text


def duration(ms: int) -> str:
    """90_061_000 -> '1d 01:01:01'; under a day '01:01:01'."""
    days, rest = divmod(int(ms) // 1000, 86_400)
    clock = f"{rest // 3600:02d}:{rest % 3600 // 60:02d}:{rest % 60:02d}"
    return f"{days:,}d {clock}" if days else clock


def shown_value(v, kind: str) -> str:
    """A cell's text by kind; None as a dash."""
    if v is None:
        return "—"
    if kind == "time":
        return short_time(int(v))
    if kind == "duration":
        return duration(v)
    if kind == "int":
        return f"{int(v):,}"
    if kind in ("money", "pct", "ratio"):
        return f"{v:,.2f}"
    if kind == "price":
        return f"{v:.8g}"
    return str(v)


def _td(v, kind: str, css: str = "") -> str:
    sign = "neg" if kind in ("money", "pct") and isinstance(v, float) and v < 0 else ""
    classes = " ".join(c for c in (css, sign) if c)
    attr = f' class="{classes}"' if classes else ""
    return f"<td{attr}>{html.escape(shown_value(v, kind))}</td>"


def summary_table(stats: dict, fees: float) -> str:
    """The backtesting.py summary as two name/value tables (period and equity; trades) side by
    side where they fit, with the notes under them."""
    values = {**stats, "fees": fees}
    split = next(i for i, row in enumerate(SUMMARY_ROWS) if row[0] == "trades")

    def table(rows: Sequence[tuple[str, str, str]], name: str) -> str:
        cells = "".join(f"<tr><td>{html.escape(label)}</td>{_td(values.get(key), kind)}</tr>"
                        for key, label, kind in rows)
        return f'<table class="kv money" id="{name}">{cells}</table>'

    notes = [stats["ratios_note"]] if stats.get("ratios_note") else []
    if stats.get("ruined_ms") is not None:
        notes.append(f"Equity reached zero at {short_time(stats['ruined_ms'])} UTC: the starting "
                     "balance is too small for these trades (--starting-balance); the trades "
                     "after it still count")
    note = "".join(f'<p class="note">{html.escape(n)}.</p>' for n in notes)
    return ('<div class="grid">' + table(SUMMARY_ROWS[:split], "summary") +
            table(SUMMARY_ROWS[split:], "summary-trades") + f"</div>{note}")


def columns_table(rows: Sequence[dict], first: str, columns: Sequence[tuple], css: str = ""
                  ) -> str:
    """Rows under a header; columns marked 'opt' are hidden on a phone."""
    def th(label: str, c: str) -> str:
        return f'<th class="{c}">{html.escape(label)}</th>' if c else \
            f"<th>{html.escape(label)}</th>"
    head = f"<th>{html.escape(first)}</th>" + "".join(th(label, c) for _, label, _, c in columns)
    body = "".join("<tr>" + f"<td>{html.escape(str(r['key']))}</td>" + "".join(
        _td(r.get(k), kind, c) for k, _, kind, c in columns) + "</tr>" for r in rows)
    return f'<table class="{css}"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


def breakdown_tables(tables: dict[str, list[dict]]) -> str:
    """freqtrade's breakdowns, each as a money table."""
    out = []
    for name, title in BREAKDOWNS:
        rows = [{**r, "wdl": f"{r['wins']}/{r['draws']}/{r['losses']}"} for r in tables[name]]
        first = {"pair": "Pair", "exit_reason": "Exit reason", "side": "Side", "day": "Day",
                 "week": "Week of"}[name]
        body = columns_table(rows, first, BREAKDOWN_COLUMNS, "money") if rows else \
            '<p class="note">No trades.</p>'
        if len(rows) > FOLDED_ROWS:
            body = f"<details><summary>{len(rows):,} rows</summary>{body}</details>"
        out.append(f'<section id="by-{name}"><h3>{html.escape(title)}</h3>{body}</section>')
    return '<div class="grid">' + "".join(out) + "</div>"


def trades_table(trades: Sequence[dict]) -> str:
    """The trade list; on a phone only pair, side, exit, reason and pnl stay."""
    rows = [{**t, "key": f"{t['symbol']} {t['timeframe']}"} for t in trades]
    return '<div class="wide">' + columns_table(rows, "Pair", TRADE_COLUMNS, "money") + \
        "</div>"


def settings_table(settings: dict) -> str:
    """The flags that shaped the result, one per row."""
    def shown(v) -> str:
        return ", ".join(map(str, v)) if isinstance(v, list | tuple) else \
            "—" if v is None else str(v)
    rows = "".join(f"<tr><td>{html.escape(str(k))}</td><td>{html.escape(shown(v))}</td></tr>"
                   for k, v in settings.items())
    return f'<table class="kv" id="settings">{rows}</table>'


def precision(candles: Sequence[list]) -> int:
    """Price decimals that show a few significant digits of the smallest price (2..10)."""
    low = min((c[3] for c in candles if c[3] > 0), default=1.0)
    return max(2, min(10, 4 - math.floor(math.log10(low))))


def equity_section() -> str:
    """Where the equity chart is drawn (its data travels with the candle charts')."""
    return ('<div class="chart" id="equity"></div><p class="note">Realised equity (blue) and '
            "its fall from the running peak in percent (red, lower pane), at each exit; "
            "equity.png beside this page draws the cumulative pnl and its drawdown in USDT."
            "</p>")


def charts_section(charts: Sequence[dict], equity: dict) -> str:
    """A div per candle chart, the data as JSON, the inlined library and the code that draws
    them and the equity chart."""
    parts = []
    for i, d in enumerate(charts):
        notes = []
        if d["per_candle"] > 1:
            notes.append(f"each candle merges {d['per_candle']:,} of the series'")
        if d["trades_drawn"] < d["trades"]:
            notes.append(f"the last {d['trades_drawn']:,} of {d['trades']:,} trades drawn")
        note = f' <span class="note">({"; ".join(notes)})</span>' if notes else ""
        parts.append(f"<h3>{html.escape(d['title'])}{note}</h3>"
                     f'<div class="chart" id="chart-{i}"></div>')
    data = json.dumps({"series": [{**d, "precision": precision(d["candles"])} for d in charts],
                       "equity": equity}, separators=(",", ":")).replace("</", "<\\/")
    legend = ('<p class="note">Arrows: entries at the break candle\'s close (L long, S short); '
              "dots: exits (green a win, red a loss) with the reason; dashed lines: each "
              "position's stop (red) and target (green) while it was open. Drag to pan, scroll "
              "or pinch to zoom.</p>")
    return (legend + "".join(parts) +
            f'<script type="application/json" id="chart-data">{data}</script>'
            f"<script>{library()}</script>"
            f"<script>{CHART_JS.replace('SHOWN_BARS', str(SHOWN_BARS))}</script>")


ATTRIBUTION = ('<p class="note">Charts: TradingView Lightweight Charts™ '
               f"{LIBRARY_VERSION}, Copyright (c) TradingView, Inc. (www.tradingview.com), "
               "Apache License 2.0.</p>")


def page(title: str, sections: Sequence[tuple[str, str]], charts: bool = False) -> str:
    """The whole document: (heading, html) sections under one title; `charts` credits the
    chart library."""
    body = "".join(f"<h2>{html.escape(h)}</h2>{s}" if h else s for h, s in sections)
    return (f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>{html.escape(title)}</title><style>{STYLE}</style></head><body>"
            f"<h1>{html.escape(title)}</h1>{body}{ATTRIBUTION if charts else ''}</body></html>")
