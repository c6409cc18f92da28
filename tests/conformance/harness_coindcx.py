"""CoinDCX's conformance harness: one fake for market data (frozen clock), one for trading.

CoinDCX has no testnet: the daemon trades it live, confirmed, against the local fake."""
from __future__ import annotations

import pandas as pd

from exchanges.coindcx import COINDCX, pair_of
from tests.fakes.coindcx import API_KEY, CREATE, SECRET, FakeCoindcx

from .harness_base import FakeVenueHarness

KINDS = {"stop_market": "stop", "take_profit_market": "target"}


class CoindcxHarness(FakeVenueHarness):
    """CoinDCX Futures: candles, market orders without client ids, whole-position TP/SL."""

    venue = COINDCX
    _id = pair_of(FakeVenueHarness.symbol)

    def __init__(self) -> None:
        self.data: FakeCoindcx | None = None
        self.trading = FakeCoindcx()

    async def start(self, one_minute: pd.DataFrame, now_ms: int) -> None:
        self.data = FakeCoindcx({(self._id, "1m"): one_minute}, now_ms=now_ms)
        await self.data.start()
        await self.trading.start()
        self.trading.set_price(self._id, self.price)

    def env(self) -> dict[str, str]:
        assert self.data is not None
        return {"DATA_EXCHANGE": "coindcx", "TRADING_EXCHANGE": "coindcx",
                "ENABLE_TRADING": "1", "DEMO_TRADING": "0", "CONFIRM_LIVE_TRADING": "yes",
                "COINDCX_API_KEY": API_KEY, "COINDCX_SECRET": SECRET,
                "COINDCX_DATA_URL": self.data.url, "COINDCX_TRADING_URL": self.trading.url}

    def _opens(self, params: dict) -> bool:
        """A create order that opens or adds (the fake's position before it)."""
        order = params.get("order") or {}
        held = self.trading.position(self._id)
        return held == 0 or (held > 0) == (order.get("side") == "buy")

    def lose_next_entry_answer(self) -> None:
        self.trading.fail(CREATE, 504, lost=True, when=self._opens)

    def reject_next_stop(self) -> None:
        self.trading.reject_leg("stop", "Trigger price should be less than the current price")

    def protective(self) -> list[tuple[str, float]]:
        return sorted((KINDS[o["order_type"]], float(o["stop_price"]))
                      for o in self.trading.untriggered(self._id))

    def position_size(self) -> float:
        return self.trading.position(self._id)

    def entry_orders(self) -> int:
        return len([p for p in self.trading.calls("POST", CREATE) if p.get("_opens")])

    def user_trade(self, side: str, quantity: float) -> None:
        self.trading.execute(self._id, side, quantity)
