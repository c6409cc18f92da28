"""The per-venue harness the conformance suite drives, and Binance's.

A harness starts the venue's local fake(s), gives the settings that point the daemon's data and
trading instances at them (demo trading), and lets a scenario act on and read the fake venue.
Adding a venue to the suite = one class with these members, listed in HARNESSES
(harness_base.FakeVenueHarness holds the ones every venue shares):

    venue            the exchanges.venue.Venue under test (its registry entry)
    symbol, price    a unified symbol the fake lists ('BTC/USDT') and its price at start
    start(one_minute, now_ms)   start the fake(s): the symbol's 1m candles (the fake serves
                     every native timeframe from them, the forming candle included) and a
                     frozen venue clock for market data; trading runs on real time
    stop()           stop them
    env()            environment keys for load_settings: DATA_EXCHANGE, TRADING_EXCHANGE,
                     ENABLE_TRADING=1, DEMO_TRADING=1, the venue's demo keys and
                     {NAME}_DATA_URL / {NAME}_TRADING_URL at the fakes
    set_price(p)     move the market (conditional orders crossed by it trigger)
    candle(h, l, c)  a later candle: stops and targets within [l, h] trigger, then price = c
    lose_next_entry_answer()   the next market order is executed, its answer lost (5xx/504)
    reject_next_stop()         the next protective stop is refused as the venue refuses a
                     stop on the wrong side of the market
    protective()     the venue's waiting stops and targets on the symbol: sorted
                     [(kind 'stop'|'target', trigger price)] (attached or separate alike)
    position_size()  the signed position on the symbol, in base units (contracts x size)
    entry_orders()   market orders received that open or add (reduce-only ones excluded)
    user_trade(side, qty)      a market order of the account's owner (not the daemon's, with
                     the margin mode the daemon uses): `qty` in base units
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

import pandas as pd

from exchanges.binance import BINANCE
from exchanges.bybit import BYBIT
from exchanges.venue import Venue
from tests.fakes import bybit as fake_bybit
from tests.fakes.binance_data import FakeBinance
from tests.fakes.binance_trading import API_KEY, SECRET, FakeBinanceTrading

from .harness_base import FakeVenueHarness


class VenueHarness(Protocol):
    """What a conformance scenario needs of one venue's fakes (see the module docstring)."""

    venue: Venue
    symbol: str
    price: float

    async def start(self, one_minute: pd.DataFrame, now_ms: int) -> None: ...
    async def stop(self) -> None: ...
    def env(self) -> dict[str, str]: ...
    def set_price(self, price: float) -> None: ...
    def candle(self, high: float, low: float, close: float) -> None: ...
    def lose_next_entry_answer(self) -> None: ...
    def reject_next_stop(self) -> None: ...
    def protective(self) -> list[tuple[str, float]]: ...
    def position_size(self) -> float: ...
    def entry_orders(self) -> int: ...
    def user_trade(self, side: str, quantity: float) -> None: ...


class BinanceHarness(FakeVenueHarness):
    """Binance USD-M: the data fake (fapi klines) and the trading fake (orders, algo orders)."""

    venue = BINANCE
    _id = "BTCUSDT"

    def __init__(self) -> None:
        self.data: FakeBinance | None = None
        self.trading = FakeBinanceTrading()

    async def start(self, one_minute: pd.DataFrame, now_ms: int) -> None:
        self.data = await FakeBinance({(self._id, "1m"): one_minute}, now_ms=now_ms).start()
        await self.trading.start()

    async def stop(self) -> None:
        if self.data is not None:
            await self.data.close()
        await self.trading.stop()

    def demo_keys(self) -> dict[str, str]:
        return {"BINANCE_API_KEY_DEMO": API_KEY, "BINANCE_SECRET_DEMO": SECRET}

    def lose_next_entry_answer(self) -> None:
        self.trading.fail("/fapi/v1/order", 502, method="POST", lost=True,
                          when=lambda p: p.get("reduceOnly") != "true")

    def reject_next_stop(self) -> None:
        self.trading.reject("/fapi/v1/algoOrder", -2021, "Order would immediately trigger.",
                            when=lambda p: p.get("type") == "STOP_MARKET")

    def protective(self) -> list[tuple[str, float]]:
        kinds = {"STOP_MARKET": "stop", "TAKE_PROFIT_MARKET": "target"}
        return sorted((kinds[a["orderType"]], float(a["triggerPrice"]))
                      for a in self.trading.open_algos(self._id))

    def position_size(self) -> float:
        return self.trading.position(self._id)

    def entry_orders(self) -> int:
        return len([p for p in self.trading.calls("POST", "/fapi/v1/order")
                    if p.get("reduceOnly") != "true"])

    def user_trade(self, side: str, quantity: float) -> None:
        self.trading.h_post_order({"symbol": self._id, "side": side.upper(), "type": "MARKET",
                                   "quantity": f"{quantity:g}", "newClientOrderId": "web_1"})


def _bybit_kind(order: dict) -> str:
    """'stop' or 'target' of a closing conditional order, from its side and trigger direction."""
    falls = order["triggerDirection"] == 2
    return "stop" if falls == (order["side"] == "Sell") else "target"


class BybitHarness(FakeVenueHarness):
    """Bybit: one fake for market data (frozen clock) and one for trading (demo, real time)."""

    venue = BYBIT
    _id = "BTCUSDT"

    def __init__(self) -> None:
        self.data: fake_bybit.FakeBybit | None = None
        self.trading = fake_bybit.FakeBybit(demo=True, prices={self._id: self.price})

    async def start(self, one_minute: pd.DataFrame, now_ms: int) -> None:
        self.data = fake_bybit.FakeBybit({(self._id, "1"): one_minute}, now_ms=now_ms)
        await self.data.start()
        await self.trading.start()

    def demo_keys(self) -> dict[str, str]:
        return {"BYBIT_API_KEY_DEMO": fake_bybit.API_KEY, "BYBIT_SECRET_DEMO": fake_bybit.SECRET}

    def lose_next_entry_answer(self) -> None:
        self.trading.fail("/v5/order/create", 504, lost=True,
                          when=lambda p: not p.get("reduceOnly") and not p.get("triggerPrice"))

    def reject_next_stop(self) -> None:
        # Bybit's catch-all 10001, as it answers a stop on the wrong side of the market.
        def is_stop(p: dict) -> bool:
            return bool(p.get("triggerPrice")) and _bybit_kind(
                {"triggerDirection": int(p.get("triggerDirection") or 0),
                 "side": p.get("side")}) == "stop"

        self.trading.reject("/v5/order/create", 10001, "StopLoss set for Buy position should "
                            "lower than base_price", when=is_stop)

    def protective(self) -> list[tuple[str, float]]:
        waiting = [(_bybit_kind(o), float(o["triggerPrice"]))
                   for o in self.trading.open_orders(self._id) if o["triggerPrice"]]
        pos = self.trading.positions.get(self._id)
        if pos is not None and pos.size:  # the position's own TP/SL, should any be set
            waiting += [(kind, float(level)) for kind, level in
                        (("stop", pos.stop_loss), ("target", pos.take_profit)) if level]
        return sorted(waiting)

    def position_size(self) -> float:
        return self.trading.position(self._id)

    def entry_orders(self) -> int:
        return len([p for p in self.trading.calls("POST", "/v5/order/create")
                    if not p.get("reduceOnly") and not p.get("triggerPrice")])

    def user_trade(self, side: str, quantity: float) -> None:
        self.trading.post_order_create({"category": "linear", "symbol": self._id,
                                        "side": side.capitalize(), "orderType": "Market",
                                        "qty": f"{quantity:g}", "positionIdx": 0,
                                        "orderLinkId": "web-1"})


# Venue name -> its harness. Every venue in exchanges.registry must have one.
HARNESSES: dict[str, Callable[[], VenueHarness]] = {"binance": BinanceHarness}
HARNESSES["bybit"] = BybitHarness

from .harness_okx import OkxHarness  # noqa: E402 - registered beside the others

HARNESSES["okx"] = OkxHarness

from .harness_delta import DeltaHarness  # noqa: E402 - registered beside the others

HARNESSES["delta"] = DeltaHarness

from .harness_gate import GateHarness  # noqa: E402 - registered beside the others

HARNESSES["gate"] = GateHarness

from .harness_kucoin import KucoinHarness  # noqa: E402 - registered beside the others

HARNESSES["kucoin"] = KucoinHarness

from .harness_bitget import BitgetHarness  # noqa: E402 - registered beside the others

HARNESSES["bitget"] = BitgetHarness

from .harness_bingx import BingxHarness  # noqa: E402 - registered beside the others

HARNESSES["bingx"] = BingxHarness

from .harness_coindcx import CoindcxHarness  # noqa: E402 - registered beside the others

HARNESSES["coindcx"] = CoindcxHarness

from .harness_replay import ReplayHarness  # noqa: E402 - registered beside the others

HARNESSES["replay"] = ReplayHarness
