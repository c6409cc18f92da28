"""StreamedMarketData: the book answers when whole, REST fills holes only, failures change
nothing."""
from __future__ import annotations

import pandas as pd
import pytest

from exchanges.errors import TransientExchangeError
from exchanges.stream import KlineUpdate
from fetchers.candle_book import CandleBook
from fetchers.streamed import StreamedMarketData

from .conftest import T0, M, history


class Rest:
    """REST market data over a fixed history; records its candle reads."""

    native_timeframes = ("1m",)

    def __init__(self, now: int) -> None:
        self.now = now
        self.reads: list[tuple[int | None, int | None]] = []
        self.fail = 0

    async def server_time_ms(self) -> int:
        return self.now

    async def closed_candles(self, symbol, tf, since_ms=None, limit=None) -> pd.DataFrame:
        self.reads.append((since_ms, limit))
        if self.fail:
            self.fail -= 1
            raise TransientExchangeError("killed mid-backfill")
        last = (self.now - T0) // M - 1
        frame = history(last)
        if since_ms is not None:
            frame = frame[frame["timestamp"] >= since_ms]
            return frame.iloc[:limit] if limit else frame.reset_index(drop=True)
        return frame.iloc[-(limit or 500):].reset_index(drop=True)


def close(i: int) -> KlineUpdate:
    row = history(i).iloc[-1]
    return KlineUpdate("BTC/USDT", "1m", int(row["timestamp"]), row["open"], row["high"],
                       row["low"], row["close"], row["volume"], True)


@pytest.fixture
def data():
    rest = Rest(T0 + 10 * M + 500)
    return rest, StreamedMarketData(rest, CandleBook(), lambda s, tf: True)


async def test_start_up_reads_rest_then_the_stream_answers_without_rest(data):
    rest, md = data
    warm = await md.closed_candles("BTC/USDT", "1m", limit=5)
    assert warm["timestamp"].tolist()[-1] == T0 + 9 * M and len(rest.reads) == 1
    md.book.accept(close(10), M)
    rest.now += M
    got = await md.closed_candles("BTC/USDT", "1m", since_ms=T0 + 9 * M + 1)
    assert got["timestamp"].tolist() == [T0 + 10 * M]
    assert len(rest.reads) == 1  # steady state: no REST candle request


async def test_a_hole_is_read_over_rest_from_its_start_only(data):
    rest, md = data
    await md.closed_candles("BTC/USDT", "1m", limit=5)
    rest.now += 2 * M
    md.book.accept(close(11), M)  # 10 was missed (reconnect)
    got = await md.closed_candles("BTC/USDT", "1m", since_ms=T0 + 9 * M + 1)
    assert got["timestamp"].tolist() == [T0 + 10 * M, T0 + 11 * M]
    assert rest.reads[-1] == (T0 + 10 * M, None)
    assert md.rest_reads["gap"] == 1


async def test_a_backfill_killed_midway_changes_nothing_and_the_next_read_completes(data):
    rest, md = data
    await md.closed_candles("BTC/USDT", "1m", limit=5)
    rest.now += 2 * M
    md.book.accept(close(11), M)
    rest.fail = 1
    with pytest.raises(TransientExchangeError):
        await md.closed_candles("BTC/USDT", "1m", since_ms=T0 + 9 * M + 1)
    assert md.book.last("BTC/USDT", "1m") == T0 + 9 * M
    got = await md.closed_candles("BTC/USDT", "1m", since_ms=T0 + 9 * M + 1)
    assert got["timestamp"].tolist() == [T0 + 10 * M, T0 + 11 * M]


async def test_series_off_the_stream_go_straight_to_rest():
    rest = Rest(T0 + 10 * M + 500)
    md = StreamedMarketData(rest, CandleBook(), lambda s, tf: False)
    await md.closed_candles("BTC/USDT", "1m", limit=5)
    await md.closed_candles("BTC/USDT", "1m", limit=5)
    assert len(rest.reads) == 2 and not md.rest_reads
