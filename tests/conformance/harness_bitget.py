"""Bitget's conformance harness: one fake for market data (frozen clock), one for demo trading."""
from __future__ import annotations

from typing import Any

import pandas as pd

from exchanges.bitget import BITGET, symbol_id
from tests.fakes.bitget import API_KEY, PASSPHRASE, SECRET, FakeBitget

from .harness_base import FakeVenueHarness

ORDER = "/api/v2/mix/order/place-order"
TPSL = "/api/v2/mix/order/place-tpsl-order"


def _reduce_only(params: Any) -> bool:
    return isinstance(params, dict) and params.get("reduceOnly") == "YES"


class BitgetHarness(FakeVenueHarness):
    """Bitget USDT-M: the fake's candles, one-way orders and position TP/SL orders."""

    venue = BITGET
    _id = symbol_id(FakeVenueHarness.symbol)

    def __init__(self) -> None:
        self.data: FakeBitget | None = None
        self.trading = FakeBitget(demo=True, prices={self._id: self.price})  # PAPTRADING: 1

    async def start(self, one_minute: pd.DataFrame, now_ms: int) -> None:
        self.data = FakeBitget({(self._id, "1m"): one_minute}, now_ms=now_ms)
        await self.data.start()
        await self.trading.start()

    def demo_keys(self) -> dict[str, str]:
        return {"BITGET_API_KEY_DEMO": API_KEY, "BITGET_SECRET_DEMO": SECRET,
                "BITGET_PASSPHRASE_DEMO": PASSPHRASE}

    def lose_next_entry_answer(self) -> None:
        self.trading.fail(ORDER, 502, lost=True, when=lambda p: not _reduce_only(p))

    def reject_next_stop(self) -> None:
        # A long's position stop at or above the mark price: Bitget's 40917.
        self.trading.reject(TPSL, "40917", "Stop price for long positions please < mark price",
                            when=lambda p: isinstance(p, dict) and p.get("planType") == "pos_loss")

    def protective(self) -> list[tuple[str, float]]:
        kinds = {"pos_loss": "stop", "pos_profit": "target"}
        return sorted((kinds[p["planType"]], float(p["triggerPrice"]))
                      for p in self.trading.open_plans(self._id))

    def position_size(self) -> float:
        return self.trading.position(self._id)

    def entry_orders(self) -> int:
        return len([p for p in self.trading.calls("POST", ORDER) if not _reduce_only(p)])

    def user_trade(self, side: str, quantity: float) -> None:
        self.trading.h_place_order({"symbol": self._id, "productType": "USDT-FUTURES",
                                    "marginMode": "isolated", "marginCoin": "USDT",
                                    "side": side, "orderType": "market",
                                    "size": f"{quantity:g}", "clientOid": "web_1"})
