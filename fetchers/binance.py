"""BinanceFetcher: closed USD-M perpetual candles from the data exchange instance (ccxt)."""
from __future__ import annotations

import asyncio
import math
import time
from datetime import datetime, timezone
from typing import Awaitable, Callable

import pandas as pd
import structlog

from config import Settings, normalize_symbol
from exchange import ExchangeUnavailable, TransientExchangeError, override_hosts
from exchange.ccxt_lean import ccxt, ccxt_async
from exchange.errors import SERVER_SIDE_CODES, binance_code

from . import universe as uni
from .candles import empty_frame, insane, parse_klines, since_slice, tidy, to_frame
from .retry import MalformedResponse, RetryPolicy, SharedPause, retry_after_s, with_retry
from .timeframes import NATIVE, parse_timeframe

log = structlog.get_logger(__name__)

MAX_KLINES = 1500  # Binance USD-M's maximum `limit` per /fapi/v1/klines request
DEFAULT_LIMIT = 500  # Binance's own default when no limit is sent
# 16 requests in flight: 600 klines calls at 50 ms each take ~2 s; more buys little and
# makes bursts that Binance's per-IP limits and a small VPS's sockets both dislike.
CONCURRENCY = 16
TIME_RESYNC_S = 600.0
UNIVERSE_TTL_S = 3600.0


class _DataExchange(ccxt_async.binanceusdm):
    """binanceusdm that tags errors with Retry-After and remembers the used request weight."""

    used_weight_1m: int | None = None

    def handle_errors(self, code, reason, url, method, headers, body, response,
                      request_headers, request_body):
        """ccxt's error mapping, plus the response headers it would otherwise drop."""
        self._note_used_weight(headers)
        try:
            return super().handle_errors(code, reason, url, method, headers, body, response,
                                         request_headers, request_body)
        except ccxt.BaseError as e:
            error = _as_read_error(e, code)
            # Read here, from this response's own headers: last_response_headers is shared by
            # every concurrent request of the instance and may already belong to another one.
            error.retry_after_s = retry_after_s(headers)
            if error is e:
                raise
            raise error from e

    def _note_used_weight(self, headers) -> None:
        """Remember X-MBX-USED-WEIGHT-1M from a response's headers (when it is a number)."""
        for key, value in (headers or {}).items():
            if key.lower() == "x-mbx-used-weight-1m":
                try:
                    self.used_weight_1m = int(value)
                except (TypeError, ValueError):
                    pass


def _as_read_error(error: ccxt.BaseError, status: int) -> ccxt.BaseError:
    """The error a READ should see: a server-side failure becomes retryable, else unchanged."""
    if not isinstance(error, ccxt.NetworkError) and (
            status >= 500 or binance_code(error) in SERVER_SIDE_CODES):
        # ccxt maps Binance's 5xx bodies (-1000, -1001) to OperationFailed, which is not a
        # NetworkError; for a read they are the server's trouble: retry them.
        return ccxt.ExchangeNotAvailable(str(error))
    return error


def market_id(symbol: str) -> str:
    """'BTC/USDT' (or 'BTCUSDT', 'BTC/USDT:USDT') -> Binance's id 'BTCUSDT'."""
    return normalize_symbol(symbol).replace("/", "")


def _utc(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, tz=timezone.utc).strftime("%Y-%m-%d %H:%M")


class BinanceFetcher:
    """Closed candles, server time and the symbol universe from Binance USD-M (read-only)."""

    def __init__(self, settings: Settings, *, retry: RetryPolicy | None = None,
                 clock: Callable[[], float] = time.time, concurrency: int = CONCURRENCY,
                 time_resync_s: float = TIME_RESYNC_S,
                 universe_ttl_s: float = UNIVERSE_TTL_S) -> None:
        self.settings = settings
        self.retry = retry or RetryPolicy(budget_s=settings.fetch_cycle_budget_s)
        self._clock = clock  # host wall clock in seconds; tests inject a fake one
        self._concurrency = concurrency
        self._time_resync_s = time_resync_s
        self._universe_ttl_s = universe_ttl_s
        self._sem: asyncio.Semaphore | None = None
        self._time_lock: asyncio.Lock | None = None
        self._universe_lock: asyncio.Lock | None = None
        self._pause = SharedPause(self.retry.clock)  # one per instance: a 429 is per IP
        self._offset_ms: int | None = None
        self._synced_at = -math.inf
        self._universe: list[str] | None = None
        self._universe_at = -math.inf
        self.exchange: _DataExchange | None = None

    # -- lifecycle ----------------------------------------------------------------------------

    async def start(self) -> None:
        """Build the ccxt instance (no request yet: time and markets load on first use)."""
        if self.exchange is not None:
            return
        s = self.settings
        exchange = _DataExchange({
            "enableRateLimit": True,
            # ccxt's costs for fapi are Binance's request weights; a rolling 60 s window lets a
            # cycle burst (200 symbols in ~2 s) while never passing DATA_WEIGHT_PER_MIN.
            "rateLimiterAlgorithm": "rollingWindow",
            "rateLimit": 60_000 / s.data_weight_per_min,
            "timeout": int(s.fetch_timeout_s * 1000),
            "options": {
                "defaultType": "swap",
                "fetchMarkets": {"types": ["linear"]},  # fapi exchangeInfo only, no spot/dapi
                "fetchCurrencies": False,  # the sapi capital endpoint: not needed for candles
                "fetchMargins": False,
            },
        })
        if not s.use_realtime_data:
            exchange.enable_demo_trading(True)
        override_hosts(exchange, s.binance_data_url)  # after demo switching, which swaps urls
        self.exchange = exchange
        self._sem = asyncio.Semaphore(self._concurrency)
        self._time_lock = asyncio.Lock()
        self._universe_lock = asyncio.Lock()

    async def close(self) -> None:
        """Close the HTTP session."""
        if self.exchange is not None:
            await self.exchange.close()
            self.exchange = None

    async def __aenter__(self) -> "BinanceFetcher":
        await self.start()
        return self

    async def __aexit__(self, *exc) -> None:
        await self.close()

    # -- plumbing -----------------------------------------------------------------------------

    async def _read(self, fn: Callable[[], Awaitable], what: str):
        """One read with bounded concurrency and retries; raises our exchange errors only."""
        if self.exchange is None:
            await self.start()

        async def attempt():
            async with self._sem:  # held per attempt only: a backoff sleep frees the slot
                return await fn()

        return await with_retry(attempt, self.retry, what, self._pause)

    @property
    def used_weight_1m(self) -> int | None:
        """Binance's X-MBX-USED-WEIGHT-1M from the latest response (None before any)."""
        return self.exchange.used_weight_1m if self.exchange else None

    # -- server time --------------------------------------------------------------------------

    async def _sync_time(self) -> None:
        async def call() -> int:
            t0 = self._clock()
            payload = await self.exchange.fapiPublicGetTime()
            t1 = self._clock()
            try:
                server = int(payload["serverTime"])
            except (TypeError, KeyError, ValueError):
                raise MalformedResponse("time: no serverTime in the answer") from None
            # The server read its clock about halfway through the round trip.
            return server - round((t0 + t1) * 500)

        offset = await self._read(call, "time")
        if self._offset_ms is None or abs(offset - self._offset_ms) > 1000:
            log.info("server_time_offset", offset_ms=offset)
        self._offset_ms = offset
        self._synced_at = self._clock()

    async def server_time_ms(self) -> int:
        """Binance's clock now: the host clock plus an offset resynced every few minutes."""
        if self.exchange is None:
            await self.start()
        if self._clock() - self._synced_at > self._time_resync_s or self._offset_ms is None:
            async with self._time_lock:  # one /time request, however many callers wait here
                if self._clock() - self._synced_at > self._time_resync_s \
                        or self._offset_ms is None:
                    await self._sync_time()
        return round(self._clock() * 1000) + self._offset_ms

    # -- candles ------------------------------------------------------------------------------

    async def _klines(self, mid: str, interval: str, params: dict):
        async def call():
            payload = await self.exchange.fapiPublicGetKlines(
                {"symbol": mid, "interval": interval, **params})
            return parse_klines(payload)  # inside the retry: a garbled answer is retried

        return await self._read(call, f"klines {mid} {interval}")

    async def _page(self, mid: str, interval: str, params: dict, now_ms: int
                    ) -> tuple[pd.DataFrame, int, bool]:
        """One klines request: (closed sane candles, rows received, reached the forming one).

        A candle that breaks OHLC sanity is refetched once, then dropped with a warning.
        """
        ts, values, close_time = await self._klines(mid, interval, params)
        # Closed means Binance's close time has passed on Binance's clock (not ours).
        closed = close_time < now_ms
        bad = insane(values) & closed  # the forming candle is dropped anyway
        if bad.any():
            log.warning("candle_insane_refetch", symbol=mid, tf=interval,
                        timestamps=ts[bad].tolist())
            ts, values, close_time = await self._klines(mid, interval, params)
            closed = close_time < now_ms
            bad = insane(values) & closed
        rows = ts.size
        keep = closed & ~bad
        if bad.any():
            # Never fed silently: the bucket built over it has bars < expected_bars.
            log.warning("candle_insane_skipped", symbol=mid, tf=interval,
                        timestamps=ts[bad].tolist())
        if not keep.all():
            ts, values = ts[keep], values[keep]
        return to_frame(ts, values), rows, not closed.all()

    async def closed_candles(self, symbol: str, base_timeframe: str, since_ms: int | None = None,
                             limit: int | None = None) -> pd.DataFrame:
        """Closed native candles, oldest first: from since_ms (inclusive open), or the last `limit`."""
        if base_timeframe not in NATIVE:
            raise ValueError(f"{base_timeframe!r} is not a native Binance timeframe")
        if limit is not None and limit < 1:
            raise ValueError("limit must be at least 1")
        mid = market_id(symbol)
        now = await self.server_time_ms()
        base_ms = parse_timeframe(base_timeframe)
        if since_ms is None:
            pages = await self._last(mid, base_timeframe, base_ms, limit or DEFAULT_LIMIT, now)
        else:
            pages = await self._forward(mid, base_timeframe, base_ms, int(since_ms), limit, now)
        if not pages:
            return empty_frame()
        frame = tidy(pages[0] if len(pages) == 1 else pd.concat(pages, ignore_index=True))
        if since_ms is None:
            n = limit or DEFAULT_LIMIT
            return frame.iloc[-n:].reset_index(drop=True) if len(frame) > n else frame
        frame = since_slice(frame, since_ms)
        if limit is not None and len(frame) > limit:
            frame = frame.iloc[:limit]
        return frame

    async def _forward(self, mid: str, tf: str, base_ms: int, since: int, limit: int | None,
                       now: int) -> list[pd.DataFrame]:
        """Pages from `since` up to now, each as large as needed (at most MAX_KLINES)."""
        pages, cursor, got = [], since, 0
        while cursor <= now:
            # Candles left to now, the forming one included (it is dropped after the answer).
            first = cursor + (-cursor) % base_ms  # the next open time on the (epoch) grid
            left = max(1, (now - first) // base_ms + 1)
            want = min(MAX_KLINES, left, (limit - got) + 1 if limit else MAX_KLINES)
            page, rows, reached_now = await self._page(
                mid, tf, {"startTime": cursor, "limit": want}, now)
            pages.append(page)
            got += len(page)
            # A short page: Binance has nothing newer; the forming candle: nothing closed newer.
            if page.empty or rows < want or reached_now or (limit and got >= limit):
                break
            if int(page["timestamp"].iloc[-1]) + 2 * base_ms > now:
                break  # the next candle is still forming: no request just to learn that
            cursor = int(page["timestamp"].iloc[-1]) + 1
        return pages

    async def _last(self, mid: str, tf: str, base_ms: int, n: int, now: int
                    ) -> list[pd.DataFrame]:
        """Pages backwards from now until n closed candles (or the listing) are reached."""
        pages, got, end = [], 0, now
        while got < n:
            want = min(MAX_KLINES, n - got + 1)  # +1: the forming candle comes along
            page, rows, _ = await self._page(mid, tf, {"endTime": end, "limit": want}, now)
            pages.insert(0, page)
            got += len(page)
            if rows < want or page.empty:
                break  # the start of the symbol's history
            end = int(page["timestamp"].iloc[0]) - 1
        return pages

    # -- universe -----------------------------------------------------------------------------

    async def universe(self) -> list[str]:
        """Symbols to watch ('BTC/USDT', ...): SYMBOLS, or SYMBOLS=ALL filtered; hourly refresh."""
        if self.exchange is None:
            await self.start()
        if self._universe is not None and \
                self._clock() - self._universe_at < self._universe_ttl_s:
            return list(self._universe)
        async with self._universe_lock:
            if self._universe is None or \
                    self._clock() - self._universe_at >= self._universe_ttl_s:
                try:
                    self._universe = await self._load_universe()
                except ExchangeUnavailable as e:
                    if self._universe is None:
                        return self._unverified(e)
                    # Keep watching the old list rather than nothing; retry on the next call.
                    log.warning("universe_refresh_failed", error=str(e),
                                kept=len(self._universe))
                    return list(self._universe)
                self._universe_at = self._clock()
        return list(self._universe)

    def _unverified(self, error: ExchangeUnavailable) -> list[str]:
        """Explicit SYMBOLS while exchangeInfo is unreachable: watch them unverified until it answers."""
        configured = tuple(self.settings.symbols)
        if configured == (uni.ALL,) or not isinstance(error, TransientExchangeError):
            raise error
        log.warning("universe_unverified", error=str(error), symbols=",".join(configured))
        excluded = set(self.settings.exclude_symbols)
        return [s for s in configured if s not in excluded]  # not cached: retried next call

    async def _load_universe(self) -> list[str]:
        s = self.settings
        markets = await self._read(lambda: self.exchange.load_markets(reload=True), "markets")
        perpetuals = uni.tradable_perpetuals(markets)
        volumes: dict[str, float] = {}
        if tuple(s.symbols) == (uni.ALL,):
            async def tickers():
                payload = await self.exchange.fapiPublicGetTicker24hr()
                if not isinstance(payload, list):
                    raise MalformedResponse("ticker/24hr: expected a JSON list")
                return payload

            volumes = uni.quote_volumes(await self._read(tickers, "ticker/24hr"))
        chosen = uni.select(tuple(s.symbols), perpetuals, volumes, min_volume=s.min_volume_24h,
                            max_pairs=s.max_pairs, exclude=s.exclude_symbols)
        log.info("universe_loaded", perpetuals=len(perpetuals), watching=len(chosen),
                 symbols=",".join(chosen[:20]))
        return chosen

    # -- preflight ----------------------------------------------------------------------------

    async def check(self) -> list[tuple[str, bool, str]]:
        """`main.py check` lines: (what, ok, detail) for server time, markets and one kline."""
        results: list[tuple[str, bool, str]] = []
        try:
            now = await self.server_time_ms()
            results.append(("binance server time", True,
                            f"{_utc(now)} UTC, host clock off by {self._offset_ms} ms"))
        except ExchangeUnavailable as e:
            return [("binance server time", False, str(e))]
        try:
            symbols = await self.universe()
            ok = bool(symbols)
            results.append(("binance markets", ok, f"watching {len(symbols)}: "
                            + ", ".join(symbols[:10]) if ok else "no symbol to watch"))
        except ExchangeUnavailable as e:
            return results + [("binance markets", False, str(e))]
        try:
            frame = await self.closed_candles(symbols[0], "1m", limit=1)
            ok = not frame.empty
            detail = (f"{symbols[0]} 1m closed {_utc(int(frame['timestamp'].iloc[-1]))} UTC"
                      if ok else f"{symbols[0]}: no closed candle")
            results.append(("binance klines", ok, detail))
        except (ExchangeUnavailable, ValueError) as e:
            results.append(("binance klines", False, str(e)))
        return results


__all__ = ["BinanceFetcher", "RetryPolicy", "TransientExchangeError", "market_id"]
