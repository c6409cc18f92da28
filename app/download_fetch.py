"""One history file brought up to date: the ranges it lacks fetched chunk by chunk (built from
native candles when the venue does not serve the timeframe), verified, written atomically."""
from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from exchanges.candles import COLUMNS, empty_frame, since_slice
from fetchers import store
from fetchers.aggregate import aggregate, bucket_start
from fetchers.timeframes import Plan

if TYPE_CHECKING:
    from app.download_args import Request
    from app.download_progress import Progress
    from exchanges.port import MarketData

CHUNK_PAGES = 10  # venue pages per fetch call: one progress step, and what a failure can lose


@dataclass
class FileResult:
    """What one file got: candles added before and after, and what it holds now."""

    symbol: str
    timeframe: str
    path: Path
    added_before: int = 0
    added_after: int = 0
    stored: int = 0
    first_ms: int | None = None
    last_ms: int | None = None
    gaps: list[store.Gap] = field(default_factory=list)
    incomplete: int = 0  # built candles whose native candles were not all served
    dropped_before: int = 0  # fetched before the file, lost to a failure (not contiguous)


class _Fetched:
    """Candles fetched for one range, and the exchange error that cut it short, if any."""

    def __init__(self, candles: pd.DataFrame, error: BaseException | None = None,
                 incomplete: int = 0) -> None:
        self.candles, self.error, self.incomplete = candles, error, incomplete


def chunk_size(fetcher: MarketData) -> int:
    """Native candles asked for per fetch call."""
    return fetcher.venue.max_page * CHUNK_PAGES


async def _native(fetcher: MarketData, symbol: str, p: Plan, start: int, stop: int,
                  progress: Progress) -> tuple[pd.DataFrame, BaseException | None]:
    """Closed native `p.base` candles opening in [start, stop), chunk by chunk.

    An exchange failure or an interruption (Ctrl-C cancels the task) ends the loop: what came
    until then is returned with it, so the caller can store it before giving up."""
    from exchanges.errors import ExchangeUnavailable
    chunk = chunk_size(fetcher)
    frames: list[pd.DataFrame] = []
    error: BaseException | None = None
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


async def fetch_range(fetcher: MarketData, symbol: str, p: Plan, lo: int, hi: int, now: int,
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


async def update_file(fetcher: MarketData, req: Request, symbol: str, p: Plan, now: int,
                      progress: Progress) -> tuple[FileResult, BaseException | None]:
    """Bring one file up to date; what it got and the exchange error that stopped it, if any.

    store.StoreError when the stored file fails verification (it is left untouched), or holds
    nothing and no --since was given."""
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
        if req.since is None:  # check_since ran, but the file may have gone or be empty
            raise store.StoreError(f"{path}: nothing stored to continue from; give --since")
        ranges.append(("after", req.since, hi))
    else:
        first, last = int(old["timestamp"].iloc[0]), int(old["timestamp"].iloc[-1])
        if req.since is not None and req.since < first:
            ranges.append(("before", req.since, first))
        ranges.append(("after", store.next_open(p, last), hi))
    progress.begin(label, sum(_estimate(p, lo, h, now) for _, lo, h in ranges if lo < h))
    before, after = empty_frame(), empty_frame()
    error: BaseException | None = None
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
