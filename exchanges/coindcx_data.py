"""CoinDCX market data on the port (no ccxt): closed futures candles, the venue's clock, pairs.

- Candles: GET /market_data/candlesticks?pair=B-BTC_USDT&from&to&resolution&pcode=f (pcode=f,
  or the spot market of the same name is served), from/to in SECONDS (open times, inclusive),
  resolutions 1, 5, 60, 1D; rows {open, high, low, close, volume, time (ms)}. The docs name no
  row limit: windows of at most PAGE candle lengths, an edge left empty asked again.
- The clock: CoinDCX documents no server-time endpoint. The prices snapshot's `ts` and the
  Date header (whole seconds, rounded down) of answers give it, the earlier one winning: a
  candle is closed once open + length is not after the venue's clock (and not after the Date of
  the answer holding it); the forming one is dropped whatever the answer holds.
- Pairs and volumes: GET /market_data/v3/current_prices/futures/rt ('B-X_USDT' -> {v, ls}).
"""
from __future__ import annotations

import math
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import numpy as np
import pandas as pd
import structlog

from domain.checks import CheckLine
from domain.timeframe import timeframe_ms

from .candles import empty_frame, insane, since_slice, tidy, to_frame
from .coindcx import DATA_HOST, RESOLUTIONS, pair_of, symbol_of
from .coindcx_http import CoindcxHttp, VenueId
from .errors import ExchangeUnavailable, TransientExchangeError
from .ohlcv import utc_text
from .options import MarketDataConfig
from .retry import RetryPolicy, SharedPause, with_retry
from .tagging import RequestObserver
from .venue import Venue

log = structlog.get_logger(__name__)
T = TypeVar("T")
CANDLES = "/market_data/candlesticks"
PRICES = "/market_data/v3/current_prices/futures/rt"
TIME_RESYNC_S = 600.0


class MarketData:
    """Closed candles, the venue's clock and the listed perpetuals of CoinDCX Futures."""

    def __init__(self, config: MarketDataConfig, venue: Venue, *,
                 retry: RetryPolicy | None = None, clock: Callable[[], float] = time.time,
                 time_resync_s: float = TIME_RESYNC_S, **_: Any) -> None:
        self.config, self.venue = config, venue
        self.retry = retry or RetryPolicy(budget_s=config.budget_s)
        self._clock, self._time_resync_s = clock, time_resync_s
        self._pause = SharedPause(self.retry.clock)
        self._offset_ms: int | None = None
        self._synced_at = -math.inf
        self.http: CoindcxHttp | None = None
        self.exchange = VenueId(venue.name)
        self._observer: RequestObserver | None = None

    @property
    def native_timeframes(self) -> tuple[str, ...]:
        return self.venue.native_timeframes

    async def start(self) -> None:
        self._session()

    def _session(self) -> CoindcxHttp:
        """The HTTP client, made on first use (no request yet)."""
        if self.http is None:
            self.http = CoindcxHttp(self.venue, self.config.url or f"https://{DATA_HOST}",
                                    timeout_s=self.config.timeout_s)
            self.http.observer = self._observer
        return self.http

    def observe_requests(self, observer: RequestObserver) -> None:
        self._observer = observer
        if self.http is not None:
            self.http.observer = observer

    async def close(self) -> None:
        if self.http is not None:
            await self.http.close()
            self.http = None

    async def __aenter__(self) -> MarketData:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def _read(self, fn: Callable[[CoindcxHttp], Awaitable[T]], what: str) -> T:
        """One read through the shared retry path (our errors only)."""
        http = self._session()
        return await with_retry(lambda: fn(http), self.retry, what, self._pause, self.venue)

    # -- the clock ----------------------------------------------------------------------------
    async def _sync_time(self) -> None:
        """The venue's clock, from the prices snapshot: its `ts` (ms) and the answer's Date
        header, the earlier of the two (a snapshot's ts may lag; a lag only makes a candle
        count as closed a little later, never earlier)."""
        async def call(http: CoindcxHttp) -> int:
            t0 = self._clock()
            payload = await http.get(PRICES)
            t1 = self._clock()
            seen = [v for v in (payload.get("ts") if isinstance(payload, dict) else None,
                                http.last_date_ms) if isinstance(v, int | float) and v > 0]
            if not seen:
                raise TransientExchangeError("CoinDCX told no time (no ts, no Date header)")
            return int(min(seen)) - round((t0 + t1) * 500)

        self._offset_ms = await self._read(call, "time")
        self._synced_at = self._clock()

    async def server_time_ms(self) -> int:
        """The venue's clock now: ours plus the offset last measured (every few minutes)."""
        if self._offset_ms is None or self._clock() - self._synced_at > self._time_resync_s:
            await self._sync_time()
        return round(self._clock() * 1000) + (self._offset_ms or 0)

    # -- candles ------------------------------------------------------------------------------
    async def _candles(self, pair: str, timeframe: str, start: int, end: int
                       ) -> tuple[list[dict[str, Any]], int | None]:
        """The rows of candles opening in [start, end] (ms) and the venue's Date then. The
        bounds are asked one second wider on each side, so that inclusive and exclusive
        readings of from/to both hold every candle of the window and none beyond it."""
        tf_ms = timeframe_ms(timeframe)
        params = {"pair": pair, "from": start // 1000 - 1, "to": (end + tf_ms) // 1000 - 1,
                  "resolution": RESOLUTIONS[timeframe], "pcode": "f"}

        async def call(http: CoindcxHttp) -> tuple[list[dict[str, Any]], int | None]:
            payload = await http.get(CANDLES, params)
            rows = payload.get("data") if isinstance(payload, dict) else None
            if not isinstance(rows, list):
                raise TransientExchangeError(f"candles {pair}: no data list in the answer")
            return rows, http.last_date_ms

        return await self._read(call, f"candles {pair} {timeframe}")

    @staticmethod
    def _frame(rows: list[dict[str, Any]], tf_ms: int, now_ms: int) -> pd.DataFrame:
        """Closed, sane candles of one answer as a frame."""
        try:
            ts = np.array([int(r["time"]) for r in rows], dtype=np.int64)
            values = np.array([[float(r[k]) for k in ("open", "high", "low", "close", "volume")]
                               for r in rows], dtype=np.float64).reshape(-1, 5)
        except (KeyError, TypeError, ValueError) as e:
            raise TransientExchangeError(f"candles: a row is not a candle ({e})") from None
        closed = ts + tf_ms <= now_ms  # the forming candle is dropped whatever it holds
        bad = insane(values) & closed
        if bad.any():  # never fed silently: the bucket built over it has fewer bars
            log.warning("candle_insane_skipped", timestamps=ts[bad].tolist())
        keep = closed & ~bad
        return to_frame(ts[keep], values[keep])

    async def closed_candles(self, symbol: str, base_timeframe: str, since_ms: int | None = None,
                             limit: int | None = None) -> pd.DataFrame:
        """Closed native candles, oldest first: from since_ms (inclusive open), or the last
        `limit`."""
        if base_timeframe not in self.venue.native_timeframes:
            raise ValueError(f"{base_timeframe!r} is not a native {self.venue.label} timeframe")
        if limit is not None and limit < 1:
            raise ValueError("limit must be at least 1")
        now = await self.server_time_ms()
        tf_ms = timeframe_ms(base_timeframe)
        last_closed = now - now % tf_ms - tf_ms
        if since_ms is None:
            want = limit or self.venue.default_page
            start = last_closed - (want - 1) * tf_ms
        else:
            start = int(since_ms) + (-int(since_ms)) % tf_ms
        pages = await self._windows(pair_of(symbol), base_timeframe, start, last_closed, now,
                                    limit if since_ms is not None else None)
        pages = [p for p in pages if not p.empty]
        if not pages:
            return empty_frame()
        frame = tidy(pd.concat(pages, ignore_index=True) if len(pages) > 1 else pages[0])
        if since_ms is None:
            n = limit or self.venue.default_page
            return frame.iloc[-n:].reset_index(drop=True) if len(frame) > n else frame
        frame = since_slice(frame, since_ms)
        return frame.iloc[:limit].reset_index(drop=True) if limit and len(frame) > limit \
            else frame

    async def _windows(self, pair: str, tf: str, start: int, last: int, now: int,
                       limit: int | None) -> list[pd.DataFrame]:
        """Candles from `start` to `last` (open times), window by window. The docs name no
        row limit: an answer that leaves an edge of its window empty is asked again for that
        edge (a page cut short at either end, whichever end the venue keeps), until an edge
        comes back empty (a gap, or before the listing)."""
        tf_ms = timeframe_ms(tf)
        span = self.venue.max_page * tf_ms
        todo = [(lo, min(lo + span - tf_ms, last)) for lo in range(start, last + 1, span)]
        pages: list[pd.DataFrame] = []
        got, budget = 0, 4 * len(todo) + 4
        while todo and budget and not (limit and got >= limit):
            lo, hi = todo.pop(0)
            budget -= 1
            rows, venue_ms = await self._candles(pair, tf, lo, hi)
            frame = since_slice(tidy(self._frame(rows, tf_ms, min(now, venue_ms or now))),
                                lo, hi + 1)
            if frame.empty:
                continue
            pages.append(frame)
            got += len(frame)
            first, final = int(frame["timestamp"].iloc[0]), int(frame["timestamp"].iloc[-1])
            edges = [(final + tf_ms, hi)] if final < hi else []
            edges += [(lo, first - tf_ms)] if first > lo else []
            todo[:0] = edges  # in order: the newer edge first keeps a limited read short
        return pages

    # -- listing ------------------------------------------------------------------------------
    async def _prices(self) -> dict[str, dict[str, Any]]:
        async def call(http: CoindcxHttp) -> dict[str, dict[str, Any]]:
            payload = await http.get(PRICES)
            prices = payload.get("prices") if isinstance(payload, dict) else None
            if not isinstance(prices, dict):
                raise TransientExchangeError("current prices: no prices in the answer")
            return prices

        return await self._read(call, "current prices")

    async def perpetuals(self) -> dict[str, str]:
        """Our symbol -> 'B-X_USDT' of every USDT-margined perpetual priced now."""
        return {s: pair for pair in await self._prices() if (s := symbol_of(pair))}

    async def quote_volumes(self) -> dict[str, float]:
        """Our symbol -> 24h volume in USDT (v, in coins, times the last price ls)."""
        out: dict[str, float] = {}
        for pair, row in (await self._prices()).items():
            symbol = symbol_of(pair)
            try:
                if symbol:
                    out[symbol] = float(row["v"]) * float(row["ls"])
            except (KeyError, TypeError, ValueError):
                continue  # a row we cannot read is a symbol we cannot rank
        return out

    async def check(self, watched: Callable[[], Awaitable[list[str]]] | None = None
                    ) -> list[CheckLine]:
        """Host, pairs and one closed 1m candle of the first watched symbol."""
        name = "market data"
        host = self._session().host
        out = [CheckLine(f"{name} host", True, f"{host} (production, no testnet)")]
        try:
            pairs = await self.perpetuals()
            symbols = (await watched()) if watched else []
            out.append(CheckLine(f"{name} markets", bool(pairs),
                                 f"{len(pairs)} USDT perpetuals"))
        except ExchangeUnavailable as e:
            return out + [CheckLine(f"{name} markets", False, str(e))]
        symbol = (symbols or sorted(pairs) or ["BTC/USDT"])[0]
        try:
            frame = await self.closed_candles(symbol, "1m", limit=1)
            ok = not frame.empty
            detail = (f"{symbol} 1m closed {utc_text(int(frame['timestamp'].iloc[-1]))} UTC"
                      if ok else f"{symbol}: no closed candle")
            out.append(CheckLine(f"{name} klines", ok, detail))
        except (ExchangeUnavailable, ValueError) as e:
            out.append(CheckLine(f"{name} klines", False, str(e)))
        return out
