"""OKX behaviour that ccxt's unified methods leave to the caller, over the generic classes.

Everything goes through ccxt's unified methods (fetch_ohlcv, create_order, fetch_order,
fetch_open_orders, cancel_order, fetch_positions, fetch_my_trades); what differs is:
- candles: /market/candles holds only the latest 1,440 bars, and ccxt picks the endpoint by the
  HOST clock; the page's range is judged on the venue's clock here and the endpoint named;
- sizes are contracts (ctVal base units, in lots of lotSz): converted in exchanges/okx.py;
- margin mode is per order (tdMode): sent on every order; set_margin_mode needs the leverage;
- a one-way account is posSide=net, sent explicitly;
- clOrdId is unique only among PENDING orders: a filled order's id is accepted again and opens
  a second position, so a market order's id is never sent twice by this process (an ambiguous
  answer is resolved by looking the id up, and an entry nobody can find is given up);
- create_order never says whether a market order filled: it is looked up at once;
- stops and targets are conditional algo orders found by algoClOrdId; open ones are asked for
  as ordType conditional,oco (ccxt's default 'trigger' misses them);
- realised PnL comes from each fill's fillPnl (ccxt's amounts are contracts).
"""
from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

import structlog

from .ccxt_fills import CcxtTrade
from .ccxt_market_data import CcxtMarketData
from .ccxt_trading import CcxtTrading
from .okx import RECENT_CANDLES_KEPT, base_step, to_contracts
from .port import Direction, MarketRules, OrderResult

log = structlog.get_logger(__name__)

ONE_WAY = "net"
CONDITIONAL_TYPES = "conditional,oco"
# Bars of margin before the edge of /market/candles: the host's and the venue's clocks and a
# bar closing meanwhile never put a page's oldest bar just past the edge.
EDGE_MARGIN_BARS = 3


def candle_endpoint(oldest_ms: int, now_ms: int, tf_ms: int) -> str:
    """ccxt's `type` for a page whose oldest bar opens at oldest_ms: 'Candles' while the venue's
    recent window (1,440 bars back from the forming one) holds it, else 'HistoryCandles'."""
    edge = now_ms - now_ms % tf_ms - (RECENT_CANDLES_KEPT - 1 - EDGE_MARGIN_BARS) * tf_ms
    return "Candles" if oldest_ms >= edge else "HistoryCandles"


class OkxMarketData(CcxtMarketData):
    """OKX swaps' candles from the endpoint that holds the asked range."""

    async def _ohlcv_params(self, tf_ms: int, *, since: int | None, until: int | None,
                            limit: int) -> dict[str, Any]:
        """The range's end and the endpoint (recent or history) that holds the asked range."""
        now = await self.server_time_ms()
        end = until if until is not None else now
        oldest = since if since is not None else end - limit * tf_ms
        params: dict[str, Any] = {"type": candle_endpoint(oldest, now, tf_ms)}
        if until is not None:
            params["until"] = until
        return params


def _kind(info: Mapping[str, Any]) -> str | None:
    """'stop' or 'target' of an algo order from its own trigger fields (an oco has both: its
    stop loss is what protects)."""
    if info.get("slTriggerPx"):
        return "stop"
    if info.get("tpTriggerPx"):
        return "target"
    return None


class OkxTrading(CcxtTrading):
    """OKX USDT swaps: contracts, margin mode per order, conditional algo stops and targets."""

    fills_in_answer = False  # the answer says 'placed', never 'filled'
    mode_with_leverage = True  # set_margin_mode only sets a mode's leverage: mode per order

    one_way_where = " (Settings > Account mode > Position mode: One-way)"

    def _client_config(self, timeout_s: float, rate_limit: bool) -> dict[str, Any]:
        config = super()._client_config(timeout_s, rate_limit)
        # load_markets would also read /asset/currencies (funding permission): not needed.
        config["has"] = {"fetchCurrencies": False}
        return config

    def _market_rules(self, symbol: str, tiers: list[dict[str, Any]]) -> MarketRules:
        """Step = lotSz x ctVal and minimum = minSz x ctVal, in base units."""
        market = self._market(symbol)
        info = market.get("info") or {}
        ct_val, lot = float(info["ctVal"]), float(info["lotSz"])
        max_market = float(info.get("maxMktSz") or 0)
        return MarketRules(
            symbol=symbol, step=base_step(ct_val, lot),
            min_qty=base_step(ct_val, float(info.get("minSz") or lot)),
            min_notional=0.0, tick=float(info["tickSz"]),
            max_market_qty=base_step(ct_val, max_market) if max_market else None,
            contract_size=ct_val)

    def _contracts(self, symbol: str, quantity: float) -> float:
        """A base quantity as OKX's sz (whole lots of contracts)."""
        info = self._market(symbol).get("info") or {}
        return to_contracts(quantity, float(info["ctVal"]), float(info["lotSz"]))

    def _order_params(self, client_id: str) -> dict[str, Any]:
        """What every order carries: our id, the margin mode, the one-way position side."""
        return {"clientOrderId": client_id, "marginMode": self.config.margin_mode,
                "positionSide": ONE_WAY}

    def _amount(self, symbol: str, quantity: float) -> float:
        return self._contracts(symbol, quantity)

    def _protective_params(self, kind: str, trigger: float, client_id: str) -> dict[str, Any]:
        params = super()._protective_params(kind, trigger, client_id)
        params.update(self._order_params(client_id))
        # ccxt sends our id as clOrdId; the algo endpoint documents algoClOrdId, the field its
        # lookups, cancels and pending lists match on.
        params["algoClOrdId"] = client_id
        return params

    async def protective_order(self, symbol: str, side: str, kind: str, trigger: float,
                               client_id: str) -> OrderResult:
        """A reduce-only conditional algo order of the position's size (OKX's answer names
        only the ids: the kind and trigger are what was asked)."""
        placed = await super().protective_order(symbol, side, kind, trigger, client_id)
        return dataclasses.replace(placed, side=placed.side or side, kind=placed.kind or kind,
                                   trigger=placed.trigger or trigger)

    async def open_protective(self) -> list[OrderResult]:
        """Every waiting stop and target: conditional and oco algo orders (one request)."""
        orders = await self._call(lambda: self.exchange.fetch_open_orders(
            None, None, None, {"trigger": True, "ordType": CONDITIONAL_TYPES}), read=True)
        return [self._order(o, self.venue.our_symbol(o["symbol"])) for o in orders]

    def _kind(self, o: Mapping[str, Any]) -> str | None:
        return _kind(o.get("info") or {})

    def _order(self, o: Mapping[str, Any], symbol: str) -> OrderResult:
        """Our OrderResult; an algo order's id is its algoClOrdId."""
        result = super()._order(o, symbol)
        info = o.get("info") or {}
        algo_id = info.get("algoClOrdId")
        # Algo rows carry actualSz; a create answer has no ordId at all.
        if algo_id and (not result.client_id or "actualSz" in info or "ordId" not in info):
            result = dataclasses.replace(result, client_id=str(algo_id))
        return result

    def _trade_pnl(self, closing: list[CcxtTrade], entry: list[CcxtTrade],
                   direction: Direction) -> float:
        """OKX's own realised PnL of the closing fills (fillPnl)."""
        return sum(float((t.get("info") or {}).get("fillPnl") or 0) for t in closing)


MarketData = OkxMarketData
Trading = OkxTrading
