"""StreamedMarketData: the market-data port answered from the stream's book, REST for the rest.

It wraps the venue's REST market data. A streamed series' closed candles come from the
CandleBook when it holds every one of them up to the candle closed now; otherwise REST is
asked, for the hole only when the book holds the start of the range (after a reconnect, a
stall, a missed closed flag), else for the whole range (start-up, a restart), and the answer
goes into the book. So TimeframeAdapter, the detector and the store see the same candles on
either path, and in steady state no REST candle request is made at all.
"""
from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from typing import Any

import pandas as pd

from domain.candles import Candles
from domain.timeframe import timeframe_ms
from exchanges.port import MarketData

from .candle_book import CandleBook


class StreamedMarketData:
    """A MarketData whose closed_candles reads the stream's book first."""

    def __init__(self, rest: MarketData, book: CandleBook,
                 streamed: Callable[[str, str], bool]) -> None:
        self.rest = rest
        self.book = book
        self.streamed = streamed  # (symbol, native timeframe) -> is it on the stream
        self.from_book = 0
        self.rest_reads: Counter[str] = Counter()  # REST candle reads of streamed series, by why
        self.last_source: dict[tuple[str, str], str] = {}  # series -> ws | rest, last read

    def __getattr__(self, name: str) -> Any:
        return getattr(self.rest, name)  # every other part of the port is REST's

    @property
    def native_timeframes(self) -> tuple[str, ...]:
        return self.rest.native_timeframes

    async def closed_candles(self, symbol: str, base_timeframe: str, since_ms: int | None = None,
                             limit: int | None = None) -> pd.DataFrame:
        """Closed native candles: from the book when it has them all, else over REST."""
        if not self.streamed(symbol, base_timeframe):
            return await self.rest.closed_candles(symbol, base_timeframe, since_ms, limit)
        got = await self.closed_columns(symbol, base_timeframe, since_ms, limit)
        return got.frame()

    async def closed_columns(self, symbol: str, base_timeframe: str,
                             since_ms: int | None = None, limit: int | None = None) -> Candles:
        """As closed_candles, as columns (the live path reads these: no frame is built)."""
        if not self.streamed(symbol, base_timeframe):
            return Candles.of(await self.rest.closed_candles(symbol, base_timeframe, since_ms,
                                                             limit))
        tf_ms = timeframe_ms(base_timeframe)
        now = await self.rest.server_time_ms()
        newest = now - now % tf_ms - tf_ms  # the open of the candle closed last
        got = self.book.columns(symbol, base_timeframe, since_ms, limit, newest)
        key = (symbol, base_timeframe)
        if got is not None:
            self.from_book += 1
            self.last_source[key] = "ws"
            return got
        self.last_source[key] = "rest"
        last = self.book.last(symbol, base_timeframe)
        if since_ms is not None and last is not None and \
                self.book.columns(symbol, base_timeframe, since_ms, None, last) is not None:
            # The book holds the start: only the hole is read.
            self.rest_reads["gap"] += 1
            hole = await self.rest.closed_candles(symbol, base_timeframe, last + tf_ms)
            self.book.record(symbol, base_timeframe, tf_ms, hole, last + tf_ms)
            held = self.book.last(symbol, base_timeframe) or last
            answer = self.book.columns(symbol, base_timeframe, since_ms, limit, held)
            return Candles.of(hole) if answer is None else answer
        self.rest_reads["range"] += 1
        frame = await self.rest.closed_candles(symbol, base_timeframe, since_ms, limit)
        self.book.record(symbol, base_timeframe, tf_ms, frame, since_ms)
        return Candles.of(frame)
