"""Gate's conformance harness: one fake for market data (frozen clock), one for the testnet."""
from __future__ import annotations

from typing import Any

import pandas as pd

from exchanges.gate import GATE, contract
from tests.fakes.gate import DEMO_API_KEY, DEMO_SECRET, FUT, FakeGate

from .harness_base import FakeVenueHarness

ORDERS = FUT + "/orders"
PRICE_ORDERS = FUT + "/price_orders"


def _reduce_only(params: Any) -> bool:
    return isinstance(params, dict) and bool(params.get("reduce_only"))


def _is_stop(params: Any) -> bool:
    """A price order closing a long below the market (rule 2, selling) or a short above."""
    if not isinstance(params, dict):
        return False
    initial, trigger = params.get("initial") or {}, params.get("trigger") or {}
    return (int(trigger.get("rule") or 0) == 1) == (float(initial.get("size") or 0) > 0)


class GateHarness(FakeVenueHarness):
    """Gate USDT perpetuals: candles, IOC market orders, price-triggered stops and targets."""

    venue = GATE
    _id = contract(FakeVenueHarness.symbol)

    def __init__(self) -> None:
        self.data: FakeGate | None = None
        self.trading = FakeGate(demo=True)  # the futures testnet's own keys

    async def start(self, one_minute: pd.DataFrame, now_ms: int) -> None:
        self.data = FakeGate({(self._id, "1m"): one_minute}, now_ms=now_ms)
        await self.data.start()
        await self.trading.start()
        self.trading.set_price(self._id, self.price)

    def demo_keys(self) -> dict[str, str]:
        return {"GATE_API_KEY_DEMO": DEMO_API_KEY, "GATE_SECRET_DEMO": DEMO_SECRET}

    def lose_next_entry_answer(self) -> None:
        self.trading.fail(ORDERS, 502, method="POST", lost=True,
                          when=lambda p: not _reduce_only(p))

    def reject_next_stop(self) -> None:
        # A long's stop sells when the price falls (rule 2): refused as already crossed.
        self.trading.reject(PRICE_ORDERS, "AUTO_TRIGGER_PRICE_LESS_LAST",
                            "invalid argument: Trigger.Price must < last_price", method="POST",
                            when=_is_stop)

    def protective(self) -> list[tuple[str, float]]:
        return sorted(("stop" if _is_stop(o) else "target", float(o["trigger"]["price"]))
                      for o in self.trading.open_price_orders(self._id))

    def position_size(self) -> float:
        mult = float(self.trading.contracts[self._id].multiplier)
        return round(self.trading.position(self._id) * mult, 12)

    def entry_orders(self) -> int:
        return len([p for p in self.trading.calls("POST", ORDERS) if not _reduce_only(p)])

    def user_trade(self, side: str, quantity: float) -> None:
        mult = float(self.trading.contracts[self._id].multiplier)
        contracts = round(quantity / mult) * (1 if side == "buy" else -1)
        self.trading.h_post_order({"contract": self._id, "size": contracts, "price": "0",
                                   "tif": "ioc", "text": "web"})
