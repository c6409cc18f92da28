"""The replay venue: its clock, and closed candles served as that clock closes them."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from exchanges.options import MarketDataConfig
from exchanges.replay import REPLAY
from exchanges.replay_client import ReplayBook, ReplayMarketData
from exchanges.replay_clock import ReplayClock

MIN = 60_000
T0 = 1_769_904_000_000  # 2026-02-01 00:00 UTC


class Wall:
    """A host clock the test moves."""

    def __init__(self) -> None:
        self.t = 1_000.0

    def __call__(self) -> float:
        return self.t


def candles(n: int, start: int = T0, step: int = MIN) -> pd.DataFrame:
    ts = start + step * np.arange(n, dtype=np.int64)
    close = 100.0 + np.arange(n, dtype=np.float64)
    return pd.DataFrame({"timestamp": ts, "open": close, "high": close + 1, "low": close - 1,
                         "close": close, "volume": np.full(n, 2.0)})


def replay(n: int = 100, at_minute: float = 10.0, speed: float = 60.0):
    wall = Wall()
    book = ReplayBook("1m", {"LTC/USDT": candles(n)}, "test")
    clock = ReplayClock(T0 + int(at_minute * MIN), speed, book.last_close_ms, wall=wall)
    return ReplayMarketData(MarketDataConfig(), REPLAY, book=book, clock=clock), wall


def test_the_clock_runs_speed_times_faster_and_stops_at_the_end():
    wall = Wall()
    clock = ReplayClock(T0, 60.0, T0 + 10 * MIN, wall=wall)
    assert clock.now_ms() == T0
    wall.t += 1.5  # 1.5 host seconds: 90 venue seconds
    assert clock.now_ms() == T0 + 90_000 and not clock.finished
    assert clock.wall_at(T0 + 90_000) == pytest.approx(wall.t)
    assert clock.venue_at(clock.wall_at(T0 + 5 * MIN)) == pytest.approx(T0 + 5 * MIN)
    assert clock.wall_at(T0 + 10 * MIN + 1) is None  # never: the history has ended
    wall.t += 3600
    assert clock.now_ms() == T0 + 10 * MIN and clock.finished


@pytest.mark.parametrize("speed", [0, -1, float("nan")])
def test_a_clock_that_does_not_move_forward_is_refused(speed):
    with pytest.raises(ValueError, match="speed"):
        ReplayClock(T0, speed, T0 + MIN)


async def test_only_candles_closed_on_the_replay_clock_are_served():
    data, wall = replay(at_minute=10.5)  # inside the candle opening at 00:10
    last = await data.closed_candles("LTC/USDT", "1m", limit=3)
    assert last["timestamp"].tolist() == [T0 + 7 * MIN, T0 + 8 * MIN, T0 + 9 * MIN]
    wall.t += 0.5  # 30 venue seconds: 00:11:00, the 00:10 candle has closed
    since = await data.closed_candles("LTC/USDT", "1m", since_ms=T0 + 8 * MIN)
    assert since["timestamp"].tolist() == [T0 + 8 * MIN, T0 + 9 * MIN, T0 + 10 * MIN]
    first = await data.closed_candles("LTC/USDT", "1m", since_ms=T0, limit=2)
    assert first["timestamp"].tolist() == [T0, T0 + MIN]
    assert (await data.closed_candles("LTC/USDT", "1m", since_ms=T0 + 11 * MIN)).empty


async def test_the_clock_the_listing_and_the_volumes_come_from_the_book():
    data, _ = replay(at_minute=30)
    assert await data.server_time_ms() == T0 + 30 * MIN
    assert await data.perpetuals() == {"LTC/USDT": "LTCUSDT"}
    closes = 100.0 + np.arange(30)
    assert (await data.quote_volumes())["LTC/USDT"] == pytest.approx(float((closes * 2).sum()))
    assert data.native_timeframes == ("1m",) and data.venue_clock is not None


async def test_a_timeframe_or_symbol_the_book_lacks_is_a_clear_error():
    data, _ = replay()
    with pytest.raises(ValueError, match="not the replay's timeframe"):
        await data.closed_candles("LTC/USDT", "5m", limit=1)
    with pytest.raises(ValueError, match="BTC/USDT is not in the replay"):
        await data.closed_candles("BTC/USDT", "1m", limit=1)


def test_the_replay_venue_is_not_built_without_its_candles():
    with pytest.raises(ValueError, match="REPLAY_SOURCE"):
        ReplayMarketData(MarketDataConfig(), REPLAY)


async def test_check_names_the_clock_and_the_candles():
    data, _ = replay()
    lines = await data.check()
    assert all(line.ok for line in lines)
    assert "60x host time" in lines[0].detail and "2026-02-01 00:10" in lines[0].detail
    assert [line.what for line in lines[1:]] == ["replay markets", "replay LTC/USDT"]
