"""Speed of a whole backtest (detect + simulate + metrics) over a year of 1m bars vs backtesting.py.

Run from the repo root: .venv/bin/python bench/backtest.py  (needs requirements-bench.txt).
The candles are real: the shared 1m series (../shared/data, read-only) re-timed onto one
regular 1m grid and chained (each chunk rescaled to open where the previous one closed) until
a year is covered. File I/O is not timed. Ours is what `main.py backtest` runs
(backtest.columnar.run_backtest, then backtest.metrics.report), on one core.
The machine is shared, so ours and backtesting.py alternate: PAIRS pairs, each our median of
RUNS runs against one backtesting.py run (its simulation alone, fed our detector's signals as
precomputed entries with the same stops and targets); each pair's ratio and their median.
Targets (PASS/FAIL next to each figure): our backtest < 30 ms; >= 100x backtesting.py.
The two trade lists are compared, and every difference is listed.
"""
from __future__ import annotations

import os
import platform
import statistics
import sys
import time
import warnings
from importlib.metadata import version
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

import choch  # noqa: E402
from backtest.columnar import run_backtest, simulate_bars  # noqa: E402
from backtest.detect import scan_bars  # noqa: E402
from backtest.metrics import report  # noqa: E402
from bench.candles import PRICES, chained  # noqa: E402
from bench.targets import judged  # noqa: E402
from domain.trade import Direction  # noqa: E402
from trading.rules import TradeRules, open_position  # noqa: E402

LONG = Direction.LONG

DATA = ROOT.parent / "shared" / "data"
SERIES = ("LTCUSDT-usdm-1m-2026-02", "BTCUSDT-spot-1m")
BARS = 525_600  # 365 days of 1m
START_MS = 1_735_689_600_000  # 2025-01-01 00:00 UTC
TF_MS = 60_000
RUNS = 7
PAIRS = 3
TARGET_S = 0.030
TARGET_RATIO = 100.0
RULES = TradeRules(fee_rate=0.0)  # fees are arithmetic on the fills; compare the fills
SHOWN_DIFFS = 10


def build_year() -> pd.DataFrame:
    """BARS real 1m candles on one regular grid (see the module docstring)."""
    missing = [s for s in SERIES if not (DATA / f"{s}.csv").is_file()]
    if missing:
        sys.exit(f"bench: real candle data not found in {DATA} (missing: {', '.join(missing)})")
    series = [pd.read_csv(DATA / f"{s}.csv", usecols=PRICES) for s in SERIES]
    return chained(series, BARS, START_MS, TF_MS)


def ours(df: pd.DataFrame):
    """The whole backtest: events, trades, metrics."""
    events, run = run_backtest(df, 5, 5, "close", RULES, TF_MS, "BENCH", "1m")
    return events, run, report([run])


def our_median(df: pd.DataFrame) -> tuple[float, float]:
    """Median (wall, CPU) seconds of RUNS whole backtests."""
    walls, cpus = [], []
    for _ in range(RUNS):
        start, cpu = time.perf_counter(), time.process_time()
        ours(df)
        walls.append(time.perf_counter() - start)
        cpus.append(time.process_time() - cpu)
    return statistics.median(walls), statistics.median(cpus)


def split_times(df: pd.DataFrame, clock=time.perf_counter) -> dict[str, float]:
    """Median seconds of each stage: detect (with the candle checks), simulate, metrics."""
    spent: dict[str, list[float]] = {"detect": [], "simulate": [], "metrics": []}
    for _ in range(RUNS):
        t0 = clock()
        bars = choch.candle_arrays(df)
        events = scan_bars(bars, 5, 5, "close", TF_MS)
        t1 = clock()
        run = simulate_bars(bars, events, RULES, TF_MS, "BENCH", "1m")
        t2 = clock()
        report([run])
        t3 = clock()
        for k, v in zip(spent, (t1 - t0, t2 - t1, t3 - t2), strict=True):
            spent[k].append(v)
    return {k: statistics.median(v) for k, v in spent.items()}


def signals(df: pd.DataFrame, events) -> dict[int, list[tuple[int, float, float]]]:
    """Bar -> [(+1 long / -1 short, stop, target)] for each valid tradable event, in order."""
    ts = df["timestamp"].to_numpy()
    out: dict[int, list] = {}
    for e in events.to_events():
        if e.kind not in RULES.trade_on:
            continue
        pos = open_position(e.direction, e.close, e.extreme, 0, RULES)
        if pos is None:
            continue
        bar = int(np.searchsorted(ts, e.break_time))
        out.setdefault(bar, []).append((1 if pos.side == LONG else -1, pos.stop_price,
                                        pos.target_price))
    return out


def run_backtesting_py(df: pd.DataFrame, entries: dict) -> tuple[float, pd.DataFrame]:
    """backtesting.py over the same candles: (seconds for Backtest.run, its trades)."""
    os.environ.setdefault("TQDM_DISABLE", "1")  # its progress bar on stderr: not measured
    from backtesting import Backtest, Strategy

    class Precomputed(Strategy):
        """Enter at the signal candle's close with our stop and target; reverse on opposite."""

        def init(self):
            pass

        def next(self):
            todo = entries.get(len(self.data) - 1)
            if not todo:
                return
            held = int(np.sign(self.position.size))
            for side, stop, target in todo:
                if side == held:
                    continue  # same direction: ignored
                size = 1 + abs(held)  # one unit, plus whatever the reversal must close
                for trade in self.trades:
                    # backtesting.py runs a trade's SL/TP before a new market order on the next
                    # bar; our reversal happens at this close, so they must not fire first.
                    trade.sl = trade.tp = None
                if side > 0:
                    self.buy(size=size, sl=stop, tp=target)
                else:
                    self.sell(size=size, sl=stop, tp=target)
                held = side

    data = df.rename(columns=str.capitalize).set_index(
        pd.to_datetime(df["timestamp"], unit="ms"))[["Open", "High", "Low", "Close"]]
    bt = Backtest(data, Precomputed, cash=1e12, commission=0.0, trade_on_close=True,
                  exclusive_orders=False, hedging=False, finalize_trades=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        start = time.perf_counter()
        stats = bt.run()
        took = time.perf_counter() - start
    return took, stats._trades


def compare(df: pd.DataFrame, run, theirs: pd.DataFrame) -> tuple[int, int, list[str]]:
    """(matching, ours, difference lines): trades keyed by entry bar and side."""
    ts = df["timestamp"].to_numpy()
    o = df["open"].to_numpy()
    mine = {}
    for t in run.trades:
        entry = int(np.searchsorted(ts, t.entry_time - TF_MS))
        mine[(entry, t.side)] = (int(np.searchsorted(ts, t.exit_time - TF_MS)), t.entry_price,
                                 t.exit_price, t.exit_reason)
    other = {(int(r.EntryBar), LONG if r.Size > 0 else "short"):
             (int(r.ExitBar), float(r.EntryPrice), float(r.ExitPrice))
             for r in theirs.itertuples()}
    same, diffs = 0, []
    for key in sorted(set(mine) | set(other)):
        a, b = mine.get(key), other.get(key)
        if a and b and a[:3] == b:
            same += 1
            continue
        why = "only ours" if b is None else "only backtesting.py" if a is None else "fills differ"
        if a and b and a[3] == "target" and a[0] == b[0]:
            gap = float(o[a[0]])
            why = (f"target gapped through: ours fills at the target {a[2]!r}, backtesting.py at "
                   f"the open {gap!r}")
        diffs.append(f"entry bar {key[0]} {key[1]}: {why}; ours {a}, backtesting.py {b}")
    return same, len(mine), diffs


def main() -> None:
    """Print the figures with PASS/FAIL."""
    df = build_year()
    start = time.perf_counter()
    ours(df.iloc[:10_000])  # the compiled loop loads from numba's disk cache (or compiles)
    first = time.perf_counter() - start
    events, run, summary = ours(df)
    print(f"backtest over {len(df):,} 1m bars (one year, real candles re-timed), "
          f"{len(events):,} events, {summary['trades']:,} trades "
          f"(Python {platform.python_version()}, {platform.machine()}, one core; first call in "
          f"this process {first:.2f} s: loading the compiled trade loop):")
    try:
        bt_version = version("backtesting")
    except Exception:  # noqa: BLE001 - not installed: say so instead of a traceback
        wall, cpu = our_median(df)
        print(f"  ours, median of {RUNS}: {wall * 1000:.1f} ms ({cpu * 1000:.1f} ms CPU) "
              f"{judged(wall < TARGET_S, f'< {TARGET_S * 1000:.0f} ms')}")
        print("  backtesting.py: not installed (pip install -r requirements-bench.txt)")
        return
    entries = signals(df, events)
    walls, cpus, ratios, theirs = [], [], [], None
    for k in range(PAIRS):
        wall, cpu = our_median(df)
        took, theirs = run_backtesting_py(df, entries)
        walls.append(wall)
        cpus.append(cpu)
        ratios.append(took / wall)
        print(f"  pair {k + 1}: ours {wall * 1000:.1f} ms ({cpu * 1000:.1f} ms CPU; median of "
              f"{RUNS}), backtesting.py {bt_version} {took:.3f} s (simulation only, entries "
              f"precomputed): {took / wall:.1f}x")
    wall, cpu = statistics.median(walls), statistics.median(cpus)
    ratio = statistics.median(ratios)
    print(f"  ours, median over the pairs: {wall * 1000:.1f} ms wall "
          f"{judged(wall < TARGET_S, f'< {TARGET_S * 1000:.0f} ms')}; {cpu * 1000:.1f} ms CPU")
    print(f"  ratio (wall times), median of {PAIRS} pairs: {ratio:.1f}x "
          f"{judged(ratio >= TARGET_RATIO, f'>= {TARGET_RATIO:.0f}x')}")
    for name, clock in (("wall", time.perf_counter), ("CPU", time.process_time)):
        parts = split_times(df, clock)
        print(f"  stages, {name} (medians of {RUNS}): " +
              ", ".join(f"{k} {v * 1000:.1f} ms" for k, v in parts.items()))
    same, total, diffs = compare(df, run, theirs)
    print(f"  trade lists: {same:,} of {total:,} of ours equal in side, entry/exit bar and "
          f"prices; {len(diffs):,} difference(s)")
    for line in diffs[:SHOWN_DIFFS]:
        print(f"    {line}")
    if len(diffs) > SHOWN_DIFFS:
        print(f"    ... and {len(diffs) - SHOWN_DIFFS:,} more")


if __name__ == "__main__":
    main()
