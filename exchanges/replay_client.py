"""The replay venue's market data: a ReplayBook's candles, served as its clock closes them.

No ccxt and no network: the candles were read before the daemon started (fetchers/replay_book.py
reads candle files or the history store into a ReplayBook), and the clock (replay_clock.py)
decides which of them have closed, exactly as a venue's server time does. The daemon follows
that clock when the data instance has one (`venue_clock`, app/schedule.py).
"""
from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

import numpy as np
import pandas as pd

from domain.checks import CheckLine
from domain.timeframe import DAY_MS, timeframe_ms

from .candles import empty_frame
from .options import MarketDataConfig
from .replay_clock import ReplayClock
from .venue import Venue


def _utc(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, tz=UTC).strftime("%Y-%m-%d %H:%M")


@dataclass(frozen=True)
class ReplayBook:
    """The candles a replay serves: one frame per symbol ('BTC/USDT'), all of one timeframe,
    oldest first (timestamp int64 ms open time, open, high, low, close, volume)."""

    timeframe: str
    candles: Mapping[str, pd.DataFrame]
    source: str  # for people: the files or the store they were read from

    @property
    def first_open_ms(self) -> int:
        """The earliest open time of any symbol."""
        return min(int(f["timestamp"].iloc[0]) for f in self.candles.values())

    @property
    def last_close_ms(self) -> int:
        """The latest close time of any symbol (the end of the replay)."""
        return max(int(f["timestamp"].iloc[-1]) for f in self.candles.values()) \
            + timeframe_ms(self.timeframe)


class ReplayMarketData:
    """The data instance of the replay venue (exchanges.port.MarketData)."""

    def __init__(self, config: MarketDataConfig, venue: Venue, *,
                 book: ReplayBook | None = None, clock: ReplayClock | None = None,
                 retry: object = None) -> None:
        # `retry` is what callers of every venue pass; a local read has nothing to retry.
        if book is None or clock is None:
            raise ValueError("the replay venue serves the candles REPLAY_SOURCE names: it is "
                             "built with them by the daemon (DATA_EXCHANGE=replay) or by "
                             "`main.py demo`; for a one-off look, use --csv or the store")
        self.config, self.venue, self.book = config, venue, book
        self.venue_clock = clock  # the daemon schedules on this clock (app/schedule.py)
        self._tf_ms = timeframe_ms(book.timeframe)

    @property
    def native_timeframes(self) -> tuple[str, ...]:
        """The timeframe of the candles given: every other one is built from it."""
        return (self.book.timeframe,)

    async def start(self) -> None:
        """Nothing to connect to: the candles are in memory."""

    async def close(self) -> None:
        """Nothing to release."""

    async def __aenter__(self) -> ReplayMarketData:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def server_time_ms(self) -> int:
        """The replay clock (stopped at the end of the history)."""
        return self.venue_clock.now_ms()

    async def perpetuals(self) -> dict[str, str]:
        """Every symbol of the book, as 'BTCUSDT' ids."""
        return {symbol: symbol.replace("/", "") for symbol in sorted(self.book.candles)}

    async def quote_volumes(self) -> dict[str, float]:
        """Close x volume over the 24 hours of closed candles before the replay clock."""
        now = await self.server_time_ms()
        out = {}
        for symbol in self.book.candles:
            day = self._closed(symbol, now - DAY_MS, None, now)
            out[symbol] = float((day["close"] * day["volume"]).sum())
        return out

    def _closed(self, symbol: str, since_ms: int | None, limit: int | None, now: int
                ) -> pd.DataFrame:
        """The symbol's candles closed at `now`: from since_ms (the first `limit`), or the
        last `limit` (the venue's default page without one)."""
        frame = self.book.candles.get(symbol)
        if frame is None:
            raise ValueError(f"{symbol} is not in the replay ({self.book.source}); it holds "
                             f"{', '.join(sorted(self.book.candles))}")
        ts = frame["timestamp"].to_numpy(dtype=np.int64)
        hi = int(np.searchsorted(ts, now - self._tf_ms, side="right"))  # open + tf <= now
        if since_ms is None:
            lo = max(0, hi - (limit or self.venue.default_page))
        else:
            lo = int(np.searchsorted(ts, since_ms, side="left"))
            if limit is not None:
                hi = min(hi, lo + limit)
        return frame.iloc[lo:hi].reset_index(drop=True) if hi > lo else empty_frame()

    async def closed_candles(self, symbol: str, base_timeframe: str, since_ms: int | None = None,
                             limit: int | None = None) -> pd.DataFrame:
        """Closed candles of the book's timeframe, oldest first (never the forming one)."""
        if base_timeframe != self.book.timeframe:
            raise ValueError(f"{base_timeframe!r} is not the replay's timeframe "
                             f"({self.book.timeframe}, from {self.book.source})")
        if limit is not None and limit < 1:
            raise ValueError("limit must be at least 1")
        return self._closed(symbol, since_ms, limit, await self.server_time_ms())

    async def check(self, watched: Callable[[], Awaitable[list[str]]] | None = None
                    ) -> list[CheckLine]:
        """`main.py check` lines: the clock, the symbols watched, the candles of each."""
        clock, book = self.venue_clock, self.book
        now = await self.server_time_ms()
        lines = [CheckLine("replay clock", True, f"{_utc(now)} UTC, {clock.speed:g}x host time, "
                           f"history {_utc(book.first_open_ms)} to {_utc(book.last_close_ms)}")]
        symbols = await watched() if watched else sorted(book.candles)
        lines.append(CheckLine("replay markets", bool(symbols),
                               f"watching {len(symbols)}: {', '.join(symbols[:10])}"
                               if symbols else f"no symbol to watch in {book.source}"))
        for symbol in symbols[:10]:
            frame = book.candles[symbol]
            lines.append(CheckLine(f"replay {symbol}", True, f"{len(frame):,} {book.timeframe} "
                                   f"candles from {book.source}"))
        return lines


MarketData = ReplayMarketData  # the name exchanges/factory.py looks up in a venue's module
