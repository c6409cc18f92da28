"""One polling cycle for N symbols x 3 timeframes against the local fake Binance, timed.

    .venv/bin/python bench/cycle.py [--symbols 200] [--latency-ms 50] [--timeframes 15m,25m,1h]

The fake answers every request after `latency` (a round trip to Binance from a VPS). The cycle
is the daemon's steady state: at 05:00:02 UTC, when 15m, 25m and 1h all close, each symbol asks
for the candles after the last one it processed. Printed: cycle time, requests per symbol per
base series, and the request weight used against Binance's 2400/min per IP.
Targets (PASS/FAIL next to each figure): cycle < 5 s; one request per symbol per base series;
weight within DATA_WEIGHT_PER_MIN (itself under Binance's 2400/min); every closed candle out.
"""
from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import sys
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from app import components
from bench.targets import judged
from config import load_settings
from exchanges.binance import BINANCE
from exchanges.binance_client import BinanceMarketData
from exchanges.ccxt_market_data import CONCURRENCY
from fetchers.adapter import TimeframeAdapter
from fetchers.timeframes import plan
from tests.fakes.binance_data import FakeBinance, Listing

BINANCE_LIMIT = 2400  # request weight per minute per IP on Binance USD-M
AT = 1_770_786_002_000  # 2026-02-11 05:00:02 UTC: 15m, 25m and 1h candles all just closed


def _serve(conn, symbols: int, latency_ms: float) -> None:
    """Child process: run the fake (Binance's CPU is not ours), report its request log."""
    async def serve():
        listings = [Listing(f"S{i:03d}USDT", quote_volume=1e9 - i) for i in range(symbols)]
        fake = FakeBinance(listings=listings, now_ms=AT, latency_s=latency_ms / 1000)
        await fake.start()
        conn.send(fake.url)
        loop = asyncio.get_running_loop()
        while (await loop.run_in_executor(None, conn.recv)) == "requests":
            conn.send(list(fake.requests))
        await fake.close()

    asyncio.run(serve())


class RemoteFake:
    """The fake in a child process, so its CPU time does not count as the daemon's."""

    def __init__(self, symbols: int, latency_ms: float) -> None:
        self.conn, child = multiprocessing.Pipe()
        self.process = multiprocessing.Process(target=_serve, args=(child, symbols, latency_ms),
                                               daemon=True)
        self.process.start()
        self.url = self.conn.recv()

    @property
    def requests(self):
        """The child's request log so far."""
        self.conn.send("requests")
        return self.conn.recv()

    def close(self) -> None:
        """Stop the child."""
        self.conn.send("stop")
        self.process.join(5)


async def run(symbols: int, latency_ms: float, timeframes: list[str]) -> int:
    """Run the bench; returns a process exit status (1 when a target is missed)."""
    fake = RemoteFake(symbols, latency_ms)
    settings = load_settings({"BINANCE_DATA_URL": fake.url, "SYMBOLS": "ALL",
                              "MIN_VOLUME_24H": "0", "MAX_PAIRS": str(symbols),
                              "LOG_LEVEL": "WARNING"}, dotenv_path=None)
    fetcher = BinanceMarketData(components.market_data_config(settings, BINANCE), BINANCE)
    try:
        await fetcher.start()
        universe = await components.watched_symbols(settings, fetcher)()  # hourly: untimed
        await fetcher.server_time_ms()
        adapter = TimeframeAdapter(fetcher)
        # Incremental: each timeframe wants the candle after the last processed one, i.e.
        # the one that just closed (its open = AT rounded down, minus one bucket).
        plans = [plan(tf, BINANCE.native_timeframes) for tf in timeframes]
        wanted = {p.timeframe: (AT - AT % p.bucket_ms) - p.bucket_ms for p in plans}
        before = len(fake.requests)
        started = time.perf_counter()
        results = await asyncio.gather(*(adapter.poll(s, wanted, 1) for s in universe))
        elapsed = time.perf_counter() - started
        cycle = fake.requests[before:]
    finally:
        await fetcher.close()
        fake.close()
    bases = sorted({p.base for p in plans})
    per = Counter((r.params.get("symbol"), r.params.get("interval")) for r in cycle
                  if r.path == "/fapi/v1/klines")
    weight = sum(r.weight for r in cycle)
    new = sum(len(frame) for out in results for frame in out.values())
    expected = len(universe) * len(timeframes)
    fast = elapsed < 5
    once = max(per.values()) == 1 and len(per) == len(universe) * len(bases)
    light = weight <= settings.data_weight_per_min
    print(f"symbols x timeframes : {len(universe)} x {len(timeframes)} ({','.join(timeframes)}),"
          f" base series {','.join(bases)}")
    print(f"latency per request  : {latency_ms:.0f} ms, concurrency {CONCURRENCY}")
    print(f"cycle time           : {elapsed:.2f} s {judged(fast, '< 5 s')}")
    print(f"requests             : {len(cycle)} ({len(cycle) / len(universe):.2f} per symbol;"
          f" per symbol per base series: max {max(per.values())}, min {min(per.values())}) "
          f"{judged(once, '1 per symbol per base series')}")
    print(f"request weight       : {weight} of Binance's {BINANCE_LIMIT}/min per IP "
          f"({100 * weight / BINANCE_LIMIT:.0f}%) "
          f"{judged(light, f'<= DATA_WEIGHT_PER_MIN {settings.data_weight_per_min}')}")
    print(f"closed candles out   : {new} {judged(new == expected, f'= {expected}')}")
    ok = fast and once and light and new == expected
    print("targets              :", "all PASS" if ok else "FAIL")
    return 0 if ok else 1


def main() -> int:
    """Command line entry point."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--symbols", type=int, default=200)
    ap.add_argument("--latency-ms", type=float, default=50.0)
    ap.add_argument("--timeframes", default="15m,25m,1h")
    args = ap.parse_args()
    return asyncio.run(run(args.symbols, args.latency_ms, args.timeframes.split(",")))


if __name__ == "__main__":
    sys.exit(main())
