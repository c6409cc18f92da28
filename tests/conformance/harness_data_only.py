"""A data-only venue for the conformance suite: Binance's market data under another name, with
no trading spec. It proves that a venue without trading passes the data cases, has its trading
cases skipped with the reason, and is refused for trading by the configuration."""
from __future__ import annotations

import dataclasses

import pandas as pd

from exchanges.binance import BINANCE
from tests.fakes.binance_data import FakeBinance

DATA_ONLY = dataclasses.replace(BINANCE, name="dataonly", label="Data Only (test venue)",
                                trading=None, ws=None)


class DataOnlyHarness:
    """The Binance data fake behind the data-only venue; nothing to trade on."""

    venue = DATA_ONLY
    symbol = "BTC/USDT"
    price = 50_000.0
    _id = "BTCUSDT"

    def __init__(self) -> None:
        self.data: FakeBinance | None = None

    async def start(self, one_minute: pd.DataFrame, now_ms: int) -> None:
        self.data = await FakeBinance({(self._id, "1m"): one_minute}, now_ms=now_ms).start()

    async def stop(self) -> None:
        if self.data is not None:
            await self.data.close()

    def env(self) -> dict[str, str]:
        """Market data from the fake; trading stays on the paper broker."""
        assert self.data is not None
        return {"DATA_EXCHANGE": self.venue.name, "DATAONLY_DATA_URL": self.data.url}
