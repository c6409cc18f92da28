"""`main.py download`: closed candles of a venue into the local history store (fetchers/store.py).

Each venue/symbol/timeframe file holds one contiguous span of closed candles. A run fetches only
what the file lacks: the candles after its last one (up to --until, default now), and, when
--since is earlier than its first one, the candles before it. Timeframes the venue does not
serve are built from its native candles as the daemon and `scan` build them, and stored as
built. Exchange modules (ccxt) are imported only when a download runs. The flags are in
app/download_args.py, one file's fetch in app/download_fetch.py, the progress in
app/download_progress.py.
"""
from __future__ import annotations

import argparse
import asyncio
import sys
from dataclasses import replace
from typing import IO, TYPE_CHECKING

from app import components
from app.download_args import add_parser, request_of
from app.download_fetch import FileResult, update_file
from app.download_progress import Progress, progress_for
from exchanges import registry
from exchanges.universe import ALL
from fetchers import store
from fetchers.timeframes import Plan, plan

if TYPE_CHECKING:
    from app.download_args import Request
    from config import Settings
    from exchanges.port import MarketData
    from exchanges.retry import RetryPolicy
    from fetchers.watchlist import WatchedSymbols

__all__ = ["add_parser", "download", "run"]

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


class UsageError(Exception):
    """A download that cannot start as asked (exit 2): the message is for the user."""


def plans_of(req: Request, native: tuple[str, ...]) -> list[Plan]:
    """The plan of every timeframe on the venue (UsageError for one it cannot serve)."""
    plans = []
    for tf in req.timeframes:
        try:
            plans.append(plan(tf, native))
        except ValueError as e:
            raise UsageError(f"--timeframes {tf}: {e}") from None
    return plans


def check_since(req: Request, venue: str, symbols: list[str]) -> None:
    """UsageError when a file not stored yet would need --since."""
    if req.since is not None:
        return
    missing = [store.path_of(req.data_dir, venue, s, tf) for s in symbols
               for tf in req.timeframes
               if not store.path_of(req.data_dir, venue, s, tf).is_file()]
    if missing:
        raise UsageError(f"{missing[0]} is not stored yet"
                         + (f" (nor {len(missing) - 1} more)" if len(missing) > 1 else "")
                         + ": give --since")


async def _symbols(fetcher: MarketData, watched: WatchedSymbols, req: Request) -> list[str]:
    """The symbols to download: the venue's ranked universe for ALL, else the asked ones."""
    symbols = await watched()
    if req.symbols != (ALL,):
        unknown = [s for s in req.symbols if s not in symbols]
        if unknown:
            raise UsageError(f"not a USDT perpetual trading on {fetcher.venue.label}: "
                             f"{', '.join(unknown)}")
    return symbols


def _shown(ms: int | None) -> str:
    from app.scan import utc_text
    return "-" if ms is None else utc_text(ms)


def print_result(r: FileResult, venue: str, out: IO[str]) -> None:
    """One line per file, then one per gap."""
    span = (f"{_shown(r.first_ms)} .. {_shown(r.last_ms)} UTC" if r.stored else "nothing stored")
    print(f"{venue} {r.symbol} {r.timeframe}: {r.added_before + r.added_after:,} new "
          f"({r.added_before:,} before, {r.added_after:,} after); {r.stored:,} stored, {span}; "
          f"{len(r.gaps):,} gap(s) -> {r.path}", file=out)
    for g in r.gaps:
        print(f"  gap: after {_shown(g.before_ms)} next {_shown(g.after_ms)} UTC "
              f"({g.missing:,} missing)", file=out)
    if r.incomplete:
        print(f"  {r.incomplete:,} built candle(s) lack some of their native candles (the "
              "venue's gaps), stored as built from those present", file=out)
    if r.dropped_before:
        print(f"  {r.dropped_before:,} candle(s) fetched before the file were not stored: the "
              "fetch failed before reaching it; run again", file=out)


async def download(settings: Settings, req: Request, progress: Progress, out: IO[str],
                   *, retry: RetryPolicy | None = None) -> int:
    """Run a download; the exit status (errors are printed on stderr)."""
    from exchanges.errors import ExchangeUnavailable

    venue = registry.get_venue(req.exchange)
    try:
        plans = plans_of(req, venue.native_timeframes)
        if req.until is not None and req.since is not None and req.until <= req.since:
            raise UsageError("--until must be after --since")
        if req.symbols != (ALL,):
            check_since(req, venue.name, list(req.symbols))
    except UsageError as e:
        _note(f"error: {e}")
        return EXIT_USAGE
    # Explicit symbols are downloaded even when EXCLUDE_SYMBOLS names them (it filters ALL).
    wanted = replace(settings, symbols=req.symbols,
                     exclude_symbols=settings.exclude_symbols if req.symbols == (ALL,) else ())
    retry = retry or components.one_shot_retry(settings)
    async with components.market_data(wanted, venue, retry=retry) as fetcher:
        try:
            symbols = await _symbols(fetcher, components.watched_symbols(wanted, fetcher), req)
            if req.symbols == (ALL,):
                _note(f"ALL on {venue.label}: {len(symbols)} symbol(s): {', '.join(symbols)}")
                check_since(req, venue.name, symbols)
            now = await fetcher.server_time_ms()
        except UsageError as e:
            _note(f"error: {e}")
            return EXIT_USAGE
        except ExchangeUnavailable as e:
            _note(f"error: {venue.label}: {e}")
            return EXIT_FAILED
        status = EXIT_OK
        for symbol in symbols:
            for p in plans:
                try:
                    result, error = await update_file(fetcher, req, symbol, p, now, progress)
                except store.StoreError as e:
                    _note(f"error: {e}")
                    status = EXIT_FAILED
                    continue
                print_result(result, venue.name, out)
                if isinstance(error, asyncio.CancelledError):
                    raise error  # interrupted: stored what came, now stop as asked
                if error is not None:
                    _note(f"error: {venue.label} {symbol} {p.timeframe}: {error}; the candles "
                          "fetched until then are stored, run the same command again to go on")
                    return EXIT_FAILED
    return status


def _note(message: str) -> None:
    print(f"download: {message}", file=sys.stderr)


def run(settings: Settings, args: argparse.Namespace) -> int:
    """`main.py download`: its exit status."""
    from app.logs import configure, settings_secrets
    # stdout carries the results: logs (retries, warnings) go to stderr, scrubbed.
    configure("DEBUG" if settings.log_level == "DEBUG" else "WARNING",
              settings_secrets(settings), stream=sys.stderr)
    return asyncio.run(download(settings, request_of(args, settings), progress_for(sys.stderr),
                                sys.stdout))
