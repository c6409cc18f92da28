"""Venues by name (pure data: importing this loads no ccxt)."""
from __future__ import annotations

from .binance import BINANCE
from .bingx import BINGX
from .bitget import BITGET
from .bybit import BYBIT
from .coindcx import COINDCX
from .delta import DELTA
from .gate import GATE
from .kucoin import KUCOIN
from .okx import OKX
from .replay import REPLAY
from .venue import Venue

DEFAULT = BINANCE.name
VENUES: dict[str, Venue] = {v.name: v for v in (
    BINANCE,
    BYBIT,
    OKX,
    GATE,
    KUCOIN,
    BITGET,
    BINGX,
    DELTA,
    COINDCX,
    REPLAY,
)}


class UnknownVenue(ValueError):
    """A venue name the registry does not hold; the message lists the supported ones."""


def names() -> tuple[str, ...]:
    """The supported venue names, sorted."""
    return tuple(sorted(VENUES))


def get_venue(name: str) -> Venue:
    """The venue called `name` (any case); UnknownVenue naming the supported ones otherwise."""
    venue = VENUES.get(name.strip().lower())
    if venue is None:
        raise UnknownVenue(f"unknown exchange {name!r}; supported: {', '.join(names())}")
    return venue


def remote_names() -> tuple[str, ...]:
    """The venues history can be fetched from (not one served from this machine), sorted."""
    return tuple(n for n in names() if not VENUES[n].local)


def get_remote_venue(name: str) -> Venue:
    """get_venue, refusing the replay venue: it serves files or the store, it fetches nothing."""
    venue = get_venue(name)
    if venue.local:
        raise UnknownVenue(f"{venue.name} replays candle files or the history store: there is "
                           f"nothing to fetch from it; fetch from {', '.join(remote_names())}")
    return venue
