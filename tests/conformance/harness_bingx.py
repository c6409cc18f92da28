"""BingX's conformance harness: one fake for market data (frozen clock), one for the VST demo."""
from __future__ import annotations

from typing import Any

import pandas as pd

from exchanges.bingx import BINGX, swap_id
from tests.fakes.bingx import DEMO_API_KEY, DEMO_SECRET, ORDER, FakeBingX

from .harness_base import FakeVenueHarness

KINDS = {"STOP_MARKET": "stop", "TAKE_PROFIT_MARKET": "target"}


def _entry(params: Any) -> bool:
    """A market order opening or adding (not a reduce-only close, not a trigger order)."""
    return isinstance(params, dict) and params.get("type") == "MARKET" and \
        params.get("reduceOnly") != "true"


class BingxHarness(FakeVenueHarness):
    """BingX USDT-M swaps: candles, one-way market orders, STOP_MARKET/TAKE_PROFIT_MARKET."""

    venue = BINGX
    _id = swap_id(FakeVenueHarness.symbol)

    def __init__(self) -> None:
        self.data: FakeBingX | None = None
        self.trading = FakeBingX(demo=True)  # the VST demo's keys

    async def start(self, one_minute: pd.DataFrame, now_ms: int) -> None:
        self.data = FakeBingX({(self._id, "1m"): one_minute}, now_ms=now_ms)
        await self.data.start()
        await self.trading.start()
        self.trading.set_price(self._id, self.price)

    def demo_keys(self) -> dict[str, str]:
        return {"BINGX_API_KEY_DEMO": DEMO_API_KEY, "BINGX_SECRET_DEMO": DEMO_SECRET}

    def lose_next_entry_answer(self) -> None:
        self.trading.fail(ORDER, 504, method="POST", lost=True, when=_entry)

    def reject_next_stop(self) -> None:
        # A long's stop (a sell) at or above the mark price.
        self.trading.reject(ORDER, 110411, "the trigger price is on the wrong side of the mark "
                            "price", method="POST",
                            when=lambda p: p.get("type") == "STOP_MARKET")

    def protective(self) -> list[tuple[str, float]]:
        return sorted((KINDS[o["type"]], float(o["stopPrice"]))
                      for o in self.trading.open_orders(self._id) if o["type"] in KINDS)

    def position_size(self) -> float:
        return self.trading.position(self._id)

    def entry_orders(self) -> int:
        return len([p for p in self.trading.calls("POST", ORDER) if _entry(p)])

    def user_trade(self, side: str, quantity: float) -> None:
        self.trading.h_post_order({"symbol": self._id, "side": side.upper(), "type": "MARKET",
                                   "positionSide": "BOTH", "quantity": f"{quantity:g}",
                                   "clientOrderId": "web1"})
