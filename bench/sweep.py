"""Speed of a sweep: 100 symbols x 27 parameter sets over one month of 1m candles each, 2 cores.

Run from the repo root: .venv/bin/python bench/sweep.py
The candles are real: the shared 1m series (../shared/data, read-only) re-timed and chained into
one year (as bench/backtest.py does); symbol k is the month starting k x 4,800 bars in, its prices
scaled by (1 + k / 1000) so that no two symbols are the same series. Building them is not timed;
the sweep is timed whole: worker start, shipping the candles, detect + simulate + metrics,
aggregation and ranking.
Figures: wall time and backtests per second on 2 local processes (joblib, loky), and the same
sweep in one process for the speed-up. Target (PASS/FAIL): speed-up >= 1.5x on 2 cores. Ideal is
2x; the 0.5x allowed covers starting the workers, shipping the candles once per symbol and the
serial aggregation. Below it, overhead and not the backtests would set the pace, and more cores
(or a Dask cluster) would not help.
"""
from __future__ import annotations

import os
import platform
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from backtest import sweep  # noqa: E402
from bench.backtest import PRICES, TF_MS, build_year  # noqa: E402
from bench.targets import judged  # noqa: E402
from trading.rules import TradeRules  # noqa: E402

SYMBOLS = 100
MONTH = 43_200  # 30 days of 1m
STRIDE = 4_800  # bars between two symbols' starts: 99 x 4,800 + 43,200 fits in the year
GRID = ["left=3,5,8", "right=3,5,8", "risk_reward=1.5,2,3"]
JOBS = 2
TARGET_SPEEDUP = 1.5
BASE = {"left": 5, "right": 5, "break_on": "close", "trade_on": frozenset({"CHOCH"}),
        "risk_reward": 2.0, "on_opposite": "reverse", "fee_rate": 0.0005, "slippage_bps": 0.0}


class InProcess:
    """One process, no workers: the baseline the speed-up is measured against."""

    def put(self, candles):
        return candles

    def run(self, tasks):
        return [sweep.run_group(*t) for t in tasks]


def symbols() -> list[sweep.SweepFile]:
    """SYMBOLS one-month series cut from the re-timed real year (see the module docstring)."""
    year = build_year()
    out = []
    for k in range(SYMBOLS):
        month = year.iloc[k * STRIDE: k * STRIDE + MONTH].reset_index(drop=True)
        month[PRICES] *= 1 + k / 1000
        month["timestamp"] -= int(month["timestamp"].iat[0]) - int(year["timestamp"].iat[0])
        out.append(sweep.SweepFile(month, f"SYM{k:03d}USDT", "1m", TF_MS))
    return out


def timed(files, combos, executor=None) -> tuple[float, list[dict]]:
    """(wall seconds, ranked rows) of one whole sweep."""
    start = time.perf_counter()
    if executor is None:
        rows = sweep.run_sweep(files, combos, TradeRules(), jobs=JOBS)
    else:
        rows = sweep.sweep(files, combos, TradeRules(), executor)
    return time.perf_counter() - start, rows


def main() -> None:
    """Print the figures with PASS/FAIL."""
    files = symbols()
    combos = sweep.combinations(sweep.parse_grid(GRID), BASE)
    runs = len(files) * len(combos)
    bars = sum(len(f.candles) for f in files)
    load = os.getloadavg()[0]  # other work on the same cores lowers the speed-up
    parallel, rows = timed(files, combos)
    serial, same = timed(files, combos, InProcess())
    speedup = serial / parallel
    print(f"sweep: {len(files)} symbols x {len(combos)} parameter sets = {runs:,} backtests, "
          f"{bars:,} 1m bars in all ({MONTH:,} each; real candles re-timed), grid "
          f"{' '.join(GRID)} (Python {platform.python_version()}, {platform.machine()}, "
          f"{os.cpu_count()} cores seen, load average {load:.2f} before the run):")
    print(f"  {JOBS} local processes (joblib, loky): {parallel:.2f} s wall, "
          f"{runs / parallel:,.0f} backtests/s")
    print(f"  one process, no workers: {serial:.2f} s wall, {runs / serial:,.0f} backtests/s")
    verdict = judged(speedup >= TARGET_SPEEDUP, f">= {TARGET_SPEEDUP}x")
    print(f"  speed-up: {speedup:.2f}x {verdict}")
    print(f"  both rankings identical: {rows == same}; best: left={rows[0]['left']} "
          f"right={rows[0]['right']} risk_reward={rows[0]['risk_reward']:g}, "
          f"{rows[0]['trades']:,} trades, net_pnl {rows[0]['net_pnl']:,.2f} USDT")


if __name__ == "__main__":
    main()
