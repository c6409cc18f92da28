"""A venue that keeps no client id on its stops and targets (BingX): they are found, named and
cancelled by the venue's order id recorded at placement, and by side, kind and trigger when the
answer holding that id was lost."""
from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from app import components
from domain.trade import ExitReason, OrderStatus
from exchanges.binance import BINANCE
from exchanges.binance_client import BinanceTrading
from exchanges.errors import TransientExchangeError
from exchanges.port import OrderIntent, OrderResult

from .conftest import TF_MS, _open, is_opened, make_settings, make_signal

SPEC = BINANCE.trading_spec()
assert SPEC.client_ids is not None
NAMELESS_STOPS = dataclasses.replace(BINANCE, trading=dataclasses.replace(
    SPEC, client_ids=dataclasses.replace(SPEC.client_ids, on_conditional=False)))


class NamelessStops(BinanceTrading):
    """Binance's client, reading its conditional orders back without their client ids."""

    def _order(self, o: Any, symbol: str) -> OrderResult:
        result = super()._order(o, symbol)
        return dataclasses.replace(result, client_id="") if result.kind else result


async def _manager(fake, store):
    settings = make_settings(fake.url)
    broker = NamelessStops(components.trading_config(settings, NAMELESS_STOPS), NAMELESS_STOPS,
                           backoff_s=0.01, rate_limit=False)
    manager = components.position_manager(settings, store, broker)
    _open.append(manager)
    await manager.start(list(settings.symbols))
    return manager, broker


def _stop_intents(store):
    return [it for it in store.intents(role="stop")]


async def test_stops_are_named_and_cancelled_by_the_venue_order_id(fake, store):
    manager, _ = await _manager(fake, store)
    assert is_opened(await manager.on_signal(make_signal(store), TF_MS))
    assert sorted(a["orderType"] for a in fake.open_algos("BTCUSDT")) == [
        "STOP_MARKET", "TAKE_PROFIT_MARKET"]
    assert all(it.exchange_id for it in _stop_intents(store))
    lookups = len(fake.calls("GET", "/fapi/v1/algoOrder"))
    report = await manager.reconcile()
    # Named by their venue ids in the waiting list: neither orphans nor another daemon's, nor
    # looked up one by one, nor placed again.
    assert report.orphans_canceled == () and not report.other_instance
    assert len(fake.calls("GET", "/fapi/v1/algoOrder")) == lookups
    assert len(fake.algos) == 2
    fake.candle("BTCUSDT", high=52100, low=49900, close=52050)   # the target is hit
    await manager.reconcile()
    closed = store.closed_positions()
    assert len(closed) == 1 and closed[0].exit_reason is ExitReason.TARGET
    assert fake.open_algos() == []   # the stop cancelled by its venue id
    assert _stop_intents(store)[-1].status is OrderStatus.CANCELED


async def test_a_lost_stop_answer_is_found_by_side_kind_and_trigger(fake, store):
    manager, _ = await _manager(fake, store)
    fake.fail("/fapi/v1/algoOrder", 504, method="POST", lost=True)
    assert is_opened(await manager.on_signal(make_signal(store), TF_MS))
    assert len(fake.algos) == 2   # the stop found, never placed twice
    stop = _stop_intents(store)[-1]
    assert stop.status is OrderStatus.OPEN and stop.exchange_id


async def test_without_a_venue_id_or_an_intent_the_lookup_says_it_cannot_tell(fake):
    settings = make_settings(fake.url)
    broker = NamelessStops(components.trading_config(settings, NAMELESS_STOPS), NAMELESS_STOPS,
                           rate_limit=False)
    try:
        with pytest.raises(TransientExchangeError, match="no venue order id"):
            await broker.find_order("BTC/USDT", "s1", True)
        with pytest.raises(TransientExchangeError, match="no venue order id"):
            await broker.cancel_protective("BTC/USDT", "s1")
    finally:
        await broker.close()


async def test_an_intent_with_a_venue_id_finds_the_order_under_our_id(fake):
    settings = make_settings(fake.url)
    broker = NamelessStops(components.trading_config(settings, NAMELESS_STOPS), NAMELESS_STOPS,
                           rate_limit=False)
    try:
        await broker.start(["BTC/USDT"])
        await broker.market_order("BTC/USDT", "buy", 0.01, "entry1")
        placed = await broker.protective_order("BTC/USDT", "sell", "stop", 49_000.0, "stop1")
        intent = OrderIntent("stop1", "BTC/USDT", "sell", None, 0, placed.exchange_id, "stop",
                             49_000.0)
        found = await broker.find_order("BTC/USDT", "stop1", True, intent)
        assert found is not None and found.client_id == "stop1" and found.trigger == 49_000.0
        await broker.cancel_protective("BTC/USDT", "stop1", placed.exchange_id)
        assert fake.open_algos() == []
    finally:
        await broker.close()


def _variant(**rule: Any):
    """Binance with its trading spec's client-id rule or lookup changed."""
    lookup = rule.pop("lookup", SPEC.lookup)
    ids = None if rule.pop("no_ids", False) else dataclasses.replace(SPEC.client_ids, **rule)
    return dataclasses.replace(BINANCE, trading=dataclasses.replace(
        SPEC, client_ids=ids, lookup=lookup))


def test_a_lookup_the_class_does_not_implement_is_refused_when_built():
    from exchanges.venue import OrderLookup

    settings = make_settings("http://127.0.0.1:9")
    by_intent = _variant(lookup=OrderLookup.INTENT_MATCH)
    with pytest.raises(TypeError, match="must implement find_order"):
        BinanceTrading(components.trading_config(settings, by_intent), by_intent)

    class Matches(BinanceTrading):
        async def find_order(self, symbol, client_id, conditional, intent=None):
            return None

    Matches(components.trading_config(settings, by_intent), by_intent)  # implemented: built
    no_ids = _variant(no_ids=True)
    with pytest.raises(TypeError, match="keeps no client ids"):
        BinanceTrading(components.trading_config(settings, no_ids), no_ids)


async def test_where_a_reused_id_is_not_refused_a_market_order_id_is_sent_once(fake):
    venue = _variant(refuses_duplicates=False)
    settings = make_settings(fake.url)
    broker = BinanceTrading(components.trading_config(settings, venue), venue, rate_limit=False)
    try:
        await broker.start(["BTC/USDT"])
        fake.fail("/fapi/v1/order", 502, method="POST")
        with pytest.raises(TransientExchangeError):
            await broker.market_order("BTC/USDT", "buy", 0.01, "entry1")
        with pytest.raises(TransientExchangeError, match="never re-sent"):
            await broker.market_order("BTC/USDT", "buy", 0.01, "entry1")
        assert len(fake.calls("POST", "/fapi/v1/order")) == 1
    finally:
        await broker.close()
