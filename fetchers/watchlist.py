"""The symbols to watch: SYMBOLS, or SYMBOLS=ALL ranked by 24h quote volume, from a venue's
perpetuals; refreshed hourly, the previous list kept while the venue cannot be read."""
from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

import structlog

from exchanges import universe as uni
from exchanges.errors import ExchangeUnavailable, TransientExchangeError

log = structlog.get_logger(__name__)
TTL_S = 3600.0


@dataclass(frozen=True)
class WatchList:
    """Which symbols to watch: explicit ones, or ALL filtered by 24h quote volume."""

    symbols: tuple[str, ...] = ("BTC/USDT", "ETH/USDT")
    exclude: tuple[str, ...] = ()
    min_volume_24h: float = 10_000_000.0
    max_pairs: int = 30


class Listing(Protocol):
    """What the watch list reads of a data instance."""

    async def perpetuals(self) -> dict[str, str]:
        """Our symbol -> the venue's id, every tradable perpetual (markets reloaded)."""

    async def quote_volumes(self) -> dict[str, float]:
        """Our symbol -> 24h quote volume."""


class WatchedSymbols:
    """The watch list of one data instance, cached for `ttl_s`."""

    def __init__(self, listing: Listing, watch: WatchList, *, venue_name: str = "",
                 ttl_s: float = TTL_S, clock: Callable[[], float] = time.time) -> None:
        self.listing, self.watch, self.venue_name = listing, watch, venue_name
        self._ttl_s, self._clock = ttl_s, clock
        self._lock = asyncio.Lock()
        self._symbols: list[str] | None = None
        self._at = -math.inf

    async def __call__(self) -> list[str]:
        """Symbols to watch ('BTC/USDT', ...), loaded at most once per `ttl_s`."""
        if self._symbols is not None and self._clock() - self._at < self._ttl_s:
            return list(self._symbols)
        async with self._lock:
            if self._symbols is None or self._clock() - self._at >= self._ttl_s:
                try:
                    self._symbols = await self._load()
                except ExchangeUnavailable as e:
                    if self._symbols is None:
                        return self._unverified(e)
                    # Keep watching the old list rather than nothing; retry on the next call.
                    log.warning("universe_refresh_failed", error=str(e),
                                kept=len(self._symbols))
                    return list(self._symbols)
                self._at = self._clock()
        return list(self._symbols)

    def _unverified(self, error: ExchangeUnavailable) -> list[str]:
        """Explicit SYMBOLS while the markets are unreachable: watched unverified for now."""
        configured = self.watch.symbols
        if configured == (uni.ALL,) or not isinstance(error, TransientExchangeError):
            raise error
        log.warning("universe_unverified", error=str(error), symbols=",".join(configured))
        excluded = set(self.watch.exclude)
        return [s for s in configured if s not in excluded]  # not cached: retried next call

    async def _load(self) -> list[str]:
        perpetuals = await self.listing.perpetuals()
        ranked = self.watch.symbols == (uni.ALL,)
        volumes = await self.listing.quote_volumes() if ranked else {}
        chosen = uni.select(self.watch.symbols, perpetuals, volumes,
                            min_volume=self.watch.min_volume_24h, max_pairs=self.watch.max_pairs,
                            exclude=self.watch.exclude)
        log.info("universe_loaded", venue=self.venue_name, perpetuals=len(perpetuals),
                 watching=len(chosen), symbols=",".join(chosen[:20]))
        return chosen
