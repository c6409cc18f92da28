"""What a venue's candle stream says, in our words: kline updates and the dialect Protocol.

A dialect turns our (symbol, native timeframe) into the venue's topic, says how to subscribe and
keep the socket alive, and parses each text frame into `KlineUpdate`s carrying the venue's own
closed flag. The connection itself (exchanges/ws_connection.py) is the same for every venue.
"""
from __future__ import annotations

import importlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from .venue import Venue, WsSpec


class StreamProtocolError(ValueError):
    """A frame the venue's documentation does not describe, or an error answer."""


@dataclass(frozen=True)
class KlineUpdate:
    """One candle as a stream pushed it; `closed` only when the venue's flag says so."""

    symbol: str       # ours: 'BTC/USDT'
    timeframe: str    # the native timeframe: '1m'
    open_ms: int
    open: float
    high: float
    low: float
    close: float
    volume: float
    closed: bool


@dataclass(frozen=True)
class Parsed:
    """What one frame held: candle updates, and a text to answer with (a pong), if any."""

    updates: tuple[KlineUpdate, ...] = ()
    reply: str | None = None
    error: str | None = None  # the venue refused a subscription: the topic is not streamed


class Dialect(Protocol):
    """One venue's stream messages."""

    spec: WsSpec

    def path(self, base_url: str, topics: Sequence[str]) -> str:
        """The URL to connect to for these topics (they may ride in the query)."""

    def topic(self, symbol: str, timeframe: str) -> str:
        """The venue's topic of our symbol's native timeframe candles."""

    def subscribe(self, topics: Sequence[str]) -> list[str]:
        """The messages subscribing these topics once connected (already batched)."""

    def ping(self) -> str | None:
        """Our keep-alive text, or None when the venue pings and we answer."""

    def parse(self, text: str) -> Parsed:
        """One text frame -> updates (StreamProtocolError when undocumented)."""


def dialect_for(venue: Venue) -> Dialect | None:
    """The venue's stream dialect, or None when it has no stream with a closed flag."""
    if venue.ws is None:
        return None
    module = importlib.import_module(venue.ws.dialect)
    return module.DIALECT


def batches(items: Sequence[str], size: int) -> list[list[str]]:
    """items cut into lists of at most `size`, in order."""
    return [list(items[i:i + size]) for i in range(0, len(items), size)]


def loads(text: str) -> Any:
    """A frame's JSON, or StreamProtocolError."""
    try:
        return json.loads(text)
    except ValueError as e:
        raise StreamProtocolError(f"not JSON: {text[:80]!r}") from e
