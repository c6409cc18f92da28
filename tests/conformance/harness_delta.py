"""Delta Exchange India's conformance harness: a data fake (frozen clock), a testnet trading
fake (real time), BTC/USDT naming the BTCUSD perpetual."""
from __future__ import annotations

from typing import Any

import pandas as pd

from exchanges.delta import DELTA, product_symbol
from tests.fakes.delta import DEMO_API_KEY, DEMO_SECRET, FakeDelta

from .harness_base import FakeVenueHarness

ORDERS = "/v2/orders"
KINDS = {"stop_loss_order": "stop", "take_profit_order": "target"}


def _is_entry(p: Any) -> bool:
    return isinstance(p, dict) and str(p.get("reduce_only")).lower() != "true" \
        and not p.get("stop_order_type")


class DeltaHarness(FakeVenueHarness):
    """Delta India perpetuals: whole contracts, stop orders, real-time positions."""

    venue = DELTA
    _id = product_symbol(FakeVenueHarness.symbol)

    def __init__(self) -> None:
        self.data: FakeDelta | None = None
        self.trading = FakeDelta(demo=True)  # testnet keys only

    async def start(self, one_minute: pd.DataFrame, now_ms: int) -> None:
        self.data = FakeDelta({(self._id, "1m"): one_minute}, now_ms=now_ms)
        await self.data.start()
        await self.trading.start()
        self.trading.set_price(self._id, self.price)

    def demo_keys(self) -> dict[str, str]:
        return {"DELTA_API_KEY_DEMO": DEMO_API_KEY, "DELTA_SECRET_DEMO": DEMO_SECRET}

    def lose_next_entry_answer(self) -> None:
        self.trading.fail(ORDERS, 502, method="POST", lost=True, when=_is_entry)

    def reject_next_stop(self) -> None:
        self.trading.reject(ORDERS, "invalid_stop_price", method="POST",
                            when=lambda p: isinstance(p, dict)
                            and p.get("stop_order_type") == "stop_loss_order")

    def _cv(self) -> float:
        return float(self.trading.products[self._id].contract_value)

    def protective(self) -> list[tuple[str, float]]:
        return sorted((KINDS[o["stop_order_type"]], float(o["stop_price"]))
                      for o in self.trading.waiting(self._id))

    def position_size(self) -> float:
        return round(self.trading.position(self._id) * self._cv(), 12)

    def entry_orders(self) -> int:
        return len([p for p in self.trading.calls("POST", ORDERS) if _is_entry(p)])

    def user_trade(self, side: str, quantity: float) -> None:
        self.trading.h_place({"product_symbol": self._id, "side": side,
                              "order_type": "market_order",
                              "size": round(quantity / self._cv()),
                              "client_order_id": "web_1"}, ORDERS)
