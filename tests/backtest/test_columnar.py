"""The compiled backtest (backtest.columnar) against the reference simulator (backtest.simulate):
the same trades on randomised candles and events and on the real data sets, the same metrics,
and objects built only when asked for."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import types

import numpy as np
import pandas as pd
import pytest

import choch
from backtest import kernel, metrics
from backtest.columnar import run_backtest, simulate_columns
from backtest.run import TradeColumns
from backtest.simulate import simulate
from choch import BEARISH, BULLISH, Event
from tests.choch.candles import random_candles
from tests.shared_data import REPO, load_candles
from trading.rules import TradeRules

from .frames import assert_same

M1 = 60_000
RULES = [
    TradeRules(),
    TradeRules(trade_on=frozenset({"CHOCH", "BOS"}), on_opposite="close", slippage_bps=7.5,
               fee_rate=0.0004, risk_reward=1.3),
    TradeRules(trade_on=frozenset({"BOS"}), on_opposite="ignore", risk_reward=0.7),
    TradeRules(trade_on=frozenset({"CHOCH", "BOS"}), risk_reward=3.0, slippage_bps=40.0,
               position_size=37.0, leverage=3, step=0.001),
]


def check(candles: pd.DataFrame, events, rules: TradeRules, tf: int = M1,
          detail: pd.DataFrame | None = None) -> int:
    """Assert both simulators agree; the number of trades."""
    ref = simulate(candles, events, rules, tf, "X", "1m", detail)
    assert_same(ref, simulate_columns(candles, events, rules, tf, "X", "1m", detail))
    return len(ref.trades)


@pytest.mark.parametrize("seed", range(8))
def test_random_candles_give_the_reference_trades_under_every_rule(seed):
    candles = random_candles(seed, 1500, tick=0.5, gaps=seed % 2 == 1)
    trades = 0
    for break_on in ("close", "wick"):
        events = choch.scan(candles, 1 + seed % 4, 2 + seed % 3, break_on)
        for rules in RULES:
            trades += check(candles, events, rules)
            assert_same(simulate(candles, events, rules, M1, "X", "1m"),
                        run_backtest(candles, 1 + seed % 4, 2 + seed % 3, break_on, rules, M1,
                                     "X", "1m")[1])
    assert trades > 200


@pytest.mark.parametrize("seed", range(6))
def test_random_events_with_skipped_signals_and_shared_bars_give_the_reference_trades(seed):
    rng = np.random.default_rng(100 + seed)
    candles = random_candles(seed, 400, tick=0.5)
    ts, close = candles["timestamp"].to_numpy(), candles["close"].to_numpy()
    bars = np.sort(rng.integers(0, len(candles), 120))  # repeats: several events on one bar
    events = [Event(str(rng.choice(["CHOCH", "BOS"])), str(rng.choice([BULLISH, BEARISH])),
                    0.0, int(ts[0]), int(ts[b]), int(ts[b]) + M1,
                    float(close[b] + rng.choice([-1, 1]) * rng.choice([0.0, 0.5, 1.0, 3.0])),
                    float(close[b])) for b in bars.tolist()]
    skipped = 0
    for rules in RULES:
        check(candles, events, rules)
        skipped += simulate_columns(candles, events, rules, M1).skipped
    assert skipped > 0  # stops on or inside the entry were part of the test


@pytest.mark.parametrize("seed", range(4))
def test_timeframe_detail_gives_the_reference_order_and_counts(seed):
    fine = random_candles(50 + seed, 6000, tick=0.5)
    groups = fine.groupby(np.arange(len(fine)) // 5)
    main = pd.DataFrame({"timestamp": groups["timestamp"].first(), "open": groups["open"].first(),
                         "high": groups["high"].max(), "low": groups["low"].min(),
                         "close": groups["close"].last()}).reset_index(drop=True)
    # Some 5m candles lose their 1m candles (stop first), some get inconsistent ones.
    rng = np.random.default_rng(seed)
    fine = fine[(rng.random(len(main)) > 0.5)[np.arange(len(fine)) // 5]].reset_index(drop=True)
    fine.loc[rng.random(len(fine)) < 0.05, "high"] += 3.0
    seen = {"detail_target_first": 0, "detail_stop_first": 0, "detail_undecided": 0}
    close_targets = TradeRules(trade_on=frozenset({"CHOCH", "BOS"}), risk_reward=0.2)
    for rules in [*RULES, close_targets]:
        events = choch.scan(main, 2, 2, "wick", 5 * M1)
        check(main, events, rules, 5 * M1, detail=fine)
        got = run_backtest(main, 2, 2, "wick", rules, 5 * M1, detail=fine)[1].extra
        seen = {k: v + got[k] for k, v in seen.items()}
    assert min(seen.values()) > 0, seen


def test_no_candles_and_no_events():
    empty = random_candles(0, 0)
    assert run_backtest(empty, 5, 5, "close", TradeRules(), M1)[1].trades == []
    candles = random_candles(0, 50)
    check(candles, [], TradeRules())


@pytest.mark.slow  # a year of real candles per file, both simulators
@pytest.mark.parametrize("name, tf", [("LTCUSDT-usdm-1m-2026-02.csv", M1),
                                      ("BTCUSDT-spot-1m.csv", M1),
                                      ("BTCUSDT-spot-15m.csv", 15 * M1),
                                      ("BTCUSDT-spot-1h.csv", 60 * M1),
                                      ("ETHUSDT-spot-1h.csv", 60 * M1)])
def test_the_real_data_sets_give_the_reference_trades(name, tf):
    candles = load_candles(name)
    for break_on in ("close", "wick"):
        events = choch.scan(candles, 5, 5, break_on, tf)
        for rules in RULES:
            assert check(candles, events, rules, tf) > 20


@pytest.mark.slow  # two real files, both simulators
def test_real_15m_candles_refined_by_real_1m_candles_give_the_reference_trades():
    fine = load_candles("BTCUSDT-spot-1m.csv")
    main = load_candles("BTCUSDT-spot-15m.csv")
    main = main[main["timestamp"] >= fine["timestamp"].iat[0]].reset_index(drop=True)
    for rules in RULES:
        check(main, choch.scan(main, 3, 3, "close", 15 * M1), rules, 15 * M1, detail=fine)


def test_metrics_of_columns_equal_the_metrics_of_trade_objects():
    runs = [run_backtest(random_candles(s, 2000, tick=0.5), 3, 3, "close", rules, M1,
                         f"S{s}", "1m")[1] for s, rules in enumerate(RULES)]
    by_columns = metrics.report(runs)
    assert json.dumps(by_columns) == json.dumps(metrics.report(
        [simulate(random_candles(s, 2000, tick=0.5), choch.scan(
            random_candles(s, 2000, tick=0.5), 3, 3, "close"), rules, M1, f"S{s}", "1m")
         for s, rules in enumerate(RULES)]))
    for run, row in zip(runs, by_columns["by_symbol"], strict=True):
        assert row == {"symbol": run.symbol, "timeframe": "1m", "candles": 2000,
                       **metrics.summarize(run.trades, run.start_ms, run.end_ms)}


def test_metrics_build_no_trade_objects(monkeypatch):
    _, run = run_backtest(random_candles(3, 2000, tick=0.5), 3, 3, "close", TradeRules(), M1)

    def refuse(self):
        raise AssertionError("Trade objects built")
    monkeypatch.setattr(TradeColumns, "to_trades", refuse)
    monkeypatch.setattr(choch.EventColumns, "to_events", refuse)
    assert metrics.report([run])["trades"] == len(run.columns) > 0


def test_a_frame_of_any_memory_layout_uses_the_one_compiled_version():
    from backtest import detect
    candles = random_candles(2, 500, tick=0.5)
    # Built from one 2-D array, pandas may keep strided (non-contiguous) columns.
    strided = pd.DataFrame(candles.to_numpy(np.float64), columns=candles.columns)
    strided["timestamp"] = strided["timestamp"].astype(np.int64)
    want = run_backtest(candles, 3, 3, "close", TradeRules(), M1)[1].trades
    assert run_backtest(strided, 3, 3, "close", TradeRules(), M1)[1].trades == want
    assert len(kernel.trade_loop.signatures) == len(detect._compiled_scan.signatures) == 1


def test_without_numba_the_same_loops_run_as_plain_python(monkeypatch):
    from backtest import columnar, detect
    candles = random_candles(5, 1200, tick=0.5)
    rules = RULES[1]
    want = simulate(candles, choch.scan(candles, 3, 4, "wick", M1), rules, M1)
    monkeypatch.setattr(columnar, "trade_loop", kernel.trade_loop.py_func)
    monkeypatch.setattr(detect, "_compiled_scan", detect._compiled_scan.py_func)
    assert_same(want, run_backtest(candles, 3, 4, "wick", rules, M1)[1])


def test_without_a_cache_location_the_loop_compiles_in_memory():
    def twice(x):
        return 2 * x
    # Its source file cannot be found, so numba has no place to cache it.
    orphan = types.FunctionType(twice.__code__.replace(co_filename="<no file>"), {})
    with pytest.warns(UserWarning, match="cache unavailable"):
        compiled = kernel.compiled(orphan)
    assert compiled(21) == 42


@pytest.mark.slow  # two fresh processes, the first compiles
def test_a_second_process_loads_the_trade_loop_from_the_disk_cache(tmp_path):
    script = textwrap.dedent("""
        import json, sys
        sys.path.insert(0, sys.argv[1])
        from backtest import kernel
        from backtest.columnar import run_backtest
        from tests.choch.candles import random_candles
        from trading.rules import TradeRules
        run_backtest(random_candles(1, 300), 3, 3, "close", TradeRules(), 60_000)
        s = kernel.trade_loop.stats
        print(json.dumps([sum(s.cache_hits.values()), sum(s.cache_misses.values())]))
    """)
    env = {**os.environ, "NUMBA_CACHE_DIR": str(tmp_path)}

    def once() -> list[int]:
        done = subprocess.run([sys.executable, "-c", script, str(REPO)], env=env, timeout=300,
                              capture_output=True, text=True, check=True)
        return json.loads(done.stdout.splitlines()[-1])
    assert once() == [0, 1]  # compiled and stored
    assert once() == [1, 0]  # loaded
    assert any(tmp_path.rglob("*.nbc"))
