"""Binance USD-M behaviour that ccxt's unified methods do not cover, over the generic classes.

Why raw or Binance-only calls remain here:
- candles: /fapi/v1/klines directly (no markets needed: the id is 'BTCUSDT'), so a cycle costs
  one request of weight 1-10 per series and the row's own close time decides closedness;
  responses' X-MBX-USED-WEIGHT-1M is kept to pace requests against Binance's weight budget;
- a 5xx body (-1000, -1001) is a read's to retry, though ccxt raises OperationFailed for it;
- -1021 (timestamp outside recvWindow) resyncs the clock, then the same request is safe;
- stops and targets are closePosition algo orders (/fapi/v1/algoOrder) found and cancelled by
  clientAlgoId, which the unified stopLossPrice/takeProfitPrice orders do not reach;
- market rules come from exchangeInfo filters (MARKET_LOT_SIZE) and leverage brackets;
- realised PnL and USDT commissions come from the raw trade rows.
"""
from __future__ import annotations

import contextlib
from collections.abc import Mapping
from functools import cache
from typing import Any

import numpy as np
import structlog

from .binance import SERVER_SIDE_CODES, TIMESTAMP_OUTSIDE_RECV_WINDOW
from .ccxt_fills import CcxtTrade
from .ccxt_lean import ccxt
from .ccxt_market_data import CcxtMarketData
from .ccxt_trading import CcxtTrading
from .errors import venue_code
from .ohlcv import Rows
from .port import Direction, MarketRules, OrderResult, OrderStatus
from .retry import MalformedResponse
from .tagging import with_retry_after

log = structlog.get_logger(__name__)


def market_id(symbol: str) -> str:
    """'BTC/USDT' (or 'BTC/USDT:USDT') -> Binance's id 'BTCUSDT'."""
    return symbol.split(":")[0].replace("/", "")


def parse_klines(payload: object) -> Rows:
    """Binance /fapi/v1/klines rows (12 fields, prices as strings) -> (open, ohlcv, close).

    Anything that is not a list of such rows is a malformed answer (transient: retried).
    """
    if not isinstance(payload, list):
        raise MalformedResponse(f"klines: expected a JSON list, got {type(payload).__name__}")
    if not payload:
        return (np.empty(0, dtype=np.int64), np.empty((0, 5)), np.empty(0, dtype=np.int64))
    try:
        ts = np.array([r[0] for r in payload], dtype=np.int64)
        close_time = np.array([r[6] for r in payload], dtype=np.int64)
        values = np.array([r[1:6] for r in payload], dtype=np.float64)
    except (TypeError, ValueError, IndexError, KeyError) as e:
        raise MalformedResponse(f"klines: a row is not a Binance kline ({e})") from None
    if values.ndim != 2 or values.shape[1] != 5:
        raise MalformedResponse("klines: a row has fewer than 6 fields")
    return ts, values, close_time


def _as_read_error(error: Exception, status: int) -> Exception:
    """The error a READ should see: a server-side failure becomes retryable, else unchanged."""
    if not isinstance(error, ccxt.NetworkError) and (
            status >= 500 or venue_code(error, ("code",)) in SERVER_SIDE_CODES):
        # ccxt maps Binance's 5xx bodies (-1000, -1001) to OperationFailed, which is not a
        # NetworkError; for a read they are the server's trouble: retry them.
        return ccxt.ExchangeNotAvailable(str(error))
    return error


@cache
def _data_exchange_class() -> type:
    """binanceusdm (errors tagged with Retry-After) that remembers the used request weight and
    makes a 5xx body a retryable error for reads."""
    base = with_retry_after("binanceusdm")

    class DataExchange(base):  # type: ignore[misc, valid-type]
        used_weight_1m: int | None = None

        def handle_errors(self, code, reason, url, method, headers, body, response,
                          request_headers, request_body):
            """ccxt's error mapping, plus the response headers it would otherwise drop."""
            self._note_used_weight(headers)
            try:
                return super().handle_errors(code, reason, url, method, headers, body, response,
                                             request_headers, request_body)
            except ccxt.BaseError as e:
                error = _as_read_error(e, code)
                if error is e:
                    raise
                error.retry_after_s = getattr(e, "retry_after_s", None)  # type: ignore[attr-defined]
                raise error from e

        def _note_used_weight(self, headers) -> None:
            """Remember X-MBX-USED-WEIGHT-1M from a response's headers (when it is a number)."""
            for key, value in (headers or {}).items():
                if key.lower() == "x-mbx-used-weight-1m":
                    with contextlib.suppress(TypeError, ValueError):
                        self.used_weight_1m = int(value)

    return DataExchange


class BinanceMarketData(CcxtMarketData):
    """Binance USD-M candles over raw klines, paced by request weight."""

    def _client_class(self) -> type:
        return _data_exchange_class()

    def _client_config(self) -> dict[str, Any]:
        config = super()._client_config()
        # ccxt's costs for fapi are Binance's request weights; a rolling 60 s window lets a
        # cycle burst (200 symbols in ~2 s) while never passing DATA_WEIGHT_PER_MIN.
        config.update(rateLimiterAlgorithm="rollingWindow",
                      rateLimit=60_000 / self.config.weight_per_min)
        config["options"].update({
            "defaultType": "swap",
            "fetchMarkets": {"types": ["linear"]},  # fapi exchangeInfo only, no spot/dapi
            "fetchCurrencies": False,  # the sapi capital endpoint: not needed for candles
            "fetchMargins": False,
        })
        return config

    @property
    def used_weight_1m(self) -> int | None:
        """Binance's X-MBX-USED-WEIGHT-1M from the latest response (None before any)."""
        return self.exchange.used_weight_1m if self.exchange else None

    async def _rows(self, symbol: str, timeframe: str, *, since: int | None, until: int | None,
                    limit: int) -> Rows:
        params: dict[str, Any] = {"symbol": market_id(symbol), "interval": timeframe,
                                  "limit": limit}
        if since is not None:
            params["startTime"] = since
        if until is not None:
            params["endTime"] = until

        async def call() -> Rows:
            # Parsed inside the retry: a garbled answer is retried.
            return parse_klines(await self.exchange.fapiPublicGetKlines(params))

        return await self._read(call, f"klines {params['symbol']} {timeframe}")

    def _tradable(self, market: Mapping[str, Any]) -> bool:
        info = market.get("info") or {}
        return bool(market.get("swap") and market.get("linear")
                    and market.get("quote") == "USDT" and market.get("settle") == "USDT"
                    and info.get("contractType") == "PERPETUAL"
                    and info.get("status") == "TRADING")


def _kind(info: Mapping[str, Any]) -> str | None:
    """'stop' or 'target' from Binance's own order type (ccxt reports algo orders as 'market')."""
    raw = str(info.get("orderType") or info.get("origType") or info.get("type") or "").upper()
    if raw.startswith("STOP"):
        return "stop"
    if raw.startswith("TAKE_PROFIT"):
        return "target"
    return None


def _usdt_commissions(trades: list[CcxtTrade]) -> float | None:
    """The trades' commissions in USDT; None if any was paid in another asset (BNB discount)."""
    total = 0.0
    for t in trades:
        info = t.get("info") or {}
        if info.get("commissionAsset") != "USDT" or info.get("commission") is None:
            return None
        total += float(info["commission"])
    return total


class BinanceTrading(CcxtTrading):
    """Binance USD-M futures: algo closePosition stops, filter-based rules, raw PnL fields."""

    one_way_where = " (Futures > Preferences)"

    def _client_config(self, timeout_s: float, rate_limit: bool) -> dict[str, Any]:
        config = super()._client_config(timeout_s, rate_limit)
        config["options"].update(adjustForTimeDifference=False,
                                 warnOnFetchOpenOrdersWithoutSymbol=False, recvWindow=5000)
        return config

    def _is_clock_error(self, error: Exception) -> bool:
        return venue_code(error, ("code",)) == TIMESTAMP_OUTSIDE_RECV_WINDOW

    def _market_rules(self, symbol: str, tiers: list[dict[str, Any]]) -> MarketRules:
        market = self._market(symbol)
        filters = {f["filterType"]: f for f in market["info"].get("filters", [])}
        lot = filters.get("LOT_SIZE", {})
        mlot = filters.get("MARKET_LOT_SIZE", {})
        return MarketRules(
            symbol=symbol,
            step=float(mlot.get("stepSize") or lot.get("stepSize")
                       or market["precision"]["amount"]),
            min_qty=float(max(float(mlot.get("minQty") or 0), float(lot.get("minQty") or 0))),
            min_notional=float(filters.get("MIN_NOTIONAL", {}).get("notional") or 0),
            tick=float(filters.get("PRICE_FILTER", {}).get("tickSize")
                       or market["precision"]["price"]),
            max_market_qty=float(mlot["maxQty"]) if mlot.get("maxQty") else None,
            brackets=tuple((float(t["maxNotional"]), float(t["maxLeverage"])) for t in tiers))

    def _entry_params(self, client_id: str, reduce_only: bool) -> dict[str, Any]:
        params: dict[str, Any] = {"newClientOrderId": client_id}
        if reduce_only:
            params["reduceOnly"] = True
        return params

    async def protective_order(self, symbol: str, side: str, kind: str, trigger: float,
                               client_id: str) -> OrderResult:
        """closePosition STOP_MARKET / TAKE_PROFIT_MARKET (ccxt sends it to /fapi/v1/algoOrder):
        it closes whatever the position is when it triggers, so no size is needed."""
        type_ = "STOP_MARKET" if kind == "stop" else "TAKE_PROFIT_MARKET"
        params = {"triggerPrice": trigger, "closePosition": True, "clientAlgoId": client_id,
                  "workingType": "MARK_PRICE"}
        o = await self._call(lambda: self.exchange.create_order(
            self.venue.ccxt_symbol(symbol), type_, side, None, None, params), read=False)
        return self._order(o, symbol)

    def _lookup_params(self, client_id: str, conditional: bool) -> dict[str, Any]:
        return ({"clientAlgoId": client_id, "trigger": True} if conditional
                else {"origClientOrderId": client_id})

    def _order(self, o: Mapping[str, Any], symbol: str) -> OrderResult:
        info = o.get("info") or {}
        cid = o.get("clientOrderId") or info.get("clientAlgoId") or info.get("clientOrderId") \
            or ""
        status = {"open": OrderStatus.OPEN, "closed": OrderStatus.FILLED,
                  "canceled": OrderStatus.CANCELED, "expired": OrderStatus.EXPIRED,
                  "rejected": OrderStatus.REJECTED}.get(o.get("status") or "", OrderStatus.OPEN)
        avg = o.get("average") or (float(info["avgPrice"]) if float(info.get("avgPrice") or 0)
                                   else None)
        trigger = o.get("triggerPrice") or o.get("stopPrice") or info.get("triggerPrice")
        return OrderResult(symbol, cid, str(o.get("id")) if o.get("id") is not None else None,
                           status, float(o.get("filled") or 0), float(avg) if avg else None,
                           o.get("side"), float(trigger) if trigger and float(trigger) else None,
                           _kind(info))

    def _trade_pnl(self, closing: list[CcxtTrade], entry: list[CcxtTrade],
                   direction: Direction) -> float:
        """Binance's own realised PnL of the closing trades (realizedPnl)."""
        return sum(float((t.get("info") or {}).get("realizedPnl") or 0) for t in closing)

    def _fees(self, trades: list[CcxtTrade]) -> float | None:
        """USDT commissions; None if any was paid in another asset (BNB discount)."""
        return _usdt_commissions(trades)


MarketData = BinanceMarketData
Trading = BinanceTrading
