"""The commands that reach an exchange: `run`, `check` and `scan --symbol` (all load ccxt)."""
from __future__ import annotations

import argparse
import asyncio
import sys

import pandas as pd
import structlog

from app.components import fetch_history
from config import Settings
from exchanges import registry
from exchanges.errors import ExchangeUnavailable
from fetchers.replay_book import ReplaySourceError
from store import StateDbError
from trading import LiveTradingRefused

from . import banner, daemon, preflight, scan
from .logs import configure, settings_secrets

log = structlog.get_logger(__name__)
EXIT_FAILED = 1


def run(settings: Settings) -> int:
    """`main.py run`: the daemon until a stop signal; its exit status."""
    return asyncio.run(serve(settings))


async def serve(settings: Settings) -> int:
    """Print the setup, then serve until stopped."""
    configure(settings.log_level, settings_secrets(settings))
    for line in banner.describe(settings):
        print(line, file=sys.stderr)
    log.info("daemon_starting", mode=banner.trading_mode(settings),
             symbols=list(settings.symbols), timeframes=list(settings.timeframes))
    try:
        service = daemon.Daemon(settings)
    except StateDbError as e:
        # Before any request: a broken or busy state DB is not fixed by a restart.
        log.error("state_db_unusable", state_db=settings.state_db, problem=str(e))
        print(f"start-up failed: STATE_DB={settings.state_db}: {e}", file=sys.stderr)
        return daemon.EXIT_CONFIG
    except ReplaySourceError as e:
        # DATA_EXCHANGE=replay with candles that cannot be served: fix REPLAY_SOURCE first.
        log.error("startup_failed", error=str(e))
        print(f"start-up failed: REPLAY_SOURCE: {e}", file=sys.stderr)
        return daemon.EXIT_CONFIG
    except LiveTradingRefused as e:
        # Live trading without CONFIRM_LIVE_TRADING=yes: a restart would not fix it either.
        log.error("startup_failed", error=str(e))
        print(f"start-up failed: {e}", file=sys.stderr)
        return daemon.EXIT_CONFIG
    return await service.serve()


def check(settings: Settings) -> int:
    """`main.py check`: the component probes; 0 when all pass."""
    return asyncio.run(preflight.check(settings))


def scan_history(settings: Settings, args: argparse.Namespace) -> int:
    """`main.py scan --symbol`: fetch the history, then scan it like a file; 1 if fetching fails."""
    # stdout carries only events: logs (retries, warnings) go to stderr, scrubbed.
    configure("DEBUG" if settings.log_level == "DEBUG" else "WARNING",
              settings_secrets(settings), stream=sys.stderr)

    def fetch(symbol: str, timeframe: str, since_ms: int, until_ms: int | None) -> pd.DataFrame:
        return asyncio.run(fetch_history(settings, symbol, timeframe, since_ms, until_ms,
                                         exchange=args.exchange or registry.DEFAULT))

    try:
        return scan.scan_history(fetch, args.symbol, args.timeframe, args.since, args.until,
                                 args.left, args.right, args.break_on, args.kinds, args.format,
                                 sys.stdout, save_csv=args.save_csv)
    except ExchangeUnavailable as e:
        print(f"scan: error: fetching history failed: {e}", file=sys.stderr)
        return EXIT_FAILED
