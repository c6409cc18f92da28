"""KuCoin Futures' conformance harness: no demo environment, so the daemon trades live against
the local fake (DEMO_TRADING=0, CONFIRM_LIVE_TRADING=yes, the production key pair)."""
from __future__ import annotations

import pandas as pd

from exchanges.kucoin import KUCOIN, contract_id, stop_direction
from tests.fakes.kucoin import API_KEY, PASSPHRASE, SECRET, FakeKucoin

from .harness_base import FakeVenueHarness

ORDERS = "/api/v1/orders"


def _entry(params: dict) -> bool:
    """An order that opens or adds: not reduce-only, not a stop order."""
    return not params.get("reduceOnly") and not params.get("closeOrder") and \
        not params.get("stop")


class KucoinHarness(FakeVenueHarness):
    """KuCoin Futures: the fake's lots, stop orders and one-way positions."""

    venue = KUCOIN
    _id = contract_id(FakeVenueHarness.symbol)

    def __init__(self) -> None:
        self.data: FakeKucoin | None = None
        self.trading = FakeKucoin()

    async def start(self, one_minute: pd.DataFrame, now_ms: int) -> None:
        self.data = await FakeKucoin({(self._id, "1m"): one_minute}, now_ms=now_ms).start()
        await self.trading.start()
        self.trading.set_price(self._id, self.price)

    def env(self) -> dict[str, str]:
        assert self.data is not None
        return {"DATA_EXCHANGE": "kucoin", "TRADING_EXCHANGE": "kucoin", "ENABLE_TRADING": "1",
                "DEMO_TRADING": "0", "CONFIRM_LIVE_TRADING": "yes",
                "KUCOIN_API_KEY": API_KEY, "KUCOIN_SECRET": SECRET,
                "KUCOIN_PASSPHRASE": PASSPHRASE, "KUCOIN_DATA_URL": self.data.url,
                "KUCOIN_TRADING_URL": self.trading.url}

    def lose_next_entry_answer(self) -> None:
        self.trading.fail(ORDERS, 502, method="POST", lost=True, when=_entry)

    def reject_next_stop(self) -> None:
        # KuCoin refuses no stop for its side: it fires a crossed one. The market falls through
        # the stop between the entry's fill and the stop's placement: the client must see the
        # stop crossed and refuse it before sending.
        self.trading.move_after_next_entry(self._id, self.price * 0.97)

    def protective(self) -> list[tuple[str, float]]:
        out = []
        for o in self.trading.open_stops(self._id):
            kind = "stop" if stop_direction(o["side"], "stop") == o["stop"] else "target"
            out.append((kind, float(o["stopPrice"])))
        return sorted(out)

    def position_size(self) -> float:
        multiplier = self.trading.contracts[self._id].multiplier
        return round(self.trading.position(self._id) * multiplier, 12)

    def entry_orders(self) -> int:
        return len([p for p in self.trading.calls("POST", ORDERS) if _entry(p)])

    def user_trade(self, side: str, quantity: float) -> None:
        lots = round(quantity / self.trading.contracts[self._id].multiplier)
        self.trading.h_place({"symbol": self._id, "side": side, "type": "market", "size": lots,
                              "leverage": 20, "clientOid": "web-1",
                              "marginMode": self.trading.margin_mode(self._id)})
