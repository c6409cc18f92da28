"""TimeframeAdapter: any supported timeframe from a venue's closed native candles.

The venue's native timeframes pass through. Any other whole number of minutes or hours is built
from the largest intraday native timeframe that divides it (`fetchers.timeframes.plan`), in
buckets aligned to 00:00 UTC every day; when the length does not divide 24h the day's last
bucket is cut at midnight (25m: ..., 23:20-24:00 lasts 40 minutes). A bucket is emitted only
once it has closed on the exchange's clock (`fetchers.aggregate`).

Base-series cache: one entry per (symbol, base timeframe), valid for one "boundary", the open
time of the base candle forming now (so newest closed base open = boundary - base length).
Timeframes that share a base inside one `poll` are fetched once; separate jobs asking at the
same candle close (15m and 45m at 01:00) find the entry for the same boundary and do not
fetch again; an older `since` only fetches the missing older part. A new boundary replaces
the entry, so the cache holds at most one series per (symbol, base).
"""
from __future__ import annotations

import asyncio
from dataclasses import dataclass

import pandas as pd

from domain.candles import Candles, concat
from exchanges.candles import tidy

from .aggregate import aggregate_columns, bucket_start
from .timeframes import Plan, plan

DEFAULT_BARS = 500


@dataclass
class _Entry:
    boundary: int  # open time of the base candle forming when fetched
    since: int  # the series is complete from here (inclusive open time) to the boundary
    candles: Candles


class TimeframeAdapter:
    """Closed candles of any supported timeframe, over a venue's market data (any venue)."""

    def __init__(self, fetcher, *, cache: bool = True) -> None:
        self.fetcher = fetcher  # exchanges.port.MarketData (native_timeframes, closed_candles)
        self.cache_enabled = cache
        self._cache: dict[tuple[str, str], _Entry] = {}
        self._locks: dict[tuple[str, str], asyncio.Lock] = {}
        self.base_fetches = 0  # fetcher calls made, for tests and the bench
        # A fetcher that answers in columns (the stream's book) is read without frames.
        self._columns = getattr(fetcher, "closed_columns", None)

    async def closed_candles(self, symbol: str, timeframe: str, since_ms: int | None = None,
                             bars: int | None = None) -> pd.DataFrame:
        """Closed `timeframe` candles from since_ms (inclusive open), or the last `bars`."""
        return (await self.closed_columns(symbol, timeframe, since_ms, bars)).frame()

    async def closed_columns(self, symbol: str, timeframe: str, since_ms: int | None = None,
                             bars: int | None = None) -> Candles:
        """As closed_candles, as columns (with bars and expected bars)."""
        out = await self.poll_columns(symbol, {timeframe: since_ms}, bars or DEFAULT_BARS)
        return out[timeframe]

    async def poll(self, symbol: str, wanted: dict[str, int | None], bars: int
                   ) -> dict[str, pd.DataFrame]:
        """Closed candles for several timeframes of one symbol, each base series fetched once.

        `wanted` maps timeframe -> since_ms (inclusive open time of the first wanted candle),
        or None for the last `bars` closed candles. Columns: timestamp, open, high, low, close,
        volume, bars (base candles present) and expected_bars.
        """
        out = await self.poll_columns(symbol, wanted, bars)
        return {tf: c.frame() for tf, c in out.items()}

    async def poll_columns(self, symbol: str, wanted: dict[str, int | None], bars: int
                           ) -> dict[str, Candles]:
        """As poll, as columns."""
        if bars < 1:
            raise ValueError("bars must be at least 1")
        native = self.fetcher.native_timeframes
        plans = {tf: plan(tf, native) for tf in wanted}
        now = await self.fetcher.server_time_ms()
        by_base: dict[str, list[Plan]] = {}
        out: dict[str, Candles] = {}
        for p in plans.values():
            if p.straight:
                # The venue's own 1d, 3d, 1w, 1M on grids of their own: straight through.
                since = wanted[p.timeframe]
                got = await self._fetch(symbol, p.base, since, bars if since is None else None)
                out[p.timeframe] = self._finish(got, p, now, since, bars)
            else:
                by_base.setdefault(p.base, []).append(p)
        for base, group in by_base.items():
            base_ms = group[0].base_ms
            boundary = now - now % base_ms  # every base of a day or less divides the epoch
            starts = {p.timeframe: self._base_since(p, wanted[p.timeframe], bars, boundary)
                      for p in group}
            series = await self._series(symbol, base, base_ms, min(starts.values()), boundary)
            for p in group:
                part = series.between(starts[p.timeframe])
                out[p.timeframe] = self._finish(part, p, boundary, wanted[p.timeframe], bars)
        return out

    @staticmethod
    def _base_since(p: Plan, since: int | None, bars: int, boundary: int) -> int:
        """First base open time needed: whole buckets from `since`, or enough for `bars`."""
        if since is not None:
            return bucket_start(int(since), p.bucket_ms, p.origin_ms)
        ratio = p.bucket_ms // p.base_ms
        # Day cuts only shorten buckets, so bars+1 full buckets of base candles always suffice.
        return bucket_start(boundary - (bars + 1) * ratio * p.base_ms, p.bucket_ms, p.origin_ms)

    @staticmethod
    def _finish(base: Candles, p: Plan, closed_until: int, since: int | None,
                bars: int) -> Candles:
        out = aggregate_columns(base, p, closed_until)
        if since is not None:
            return out.between(since)
        return out.tail(bars)

    async def _fetch(self, symbol: str, base: str, since: int | None, limit: int | None
                     ) -> Candles:
        self.base_fetches += 1
        if self._columns is not None:
            return await self._columns(symbol, base, since_ms=since, limit=limit)
        return Candles.of(tidy(await self.fetcher.closed_candles(symbol, base, since_ms=since,
                                                                 limit=limit)))

    async def _series(self, symbol: str, base: str, base_ms: int, since: int,
                      boundary: int) -> Candles:
        """Closed base candles [since, boundary), from the cache when it has them."""
        key = (symbol, base)
        lock = self._locks.setdefault(key, asyncio.Lock())
        async with lock:  # a second job for the same series waits, then reads the cache
            entry = self._cache.get(key) if self.cache_enabled else None
            if entry is None or entry.boundary != boundary:
                got = await self._fetch(symbol, base, since, None)
                entry = _Entry(boundary, since, got.between(until_ms=boundary))
            elif since < entry.since:
                older = await self._fetch(symbol, base, since, (entry.since - since) // base_ms)
                entry = _Entry(boundary, since,
                               concat(older.between(until_ms=entry.since), entry.candles))
            if self.cache_enabled:
                self._cache[key] = entry
            return entry.candles.between(since)
