"""Speed of a sweep: 100 symbols x 27 parameter sets over a year of 15m candles each, every core.

Run from the repo root: .venv/bin/python bench/sweep.py
The candles are real: the shared 15m and 1h series (../shared/data, read-only) re-timed onto one
15m grid and chained (as bench/backtest.py does); symbol k is the year starting k x STRIDE bars
in, its prices scaled by (1 + k / 1000) so that no two symbols are the same series. Building
them is not timed; a sweep is timed whole: shipping the candles, detect + simulate + metrics,
aggregation and ranking (what `main.py backtest --grid` runs).
The machine is shared, so serial and parallel runs alternate, PAIRS pairs: one process without
workers, then the persistent pool of JOBS worker processes (started once, before the pairs, and
timed on its own). One sweep each way runs before the pairs, timed on its own too: a process's
first sweep allocates what later ones reuse (the shared-memory arena on the parallel side, the
buffer the results are joined in on both), which would otherwise fall on the first pair only.
Each pair prints wall times, the speed-up and the CPU efficiency (serial CPU / CPU of the main
process and the workers during the parallel run). A spin loop run once and then on every worker
at the same time calibrates what the cores give right now, so a loaded machine does not pass
for slow code. Targets (PASS/FAIL): speed-up >= 0.8 x the calibrated speed-up;
the parallel sweep < 60 s.
"""
from __future__ import annotations

import os
import platform
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import pandas as pd  # noqa: E402

from backtest import sweep  # noqa: E402
from backtest.sweep_work import pool, warm, workers  # noqa: E402
from bench.candles import PRICES, chained  # noqa: E402
from bench.targets import judged  # noqa: E402
from trading.rules import TradeRules  # noqa: E402

DATA = ROOT.parent / "shared" / "data"
SERIES = ("BTCUSDT-spot-15m", "ETHUSDT-spot-1h", "BTCUSDT-spot-1h")
SYMBOLS = 100
YEAR = 35_040  # 365 days of 15m
STRIDE = 1_000  # bars between two symbols' starts
TF_MS = 15 * 60_000
START_MS = 1_735_689_600_000  # 2025-01-01 00:00 UTC
GRID = ["left=3,5,8", "right=3,5,8", "risk_reward=1.5,2,3"]
JOBS = -1  # every core, as --jobs defaults to
PAIRS = 3
SPIN = 20_000_000
TARGET_SHARE = 0.8
TARGET_S = 60.0
BASE = {"left": 5, "right": 5, "break_on": "close", "trade_on": frozenset({"CHOCH"}),
        "risk_reward": 2.0, "on_opposite": "reverse", "fee_rate": 0.0005, "slippage_bps": 0.0}


def symbols() -> list[sweep.SweepFile]:
    """SYMBOLS one-year 15m series cut from the re-timed real chain (see the docstring)."""
    missing = [s for s in SERIES if not (DATA / f"{s}.csv").is_file()]
    if missing:
        sys.exit(f"bench: real candle data not found in {DATA} (missing: {', '.join(missing)})")
    series = [pd.read_csv(DATA / f"{s}.csv", usecols=PRICES) for s in SERIES]
    chain = chained(series, YEAR + (SYMBOLS - 1) * STRIDE, START_MS, TF_MS)
    out = []
    for k in range(SYMBOLS):
        year = chain.iloc[k * STRIDE: k * STRIDE + YEAR].reset_index(drop=True)
        year[PRICES] *= 1 + k / 1000
        year["timestamp"] -= int(year["timestamp"].iat[0]) - START_MS
        out.append(sweep.SweepFile(year, f"SYM{k:03d}USDT", "15m", TF_MS))
    return out


def spin(n: int) -> float:
    """Pure-Python busy loop: what one core gives, in seconds of wall time."""
    start = time.perf_counter()
    x = 0
    for i in range(n):
        x += i
    return time.perf_counter() - start


def children_cpu() -> float:
    """CPU seconds (user + system) used so far by this process's live child processes."""
    me, total, tick = str(os.getpid()), 0, os.sysconf("SC_CLK_TCK")
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # exited meanwhile
        if fields[1] == me:  # ppid
            total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / tick


def calibrate(n: int) -> tuple[float, float, float]:
    """(one spin alone, one spin per worker at once: wall, CPU efficiency): what the cores give
    right now, in speed-up (n x alone / together) and in CPU (n x alone CPU / together CPU)."""
    cpu = time.process_time()
    alone = spin(SPIN)
    alone_cpu = time.process_time() - cpu
    kids, start = children_cpu(), time.perf_counter()
    list(pool(JOBS).map(spin, [SPIN] * n))
    together = time.perf_counter() - start
    return alone, together, n * alone_cpu / max(children_cpu() - kids, 1e-9)


def timed(files, combos, parallel: bool) -> tuple[float, float, list[dict]]:
    """(wall seconds, CPU seconds of this process and its workers, ranked rows) of one sweep."""
    cpu0, kids0, start = time.process_time(), children_cpu(), time.perf_counter()
    if parallel:
        rows = sweep.run_sweep(files, combos, TradeRules(), jobs=JOBS, small=0)
    else:
        rows = sweep.sweep(files, combos, TradeRules(), sweep.InProcess())
    wall = time.perf_counter() - start
    return wall, time.process_time() - cpu0 + children_cpu() - kids0, rows


def main() -> None:
    """Print the figures with PASS/FAIL."""
    files = symbols()
    combos = sweep.combinations(sweep.parse_grid(GRID), BASE)
    n = workers(JOBS)
    runs, bars = len(files) * len(combos), sum(len(f.candles) for f in files)
    print(f"sweep: {len(files)} symbols x {len(combos)} parameter sets = {runs:,} backtests, "
          f"{bars:,} 15m bars in all ({YEAR:,} each, real candles re-timed), grid "
          f"{' '.join(GRID)} (Python {platform.python_version()}, {platform.machine()}, "
          f"{os.cpu_count()} cores seen, load average {os.getloadavg()[0]:.2f}):")
    warm()
    start = time.perf_counter()
    list(pool(JOBS).map(abs, range(n * 4)))  # starts the workers; each loads the compiled loop
    print(f"  pool of {n} workers started, compiled loop loaded in each: "
          f"{time.perf_counter() - start:.2f} s (once per process lifetime, not in the pairs)")
    first_serial, _, _ = timed(files, combos, parallel=False)
    first_parallel, _, _ = timed(files, combos, parallel=True)
    print(f"  first sweep of this process, each way (not in the pairs, so that neither arm of the "
          f"first pair pays the process's one-time allocations): serial {first_serial:.2f} s, "
          f"parallel {first_parallel:.2f} s")
    speedups, shares, walls, effs = [], [], [], []
    same = True
    for k in range(PAIRS):
        alone, together, spin_eff = calibrate(n)
        cores = n * alone / together
        serial, serial_cpu, rows_serial = timed(files, combos, parallel=False)
        par, par_cpu, rows = timed(files, combos, parallel=True)
        same &= rows == rows_serial
        speedup, eff = serial / par, serial_cpu / par_cpu
        speedups.append(speedup)
        shares.append(speedup / cores)
        walls.append(par)
        effs.append(eff)
        print(f"  pair {k + 1}: spin calibration {cores:.2f}x ({n} x {alone:.2f} s alone, "
              f"{together:.2f} s together; CPU efficiency {spin_eff:.2f}); serial "
              f"{serial:.2f} s ({runs / serial:,.0f} backtests/s), parallel {par:.2f} s "
              f"({runs / par:,.0f} backtests/s): speed-up {speedup:.2f}x = "
              f"{speedup / cores:.2f} of the calibrated; CPU efficiency {eff:.2f} "
              f"({serial_cpu:.1f} s serial / {par_cpu:.1f} s parallel)")
    share, wall = statistics.median(shares), statistics.median(walls)
    print(f"  median speed-up {statistics.median(speedups):.2f}x, "
          f"{share:.2f} of the calibrated core speed-up "
          f"{judged(share >= TARGET_SHARE, f'>= {TARGET_SHARE}')}; CPU efficiency "
          f"{statistics.median(effs):.2f}")
    verdict = judged(wall < TARGET_S, f"< {TARGET_S:.0f} s")
    print(f"  parallel sweep, median: {wall:.2f} s {verdict}")
    print(f"  rankings identical serial and parallel: {same}; best: left={rows[0]['left']} "
          f"right={rows[0]['right']} risk_reward={rows[0]['risk_reward']:g}, "
          f"{rows[0]['trades']:,} trades, net_pnl {rows[0]['net_pnl']:,.2f} USDT")


if __name__ == "__main__":
    main()
