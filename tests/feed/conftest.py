"""A venue's stream fake and a StreamFeed over it, with timings short enough for tests."""
from __future__ import annotations

import asyncio
import copy
from dataclasses import dataclass, replace
from functools import partial

import pandas as pd
import pytest

from domain.backoff import Backoff
from exchanges import binance_ws, bybit_ws, gate_ws, okx_ws
from exchanges.ws_connection import StreamConnection
from fetchers.candle_book import CandleBook, Outcome
from fetchers.stream_feed import StreamFeed
from tests.fakes.binance_ws import FakeBinanceStream
from tests.fakes.bybit_ws import FakeBybitStream
from tests.fakes.gate_ws import FakeGateStream
from tests.fakes.okx_ws import FakeOkxStream
from tests.fakes.ws_base import Kline

M = 60_000
T0 = 1_700_000_040_000 - 1_700_000_040_000 % M
FAST = Backoff(base_s=0.02, factor=2.0, cap_s=0.1)
VENUES = {"binance": (FakeBinanceStream, binance_ws.DIALECT),
          "bybit": (FakeBybitStream, bybit_ws.DIALECT),
          "gate": (FakeGateStream, gate_ws.DIALECT),
          "okx": (FakeOkxStream, okx_ws.DIALECT)}


def fast(dialect, **spec):
    """The dialect with test timings (stall, ping) instead of the venue's minutes."""
    d = copy.copy(dialect)
    d.spec = replace(dialect.spec, **{"stall_s": 0.6, "messages_per_s": 1000.0,
                                      **({"ping_every_s": 0.1} if dialect.ping() else {}),
                                      **spec})
    return d


def kline(i: int, closed: bool = True, symbol: str = "BTC/USDT") -> Kline:
    price = 100.0 + i
    return Kline(symbol, "1m", T0 + i * M, price, price + 2, price - 2, price + 1, 3.0, closed)


def history(until: int) -> pd.DataFrame:
    rows = [kline(i) for i in range(until + 1)]
    return pd.DataFrame({"timestamp": [k.open_ms for k in rows],
                         "open": [k.open for k in rows], "high": [k.high for k in rows],
                         "low": [k.low for k in rows], "close": [k.close for k in rows],
                         "volume": [k.volume for k in rows]})


@dataclass
class Rig:
    fake: object
    feed: StreamFeed
    book: CandleBook
    heard: list[tuple[str, str, int, Outcome]]

    async def until(self, check, limit_s: float = 3.0) -> None:
        async def wait():
            while not check():
                await asyncio.sleep(0.01)
        await asyncio.wait_for(wait(), limit_s)

    async def connected(self, sockets: int = 1) -> None:
        await self.until(lambda: self.feed.health().connected == sockets
                         and len(self.fake.subscribed) >= len(self.feed.series))


@pytest.fixture(params=sorted(VENUES))
async def rig(request):
    fake_class, dialect = VENUES[request.param]
    fake = await fake_class().start()
    book = CandleBook()
    book.record("BTC/USDT", "1m", M, history(4), T0)
    heard: list = []
    feed = StreamFeed(request.param, fast(dialect), fake.url, book,
                      lambda *a: heard.append(a),
                      connection=partial(StreamConnection, backoff=FAST))
    await feed.watch([("BTC/USDT", "1m")])
    r = Rig(fake, feed, book, heard)
    await r.connected()
    yield r
    await feed.stop()
    await fake.close()
