"""Speed of the CHoCH detector: choch.scan vs smartmoneyconcepts, 1M-bar scan, streaming update.

Run from the repo root: .venv/bin/python bench/detector.py  (or `make bench`).
Every figure comes from real Binance candles in ../shared/data (read-only, never copied here).
Targets (PASS/FAIL next to each figure, and summed up at the end): choch.scan >= 100x faster
than smc at 200k bars; choch.scan on 1M bars < 1.5 s; streaming median < 10 µs per bar.
"""
from __future__ import annotations

import os
import platform
import statistics
import sys
import time
from importlib.metadata import version
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # so `import choch` works when run as a script from anywhere

# smartmoneyconcepts prints a "give us a star" banner on import unless SMC_CREDIT=0.
os.environ.setdefault("SMC_CREDIT", "0")

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from smartmoneyconcepts import smc  # noqa: E402

import choch  # noqa: E402
from bench.candles import PRICES, chained  # noqa: E402
from bench.targets import judged, verdict  # noqa: E402

DATA = ROOT.parent / "shared" / "data"
# Real series, concatenated (and cycled) in this order to reach the bar counts below.
SERIES = ("BTCUSDT-spot-15m", "BTCUSDT-spot-1m", "ETHUSDT-spot-1h", "BTCUSDT-spot-1h",
          "LTCUSDT-usdm-1m-2026-02")
START_MS = 1_704_063_600_000  # 2023-12-31 23:00 UTC, the first open of the 15m file
STEP_MS = 60_000  # one regular 1m grid: the real gaps and mixed intervals would break spacing

SWING = 5  # smc swing_length = choch left = right
COMPARE_SIZES = (50_000, 200_000)
SMC_RUNS = {50_000: 3, 200_000: 1}  # smc takes ~20 s at 200k, so a single run there
SCAN_RUNS = 5
BIG = 1_000_000
STREAM_BARS = 200_000

TARGET_RATIO = 100.0  # choch.scan at least 100x faster than smc at 200k bars
RATIO_AT = 200_000
TARGET_BIG_S = 1.5  # choch.scan on 1M bars
TARGET_STREAM_US = 10.0  # median StructureDetector.update per bar


def load_series() -> list[pd.DataFrame]:
    """The real OHLC series, or exit with a clear message when the data directory is absent."""
    missing = [s for s in SERIES if not (DATA / f"{s}.csv").is_file()]
    if missing:
        sys.exit(f"bench: real candle data not found in {DATA} "
                 f"(missing: {', '.join(missing)}.csv); "
                 "it is expected at ../shared/data relative to the repo root")
    return [pd.read_csv(DATA / f"{s}.csv", usecols=PRICES + ["volume"]) for s in SERIES]


def build_candles(series: list[pd.DataFrame], bars: int) -> pd.DataFrame:
    """`bars` real candles on this benchmark's 1m grid (see bench.candles.chained)."""
    return chained(series, bars, START_MS, STEP_MS)


def run_smc(df: pd.DataFrame) -> pd.DataFrame:
    """smartmoneyconcepts' CHoCH/BOS pipeline: swing points, then breaks on the close."""
    swings = smc.swing_highs_lows(df, swing_length=SWING)
    return smc.bos_choch(df, swings, close_break=True)


def run_choch(df: pd.DataFrame) -> list:
    """choch.scan with the matching pivot width, breaks on the close."""
    return choch.scan(df, left=SWING, right=SWING, break_on="close")


def timed(fn, arg, runs: int) -> tuple[float, object]:
    """Median wall time (s) of `runs` calls of fn(arg), and the last result."""
    times, result = [], None
    for _ in range(runs):
        t0 = time.perf_counter()
        result = fn(arg)
        times.append(time.perf_counter() - t0)
    return statistics.median(times), result


def smc_counts(res: pd.DataFrame) -> tuple[int, int]:
    """(BOS, CHoCH) counts in smc output; only broken structures keep a non-NaN flag."""
    return int(res["BOS"].notna().sum()), int(res["CHOCH"].notna().sum())


def choch_counts(events: list) -> tuple[int, int]:
    """(BOS, CHoCH) counts in choch.scan output."""
    n_choch = sum(e.kind == choch.CHOCH for e in events)
    return len(events) - n_choch, n_choch


def warm_up(series: list[pd.DataFrame]) -> None:
    """One untimed call of each path, so first-call costs (imports, caches, JIT) are excluded."""
    small = build_candles(series, 5_000)
    run_smc(small)
    run_choch(small)
    choch.StructureDetector(SWING, SWING).update_many(as_tuples(small))


def as_tuples(df: pd.DataFrame) -> list[tuple]:
    """Rows as plain Python (ts, open, high, low, close) tuples, as the daemon feeds them."""
    cols = [df[c].tolist() for c in ["timestamp"] + PRICES]
    return list(zip(*cols))


def stream_per_bar(bars: list[tuple]) -> np.ndarray:
    """Per-call StructureDetector.update time in ns (includes ~perf_counter_ns overhead)."""
    det = choch.StructureDetector(SWING, SWING)
    update, clock = det.update, time.perf_counter_ns
    out = np.empty(len(bars), dtype=np.int64)
    # GC stays enabled: the daemon runs with it, so its pauses belong in the tail.
    for i, bar in enumerate(bars):
        t0 = clock()
        update(bar)
        out[i] = clock() - t0
    return out


def stream_total(bars: list[tuple]) -> float:
    """Wall time (s) of a plain update loop over all bars, without per-call timers."""
    det = choch.StructureDetector(SWING, SWING)
    update = det.update
    t0 = time.perf_counter()
    for bar in bars:
        update(bar)
    return time.perf_counter() - t0


def machine_info() -> list[str]:
    """Lines describing the interpreter, CPU count and library versions."""
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return [
        f"- python {platform.python_version()} ({platform.python_implementation()}), "
        f"{platform.system()} {platform.machine()}, nproc {usable}",
        f"- numpy {np.__version__}, pandas {pd.__version__}, "
        f"smartmoneyconcepts {version('smartmoneyconcepts')}, numba {version('numba')}",
    ]


def main() -> None:
    """Run every measurement and print the markdown report."""
    series = load_series()
    print("# CHoCH detector benchmark\n")
    print(*machine_info(), sep="\n")
    print(f"- data: {' + '.join(SERIES)} from {DATA}, chained and rebased so each chunk opens at "
          f"the previous close, cycled as needed; regular {STEP_MS // 1000}s timestamps")
    print(f"- parameters: smc swing_length={SWING}, close_break=True; "
          f"choch.scan left=right={SWING}, break_on='close'")
    warm_up(series)
    print("- warm-up: one untimed call of each path on 5,000 bars before timing "
          "(numba JIT / first-call costs excluded; smartmoneyconcepts 0.0.27 itself imports no "
          "numba)\n")

    print("| bars | smc s | choch.scan s | speed-up | smc events (BOS/CHoCH) "
          "| choch events (BOS/CHoCH) | verdict |")
    print("|---:|---:|---:|---:|---:|---:|---|")
    ratios = {}
    for n in COMPARE_SIZES:
        df = build_candles(series, n)
        t_smc, res = timed(run_smc, df, SMC_RUNS[n])
        t_scan, events = timed(run_choch, df, SCAN_RUNS)
        ratios[n] = t_smc / t_scan
        sb, sc = smc_counts(res)
        cb, cc = choch_counts(events)
        judge = (judged(ratios[n] >= TARGET_RATIO, f">= {TARGET_RATIO:.0f}x")
                 if n == RATIO_AT else "no target at this size")
        print(f"| {n:,} | {t_smc:.3f} | {t_scan:.4f} | {ratios[n]:,.0f}x "
              f"| {sb + sc:,} ({sb:,}/{sc:,}) | {cb + cc:,} ({cb:,}/{cc:,}) | {judge} |")
    runs = ", ".join(f"{SMC_RUNS[n]} at {n:,}" for n in COMPARE_SIZES)
    print(f"\nTimes are medians: smc runs {runs} (N=1 at 200k because one run takes ~20 s); "
          f"choch.scan {SCAN_RUNS} runs. Event counts differ by definition "
          "(smc: 4-swing patterns; choch: every break of the active pivot), not compared.\n")

    big = build_candles(series, BIG)
    t_big, big_events = timed(run_choch, big, SCAN_RUNS)
    print(f"- choch.scan, {BIG:,} bars: {t_big:.3f} s (median of {SCAN_RUNS}) "
          f"{judged(t_big < TARGET_BIG_S, f'< {TARGET_BIG_S} s')}, {len(big_events):,} events")

    bars = as_tuples(big.iloc[:STREAM_BARS])
    per_bar = stream_per_bar(bars) / 1_000  # ns -> µs
    med, p99 = float(np.median(per_bar)), float(np.percentile(per_bar, 99))
    total = stream_total(bars)
    print(f"- StructureDetector.update, {STREAM_BARS:,} bars as plain tuples: median {med:.2f} µs "
          f"{judged(med < TARGET_STREAM_US, f'< {TARGET_STREAM_US:.0f} µs')}, "
          f"p99 {p99:.2f} µs, max {per_bar.max():,.0f} µs per bar (each call timed with "
          f"perf_counter_ns); plain loop {total:.3f} s total = "
          f"{total / STREAM_BARS * 1e6:.2f} µs/bar")

    print("\n## Targets\n")
    r = ratios[RATIO_AT]
    print(f"- {verdict(r >= TARGET_RATIO)}: choch.scan >= {TARGET_RATIO:.0f}x faster than smc "
          f"at {RATIO_AT:,} bars ({r:,.0f}x)")
    print(f"- {verdict(t_big < TARGET_BIG_S)}: choch.scan on {BIG:,} bars < {TARGET_BIG_S} s "
          f"({t_big:.3f} s)")
    print(f"- {verdict(med < TARGET_STREAM_US)}: streaming median < {TARGET_STREAM_US:.0f} µs/bar "
          f"({med:.2f} µs)")


if __name__ == "__main__":
    main()
