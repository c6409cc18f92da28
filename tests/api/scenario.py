"""A scripted run of the real daemon, with its API on, over the local fake exchange.

The candles are a seeded random walk (no shared data needed), so the run is the same everywhere:
after the warm-up it records CHoCH/BOS signals, paper-trades them, and closes some positions on
their stop or target. Alerts go to a console notifier kept in memory (Telegram's flood limits
would make the run slow), while the settings still hold a bot token that must never be shown.
"""
from __future__ import annotations

import asyncio
import io
import socket
from dataclasses import dataclass
from typing import Any

import aiohttp
import numpy as np
import pandas as pd

from alerts import ConsoleNotifier
from app import components
from app.daemon import Daemon
from config import load_settings
from exchanges.binance import BINANCE
from exchanges.binance_client import BinanceMarketData
from tests.fakes.binance_data import FakeBinance
from tests.fakes.telegram_api import TOKEN

MINUTE = 60_000
START_MS = 1_767_225_600_000  # 2026-01-01 00:00 UTC
WARMUP = 200
STEPS = 150
SEED = 11
USER = "operator"
PASSWORD = "correct-horse-battery-staple-42"
# Made-up secrets: no API response may contain any of them.
SECRETS = {"BINANCE_API_KEY": "prodKeyAPItest0123456789",
           "BINANCE_SECRET": "prodSecretAPItest987654",
           "BINANCE_API_KEY_DEMO": "demoKeyAPItest55555",
           "BINANCE_SECRET_DEMO": "demoSecretAPI77777",
           "TELEGRAM_BOT_TOKEN": TOKEN, "TELEGRAM_CHAT_ID": "424242", "API_PASSWORD": PASSWORD}


def scripted_candles(n: int = WARMUP + STEPS + 40, seed: int = SEED) -> pd.DataFrame:
    """Minute candles of a seeded random walk around 100 (valid OHLC, aligned open times)."""
    rng = np.random.default_rng(seed)
    mid = 100 + np.cumsum(rng.normal(0, 0.4, n))
    o = np.round(mid + rng.normal(0, 0.2, n), 2)
    c = np.round(mid + rng.normal(0, 0.2, n), 2)
    h = np.round(np.maximum(o, c) + np.abs(rng.normal(0, 0.15, n)), 2)
    lo = np.round(np.minimum(o, c) - np.abs(rng.normal(0, 0.15, n)), 2)
    ts = START_MS + np.arange(n, dtype=np.int64) * MINUTE
    return pd.DataFrame({"timestamp": ts, "open": o, "high": h, "low": lo, "close": c,
                         "volume": np.full(n, 1000.0)})


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Run:
    """A daemon serving its API after a scripted replay, and what it ran against."""

    daemon: Daemon
    exchange: FakeBinance
    alerts: io.StringIO
    url: str
    serving: asyncio.Task

    def auth(self, password: str = PASSWORD, user: str = USER) -> dict:
        """An HTTP Basic Authorization header (the right credentials unless told otherwise)."""
        return {"Authorization": aiohttp.encode_basic_auth(user, password)}


def settings_for(exchange_url: str, state_db: str, port: int, **extra: str):
    """The run's settings: paper trading, one stream, the API on a loopback port, control on."""
    env = {"BINANCE_DATA_URL": exchange_url,
           "SYMBOLS": "LTC/USDT", "TIMEFRAMES": "1m", "STATE_DB": state_db,
           "WARMUP_BARS": str(WARMUP), "FETCH_DELAY_S": "0", "SLOT_RETRY_S": "0",
           "FETCH_TIMEOUT_S": "2", "FETCH_CYCLE_BUDGET_S": "1", "CHART": "0",
           "TRADE_ON": "CHOCH,BOS", "API_LISTEN": f"127.0.0.1:{port}", "API_USERNAME": USER,
           "API_CONTROL": "1", **SECRETS, **extra}
    return load_settings(env, dotenv_path=None)


async def until(check, timeout_s: float, what: str) -> None:
    """Wait (polling) until check() is true."""
    for _ in range(int(timeout_s / 0.02)):
        if check():
            return
        await asyncio.sleep(0.02)
    raise AssertionError(f"timed out waiting for {what}")


async def start_run(tmp_path, steps: int = STEPS) -> Run:
    """Start the daemon (serve(), as `main.py run` does), replay `steps` minutes, drain alerts."""
    candles = scripted_candles()
    exchange = FakeBinance(candles={("LTCUSDT", "1m"): candles},
                           now_ms=START_MS + (WARMUP + 1) * MINUTE + 1_000)
    await exchange.start()
    port = free_port()
    settings = settings_for(exchange.url, str(tmp_path / "state.db"), port)
    clock = lambda: exchange.now_ms() / 1000 - 3.0  # noqa: E731 - host 3 s behind the exchange
    alerts = io.StringIO()
    daemon = Daemon(settings, fetcher=BinanceMarketData(components.market_data_config(settings,
                    BINANCE), BINANCE, clock=clock),
                    clock=clock,
                    notifier=ConsoleNotifier(alerts))
    serving = asyncio.create_task(daemon.serve())
    run = Run(daemon, exchange, alerts, f"http://127.0.0.1:{port}", serving)
    await until(lambda: daemon.scheduler is not None, 60, "the daemon to be ready")
    daemon.scheduler.pause()  # the test moves time, not the wall clock (still `running`)
    for _ in range(steps):
        exchange.advance(MINUTE)
        await daemon.run_timeframe("1m", retry_s=0)
    await until(lambda: not daemon.store.outbox_counts().get("pending"), 30, "alerts sent")
    return run


async def stop_run(run: Run) -> Any:
    """Stop the daemon as SIGTERM would, and the fakes; returns serve()'s exit status."""
    run.daemon.stop.set()
    try:
        return await asyncio.wait_for(run.serving, 30)
    finally:
        await run.exchange.close()
