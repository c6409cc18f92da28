"""No look-ahead: cutting the history at any point leaves every trade before the cut unchanged."""
from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest

import choch
from backtest.columnar import run_backtest
from fetchers.csv_files import read_candles
from trading.rules import TradeRules

SAMPLE = Path(__file__).resolve().parents[2] / "samples" / "LTCUSDT-usdm-1m-2026-02-01_03.csv"
TF = 60_000
ENTRY_FIELDS = ("side", "signal_time", "entry_time", "entry_price", "stop_price",
                "target_price", "quantity")


def backtest(candles, rules: TradeRules):
    """The trades of the backtest `main.py backtest` runs."""
    return run_backtest(candles, 5, 5, "close", rules, TF)[1].trades


@pytest.mark.parametrize("rules", [
    TradeRules(),
    TradeRules(trade_on=frozenset({"CHOCH", "BOS"}), on_opposite="close", slippage_bps=5),
    TradeRules(trade_on=frozenset({"BOS"}), on_opposite="ignore", risk_reward=1.0),
], ids=["reverse", "close-slipped", "bos-ignore"])
def test_truncating_the_history_changes_no_trade_before_the_cut(rules):
    candles = read_candles(SAMPLE).candles
    full = backtest(candles, rules)
    assert len(full) > 50
    # Random cuts, plus cuts right after break candles: where a peek at the next bar would show.
    ts = candles["timestamp"].to_numpy()
    breaks = np.searchsorted(ts, [e.break_time for e in choch.scan(candles, 5, 5, "close", TF)])
    rng = np.random.default_rng(7)
    cuts = set(rng.integers(50, len(candles), size=25).tolist())
    cuts |= set((breaks + 1).tolist())
    for cut in sorted(cuts):
        part = candles.iloc[:cut]
        last_close = int(part["timestamp"].iat[-1]) + TF
        before = [t for t in full if t.entry_time <= last_close]
        got = backtest(part, rules)
        assert len(got) == len(before), cut
        for mine, ref in zip(got, before):
            if ref.exit_time <= last_close:
                assert mine == ref, cut  # closed by the cut: identical, pnl included
            else:
                # Open at the cut: the same entry, closed at the last close instead.
                assert [getattr(mine, f) for f in ENTRY_FIELDS] == \
                    [getattr(ref, f) for f in ENTRY_FIELDS], cut
                assert (mine.exit_reason, mine.exit_time, mine.exit_price) == \
                    ("end", last_close, float(part["close"].iat[-1])), cut
                assert dataclasses.replace(mine, exit_time=ref.exit_time,
                                           exit_price=ref.exit_price,
                                           exit_reason=ref.exit_reason, fees=ref.fees,
                                           pnl=ref.pnl) == ref
