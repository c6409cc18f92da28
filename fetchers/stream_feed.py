"""StreamFeed: one venue's candle stream supervised, feeding a CandleBook and announcing closes.

The watched (symbol, native timeframe) series are cut into connections of the venue's
documented size; each connection reconnects on its own (exchanges/ws_connection.py). Every
update goes through the book (fetchers/candle_book.py); the caller hears of each series that
has something new to read (`on_close(symbol, timeframe, open_ms, outcome)`): a closed candle
that continues the series, or a hole (a candle after a gap, or a close proven by a newer open
without the venue's flag) that REST must fill first. Only intraday timeframes that divide a
day, and 1d, are streamed: their candles sit on the epoch grid, so a hole is a missing
multiple of the length; the calendar and week candles stay on REST.

Health for /api/v1/health and /metrics: connected sockets, last message age, messages, and
fallbacks by reason (refused, closed, stall, aged, protocol, gap, no_close_flag).
"""
from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import structlog

from domain.timeframe import DAY_MS, timeframe_ms
from exchanges.stream import Dialect, KlineUpdate
from exchanges.ws_connection import StreamConnection

from .candle_book import CandleBook, Outcome

log = structlog.get_logger(__name__)

# (symbol, native timeframe, open time, outcome) -> None: something to read for that series.
OnClose = Callable[[str, str, int, Outcome], None]
ConnectionFactory = Callable[..., StreamConnection]
CONNECT_SPACING_S = 0.5  # between a venue's sockets: OKX takes 3 connects a second per IP


def streamable(timeframe: str) -> bool:
    """True for the native timeframes whose candles lie on the epoch grid."""
    ms = timeframe_ms(timeframe)
    return ms <= DAY_MS and DAY_MS % ms == 0


@dataclass(frozen=True)
class FeedHealth:
    """One venue's stream, as health and metrics show it."""

    feed: str                  # ws | rest
    connected: int             # sockets up
    connections: int           # sockets wanted
    last_message_age_s: float | None
    messages: int
    fallbacks: dict[str, int]


class StreamFeed:
    """The candle stream of one venue for a set of series, kept up until stopped."""

    def __init__(self, venue: str, dialect: Dialect, url: str, book: CandleBook,
                 on_close: OnClose, *, connection: ConnectionFactory = StreamConnection,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.venue = venue
        self.dialect = dialect
        self.url = url
        self.book = book
        self.on_close = on_close
        self.connection = connection
        self.clock = clock
        self.series: tuple[tuple[str, str], ...] = ()
        self.fallbacks: Counter[str] = Counter()
        self._topics: dict[str, tuple[str, str]] = {}
        self._wanted: frozenset[tuple[str, str]] = frozenset()
        self._connections: list[StreamConnection] = []
        self._tasks: list[asyncio.Task[None]] = []
        self._stop = asyncio.Event()

    def covers(self, symbol: str, timeframe: str) -> bool:
        """True when this series is streamed (its closes may come from the book)."""
        return (symbol, timeframe) in self._wanted

    async def watch(self, series: Sequence[tuple[str, str]]) -> None:
        """Stream these (symbol, native timeframe) series; reconnects only when they change."""
        wanted = tuple(sorted({(s, tf) for s, tf in series if streamable(tf)}))
        if wanted == self.series and self._tasks:
            return
        await self.stop()
        self.series = wanted
        self._wanted = frozenset(wanted)
        self._topics = {self.dialect.topic(s, tf): (s, tf) for s, tf in wanted}
        topics = list(self._topics)
        size = self.dialect.spec.topics_per_connection
        self._stop = asyncio.Event()
        self._connections = [
            self.connection(self.dialect, self.url, topics[i:i + size], on_update=self._update,
                            on_down=self._down, clock=self.clock)
            for i in range(0, len(topics), size)]
        self._tasks = [asyncio.create_task(self._run(c, n * CONNECT_SPACING_S),
                                           name=f"stream-{self.venue}-{n}")
                       for n, c in enumerate(self._connections)]
        log.info("stream_watching", venue=self.venue, series=len(wanted),
                 connections=len(self._connections))

    async def stop(self) -> None:
        """Close every socket and wait for their loops to end."""
        self._stop.set()
        await asyncio.gather(*(c.close() for c in self._connections), return_exceptions=True)
        for task in self._tasks:
            try:
                await asyncio.wait_for(task, 10.0)
            except (TimeoutError, asyncio.CancelledError):
                task.cancel()
            except Exception:
                log.exception("stream_stop_failed", venue=self.venue)
        self._tasks = []

    async def _run(self, connection: StreamConnection, after_s: float) -> None:
        """One socket's loop, started after `after_s`: venues limit connects per second."""
        if after_s:
            try:
                await asyncio.wait_for(self._stop.wait(), after_s)
                return
            except TimeoutError:
                pass
        await connection.run(self._stop)

    def _down(self, reason: str) -> None:
        self.fallbacks[reason] += 1

    def _update(self, update: KlineUpdate) -> None:
        key = (update.symbol, update.timeframe)
        if key not in self._wanted:
            return  # a topic from an earlier subscription still in flight
        outcome = self.book.accept(update, timeframe_ms(update.timeframe))
        if outcome is Outcome.IGNORED:
            return
        if outcome is Outcome.PROVEN:
            self.fallbacks["no_close_flag"] += 1
        elif outcome is Outcome.AHEAD:
            self.fallbacks["gap"] += 1
        self.on_close(update.symbol, update.timeframe, update.open_ms, outcome)

    def health(self) -> FeedHealth:
        """Sockets up, the freshest message's age, counts."""
        seen = [c.last_message for c in self._connections if c.last_message is not None]
        age = self.clock() - max(seen) if seen else None
        return FeedHealth("ws", sum(c.connected for c in self._connections),
                          len(self._connections), age,
                          sum(c.messages for c in self._connections), dict(self.fallbacks))

    def healthy(self, symbol: str, timeframe: str) -> bool:
        """True when the socket carrying this series is up."""
        topic = self.dialect.topic(symbol, timeframe)
        return any(c.connected and topic in c.topics for c in self._connections)
