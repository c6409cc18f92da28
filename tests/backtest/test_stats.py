"""The report's summary (backtest.stats), its breakdowns and the pooled calendar, checked against
figures worked out by hand on small trade lists."""
from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from backtest import metrics, stats
from backtest.breakdowns import breakdowns
from backtest.calendar import covered_days, daily_sums
from backtest.simulate import Run
from trading.rules import Trade

from .frames import T0

H, D = 3_600_000, 86_400_000


def trade(side: str, entry: float, qty: float, pnl: float, opened: int, closed: int,
          reason: str = "target") -> Trade:
    return Trade(side, opened, opened, entry, entry * 0.9, entry * 1.2, closed, entry, reason,
                 qty, 0.1, pnl)


def small_run() -> Run:
    """Three trades of 100 USDT notional (10 USDT margin at 10x) over two days."""
    trades = [trade("long", 100.0, 1.0, 20.0, T0 + 1 * H, T0 + 3 * H),
              trade("short", 200.0, 0.5, -10.0, T0 + 4 * H, T0 + 5 * H, "stop"),
              trade("long", 50.0, 2.0, 5.0, T0 + D, T0 + D + 2 * H)]
    return Run("AAAUSDT", "1h", trades, [], 48, T0, T0 + 2 * D)


def test_the_summary_matches_the_hand_computed_figures():
    s = stats.summary([small_run()], 1000.0, 10.0, buy_hold_pct=3.0)
    assert (s["start_ms"], s["end_ms"], s["duration_ms"], s["days"]) == (T0, T0 + 2 * D, 2 * D, 2)
    assert s["exposure_pct"] == pytest.approx(100 * 5 / 48)
    assert (s["starting_balance"], s["final_equity"], s["peak_equity"]) == (1000.0, 1015.0,
                                                                           1020.0)
    assert s["return_pct"] == pytest.approx(1.5)
    assert s["buy_hold_pct"] == 3.0
    assert s["annual_return_pct"] == pytest.approx(100 * (1.015 ** (365 / 2) - 1))
    returns = [10 / 1000, 5 / 1010]  # day 1: +20 -10 over 1,000; day 2: +5 over 1,010
    assert s["annual_volatility_pct"] == pytest.approx(
        100 * np.std(returns, ddof=1) * math.sqrt(365))
    assert s["max_drawdown_pct"] == pytest.approx(100 * 10 / 1020)
    assert s["max_drawdown_duration_ms"] == 2 * D - 3 * H  # from the 1,020 peak, never regained
    assert s["trades"] == 3 and s["win_rate_pct"] == pytest.approx(200 / 3)
    assert (s["best_trade_pct"], s["worst_trade_pct"]) == (pytest.approx(200.0),
                                                           pytest.approx(-100.0))
    assert s["avg_trade_pct"] == pytest.approx(50.0)
    assert (s["max_trade_duration_ms"], s["avg_trade_duration_ms"]) == (2 * H, 5 * H // 3)
    assert s["profit_factor"] == pytest.approx(2.5)
    assert s["expectancy"] == pytest.approx(5.0) and s["expectancy_pct"] == pytest.approx(50.0)
    assert s["sqn"] == pytest.approx(math.sqrt(3) * 5 / 15)  # pnl 20, -10, 5: std 15


def test_ratios_need_the_minimum_days_and_say_so():
    s = stats.summary([small_run()], 1000.0, 10.0)
    assert (s["sharpe"], s["sortino"], s["calmar"]) == (None, None, None)
    assert s["ratios_note"] == ("Sharpe, Sortino and Calmar need at least 30 days of data; "
                                "this backtest has 2")
    s = stats.summary([small_run()], 1000.0, 10.0, min_days=2)
    returns = np.array([10 / 1000, 5 / 1010])
    assert s["ratios_note"] is None
    assert s["sharpe"] == pytest.approx(returns.mean() / returns.std(ddof=1) * math.sqrt(365))
    assert s["sortino"] is None  # no losing day
    assert s["calmar"] == pytest.approx((1.015 ** (365 / 2) - 1) / (10 / 1020))


def _month(start: int, pnls: list[float], symbol: str) -> Run:
    """One trade a day closing at noon, over len(pnls) days from `start`."""
    trades = [trade("long", 100.0, 1.0, p, start + i * D + H, start + i * D + 12 * H)
              for i, p in enumerate(pnls)]
    return Run(symbol, "1h", trades, [], len(pnls) * 24, start, start + len(pnls) * D)


@pytest.mark.parametrize("days", [29, 30])
def test_the_minimum_is_thirty_days(days):
    rng = np.random.default_rng(days)
    s = stats.summary([_month(T0, list(rng.normal(1, 5, days)), "A")], 1000.0, 10.0)
    assert (s["sharpe"] is None) == (days < 30)
    assert (s["ratios_note"] is None) == (days >= 30)


def test_pooled_sharpe_over_two_periods_ignores_the_gap_between_them():
    rng = np.random.default_rng(7)
    first, second = list(rng.normal(2, 6, 40)), list(rng.normal(1, 6, 35))
    a = _month(T0 - 400 * D, first, "A")  # 40 days, a year before the second file
    b = _month(T0, second, "B")
    pooled = stats.summary([a, b], 1000.0, 10.0)
    # Per period: daily returns on the equity carried from one period to the next, pooled.
    equity, returns = 1000.0, []
    for p in first + second:
        returns.append(p / equity)
        equity += p
    r = np.array(returns)
    assert pooled["days"] == 75
    assert pooled["sharpe"] == pytest.approx(r.mean() / r.std(ddof=1) * math.sqrt(365))
    down = math.sqrt(np.mean(np.minimum(r, 0) ** 2))
    assert pooled["sortino"] == pytest.approx(r.mean() / down * math.sqrt(365))
    # The same pooling in the pnl-based figures of the JSON summary and sweeps.
    pnl = np.array(first + second)
    assert metrics.report([a, b])["sharpe"] == pytest.approx(
        pnl.mean() / pnl.std(ddof=1) * math.sqrt(365))
    spanning = metrics.sharpe_sortino(metrics.daily_pnl(a.trades + b.trades, a.start_ms,
                                                        b.end_ms))[0]
    assert spanning < 0.6 * metrics.report([a, b])["sharpe"]  # what the gap's zeros did


def test_covered_days_are_the_union_and_a_midnight_exit_counts_on_the_day_before():
    days = covered_days([(T0, T0 + 2 * D), (T0 + D, T0 + D + 1), (T0 + 10 * D, T0 + 11 * D),
                         (T0, T0)])
    assert (days - T0 // D).tolist() == [0, 1, 10]
    sums = daily_sums(days, [T0 + 5, T0 + 2 * D, T0 + 10 * D + 7], [1.0, 2.0, 4.0])
    assert sums.tolist() == [1.0, 2.0, 4.0]


def test_breakdowns_group_per_pair_reason_side_day_and_week():
    run = small_run()
    other = Run("BBBUSDT", "1h", [trade("short", 10.0, 10.0, 0.0, T0 + 2 * D - H, T0 + 2 * D,
                                        "end")], [], 48, T0, T0 + 2 * D)
    b = breakdowns([run, other], 1000.0, 10.0)
    assert [(r["key"], r["trades"], r["net_pnl"]) for r in b["pair"]] == [
        ("AAAUSDT 1h", 3, 15.0), ("BBBUSDT 1h", 1, 0.0)]
    aaa = b["pair"][0]
    assert (aaa["wins"], aaa["draws"], aaa["losses"]) == (2, 0, 1)
    assert aaa["avg_trade_pct"] == pytest.approx(50.0) and aaa["total_pct"] == pytest.approx(1.5)
    assert aaa["avg_duration_ms"] == 5 * H // 3
    assert [(r["key"], r["trades"]) for r in b["exit_reason"]] == [("target", 2), ("stop", 1),
                                                                    ("end", 1)]
    assert [(r["key"], r["trades"], r["net_pnl"]) for r in b["side"]] == [
        ("long", 2, 25.0), ("short", 2, -10.0)]
    # The exit at midnight closes the second day's last candle: it counts on that day.
    assert [(r["key"], r["trades"]) for r in b["day"]] == [("2026-02-01", 2), ("2026-02-02", 2)]
    assert [(r["key"], r["trades"]) for r in b["week"]] == [("2026-01-26", 2),
                                                            ("2026-02-02", 2)]


def test_buy_and_hold_is_the_mean_move_of_the_series():
    up = pd.DataFrame({"close": [100.0, 105.0, 110.0]})
    down = pd.DataFrame({"close": [50.0, 45.0]})
    assert stats.buy_and_hold_pct([up, down]) == pytest.approx(0.0)
    assert stats.buy_and_hold_pct([up]) == pytest.approx(10.0)
    assert stats.buy_and_hold_pct([]) is None


def test_equity_reaching_zero_is_dated_and_caps_the_drawdown():
    trades = [trade("long", 100.0, 1.0, -10.0, T0 + H, T0 + 2 * H, "stop"),
              trade("long", 100.0, 1.0, 20.0, T0 + 3 * H, T0 + 4 * H)]
    s = stats.summary([Run("A", "1h", trades, [], 24, T0, T0 + D)], 8.0, 10.0, min_days=1)
    assert s["ruined_ms"] == T0 + 2 * H
    assert s["max_drawdown_pct"] == 100.0
    assert s["final_equity"] == 18.0 and s["sharpe"] is None
    assert s["ratios_note"] == "Sharpe, Sortino and Calmar are not defined once equity reaches zero"
    assert stats.summary([small_run()], 1000.0, 10.0)["ruined_ms"] is None
