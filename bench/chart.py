"""Speed of the alert chart (alerts.chart.render_chart): ms per PNG, target < 300 ms.

Run from the repo root: .venv/bin/python bench/chart.py [--runs 40]
Target (PASS/FAIL next to the figure): median wall time < 300 ms.
Uses real BTCUSDT 15m candles from ../shared/data when present (read-only), else a seeded walk.
"""
from __future__ import annotations

import platform
import statistics
import sys
import time
from importlib.metadata import version
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # so `import alerts` works when run as a script from anywhere

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

import choch  # noqa: E402
from alerts import signal_payload  # noqa: E402
from alerts.chart import render_chart  # noqa: E402
from bench.targets import judged  # noqa: E402

DATA = ROOT.parent / "shared" / "data" / "BTCUSDT-spot-15m.csv"
TF_MS = 15 * 60_000
RUNS = 40
TARGET_MS = 300.0


def candles() -> tuple[pd.DataFrame, str]:
    """Real 15m candles when available, else a seeded random walk."""
    if DATA.is_file():
        df = pd.read_csv(DATA)
        df = df.rename(columns={"open_time": "timestamp"})
        return df[["timestamp", "open", "high", "low", "close"]].tail(20_000), DATA.name
    rng = np.random.default_rng(7)
    close = np.cumsum(rng.normal(0, 50, 5000)) + 60_000
    open_ = np.r_[close[0], close[:-1]]
    return pd.DataFrame({"timestamp": np.arange(5000, dtype=np.int64) * TF_MS, "open": open_,
                         "high": np.maximum(open_, close) + rng.uniform(0, 40, 5000),
                         "low": np.minimum(open_, close) - rng.uniform(0, 40, 5000),
                         "close": close}), "seeded random walk"


def main(runs: int = RUNS) -> None:
    """Render one chart per recent signal, `runs` times in all, and print the timings."""
    df, source = candles()
    events = choch.scan(df, 5, 5, timeframe_ms=TF_MS)[-runs:]
    payloads = [signal_payload("BTC/USDT", "15m", e, "paper", "L5R5close", df, 5, 5)
                for e in events]
    t = time.perf_counter()
    size = len(render_chart(payloads[0]))
    cold_ms = (time.perf_counter() - t) * 1000
    times, cpu = [], []
    for i in range(runs):
        t, c = time.perf_counter(), time.process_time()
        render_chart(payloads[i % len(payloads)])
        times.append((time.perf_counter() - t) * 1000)
        cpu.append((time.process_time() - c) * 1000)
    times.sort()
    p95 = times[int(len(times) * 0.95) - 1]
    print(f"chart render, {len(payloads[0]['candles'])} candles, {source}")
    print(f"python {platform.python_version()}, matplotlib {version('matplotlib')}, "
          f"{platform.machine()}")
    print(f"first (cold, fonts loaded): {cold_ms:.0f} ms")
    median = statistics.median(times)
    print(f"warm: median {median:.0f} ms {judged(median < TARGET_MS, f'< {TARGET_MS:.0f} ms')}, "
          f"p95 {p95:.0f} ms, max {times[-1]:.0f} ms over {runs} charts; "
          f"PNG ~{size / 1024:.0f} KiB")
    # CPU time is what one render costs; wall time also counts other processes on the box.
    print(f"cpu: median {statistics.median(cpu):.0f} ms per chart")


if __name__ == "__main__":
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=RUNS)
    main(parser.parse_args().runs)
