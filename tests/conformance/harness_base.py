"""What every venue harness shares: the symbol and price, the market moves, the settings."""
from __future__ import annotations

from typing import Any

from exchanges.venue import Venue


class FakeVenueHarness:
    """A data fake and a demo trading fake of one venue; subclasses give the keys and quirks."""

    venue: Venue
    symbol = "BTC/USDT"
    price = 50_000.0
    _id: str  # the venue's id of `symbol`
    data: Any
    trading: Any

    async def stop(self) -> None:
        if self.data is not None:
            await self.data.stop()
        await self.trading.stop()

    def demo_keys(self) -> dict[str, str]:
        """The venue's demo key variables (names and values) for the trading fake."""
        raise NotImplementedError

    def env(self) -> dict[str, str]:
        assert self.data is not None
        name = self.venue.name
        return {"DATA_EXCHANGE": name, "TRADING_EXCHANGE": name,
                "ENABLE_TRADING": "1", "DEMO_TRADING": "1", **self.demo_keys(),
                f"{name.upper()}_DATA_URL": self.data.url,
                f"{name.upper()}_TRADING_URL": self.trading.url}

    def set_price(self, price: float) -> None:
        self.trading.set_price(self._id, price)

    def candle(self, high: float, low: float, close: float) -> None:
        self.trading.candle(self._id, high, low, close)
