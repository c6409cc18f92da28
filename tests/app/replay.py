"""What the daemon end-to-end tests share: real LTC candles served by the Binance data fake from
just after the warm-up, and a sleep the test opens one wait at a time."""
from __future__ import annotations

import asyncio

import pandas as pd

from tests.fakes.binance_data import FakeBinance

from ..shared_data import load_candles

MINUTE = 60_000


def ltc_candles(rows: int = 2000) -> pd.DataFrame:
    """The first `rows` 1m candles of LTCUSDT, February 2026 (skips when the data is absent)."""
    return load_candles("LTCUSDT-usdm-1m-2026-02.csv").iloc[:rows].reset_index(drop=True)


async def started_fake(candles: pd.DataFrame, warmup: int) -> FakeBinance:
    """The data fake serving `candles`, its clock just after candle `warmup` + 1 closed."""
    first = int(candles["timestamp"].iloc[0])
    server = FakeBinance(candles={("LTCUSDT", "1m"): candles},
                         now_ms=first + (warmup + 1) * MINUTE + 1_000)
    await server.start()
    return server


class Gate:
    """A sleep that returns only when the test opens it: one wait per `open()`."""

    def __init__(self) -> None:
        self.delays: list[float] = []
        self._open = asyncio.Event()

    def open(self) -> None:
        self._open.set()

    async def __call__(self, seconds: float) -> None:
        self.delays.append(seconds)
        await self._open.wait()
        self._open.clear()
