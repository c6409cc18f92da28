"""`main.py download`: closed candles of a venue into the local history store (fetchers/store.py).

Each venue/symbol/timeframe file holds one contiguous span of closed candles. A run fetches only
what the file lacks: the candles after its last one (up to --until, default now), and, when
--since is earlier than its first one, the candles before it. Timeframes the venue does not
serve are built from its native candles as the daemon and `scan` build them, and stored as
built. Exchange modules (ccxt) are imported only when a download runs.
"""
from __future__ import annotations

import argparse
import asyncio
import sys
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import IO, TYPE_CHECKING, Optional, Protocol

import pandas as pd

from app.argtypes import utc_date
from exchanges import registry
from exchanges.candles import COLUMNS, empty_frame, since_slice
from exchanges.universe import ALL
from fetchers import store
from fetchers.aggregate import aggregate, bucket_start
from fetchers.timeframes import Plan, plan
from app import components

if TYPE_CHECKING:
    from config import Settings
    from exchanges.port import MarketData
    from exchanges.retry import RetryPolicy

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2
CHUNK_PAGES = 10  # venue pages per fetch call: one progress step, and what a failure can lose

DESCRIPTION = """\
Download closed candles (never the forming one) from a venue into the local history store:
one Parquet file per venue/symbol/timeframe under DATA_DIR (default data/), e.g.
data/binance/BTCUSDT/1m.parquet. Incremental: a second run fetches only the candles after the
last stored one, and those before the first one when --since is earlier; without --since an
existing file is brought up to date. Every file is verified (open times increasing, no
duplicate, on the timeframe's grid, OHLC relations) and written atomically (a temporary file
renamed over the old one). The venue's gaps are listed, never filled. Timeframes the venue does
not serve (25m, 2h on some venues, ...) are built from its native candles as the daemon builds
them, and stored as built. --symbols ALL: the venue's USDT perpetuals by 24h quote volume
(MIN_VOLUME_24H, MAX_PAIRS, EXCLUDE_SYMBOLS), as SYMBOLS=ALL in the daemon. Reads the
configuration for the venue's URL and keys, those three keys and DATA_DIR only. Results go to
stdout; progress (a bar on a terminal, plain lines otherwise) to stderr.

exit status:
  0    done
  1    the exchange failed after retries (the candles fetched until then are stored), or a
       stored file fails verification (named; it is left as it was)
  2    bad flags"""


def _arg(parse):
    """An argparse type from a parser raising ValueError."""
    def convert(text: str):
        try:
            return parse(text)
        except ValueError as e:
            raise argparse.ArgumentTypeError(str(e)) from None
    convert.__name__ = parse.__name__
    return convert


def _exchange(text: str) -> str:
    return registry.get_venue(text).name


def add_parser(subparsers, parents=()) -> argparse.ArgumentParser:
    """Add the `download` subcommand and its flags."""
    from config_values import parse_symbols, parse_timeframes
    p = subparsers.add_parser("download", parents=list(parents),
                              help="download closed candles into the local history store",
                              description=DESCRIPTION,
                              formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--exchange", type=_arg(_exchange), default=registry.DEFAULT, metavar="NAME",
                   help=f"the venue: {', '.join(registry.names())} ({registry.DEFAULT})")
    p.add_argument("--symbols", type=_arg(parse_symbols), required=True,
                   metavar="BTC/USDT,ETH/USDT|ALL", help="USDT perpetuals, or ALL (see above)")
    p.add_argument("--timeframes", type=_arg(parse_timeframes), required=True,
                   metavar="1m,15m", help="timeframes to store, e.g. 1m,15m,25m")
    p.add_argument("--since", type=utc_date, metavar="DATE",
                   help="first open time, YYYY-MM-DD or ISO datetime, UTC (required for a file "
                        "not stored yet)")
    p.add_argument("--until", type=utc_date, metavar="DATE",
                   help="candles opening before this (default: now), same format")
    p.add_argument("--data-dir", metavar="DIR", help="the store (default: DATA_DIR, data/)")
    return p


@dataclass(frozen=True)
class Request:
    """What to download: venue name, symbols (or ('ALL',)), timeframes and the span."""

    exchange: str
    symbols: tuple[str, ...]
    timeframes: tuple[str, ...]
    since: Optional[int]
    until: Optional[int]
    data_dir: str


@dataclass
class FileResult:
    """What one file got: candles added before and after, and what it holds now."""

    symbol: str
    timeframe: str
    path: Path
    added_before: int = 0
    added_after: int = 0
    stored: int = 0
    first_ms: Optional[int] = None
    last_ms: Optional[int] = None
    gaps: list[store.Gap] = field(default_factory=list)
    incomplete: int = 0  # built candles whose native candles were not all served
    dropped_before: int = 0  # fetched before the file, lost to a failure (not contiguous)


class Progress(Protocol):
    """Progress of one file's fetch, in native candles."""

    def begin(self, label: str, total: int) -> None:
        """A file's fetch starts; about `total` native candles to fetch."""

    def advance(self, n: int) -> None:
        """`n` more native candles fetched."""

    def end(self) -> None:
        """The file's fetch is over."""


class LineProgress:
    """Plain progress lines on stderr (no terminal: logs, CI, a pipe)."""

    def __init__(self, out: IO[str] | None = None) -> None:
        self.out = out or sys.stderr
        self.label, self.total, self.done = "", 0, 0

    def begin(self, label: str, total: int) -> None:
        self.label, self.total, self.done = label, max(total, 1), 0

    def advance(self, n: int) -> None:
        self.done += n
        share = min(100, self.done * 100 // self.total)
        print(f"download: {self.label}: {self.done:,} of ~{self.total:,} candles ({share}%)",
              file=self.out, flush=True)

    def end(self) -> None:
        return None


class BarProgress:
    """A tqdm progress bar on stderr (a terminal)."""

    def __init__(self) -> None:
        self.bar = None

    def begin(self, label: str, total: int) -> None:
        from tqdm import tqdm  # type: ignore[import-untyped]
        self.bar = tqdm(total=max(total, 1), desc=label, unit=" candles", unit_scale=True,
                        file=sys.stderr, leave=True, dynamic_ncols=True)

    def advance(self, n: int) -> None:
        if self.bar is not None:
            self.bar.update(n)

    def end(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None


def progress_for(stream: IO[str]) -> Progress:
    """A bar on a terminal, plain lines otherwise."""
    return BarProgress() if stream.isatty() else LineProgress(stream)


# -- fetching -------------------------------------------------------------------------------------
class _Fetched:
    """Candles fetched for one range, and the exchange error that cut it short, if any."""

    def __init__(self, candles: pd.DataFrame, error: Optional[BaseException] = None,
                 incomplete: int = 0) -> None:
        self.candles, self.error, self.incomplete = candles, error, incomplete


def chunk_size(fetcher: "MarketData") -> int:
    """Native candles asked for per fetch call."""
    return fetcher.venue.max_page * CHUNK_PAGES


async def _native(fetcher: "MarketData", symbol: str, p: Plan, start: int, stop: int,
                  progress: Progress) -> tuple[pd.DataFrame, Optional[BaseException]]:
    """Closed native `p.base` candles opening in [start, stop), chunk by chunk.

    An exchange failure or an interruption (Ctrl-C cancels the task) ends the loop: what came
    until then is returned with it, so the caller can store it before giving up."""
    from exchanges.errors import ExchangeUnavailable
    chunk = chunk_size(fetcher)
    frames: list[pd.DataFrame] = []
    error: Optional[BaseException] = None
    cursor = start
    try:
        while cursor < stop:
            want = chunk if p.nominal else max(1, min(chunk, -(-(stop - cursor) // p.base_ms)))
            got = await fetcher.closed_candles(symbol, p.base, since_ms=cursor, limit=want)
            served = len(got)
            got = since_slice(got, until_ms=stop)
            if not got.empty:
                frames.append(got)
                progress.advance(len(got))
            if served < want or len(got) < served or got.empty:
                break  # nothing newer is closed, or the rest opens after `stop`
            last = int(got["timestamp"].iloc[-1])
            cursor = store.next_open(p, last) if p.straight else last + p.base_ms
    except (ExchangeUnavailable, asyncio.CancelledError) as e:
        error = e
    frame = pd.concat(frames, ignore_index=True) if frames else empty_frame()
    return frame, error


async def fetch_range(fetcher: "MarketData", symbol: str, p: Plan, lo: int, hi: int, now: int,
                      progress: Progress) -> _Fetched:
    """Closed `p.timeframe` candles opening in [lo, hi), built from native ones when needed."""
    if lo >= hi:
        return _Fetched(empty_frame())
    if p.straight:  # the venue's own days, weeks, months
        base, error = await _native(fetcher, symbol, p, lo, min(hi, now), progress)
        return _Fetched(since_slice(base, lo, hi), error)
    forming = now - now % p.base_ms  # open time of the native candle forming now
    start = bucket_start(lo, p.bucket_ms, p.origin_ms)
    stop = min(store.next_open(p, bucket_start(hi - 1, p.bucket_ms, p.origin_ms)), forming)
    base, error = await _native(fetcher, symbol, p, start, stop, progress)
    if error is not None:  # only buckets whose native candles all came are closed for us
        stop = int(base["timestamp"].iloc[-1]) + p.base_ms if len(base) else start
    built = aggregate(base, p, stop)
    built = built.loc[(built["timestamp"] >= lo) & (built["timestamp"] < hi)]
    incomplete = int((built["bars"] < built["expected_bars"]).sum())
    return _Fetched(built.loc[:, list(COLUMNS)].reset_index(drop=True), error, incomplete)


def _estimate(p: Plan, lo: int, hi: int, now: int) -> int:
    """Closed native candles in [lo, hi), for the progress total."""
    hi = min(hi, now - now % p.base_ms)
    return max(0, -(-(hi - lo) // p.base_ms))


async def update_file(fetcher: "MarketData", req: Request, symbol: str, p: Plan, now: int,
                      progress: Progress) -> tuple[FileResult, Optional[BaseException]]:
    """Bring one file up to date; what it got and the exchange error that stopped it, if any.

    store.StoreError when the stored file fails verification (it is left untouched)."""
    path = store.path_of(req.data_dir, fetcher.venue.name, symbol, p.timeframe)
    old = store.read_or_empty(path)
    problems = store.verify(old, p)
    if problems:
        raise store.StoreError(f"{path}: " + "; ".join(problems)
                               + " (move it away to download the span afresh)")
    result = FileResult(symbol, p.timeframe, path)
    hi = min(req.until, now) if req.until is not None else now
    label = f"{fetcher.venue.name} {symbol} {p.timeframe}"
    ranges: list[tuple[str, int, int]] = []
    if old.empty:
        assert req.since is not None  # checked before any request
        ranges.append(("after", req.since, hi))
    else:
        first, last = int(old["timestamp"].iloc[0]), int(old["timestamp"].iloc[-1])
        if req.since is not None and req.since < first:
            ranges.append(("before", req.since, first))
        ranges.append(("after", store.next_open(p, last), hi))
    progress.begin(label, sum(_estimate(p, lo, h, now) for _, lo, h in ranges if lo < h))
    before, after = empty_frame(), empty_frame()
    error: Optional[BaseException] = None
    try:
        for side, lo, h in ranges:
            got = await fetch_range(fetcher, symbol, p, lo, h, now, progress)
            result.incomplete += got.incomplete
            error = got.error
            if side == "before" and error is not None and not old.empty:
                result.dropped_before = len(got.candles)  # would leave a hole before the file
                break
            if side == "before":
                before = got.candles
            else:
                after = got.candles
            if error is not None:
                break
    finally:
        progress.end()
    merged = _merge(before, old, after)
    problems = store.verify(merged, p)
    if problems:
        raise store.StoreError(f"{label}: the fetched candles fail verification, nothing "
                               "written: " + "; ".join(problems))
    result.added_before, result.added_after = len(before), len(after)
    if len(merged) > len(old):
        store.write(path, merged, {"venue": fetcher.venue.name, "symbol": symbol,
                                   "timeframe": p.timeframe})
    _describe(result, merged, p)
    return result, error


def _merge(before: pd.DataFrame, old: pd.DataFrame, after: pd.DataFrame) -> pd.DataFrame:
    """The three parts in order (each already cut to its own range)."""
    parts = [f for f in (before, old, after) if len(f)]
    if not parts:
        return empty_frame()
    return parts[0] if len(parts) == 1 else pd.concat(parts, ignore_index=True)


def _describe(result: FileResult, merged: pd.DataFrame, p: Plan) -> None:
    """Fill in what the file holds now."""
    result.stored = len(merged)
    if len(merged):
        result.first_ms = int(merged["timestamp"].iloc[0])
        result.last_ms = int(merged["timestamp"].iloc[-1])
    result.gaps = store.gaps(merged, p)


# -- the command ----------------------------------------------------------------------------------
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


async def _symbols(fetcher: "MarketData", req: Request) -> list[str]:
    """The symbols to download: the venue's ranked universe for ALL, else the asked ones."""
    symbols = await fetcher.universe()
    if req.symbols != (ALL,):
        unknown = [s for s in req.symbols if s not in symbols]
        if unknown:
            raise UsageError(f"not a USDT perpetual trading on {fetcher.venue.label}: "
                             f"{', '.join(unknown)}")
    return symbols


def _shown(ms: Optional[int]) -> str:
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


async def download(settings: "Settings", req: Request, progress: Progress, out: IO[str],
                   *, retry: "RetryPolicy | None" = None) -> int:
    """Run a download; the exit status (errors are printed on stderr)."""
    from exchanges.errors import ExchangeUnavailable
    from exchanges.retry import RetryPolicy

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
    retry = retry or RetryPolicy(budget_s=max(settings.fetch_cycle_budget_s, 60.0))
    async with components.market_data(wanted, venue, retry=retry) as fetcher:
        try:
            symbols = await _symbols(fetcher, req)
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


def request_of(args: argparse.Namespace, settings: "Settings") -> Request:
    """The Request the flags describe (DATA_DIR unless --data-dir)."""
    return Request(args.exchange, tuple(args.symbols), tuple(args.timeframes), args.since,
                   args.until, args.data_dir or settings.data_dir)


def run(settings: "Settings", args: argparse.Namespace) -> int:
    """`main.py download`: its exit status."""
    from app.logs import configure, settings_secrets
    # stdout carries the results: logs (retries, warnings) go to stderr, scrubbed.
    configure("DEBUG" if settings.log_level == "DEBUG" else "WARNING",
              settings_secrets(settings), stream=sys.stderr)
    return asyncio.run(download(settings, request_of(args, settings), progress_for(sys.stderr),
                                sys.stdout))
