"""MARKET_DATA_FEED=ws: the data venue's candle stream wired to the daemon's pipeline.

Each streamed close asks the poller for the (symbol, timeframe) series it completes, on the
same path a scheduled slot takes (TimeframeAdapter over StreamedMarketData, the detector's
Stream, the store, alerts, trading), so a signal is the same whichever path brought its candle,
and each candle is fed once (the Stream skips what it has seen). The scheduled slot jobs stay,
fired after the venue's publication delay plus a grace: by then every streamed series already
has its candle (the slot reads the book and sends no REST request); a series whose close did
not come (stall, dropped socket, missing flag) is read over REST there: its fallback for the
slot. A venue without a stream, or MARKET_DATA_FEED=rest, polls REST as before.
"""
from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import structlog

from config import Settings
from domain.timeframe import timeframe_ms
from exchanges.port import MarketData
from exchanges.registry import get_venue
from exchanges.stream import dialect_for
from fetchers.candle_book import CandleBook, Outcome
from fetchers.stream_feed import StreamFeed, streamable
from fetchers.streamed import StreamedMarketData
from fetchers.timeframes import plan

from .slots import candle_end, candle_open_before

log = structlog.get_logger(__name__)

GRACE_S = 2.0  # after the venue's usual publication delay, before a slot falls back to REST
# (symbol, timeframe) -> poll that series now
Trigger = Callable[[str, str], Awaitable[Any]]


class NoStream:
    """MARKET_DATA_FEED=rest, or a venue without a stream: REST only, nothing to run."""

    def __init__(self, rest: MarketData) -> None:
        self.market_data = rest

    def fallback_delay_s(self, fetch_delay_s: float) -> float:
        return fetch_delay_s

    async def watch(self, symbols: Sequence[str], trigger: Trigger | None = None) -> None:
        return None

    async def stop(self) -> None:
        return None

    def health(self) -> dict[str, Any]:
        return {"feed": "rest"}

    def counters(self) -> None:
        return None  # REST requests have their own metric

    def source(self, symbol: str, timeframe: str) -> str:
        return "rest"


def build_feed(settings: Settings, rest: MarketData) -> LiveFeed | NoStream:
    """The stream when MARKET_DATA_FEED=ws and the data venue has one; REST otherwise, said
    once in the log. Candles never come from two different servers: with the REST data URL
    moved (a proxy, a fake) or demo market data, the stream needs its own <NAME>_WS_URL."""
    if settings.market_data_feed != "ws":
        return NoStream(rest)
    venue = get_venue(settings.data_exchange)
    dialect = dialect_for(venue)
    keys = settings.venue_keys(venue.name)
    why = ("the venue has no candle stream with a closed flag" if dialect is None
           or venue.ws is None else
           f"{venue.env_prefix}_DATA_URL is set without {venue.env_prefix}_WS_URL"
           if keys.data_url and not keys.ws_url else
           f"USE_REALTIME_DATA=0 without {venue.env_prefix}_WS_URL"
           if not settings.use_realtime_data and not keys.ws_url else "")
    if why or venue.ws is None:
        log.info("market_data_feed_rest", venue=venue.name, why=why)
        return NoStream(rest)
    return LiveFeed(settings, rest, keys.ws_url or venue.ws.url, dialect)


class LiveFeed:
    """The data venue's stream, its book, and the port that reads the book first."""

    def __init__(self, settings: Settings, rest: MarketData, url: str, dialect: Any) -> None:
        self.venue = settings.data_exchange
        self.timeframes = tuple(settings.timeframes)
        self.spec = dialect.spec
        self.book = CandleBook()
        self.feed = StreamFeed(self.venue, dialect, url, self.book, self._heard)
        self.market_data = StreamedMarketData(rest, self.book, self.feed.covers)
        self.bases = {tf: plan(tf, rest.native_timeframes).base for tf in self.timeframes}
        self.trigger: Trigger | None = None
        self.pending: set[asyncio.Future[Any]] = set()

    def fallback_delay_s(self, fetch_delay_s: float) -> float:
        """When a slot job reads what the stream did not bring: after the publication delay."""
        return max(fetch_delay_s, self.spec.publish_delay_s + GRACE_S)

    def series(self, symbols: Sequence[str]) -> list[tuple[str, str]]:
        """The (symbol, native timeframe) series the watched timeframes are built from."""
        bases = sorted({b for b in self.bases.values() if streamable(b)})
        return [(s, b) for s in symbols for b in bases]

    async def watch(self, symbols: Sequence[str], trigger: Trigger | None = None) -> None:
        """Stream the watched symbols (again when the watch list changed)."""
        if trigger is not None:
            self.trigger = trigger
        await self.feed.watch(self.series(symbols))

    async def stop(self) -> None:
        """Close the sockets; the closes being read finish (the daemon waits for its jobs)."""
        await self.feed.stop()

    def _heard(self, symbol: str, base: str, open_ms: int, outcome: Outcome) -> None:
        """A close (or a hole) in one base series: poll every timeframe it completes."""
        if self.trigger is None:
            return
        # A proven close is the candle before the newer open that proved it.
        close = open_ms if outcome is Outcome.PROVEN else open_ms + timeframe_ms(base)
        for tf, b in self.bases.items():
            if b == base and candle_end(tf, candle_open_before(tf, close)) == close:
                task = asyncio.ensure_future(self.trigger(symbol, tf))
                self.pending.add(task)
                task.add_done_callback(self.pending.discard)

    def health(self) -> dict[str, Any]:
        """feed, connected, last message age, messages, fallbacks, REST reads (for /health)."""
        h = self.feed.health()
        return {"feed": "ws", "connected": h.connected == h.connections > 0,
                "sockets": f"{h.connected}/{h.connections}",
                "last_message_age_s": None if h.last_message_age_s is None
                else round(h.last_message_age_s, 1),
                "messages": h.messages, "fallbacks": h.fallbacks,
                "rest_reads": dict(self.market_data.rest_reads),
                "from_stream": self.market_data.from_book}

    def source(self, symbol: str, timeframe: str) -> str:
        """ws when the last read of this timeframe's base series came from the stream."""
        base = self.bases.get(timeframe, timeframe)
        return self.market_data.last_source.get((symbol, base), "rest")

    def counters(self) -> dict[str, Any]:
        """Messages by feed and fallbacks by reason, for /metrics."""
        h = self.feed.health()
        return {"exchange": self.venue, "fallbacks": h.fallbacks,
                "messages": {"ws": h.messages, "rest": sum(self.market_data.rest_reads.values())}}
