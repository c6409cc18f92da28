"""Fixtures: a fake Binance USD-M data server and fetchers pointed at it."""
from __future__ import annotations

import asyncio
import random

import pytest

from app import components
from config import load_settings
from exchanges.binance import BINANCE
from exchanges.binance_client import BinanceMarketData
from exchanges.retry import RetryPolicy
from tests.fakes.binance_data import FakeBinance

# 2026-02-10 12:00:00 UTC: inside the real LTCUSDT February 2026 data.
NOON = 1_770_724_800_000


class HostClock:
    """A settable host wall clock (seconds), to put the host off the exchange's time."""

    def __init__(self, ms: int) -> None:
        self.ms = ms

    def __call__(self) -> float:
        return self.ms / 1000


class FakeClock:
    """A monotonic clock that moves only when the code sleeps: backoffs cost no real time."""

    def __init__(self, now: float = 1000.0) -> None:
        self.now = now
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        """Advance the clock instead of waiting; still yields to the loop."""
        self.sleeps.append(seconds)
        self.now += max(0.0, seconds)
        await asyncio.sleep(0)


def fake_timed_retry(clock: FakeClock, **kw) -> RetryPolicy:
    """fast_retry() whose waits and budget run on `clock` instead of real time."""
    return fast_retry(sleep=clock.sleep, clock=clock, **kw)


def fast_retry(**kw) -> RetryPolicy:
    """Millisecond backoffs so retry tests run fast; seeded jitter."""
    params = dict(attempts=6, base_s=0.01, cap_s=0.05, budget_s=2.0, rng=random.Random(7))
    params.update(kw)
    return RetryPolicy(**params)


@pytest.fixture
async def fake_binance():
    """Factory: start a FakeBinance(**kwargs); every one is closed after the test."""
    started: list[FakeBinance] = []

    async def make(**kwargs) -> FakeBinance:
        fake = FakeBinance(**kwargs)
        await fake.start()
        started.append(fake)
        return fake

    yield make
    for fake in started:
        await fake.close()


@pytest.fixture
async def make_fetcher():
    """Factory: a started BinanceMarketData on `fake` with extra env keys; closed after the test."""
    made: list[BinanceMarketData] = []

    async def make(fake: FakeBinance, env: dict | None = None, **kwargs) -> BinanceMarketData:
        settings = load_settings({"BINANCE_DATA_URL": fake.url, "FETCH_TIMEOUT_S": "1",
                                  **(env or {})}, dotenv_path=None)
        kwargs.setdefault("retry", fast_retry())
        fetcher = BinanceMarketData(components.market_data_config(settings, BINANCE), BINANCE,
                                    **kwargs)
        await fetcher.start()
        made.append(fetcher)
        return fetcher

    yield make
    for fetcher in made:
        await fetcher.close()


@pytest.fixture(scope="session")
def ltc_1m():
    """Real Binance USD-M LTCUSDT 1m candles of February 2026 (skips when absent)."""
    from tests.shared_data import load_candles
    return load_candles("LTCUSDT-usdm-1m-2026-02.csv")
