"""OKX's conformance harness: one fake for market data (frozen clock), one for demo trading."""
from __future__ import annotations

from typing import Any

import pandas as pd

from exchanges.okx import OKX, inst_id
from tests.fakes.okx import API_KEY, PASSPHRASE, SECRET, FakeOKX

from .harness_base import FakeVenueHarness

ALGO_ORDER = "/api/v5/trade/order-algo"
ORDER = "/api/v5/trade/order"


def _reduce_only(params: Any) -> bool:
    return isinstance(params, dict) and str(params.get("reduceOnly")).lower() == "true"


class OkxHarness(FakeVenueHarness):
    """OKX USDT swaps: the fake's candles, orders, conditional algo orders and net positions."""

    venue = OKX
    _id = inst_id(FakeVenueHarness.symbol)

    def __init__(self) -> None:
        self.data: FakeOKX | None = None
        self.trading = FakeOKX(demo=True)  # demo keys: only with x-simulated-trading: 1

    async def start(self, one_minute: pd.DataFrame, now_ms: int) -> None:
        self.data = FakeOKX({(self._id, "1m"): one_minute}, now_ms=now_ms)
        await self.data.start()
        await self.trading.start()
        self.trading.set_price(self._id, self.price)

    def demo_keys(self) -> dict[str, str]:
        return {"OKX_API_KEY_DEMO": API_KEY, "OKX_SECRET_DEMO": SECRET,
                "OKX_PASSPHRASE_DEMO": PASSPHRASE}

    def lose_next_entry_answer(self) -> None:
        self.trading.fail(ORDER, 502, method="POST", lost=True,
                          when=lambda p: not _reduce_only(p))

    def reject_next_stop(self) -> None:
        # A long's stop is a sell: OKX's 51280, SL above the last price (a stop on the wrong
        # side); 51278 is the buy side's.
        self.trading.reject(ALGO_ORDER, "51280", "SL trigger price cannot be higher than the "
                            "last price.", method="POST",
                            when=lambda p: isinstance(p, dict) and bool(p.get("slTriggerPx")))

    def protective(self) -> list[tuple[str, float]]:
        out = []
        for algo in self.trading.open_algos(self._id):
            if algo["slTriggerPx"]:
                out.append(("stop", float(algo["slTriggerPx"])))
            if algo["tpTriggerPx"]:
                out.append(("target", float(algo["tpTriggerPx"])))
        return sorted(out)

    def position_size(self) -> float:
        ct_val = float(self.trading.instruments[self._id].ct_val)
        contracts = sum(p.pos for (inst, _), p in self.trading.positions.items()
                        if inst == self._id)
        return round(contracts * ct_val, 12)

    def entry_orders(self) -> int:
        return len([p for p in self.trading.calls("POST", ORDER) if not _reduce_only(p)])

    def user_trade(self, side: str, quantity: float) -> None:
        contracts = quantity / float(self.trading.instruments[self._id].ct_val)
        self.trading.h_order({"instId": self._id, "tdMode": "isolated", "side": side,
                              "ordType": "market", "sz": f"{contracts:g}"})
