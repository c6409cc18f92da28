"""Daemon latency and memory: 50 symbols x 2 timeframes against the local fake exchange.

Run from the repo root: .venv/bin/python bench/daemon.py [--cycles 1000]

The exchange clock is simulated (each cycle moves it one minute), so the wait between a candle's
close and the job is exactly FETCH_DELAY_S as the scheduler would fire it; everything after that
(HTTP to the fake on 127.0.0.1 through real ccxt, detection, the SQLite commit, the outbox and the
notifier hand-off) is measured in real time. Latency = FETCH_DELAY_S + measured real time.
Candles: the real LTCUSDT USD-M 1m month from ../shared/data, a different window per symbol.
The fake runs in a child process: neither its CPU time nor its memory is counted as the daemon's.
ccxt's per-minute weight limiter is switched off after start-up: simulated minutes pass much
faster than real ones here, and a steady cycle's weight is far below the cap in real operation.
"""
from __future__ import annotations

import argparse
import asyncio
import io
import multiprocessing
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import pandas as pd  # noqa: E402

from alerts import ConsoleNotifier  # noqa: E402
from app.daemon import Daemon  # noqa: E402
from app.logs import configure  # noqa: E402
from config import load_settings  # noqa: E402
from fetchers import BinanceFetcher  # noqa: E402
from tests.fakes.binance_data import FakeBinance, Listing, resample  # noqa: E402

DATA = ROOT.parent / "shared" / "data" / "LTCUSDT-usdm-1m-2026-02.csv"
SYMBOLS = 50
MINUTE = 60_000
DELAY_S = 2.0
WARMUP = 300
TARGET_P99_S = DELAY_S + 1.0
TARGET_RSS_GROWTH = 0.05
TARGET_RSS_MB = 250


def rss_mb() -> float:
    """Resident set size of this process, from /proc."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def series(cycles: int) -> dict:
    """Per symbol: real 1m candles (a window of the month), re-timed onto one common clock."""
    month = pd.read_csv(DATA).rename(columns={"open_time": "timestamp"})
    month = month[["timestamp", "open", "high", "low", "close", "volume"]]
    need = WARMUP * 5 + cycles + 10
    start = int(month["timestamp"].iloc[0])
    out = {}
    for i in range(SYMBOLS):
        offset = (i * 613) % (len(month) - need)
        part = month.iloc[offset:offset + need].reset_index(drop=True).copy()
        part["timestamp"] = start + part.index.to_numpy() * MINUTE
        sym = f"X{i:02d}USDT"
        out[(sym, "1m")] = part
        out[(sym, "5m")] = resample(part, "5m")
    return out


def _serve(conn, cycles: int) -> None:
    """Child process: the fake exchange, its clock moved by the parent through a pipe."""
    async def serve():
        candles = series(cycles)
        first = int(next(iter(candles.values()))["timestamp"].iloc[0])
        fake = FakeBinance(candles=candles,
                           listings=[Listing(s) for s, tf in candles if tf == "1m"],
                           now_ms=first + WARMUP * 5 * MINUTE + int(DELAY_S * 1000))
        await fake.start()
        conn.send((fake.url, fake.now_ms(), [s for s, tf in candles if tf == "1m"]))
        loop = asyncio.get_running_loop()
        while (command := await loop.run_in_executor(None, conn.recv)) != "stop":
            fake.advance(command)
            fake.requests.clear()
            conn.send(fake.now_ms())
        await fake.close()

    asyncio.run(serve())


class RemoteFake:
    """The fake exchange in a child process, with a mirror of its frozen clock."""

    def __init__(self, cycles: int) -> None:
        self.conn, child = multiprocessing.Pipe()
        self.process = multiprocessing.Process(target=_serve, args=(child, cycles), daemon=True)
        self.process.start()
        self.url, self.now, self.symbols = self.conn.recv()

    def now_ms(self) -> int:
        """The exchange clock (as last set)."""
        return self.now

    def advance(self, ms: int) -> None:
        """Move the exchange clock forward (waits for the child to apply it)."""
        self.conn.send(ms)
        self.now = self.conn.recv()

    def close(self) -> None:
        """Stop the child."""
        self.conn.send("stop")
        self.process.join(timeout=10)


async def main(cycles: int, rss_every: int = 0) -> None:
    configure("WARNING", [], json=True, stream=io.StringIO())
    fake = RemoteFake(cycles)
    tmp = tempfile.mkdtemp()
    settings = load_settings({
        "BINANCE_DATA_URL": fake.url, "SYMBOLS": ",".join(fake.symbols),
        "TIMEFRAMES": "1m,5m", "STATE_DB": f"{tmp}/state.db", "WARMUP_BARS": str(WARMUP),
        "FETCH_DELAY_S": str(DELAY_S), "SLOT_RETRY_S": "0", "CHART": "0"}, dotenv_path=None)
    clock = lambda: fake.now_ms() / 1000  # noqa: E731
    # The console notifier: no Telegram rate limit, so the figure is the daemon's own latency.
    notifier = ConsoleNotifier(io.StringIO())
    daemon = Daemon(settings, fetcher=BinanceFetcher(settings, clock=clock), notifier=notifier,
                    clock=clock)
    await daemon.startup()
    # Simulated minutes pass in well under a real second here, so ccxt's per-minute weight
    # limiter (DATA_WEIGHT_PER_MIN) would throttle this loop; in real operation a steady cycle
    # (about 100 weight) is far below the cap and never waits on it. Off for the measurement.
    daemon.fetcher.exchange.enableRateLimit = False
    daemon.start_background()
    recorded: list[float] = []
    handed: list[float] = []
    real_commit = daemon.store.commit_candles

    def timed_commit(*args, **kwargs):
        rows = real_commit(*args, **kwargs)
        recorded.extend([time.perf_counter()] * len(rows))
        return rows

    daemon.store.commit_candles = timed_commit
    signal_sent: list[float] = []  # when a signal's alert was accepted by the notifier
    real_sent = daemon.store.mark_sent

    def timed_sent(row_id, now_ms):
        real_sent(row_id, now_ms)
        if daemon.store.outbox_row(row_id).topic == "signal":
            signal_sent.append(time.perf_counter())

    daemon.store.mark_sent = timed_sent
    rss10 = None
    for k in range(cycles):
        fake.advance(MINUTE)  # now = this minute's close + FETCH_DELAY_S
        close_now = fake.now_ms() - int(DELAY_S * 1000)
        t0 = time.perf_counter()  # the moment the scheduler fires: close + FETCH_DELAY_S
        rec0, hand0 = len(recorded), len(signal_sent)
        jobs = [daemon.run_timeframe("1m", retry_s=0)]
        if close_now % (5 * MINUTE) == 0:
            jobs.append(daemon.run_timeframe("5m", retry_s=0))
        await asyncio.gather(*jobs)
        deadline = time.perf_counter() + 5.0
        while len(signal_sent) - hand0 < len(recorded) - rec0 and time.perf_counter() < deadline:
            await asyncio.sleep(0.001)  # delivery runs as its own task, woken by the daemon
        recorded[rec0:] = [DELAY_S + t - t0 for t in recorded[rec0:]]
        handed.extend(DELAY_S + t - t0 for t in signal_sent[hand0:])
        if k + 1 == 10:
            rss10 = rss_mb()
        if rss_every and (k + 1) % rss_every == 0:
            print(f"cycle {k + 1}: RSS {rss_mb():.1f} MB", flush=True)
    rss_end = rss_mb()
    await daemon.shutdown()
    fake.close()

    def pct(xs, q):
        return statistics.quantiles(xs, n=100)[q - 1] if len(xs) > 1 else float("nan")

    print(f"daemon bench: {SYMBOLS} symbols x 2 timeframes (1m, 5m), {cycles} cycles, "
          f"FETCH_DELAY_S={DELAY_S}")
    print(f"{'from candle close to':<28}{'n':>6}{'p50 s':>10}{'p99 s':>10}{'target p99':>12}")
    for name, xs in (("signal recorded", recorded), ("alert accepted by notifier", handed)):
        print(f"{name:<28}{len(xs):>6}{pct(xs, 50):>10.3f}{pct(xs, 99):>10.3f}"
              f"{'<= ' + format(TARGET_P99_S, '.1f'):>12}")
    growth = (rss_end - rss10) / rss10
    print(f"RSS after 10 cycles {rss10:.1f} MB, after {cycles} cycles {rss_end:.1f} MB: "
          f"growth {growth:+.1%} (target < {TARGET_RSS_GROWTH:.0%}, under {TARGET_RSS_MB} MB)")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cycles", type=int, default=1000)
    parser.add_argument("--rss-every", type=int, default=0, help="also print RSS every N cycles")
    args = parser.parse_args()
    asyncio.run(main(args.cycles, args.rss_every))
