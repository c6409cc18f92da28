"""The sweep's HTML report: a heatmap of the ranking metric over two grid keys (each cell the
best combination with those two values, as backtesting.py's heatmaps), and the ranked rows."""
from __future__ import annotations

import html
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from . import ranking
from .report_html import page, settings_table
from .sweep import GRID_KEYS, shown, write_csv

SHOWN_ROWS = 100  # the page lists this many; sweep.csv beside it has every row
METRIC_COLUMNS = ("trades", "win_rate", "net_pnl", "profit_factor", "max_drawdown", "sharpe")


def heatmap_keys(grid: dict[str, tuple], chosen: Sequence[str] | None) -> tuple[str, str] | None:
    """The two keys to map: `chosen`, else the first two with several values (None: fewer)."""
    if chosen:
        x, y = chosen
        return x, y
    varied = [k for k in GRID_KEYS if len(grid.get(k, ())) > 1]
    return (varied[0], varied[1]) if len(varied) >= 2 else None


def heatmap(rows: Sequence[dict[str, Any]], x: str, y: str, metric: str) -> dict[str, Any]:
    """{"xs", "ys": values shown in grid order, "cells": [y][x] -> the best row or None}."""
    ordered = sorted(rows, key=lambda r: r["order"])
    xs = list(dict.fromkeys(shown(x, r[x]) for r in ordered))
    ys = list(dict.fromkeys(shown(y, r[y]) for r in ordered))
    best: dict[tuple[str, str], dict[str, Any]] = {}
    for r in rows:
        at = (shown(x, r[x]), shown(y, r[y]))
        if at not in best or ranking.rank_key(r, metric) < ranking.rank_key(best[at], metric):
            best[at] = r
    return {"x": x, "y": y, "metric": metric, "xs": xs, "ys": ys,
            "cells": [[best.get((vx, vy)) for vx in xs] for vy in ys]}


def _number(v: Any) -> str:
    if v is None:
        return "—"
    if isinstance(v, float):
        return "∞" if math.isinf(v) else f"{v:,.2f}"
    return f"{v:,}" if isinstance(v, int) else html.escape(str(v))


def _colour(score: float, low: float, high: float) -> str:
    """Red (worst) to green (best) by the score's place between the extremes."""
    if not math.isfinite(score):
        return "#eeeeee"
    t = 1.0 if high == low else (high - score) / (high - low)
    return f"hsl({120 * t:.0f},65%,82%)"


def heatmap_table(h: dict[str, Any]) -> str:
    """The heatmap as a table: y down, x across, each cell the metric of its best row."""
    scores = [ranking.score(r, h["metric"]) for row in h["cells"] for r in row if r is not None]
    finite = [s for s in scores if math.isfinite(s)]
    low, high = (min(finite), max(finite)) if finite else (0.0, 0.0)
    head = (f"<th>{html.escape(h['y'])} \\ {html.escape(h['x'])}</th>" +
            "".join(f"<th>{html.escape(v)}</th>" for v in h["xs"]))
    body = []
    for vy, row in zip(h["ys"], h["cells"], strict=True):
        cells = []
        for r in row:
            if r is None:
                cells.append("<td>—</td>")
                continue
            value = ranking.profit_factor(r) if h["metric"] == "profit_factor" else r[h["metric"]]
            colour = _colour(ranking.score(r, h["metric"]), low, high)
            cells.append(f'<td style="background:{colour}" title="rank {r["rank"]}">'
                         f"{_number(value)}</td>")
        body.append(f"<tr><th>{html.escape(vy)}</th>{''.join(cells)}</tr>")
    return (f'<div class="wide"><table id="heatmap"><thead><tr>{head}</tr></thead>'
            f"<tbody>{''.join(body)}</tbody></table></div>")


def ranked_table(rows: Sequence[dict[str, Any]], keys: Sequence[str], metric: str) -> str:
    """The first SHOWN_ROWS rows: rank, the grid keys that vary, the metrics."""
    metrics = tuple(dict.fromkeys((metric, *METRIC_COLUMNS)))
    head = "".join(f"<th>{html.escape(k)}</th>" for k in ("rank", *keys, *metrics))
    body = "".join(
        "<tr>" + f"<td>{r['rank']}</td>" +
        "".join(f"<td>{html.escape(shown(k, r[k]))}</td>" for k in keys) +
        "".join(f"<td>{_number(r[k])}</td>" for k in metrics) + "</tr>"
        for r in rows[:SHOWN_ROWS])
    return (f'<div class="wide"><table id="ranked"><thead><tr>{head}</tr></thead>'
            f"<tbody>{body}</tbody></table></div>")


def write_sweep_report(folder: str | Path, rows: Sequence[dict[str, Any]],
                       grid: dict[str, tuple], rank_by: str,
                       axes: tuple[str, str] | None, settings: dict) -> Path:
    """Write index.html (heatmap, ranked rows, settings) and sweep.csv into `folder`."""
    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    with (out / "sweep.csv").open("w", newline="") as f:
        write_csv(rows, f)
    varied = [k for k in GRID_KEYS if len(grid.get(k, ())) > 1] or list(grid)
    if axes is None:
        mapped = ('<p class="note">A heatmap needs two grid keys with several values '
                  "each.</p>")
    else:
        mapped = (f'<p class="note">{html.escape(rank_by)} of the best combination for each '
                  f"{html.escape(axes[0])} and {html.escape(axes[1])} (the other keys at their "
                  "best); green is better. Hover a cell for its rank.</p>" +
                  heatmap_table(heatmap(rows, axes[0], axes[1], rank_by)))
    more = (f'<p class="note">The first {SHOWN_ROWS} of {len(rows):,} rows; sweep.csv has '
            "them all.</p>" if len(rows) > SHOWN_ROWS else "")
    text = page("Sweep", [
        ("", f"<p>{len(rows):,} combinations ranked by {html.escape(rank_by)}.</p>"),
        ("Heatmap", mapped), ("Ranked", more + ranked_table(rows, varied, rank_by)),
        ("Grid", settings_table({k: [shown(k, v) for v in vs] for k, vs in grid.items()})),
        ("Settings", settings_table(settings))])
    (out / "index.html").write_text(text, encoding="utf-8")
    return out / "index.html"
