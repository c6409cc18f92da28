"""CcxtMarketData: closed perpetual candles, server time and the perpetuals of one venue (ccxt).

Generic over ccxt's unified methods (fetch_time, load_markets, fetch_tickers, fetch_ohlcv);
a venue whose behaviour differs subclasses it and overrides a hook (`_rows`, `_tradable`,
`_client_class`), never the paging, retry or closed-candle logic.
"""
from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, TypeVar

import pandas as pd
import structlog

from domain.checks import CheckLine
from domain.timeframe import timeframe_ms

from . import universe as uni
from .candles import empty_frame, insane, since_slice, tidy, to_frame
from .errors import ExchangeUnavailable
from .ohlcv import Rows, ohlcv_rows, utc_text
from .options import MarketDataConfig
from .reasons import network_reason
from .retry import MalformedResponse, RetryPolicy, SharedPause, with_retry
from .tagging import RequestObserver, with_retry_after
from .urls import override_hosts, switch_to_demo
from .venue import Venue

log = structlog.get_logger(__name__)
T = TypeVar("T")

# 16 requests in flight: 600 candle calls at 50 ms each take ~2 s; more buys little and makes
# bursts that venues' per-IP limits and a small VPS's sockets both dislike.
CONCURRENCY = 16
TIME_RESYNC_S = 600.0


class CcxtMarketData:
    """Closed candles, server time and the listed perpetuals of one venue (read-only)."""

    def __init__(self, config: MarketDataConfig, venue: Venue, *, retry: RetryPolicy | None = None,
                 clock: Callable[[], float] = time.time, concurrency: int = CONCURRENCY,
                 time_resync_s: float = TIME_RESYNC_S) -> None:
        self.config = config
        self.venue = venue
        self.retry = retry or RetryPolicy(budget_s=config.budget_s)
        self._clock = clock  # host wall clock in seconds; tests inject a fake one
        self._time_resync_s = time_resync_s
        # Bound to a loop on first contention, not here: an instance made outside the loop works.
        self._sem = asyncio.Semaphore(concurrency)
        self._time_lock = asyncio.Lock()
        self._markets_lock = asyncio.Lock()
        self._pause = SharedPause(self.retry.clock)  # one per instance: a 429 is per IP
        self._offset_ms: int | None = None
        self._time_syncs_done = 0  # finished syncs: a waiter compares it to see one end meanwhile
        self._time_error: ExchangeUnavailable | None = None
        self._synced_at = -math.inf
        self.exchange: Any = None

    @property
    def native_timeframes(self) -> tuple[str, ...]:
        """The timeframes the venue serves itself (TimeframeAdapter builds the rest)."""
        return self.venue.native_timeframes

    # -- lifecycle ----------------------------------------------------------------------------

    def _client_class(self) -> type:
        """The ccxt class to instantiate (a venue may subclass it); errors carry Retry-After."""
        return with_retry_after(self.venue.ccxt_id)

    def _client_config(self) -> dict[str, Any]:
        """ccxt constructor options: the venue's own plus rate limiting and timeout."""
        return {"enableRateLimit": True, "timeout": int(self.config.timeout_s * 1000),
                "options": dict(self.venue.ccxt_options)}

    async def start(self) -> None:
        """Build the ccxt instance (no request yet: time and markets load on first use)."""
        if self.exchange is not None:
            return
        exchange = self._client_class()(self._client_config())
        if not self.config.production:
            switch_to_demo(exchange, self.venue)
        # After the demo switch, which swaps urls.
        override_hosts(exchange, self.config.url)
        self.exchange = exchange

    def observe_requests(self, observer: RequestObserver) -> None:
        """Call `observer` after every HTTP request of this instance (with its error, if any)."""
        if self.exchange is not None:
            self.exchange.request_observer = observer

    async def close(self) -> None:
        """Close the HTTP session."""
        if self.exchange is not None:
            await self.exchange.close()
            self.exchange = None

    async def __aenter__(self) -> CcxtMarketData:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    # -- plumbing -----------------------------------------------------------------------------

    async def _read(self, fn: Callable[[], Awaitable[T]], what: str) -> T:
        """One read with bounded concurrency and retries; raises our exchange errors only."""
        if self.exchange is None:
            await self.start()

        async def attempt() -> T:
            async with self._sem:  # held per attempt only: a backoff sleep frees the slot
                return await fn()

        return await with_retry(attempt, self.retry, what, self._pause, self.venue)

    async def _markets(self) -> Mapping[str, Any]:
        """The venue's markets, loaded once (the universe reloads them hourly)."""
        if self.exchange is None:
            await self.start()
        async with self._markets_lock:
            if not self.exchange.markets:
                await self._read(lambda: self.exchange.load_markets(), "markets")
        return self.exchange.markets

    # -- server time --------------------------------------------------------------------------

    async def _sync_time(self) -> int:
        """Ask the venue for its time and return (and keep) its offset from the host clock."""
        async def call() -> int:
            t0 = self._clock()
            server = await self.exchange.fetch_time()
            t1 = self._clock()
            if not isinstance(server, int):
                raise MalformedResponse("time: no server time in the answer")
            # The server read its clock about halfway through the round trip.
            return server - round((t0 + t1) * 500)

        offset = await self._read(call, "time")
        if self._offset_ms is None or abs(offset - self._offset_ms) > 1000:
            log.info("server_time_offset", venue=self.venue.name, offset_ms=offset)
        self._offset_ms = offset
        self._synced_at = self._clock()
        return offset

    async def server_time_ms(self) -> int:
        """The venue's clock now: the host clock plus an offset resynced every few minutes."""
        if self.exchange is None:
            await self.start()
        offset = self._offset_ms
        if self._clock() - self._synced_at > self._time_resync_s or offset is None:
            offset = await self._resynced_offset()
        return round(self._clock() * 1000) + offset

    async def _resynced_offset(self) -> int:
        """A fresh offset: one time request, however many callers wait here."""
        done_before = self._time_syncs_done
        async with self._time_lock:
            offset = self._offset_ms
            if self._clock() - self._synced_at <= self._time_resync_s and offset is not None:
                return offset  # another caller synced it while this one waited
            if self._time_syncs_done != done_before and self._time_error is not None:
                # The sync this caller waited for has just failed after its retries: fail at
                # once with its error instead of retrying again, one after another, for every
                # symbol queued here.
                raise self._time_error
            try:
                offset = await self._sync_time()
                self._time_error = None
            except ExchangeUnavailable as e:
                self._time_error = e
                raise
            finally:
                self._time_syncs_done += 1
            return offset

    # -- candles ------------------------------------------------------------------------------

    async def _rows(self, symbol: str, timeframe: str, *, since: int | None, until: int | None,
                    limit: int) -> Rows:
        """One page of candles from ccxt's fetch_ohlcv (the forming one may be among them)."""
        await self._markets()
        tf_ms = timeframe_ms(timeframe)
        params = await self._ohlcv_params(tf_ms, since=since, until=until, limit=limit)
        ccxt_symbol = self.venue.ccxt_symbol(symbol)

        async def call() -> Rows:
            payload = await self.exchange.fetch_ohlcv(ccxt_symbol, timeframe, since, limit,
                                                      params)
            return ohlcv_rows(payload, tf_ms)  # inside the retry: a garbled answer is retried

        return await self._read(call, f"candles {symbol} {timeframe}")

    async def _ohlcv_params(self, tf_ms: int, *, since: int | None, until: int | None,
                            limit: int) -> dict[str, Any]:
        """The venue-specific params of one fetch_ohlcv call (here only the range's end)."""
        return {"until": until} if until is not None else {}

    async def _page(self, symbol: str, tf: str, now_ms: int, *, since: int | None = None,
                    until: int | None = None, limit: int) -> tuple[pd.DataFrame, int, bool]:
        """One request: (closed sane candles, rows received, reached the forming one).

        A candle that breaks OHLC sanity is refetched once, then dropped with a warning.
        """
        ts, values, close_time = await self._rows(symbol, tf, since=since, until=until,
                                                  limit=limit)
        # Closed means its close time has passed on the venue's clock (not ours).
        closed = close_time < now_ms
        bad = insane(values) & closed  # the forming candle is dropped anyway
        if bad.any():
            log.warning("candle_insane_refetch", symbol=symbol, tf=tf,
                        timestamps=ts[bad].tolist())
            ts, values, close_time = await self._rows(symbol, tf, since=since, until=until,
                                                      limit=limit)
            closed = close_time < now_ms
            bad = insane(values) & closed
        rows = ts.size
        keep = closed & ~bad
        if bad.any():
            # Never fed silently: the bucket built over it has bars < expected_bars.
            log.warning("candle_insane_skipped", symbol=symbol, tf=tf,
                        timestamps=ts[bad].tolist())
        if not keep.all():
            ts, values = ts[keep], values[keep]
        return to_frame(ts, values), rows, not closed.all()

    async def closed_candles(self, symbol: str, base_timeframe: str, since_ms: int | None = None,
                             limit: int | None = None) -> pd.DataFrame:
        """Closed native candles, oldest first: from since_ms (inclusive open), or the last
        `limit`."""
        if base_timeframe not in self.venue.native_timeframes:
            raise ValueError(f"{base_timeframe!r} is not a native {self.venue.label} timeframe")
        if limit is not None and limit < 1:
            raise ValueError("limit must be at least 1")
        now = await self.server_time_ms()
        base_ms = timeframe_ms(base_timeframe)
        if since_ms is None:
            pages = await self._last(symbol, base_timeframe, base_ms,
                                     limit or self.venue.default_page, now)
        else:
            pages = await self._forward(symbol, base_timeframe, base_ms, int(since_ms), limit,
                                        now)
        if not pages:
            return empty_frame()
        frame = tidy(pages[0] if len(pages) == 1 else pd.concat(pages, ignore_index=True))
        if since_ms is None:
            n = limit or self.venue.default_page
            return frame.iloc[-n:].reset_index(drop=True) if len(frame) > n else frame
        frame = since_slice(frame, since_ms)
        if limit is not None and len(frame) > limit:
            frame = frame.iloc[:limit]
        return frame

    async def _forward(self, symbol: str, tf: str, base_ms: int, since: int, limit: int | None,
                       now: int) -> list[pd.DataFrame]:
        """Pages from `since` up to now, each as large as needed (at most the venue's page)."""
        pages: list[pd.DataFrame] = []
        cursor, got, page_max = since, 0, self.venue.max_page
        while cursor <= now:
            # Candles left to now, the forming one included (it is dropped after the answer).
            first = cursor + (-cursor) % base_ms  # the next open time on the (epoch) grid
            left = max(1, (now - first) // base_ms + 1)
            want = min(page_max, left, (limit - got) + 1 if limit else page_max)
            page, rows, reached_now = await self._page(symbol, tf, now, since=cursor,
                                                       limit=want)
            pages.append(page)
            got += len(page)
            # A short page: nothing newer; the forming candle: nothing closed newer.
            if page.empty or rows < want or reached_now or (limit and got >= limit):
                break
            if int(page["timestamp"].iloc[-1]) + 2 * base_ms > now:
                break  # the next candle is still forming: no request just to learn that
            cursor = int(page["timestamp"].iloc[-1]) + 1
        return pages

    async def _last(self, symbol: str, tf: str, base_ms: int, n: int, now: int
                    ) -> list[pd.DataFrame]:
        """Pages backwards from now until n closed candles (or the listing) are reached."""
        pages: list[pd.DataFrame] = []
        got, end = 0, now
        while got < n:
            want = min(self.venue.max_page, n - got + 1)  # +1: the forming candle comes along
            page, rows, _ = await self._page(symbol, tf, now, until=end, limit=want)
            pages.insert(0, page)
            got += len(page)
            if rows < want or page.empty:
                break  # the start of the symbol's history
            end = int(page["timestamp"].iloc[0]) - 1
        return pages

    # -- listing ------------------------------------------------------------------------------

    def _tradable(self, market: Mapping[str, Any]) -> bool:
        """True for a market the daemon may watch and trade (a USDT linear perpetual)."""
        return uni.usdt_perpetual(market, self.venue.quote, self.venue.settle)

    async def perpetuals(self) -> dict[str, str]:
        """Our symbol -> the venue's id of every tradable perpetual (markets reloaded)."""
        if self.exchange is None:
            await self.start()
        markets = await self._read(lambda: self.exchange.load_markets(reload=True), "markets")
        return uni.tradable_perpetuals(markets, self._tradable)

    async def quote_volumes(self) -> dict[str, float]:
        """Our symbol -> 24h quote volume, from ccxt's unified tickers."""
        async def call() -> dict[str, float]:
            tickers = await self.exchange.fetch_tickers()
            if not isinstance(tickers, dict):
                raise MalformedResponse("tickers: expected a mapping")
            return uni.quote_volumes(tickers)

        return await self._read(call, "tickers")

    # -- preflight ----------------------------------------------------------------------------

    async def check(self, watched: Callable[[], Awaitable[list[str]]] | None = None
                    ) -> list[CheckLine]:
        """`main.py check` lines: (what, ok, detail) for server time, the symbols `watched`
        gives (default: every tradable perpetual) and one candle of the first."""
        name = self.venue.name
        results: list[CheckLine] = []
        try:
            now = await self.server_time_ms()
            results.append(CheckLine(f"{name} server time", True,
                            f"{utc_text(now)} UTC, host clock off by {self._offset_ms} ms"))
        except ExchangeUnavailable as e:
            return [CheckLine(f"{name} server time", False, f"{network_reason(e)} ({e})")]
        try:
            symbols = await watched() if watched else sorted(await self.perpetuals())
            ok = bool(symbols)
            shown = [self.venue.shown(x) for x in symbols[:10]]
            results.append(CheckLine(f"{name} markets", ok, f"watching {len(symbols)}: "
                            + ", ".join(shown) if ok else "no symbol to watch"))
        except ExchangeUnavailable as e:
            return results + [CheckLine(f"{name} markets", False, str(e))]
        try:
            frame = await self.closed_candles(symbols[0], "1m", limit=1)
            ok = not frame.empty
            detail = (f"{symbols[0]} 1m closed {utc_text(int(frame['timestamp'].iloc[-1]))} UTC"
                      if ok else f"{symbols[0]}: no closed candle")
            results.append(CheckLine(f"{name} klines", ok, detail))
        except (ExchangeUnavailable, ValueError) as e:
            results.append(CheckLine(f"{name} klines", False, str(e)))
        return results
