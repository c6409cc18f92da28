"""A daemon process for the kill -9 test: start-up, then 1m slots back to back until killed.

Run as `python -m tests.app.kill9_driver`; configuration from the environment. Its fetcher reads
the exchange clock on every call, so the test moves time by moving the fake exchange's clock.
"""
from __future__ import annotations

import asyncio
import io

from alerts import ConsoleNotifier
from app import components
from app.daemon import Daemon
from app.logs import configure
from config import load_settings
from exchanges.binance import BINANCE
from exchanges.binance_client import BinanceMarketData


async def main() -> None:
    """Run slots forever; print one line per slot so the test can see progress."""
    configure("WARNING", [], json=True, stream=io.StringIO())
    settings = load_settings(dotenv_path=None)
    daemon = Daemon(settings, fetcher=BinanceMarketData(components.market_data_config(settings,
                    BINANCE), BINANCE, time_resync_s=0.0),
                    notifier=ConsoleNotifier(io.StringIO()))
    await daemon.startup()
    await daemon.trading.settled()  # the paper broker's start, in the background
    daemon.start_background()  # alert delivery drains the outbox, as in production
    print("started", flush=True)
    while True:
        summary = await daemon.run_timeframe("1m", retry_s=0)
        await daemon.reconcile()  # the reconciliation job, as the scheduler would run it
        print("slot", summary.close, flush=True)
        await asyncio.sleep(0.01)


if __name__ == "__main__":
    asyncio.run(main())
