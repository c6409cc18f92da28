"""Local latency from a signal to the entry request leaving the process, over 1,000 signals.

Run from the repo root: .venv/bin/python bench/trading.py [--signals 1000]
Target (PASS/FAIL next to the figure): p99 < 50 ms.
The manager trades through the real BinanceTrading (ccxt binanceusdm) against the local
fake exchange (tests/fakes/binance_trading.py) with the state DB on disk (WAL, synchronous=FULL).
The clock stops when ccxt hands the signed POST /fapi/v1/order to its HTTP session, so network
time and the exchange's answer are not counted; ccxt's own rate limiter is off (it would add
deliberate waits that are not processing).
"""
from __future__ import annotations

import asyncio
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import structlog  # noqa: E402

from app import components  # noqa: E402
from bench.targets import judged  # noqa: E402
from choch import Event  # noqa: E402
from config import load_settings  # noqa: E402
from exchanges.binance import BINANCE  # noqa: E402
from exchanges.binance_client import BinanceTrading  # noqa: E402
from store import NewSignal, Store  # noqa: E402
from tests.fakes.binance_trading import API_KEY, SECRET, FakeBinanceTrading  # noqa: E402
from trading.notices import outcome_text  # noqa: E402
from trading.outcomes import OutcomeKind  # noqa: E402

SIGNALS = 1000
TF_MS = 15 * 60_000
TARGET_P99_MS = 50.0


async def main(signals: int = SIGNALS) -> None:
    """Open and close `signals` positions; time signal -> entry request for each."""
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(40))
    fake = FakeBinanceTrading(balance=1e12)
    url = await fake.start()
    settings = load_settings({
        "ENABLE_TRADING": "1", "DEMO_TRADING": "1", "BINANCE_API_KEY_DEMO": API_KEY,
        "BINANCE_SECRET_DEMO": SECRET, "BINANCE_TRADING_URL": url, "SYMBOLS": "BTC/USDT",
        "MAX_DAILY_TRADES": "0"}, dotenv_path=None)
    with tempfile.TemporaryDirectory() as tmp:
        store = Store(Path(tmp) / "bench.db")
        broker = BinanceTrading(components.trading_config(settings, BINANCE), BINANCE,
                                rate_limit=False)
        manager = components.position_manager(settings, store, broker)
        await manager.start(["BTC/USDT"])
        sent_at: list[float] = []
        real_fetch = broker.exchange.fetch

        async def timed_fetch(url, method="GET", headers=None, body=None):
            if method == "POST" and url.endswith("/fapi/v1/order") and "reduceOnly" not in (
                    body or ""):
                sent_at.append(time.perf_counter())
            return await real_fetch(url, method, headers, body)

        broker.exchange.fetch = timed_fetch
        latencies = []
        for i in range(signals):
            now = int(time.time() * 1000)
            event = Event("CHOCH", "bullish", 49950.0, 1_000_000 + i, now - TF_MS, now,
                          49000.0, 50000.0)
            signal, = store.commit_candles("BTC/USDT", "15m", "L5R5close", {}, now - TF_MS,
                                           [NewSignal(event, False, "pending", None)], now,
                                           venue=settings.data_exchange)
            start = time.perf_counter()
            result = await manager.on_signal(signal, TF_MS)
            assert result.kind is OutcomeKind.OPENED, outcome_text(result)
            latencies.append((sent_at[-1] - start) * 1000)
            await manager.close_position("BTC/USDT")
        await manager.close_session()
        store.close()
    await fake.stop()
    latencies.sort()
    p50 = statistics.median(latencies)
    p99 = latencies[max(0, int(len(latencies) * 0.99) - 1)]
    print(f"signal -> entry request leaves the process, {signals} signals "
          f"({platform.python_version()}, {platform.machine()}):")
    print(f"  p50 {p50:.2f} ms   p99 {p99:.2f} ms "
          f"{judged(p99 < TARGET_P99_MS, f'p99 < {TARGET_P99_MS:.0f} ms')}   "
          f"max {latencies[-1]:.2f} ms")


if __name__ == "__main__":
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--signals", type=int, default=SIGNALS)
    asyncio.run(main(parser.parse_args().signals))
