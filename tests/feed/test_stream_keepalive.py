"""Keep-alive as each venue documents it: our pings (Bybit, OKX) or our pongs (Binance, Gate)
keep the socket open; without them the venue closes it and the feed reconnects."""
from __future__ import annotations

import asyncio
import json
from functools import partial

import pytest

from exchanges import bybit_ws, okx_ws
from exchanges.ws_connection import StreamConnection
from fetchers.candle_book import CandleBook
from fetchers.stream_feed import StreamFeed
from tests.fakes.bybit_ws import FakeBybitStream
from tests.fakes.gate_ws import FakeGateStream
from tests.fakes.okx_ws import FakeOkxStream

from .conftest import FAST, VENUES, fast

pytestmark = pytest.mark.slow  # each holds sockets open for most of a second


async def _feed(fake, dialect) -> StreamFeed:
    feed = StreamFeed("v", dialect, fake.url, CandleBook(), lambda *a: None,
                      connection=partial(StreamConnection, backoff=FAST))
    await feed.watch([("BTC/USDT", "1m")])
    return feed


async def _held_open(fake_class, dialect, **fake_attrs) -> tuple[int, int]:
    fake = fake_class()
    for k, v in fake_attrs.items():
        setattr(fake, k, v)
    await fake.start()
    feed = await _feed(fake, dialect)
    try:
        await asyncio.sleep(0.7)
        return fake.connects, feed.health().fallbacks.get("closed", 0)
    finally:
        await feed.stop()
        await fake.close()


async def test_our_pings_keep_bybit_and_okx_sockets_open():
    for fake_class, dialect in (VENUES["bybit"], VENUES["okx"]):
        assert await _held_open(fake_class, fast(dialect), idle_close_s=0.3) == (1, 0)


async def test_without_pings_the_venue_closes_the_socket_and_the_feed_reconnects():
    for fake_class, dialect in ((FakeBybitStream, bybit_ws.DIALECT),
                                (FakeOkxStream, okx_ws.DIALECT)):
        connects, closed = await _held_open(fake_class, fast(dialect, ping_every_s=60.0),
                                            idle_close_s=0.2)
        assert connects >= 2 and closed >= 1


@pytest.mark.parametrize("venue", ["binance", "gate"])
async def test_server_pings_are_answered_and_the_socket_stays(venue):
    fake_class, dialect = VENUES[venue]
    # Pings are no data: a quiet stream would stall, so no stall within the test here.
    assert await _held_open(fake_class, fast(dialect, stall_s=5.0), server_ping_s=0.2) == (1, 0)


async def test_gate_futures_pings_are_answered_with_pongs_and_the_upgrade_asks_decimal_sizes():
    fake_class, dialect = VENUES["gate"]
    assert fake_class is FakeGateStream
    fake = await fake_class().start()
    feed = await _feed(fake, fast(dialect, stall_s=5.0))
    try:
        await asyncio.sleep(0.35)
        pings = [json.loads(m) for m in fake.client_messages if "futures.ping" in m]
        assert len(pings) >= 2 and all(isinstance(p["time"], int) for p in pings)
        assert fake.size_decimal and feed.health().messages > len(pings)  # pongs + subscribe
    finally:
        await feed.stop()
        await fake.close()


async def test_a_socket_that_answers_pings_but_pushes_no_candle_is_replaced():
    for fake_class, dialect in (VENUES["bybit"], VENUES["gate"], VENUES["okx"]):
        fake = fake_class()
        fake.muted = True
        await fake.start()
        feed = await _feed(fake, fast(dialect, stall_s=0.15))
        try:
            await asyncio.sleep(0.7)  # pongs every 0.1 s, no update for 3 x 0.15 s
            assert feed.health().fallbacks.get("stall", 0) >= 1 and fake.connects >= 2
        finally:
            await feed.stop()
            await fake.close()
