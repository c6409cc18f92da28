"""Every registered venue's data fits the daemon: its client-id rule takes our ids, its native
timeframes parse and build every timeframe the grammar allows, its harness exists."""
from __future__ import annotations

import importlib

import pytest

from domain.timeframe import Timeframe
from exchanges import registry
from exchanges.ccxt_trading import CcxtTrading
from exchanges.venue import OrderLookup
from fetchers.timeframes import plan
from trading.client_ids import client_id

from .harness import HARNESSES

VENUES = registry.names()


@pytest.mark.parametrize("name", VENUES)
def test_the_venue_takes_every_client_id_we_make(name):
    venue = registry.get_venue(name)
    if venue.trading is None:
        pytest.skip(f"{venue.label} serves market data only: no order carries an id")
    rule = venue.trading.client_ids
    if rule is None:
        # No id reaches the venue (CoinDCX): orders are found by what the intent wrote down,
        # by a trading class of the venue's own, never by ccxt's lookup by id.
        assert venue.trading.lookup is OrderLookup.INTENT_MATCH
        trading = importlib.import_module(venue.client_module).Trading
        assert not issubclass(trading, CcxtTrading) and "find_order" in vars(trading)
        return
    identity = f"{name}|BTC/USDT|15m|L5R5close|bullish|1700000000000"
    room = rule.max_length - len(rule.prefix)
    ids = [client_id(identity, role, g, tag=tag, room=room)
           for role in ("entry", "stop", "target", "close") for g in (0, 1, 9999)
           for tag in (None, "ab12")]
    assert all(rule.accepts(cid) for cid in ids), [c for c in ids if not rule.accepts(c)]


@pytest.mark.parametrize("name", VENUES)
def test_the_venues_timeframes_build_every_timeframe(name):
    native = registry.get_venue(name).native_timeframes
    assert all(Timeframe.parse(tf) for tf in native)
    for text in ("1m", "25m", "90m", "7h", "8h", "1d", "3d", "1w"):
        assert plan(text, native).bucket_ms == Timeframe.parse(text).ms


@pytest.mark.parametrize("name", VENUES)
def test_the_venue_has_a_conformance_harness(name):
    assert name in HARNESSES and HARNESSES[name]().venue is registry.get_venue(name)


def test_an_unknown_venue_names_the_supported_ones():
    with pytest.raises(registry.UnknownVenue, match="supported: " + ", ".join(VENUES)):
        registry.get_venue("nope")
