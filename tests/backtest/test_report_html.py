"""The report page: the vendored chart library inlined (no network), its charts' data, the
summary and settings tables, a phone's viewport; the sweep's ranking and heatmap."""
from __future__ import annotations

import hashlib
import math
import re

import pytest

from backtest import chartdata, ranking, report_html, sweep
from backtest.report import write_report
from backtest.simulate import Run
from backtest.sweep_report import heatmap, heatmap_keys, write_sweep_report
from trading.rules import Trade

from .frames import T0, TF, event, frame, run

LIBRARY_SHA256 = "338a625ece52c5b85fb026e222dad5d0f365f745060afbfae96bda91636142e9"
CDN = re.compile(r"unpkg|jsdelivr|cdnjs|googleapis|cloudflare|esm\.sh|skypack", re.I)


def test_the_vendored_library_is_the_pinned_npm_build_with_its_licence():
    assert hashlib.sha256(report_html.LIBRARY.read_bytes()).hexdigest() == LIBRARY_SHA256
    assert f"v{report_html.LIBRARY_VERSION}" in report_html.library()[:200]
    assert "Apache License" in (report_html.VENDOR / "LICENSE").read_text()
    note = (report_html.VENDOR / "VENDORED.md").read_text()
    assert LIBRARY_SHA256 in note and report_html.LIBRARY_VERSION in note


@pytest.mark.slow  # draws the PNG charts with matplotlib
def test_the_report_inlines_the_library_and_loads_nothing_from_the_network(tmp_path):
    candles = frame(*[(100.0, 100.5, 99.5, 100.0)] * 30)
    result = run(candles, [event(12, "bullish", 100.0, 98.0), event(20, "bearish", 100.0, 101.0)])
    from backtest.metrics import report
    page = write_report(tmp_path, [result], [candles], report([result]),
                        {"csv": "x.csv", "leverage": 20.0}, 2, 2, [TF], starting_balance=500.0)
    text = page.read_text()
    assert report_html.library() in text  # inline, whole
    assert not re.search(r"<script[^>]*\bsrc=", text, re.I)
    assert not re.search(r"""(src|href)\s*=\s*["']?\s*(https?:)?//""", text, re.I)
    assert not CDN.search(text)
    assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in text
    assert 'id="chart-0"' in text and 'id="chart-data"' in text and 'id="equity"' in text
    summary = re.search(r'<table class="kv money" id="summary">.*?</table>', text).group(0)
    assert "<td>Equity start [USDT]</td><td>500.00</td>" in summary
    assert "<td># Trades</td><td>2</td>" in text
    assert "need at least 30 days of data; this backtest has 1" in text
    settings = re.search(r'<table class="kv" id="settings">.*?</table>', text).group(0)
    assert "<td>csv</td><td>x.csv</td>" in settings and "<td>starting_balance</td>" in settings
    for section in ("by-pair", "by-exit_reason", "by-side", "by-day", "by-week"):
        assert f'id="{section}"' in text


def _trades(n: int) -> list[Trade]:
    """Back-to-back reversals: each trade exits at the next one's entry."""
    return [Trade("long" if i % 2 == 0 else "short", T0 + (3 * i + 1) * TF, T0 + (3 * i + 1) * TF,
                  100.0, 99.0 if i % 2 == 0 else 101.0, 102.0 if i % 2 == 0 else 98.0,
                  T0 + (3 * i + 4) * TF, 100.0, "reverse", 1.0, 0.0, 1.0 - 2 * (i % 2))
            for i in range(n)]


def test_chart_segments_alternate_and_never_join_across_trades():
    candles = frame(*[(100.0, 100.5, 99.5, 100.0)] * 40)
    data = chartdata.chart_data(Run("X", "1m", _trades(10), [], 40, T0, T0 + 40 * TF), candles)
    assert len(data["candles"]) == 40 and data["per_candle"] == 1
    bar_times = {c[0] for c in data["candles"]}
    for line in data["stops"] + data["targets"]:
        times = [p[0] for p in line]
        assert times == sorted(set(times))  # strictly increasing, as the library requires
        assert set(times) <= bar_times  # no point adds a slot to the time scale
    even, odd = data["stops"]
    assert [p[1] for p in even if len(p) > 1] == [99.0] * 10  # the longs' stops
    assert [p[1] for p in odd if len(p) > 1] == [101.0] * 10
    assert sum(len(p) == 1 for p in even) == 4  # a break between consecutive longs
    markers = data["markers"]
    assert len(markers) == 20 and [m["time"] for m in markers] == sorted(m["time"]
                                                                         for m in markers)
    assert markers[0] == {"time": (T0 + 0 * TF) // 1000, "position": "belowBar",
                          "shape": "arrowUp", "color": chartdata.LONG, "text": "L"}


def test_the_equity_line_starts_at_the_balance_and_its_drawdown_is_from_the_peak():
    trades = _trades(4)  # pnl +1, -1, +1, -1 at exits 4, 7, 10, 13 minutes in
    data = chartdata.equity_data(trades, 100.0, T0)
    assert [p[1] for p in data["equity"]] == [100.0, 101.0, 100.0, 101.0, 100.0]
    assert [p[0] for p in data["equity"]] == [T0 // 1000] + [(T0 + k * TF) // 1000
                                                             for k in (4, 7, 10, 13)]
    assert [p[1] for p in data["drawdown"]] == [0.0, 0.0, pytest.approx(-100 / 101), 0.0,
                                                pytest.approx(-100 / 101)]


def test_a_long_series_is_charted_with_merged_candles(monkeypatch):
    monkeypatch.setattr(chartdata, "MAX_CANDLES", 10)
    rows = [(100.0 + i, 101.0 + i, 99.0 + i, 100.5 + i) for i in range(40)]
    data = chartdata.chart_data(Run("X", "1m", _trades(10), [], 40, T0, T0 + 40 * TF),
                                frame(*rows))
    assert data["per_candle"] == 4 and len(data["candles"]) == 10
    assert data["candles"][0] == [T0 // 1000, 100.0, 104.0, 99.0, 103.5]
    for line in data["stops"] + data["targets"]:
        assert [p[0] for p in line] == sorted({p[0] for p in line})


def _row(order: int, **figures) -> dict:
    base = {"order": order, "net_pnl": 0.0, "profit_factor": 1.0, "gross_profit": 1.0,
            "sharpe": None, "max_drawdown": 0.0, "rank": order + 1}
    return {**base, **figures}


def test_rank_by_a_metric_best_first_missing_last_then_net_pnl():
    rows = [_row(0, sharpe=1.0, net_pnl=5.0), _row(1, sharpe=None, net_pnl=99.0),
            _row(2, sharpe=2.0), _row(3, sharpe=1.0, net_pnl=7.0)]
    assert [r["order"] for r in sorted(rows, key=lambda r: ranking.rank_key(r, "sharpe"))] == \
        [2, 3, 0, 1]
    dd = [_row(0, max_drawdown=5.0), _row(1, max_drawdown=1.0), _row(2, max_drawdown=3.0)]
    assert [r["order"] for r in sorted(dd, key=lambda r: ranking.rank_key(r, "max_drawdown"))] \
        == [1, 2, 0]
    with pytest.raises(ValueError, match="cannot rank by 'colour'"):
        ranking.score(rows[0], "colour")


def test_the_heatmap_holds_the_best_row_for_each_pair_of_values():
    combos = sweep.combinations({"left": (3, 5), "right": (4, 6), "risk_reward": (1.0, 2.0)},
                                {"left": 5, "right": 5, "break_on": "close",
                                 "trade_on": frozenset({"CHOCH"}), "risk_reward": 2.0,
                                 "on_opposite": "reverse", "fee_rate": 0.0,
                                 "slippage_bps": 0.0})
    rows = [{**c, "order": i, "rank": i + 1, "net_pnl": float(i), "profit_factor": None,
             "gross_profit": 0.0, "sharpe": None if i == 3 else -float(i)}
            for i, c in enumerate(combos)]
    h = heatmap(rows, "left", "right", "sharpe")
    assert (h["xs"], h["ys"]) == (["3", "5"], ["4", "6"])
    # left=3 right=6 holds orders 2 and 3 (risk_reward 1 and 2): 3 has no Sharpe, 2 wins.
    assert [[r["order"] for r in line] for line in h["cells"]] == [[0, 4], [2, 6]]
    assert heatmap_keys({"left": (3, 5), "right": (4,), "risk_reward": (1.0, 2.0)}, None) == \
        ("left", "risk_reward")
    assert heatmap_keys({"left": (3, 5)}, None) is None
    assert heatmap_keys({"left": (3, 5)}, ("right", "left")) == ("right", "left")


def test_the_sweep_report_shows_the_heatmap_and_the_ranked_rows(tmp_path):
    rows = [{**c, **dict.fromkeys(sweep.METRIC_KEYS, 0), "order": i, "rank": i + 1,
             "symbols": 1, "candles": 10, "trades": 3,
             "win_rate": 0.5, "net_pnl": 10.0 - i, "profit_factor": math.inf if i == 0 else 1.5,
             "gross_profit": 1.0, "max_drawdown": 1.0, "sharpe": None}
            for i, c in enumerate(sweep.combinations(
                {"left": (3, 5, 8), "right": (4, 6)}, {"left": 5, "right": 5, "break_on": "close",
                                                       "trade_on": frozenset({"CHOCH"}),
                                                       "risk_reward": 2.0,
                                                       "on_opposite": "reverse",
                                                       "fee_rate": 0.0, "slippage_bps": 0.0}))]
    page = write_sweep_report(tmp_path, rows, {"left": (3, 5, 8), "right": (4, 6)}, "net_pnl",
                              ("left", "right"), {"csv": "x.csv"})
    text = page.read_text()
    table = re.search(r'<table id="heatmap">.*?</table>', text).group(0)
    assert table.count("<tr>") == 3 and table.count("<td") == 6  # header + 2 rows of 3
    assert 'title="rank 1">10.00</td>' in table
    assert text.count("<tr><td>") >= 6 and (tmp_path / "sweep.csv").is_file()
    assert "<script" not in text  # no chart on a sweep page
