"""A local fake of the Bybit V5 REST API (USDT linear perpetuals), for ccxt to talk to for real.

    fake = FakeBybit(candles={("BTCUSDT", "1"): one_minute_df}, now_ms=...)
    await fake.start()          # one server: public market data and the private trading API
    exchange.urls["api"] = {k: fake.url for k in ("spot", "futures", "v2", "public", "private")}
    fake.set_price("BTCUSDT", 50_000); fake.candle("BTCUSDT", high, low, close)
    fake.fail("/v5/order/create", 502); fake.fail("/v5/order/create", lost=True)
    fake.rate_limit("/v5/market/kline", status=403); fake.reject("/v5/order/create", 110007, "...")

Written from Bybit's V5 documentation and ccxt 4.5.90's bybit.py (its recorded responses):
every answer is HTTP 200 with the envelope {retCode, retMsg, result, retExtInfo, time}; errors
carry a non-zero retCode (HTTP 403 only for the IP rate limit when asked for).

Market data: /v5/market/time, instruments-info (cursor pages, `limit` default 500),
risk-limit (two tiers per symbol),
kline (newest first, [start, open, high, low, close, volume, turnover] strings, `limit`
[1, 1000] default 200, intervals 1 3 5 15 30 60 120 240 360 720 D W M; the candle that
contains `start` is included, rows open at or before `end`; with `start` the first `limit`
rows from it, otherwise the last `limit` up to `end`/now; the forming candle is served),
tickers (turnover24h). Stored 1m candles serve every interval by UTC-aligned resampling
(weeks open on Monday, months on the 1st); other symbols get deterministic synthetic candles.

Trading (signed: X-BAPI-API-KEY, X-BAPI-TIMESTAMP, X-BAPI-RECV-WINDOW, X-BAPI-SIGN =
HMAC-SHA256(timestamp + key + recvWindow + query string | JSON body)): order/create, realtime,
history, cancel; position/list, set-leverage, switch-isolated, switch-mode, trading-stop;
account/wallet-balance, info, set-margin-mode; execution/list; position/closed-pnl;
user/query-api; asset/coin/query-info. One-way mode (positionIdx 0) only for fills.

Order lookups follow the docs: /v5/order/realtime matches orderId first, then orderLinkId,
then symbol; `openOnly` is ignored when an id is given (closed orders are found until
`restart()`, which models Bybit's note that after a service restart closed orders are only in
/v5/order/history). ccxt sends the literal "None" as orderId when `id` is None: that matches
nothing, exactly as on Bybit. orderLinkId is at most 36 characters of [A-Za-z0-9_-] and must
never repeat (110072), even after the first order filled.

Error codes as ccxt 4.5.90 raises them (observed in tests/fakes/test_bybit_fake.py):

    retCode  retMsg (fake)                                  ccxt exception
    10001    params error (bad qty, wrong-side SL/TP, ...)  BadRequest      (trap: not InvalidOrder)
    10001    Not supported symbols                          BadSymbol       (broad match on text)
    10002    invalid request, ... server timestamp ...      InvalidNonce
    10003    API key is invalid.                            AuthenticationError
    10004    error sign! ...                                AuthenticationError
    10006    Too many visits. Exceeded the API Rate Limit.  RateLimitExceeded (HTTP 200 or 403)
    10016    Internal server error.                         ExchangeError   (trap: not retryable)
    10032    Demo trading are not supported.                ExchangeError   (plain)
    110001   order not exists or too late to cancel         OrderNotFound
    110007   ab not enough for new order                    InsufficientFunds
    110017   current position is zero, cannot fix ...       InvalidOrder
    110025   Position mode is not modified                  NoChange
    110026   Cross/isolated margin mode is not modified     MarginModeAlreadySet
    110043   leverage not modified                          BadRequest      (trap: means already so)
    110072   OrderLinkedID is duplicate                     InvalidOrder    (trap: idempotency hit)
    110092   expect Rising, but trigger_price[..] <= ..     InvalidOrder
    110093   expect Falling, but trigger_price[..] >= ..    InvalidOrder
    110094   Order does not meet minimum order value ...    InvalidOrder
    HTTP 500/502/503 (HTML body)                            ExchangeNotAvailable
    HTTP 504 (HTML body, e.g. after processing: lost=True)  RequestTimeout
    connection dropped after processing (status=None)       ExchangeNotAvailable
    HTTP 403 or 429 with an HTML body                       RateLimitExceeded
    no answer within ccxt's `timeout` (delay_s)             RequestTimeout
"""
from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import re
import uuid
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

import numpy as np
import pandas as pd
from aiohttp import web

from . import base
from .base import FakeVenue, Fault
from .binance_data import LISTED_MS, _month_grid, _text, resample, synthetic

API_KEY = "bybit-test-key-0123"
SECRET = "bybit-test-secret-abcdef"
MINUTE = 60_000
# Bybit interval -> (Binance-style name used by the shared resampler, length in ms; 0 = month).
INTERVALS = {"1": ("1m", MINUTE), "3": ("3m", 3 * MINUTE), "5": ("5m", 5 * MINUTE),
             "15": ("15m", 15 * MINUTE), "30": ("30m", 30 * MINUTE), "60": ("1h", 60 * MINUTE),
             "120": ("2h", 120 * MINUTE), "240": ("4h", 240 * MINUTE),
             "360": ("6h", 360 * MINUTE), "720": ("12h", 720 * MINUTE),
             "D": ("1d", 1440 * MINUTE), "W": ("1w", 7 * 1440 * MINUTE), "M": ("1M", 0)}
WEEK_ORIGIN = 4 * 1440 * MINUTE  # weeks open on Monday; 1970-01-01 was a Thursday
LINK_ID = re.compile(r"^[A-Za-z0-9_-]{1,36}$")
RATE_LIMIT_MSG = "Too many visits. Exceeded the API Rate Limit."
PUBLIC_PREFIX = "/v5/market/"
DEMO_UNSUPPORTED = {"/v5/user/query-api", "/v5/asset/coin/query-info"}


@dataclass
class Instrument:
    """One USDT perpetual: tick, qty step, min qty, min notional, max leverage, max qty."""

    symbol: str
    tick: str = "0.10"
    step: str = "0.001"
    min_qty: str = "0.001"
    min_notional: str = "5"
    max_leverage: str = "100.00"
    max_qty: str = "1190.000"
    turnover24h: float = 1e9
    status: str = "Trading"


DEFAULT_INSTRUMENTS = [Instrument("BTCUSDT"), Instrument("ETHUSDT", "0.01", "0.01", "0.01"),
                       Instrument("LTCUSDT", "0.01", "0.1", "0.1", max_leverage="50.00")]


class BybitError(Exception):
    """A Bybit error answer: retCode, retMsg (HTTP 200 unless `status` says otherwise)."""

    def __init__(self, code: int, msg: str, status: int = 200) -> None:
        super().__init__(msg)
        self.code, self.msg, self.status = code, msg, status


@dataclass
class Request(base.Request):
    """One request the fake answered, with the retCode it answered."""

    ret_code: int = 0


@dataclass
class Position:
    """One-way position: signed size, average entry, leverage, margin mode, TP/SL."""

    size: float = 0.0
    entry: float = 0.0
    leverage: str = "10"
    trade_mode: int = 0
    take_profit: str = ""
    stop_loss: str = ""
    tp_trigger_by: str = ""
    sl_trigger_by: str = ""
    cum_realised: float = 0.0
    created: int = 0
    updated: int = 0


def _num(x: float) -> str:
    return _text(float(x))


def _steps(value: float, step: str) -> bool:
    """True when `value` is a whole number of `step`."""
    n = value / float(step)
    return abs(n - round(n)) < 1e-6


class FakeBybit(FakeVenue):
    """The fake exchange: instruments, clock, candles, order engine, faults and a request log."""

    def __init__(self, candles: dict[tuple[str, str], pd.DataFrame] | None = None, *,
                 now_ms: int | None = None, instruments: list[Instrument] | None = None,
                 prices: dict[str, float] | None = None, balance: float = 10_000.0,
                 taker_fee: float = 0.00055, demo: bool = False,
                 latency_s: float = 0.0) -> None:
        super().__init__(now_ms=now_ms, latency_s=latency_s)
        self.candles = {k: v.astype({"timestamp": "int64"}).sort_values("timestamp")
                        .reset_index(drop=True) for k, v in (candles or {}).items()}
        self.instruments = {i.symbol: i for i in (instruments or DEFAULT_INSTRUMENTS)}
        self.prices = dict(prices or {"BTCUSDT": 50_000.0, "ETHUSDT": 3_000.0, "LTCUSDT": 50.0})
        self.balance = balance
        self.taker_fee = taker_fee
        self.demo = demo                  # api-demo.bybit.com: no query-api, no coin info
        self.recv_window_max = 60_000
        self.position_mode = 0            # 0 one-way, 3 hedge (switch-mode)
        self.margin_mode = "REGULAR_MARGIN"
        self.positions: dict[str, Position] = {}
        self.orders: list[dict] = []
        self.executions: list[dict] = []
        self.closed_pnl: list[dict] = []
        self.answer_new = 0               # next N market orders read New/unfilled on lookup
        self.new_lookups = 1
        self._reads_new: dict[str, int] = {}
        self._forgotten: set[str] = set()  # closed orders realtime no longer knows (restart)
        self._ids = itertools.count(1)
        self._seq = itertools.count(9_000_000_000)
        self._resampled: dict[tuple, pd.DataFrame] = {}

    # -- test controls: the clock, fail (5xx HTML, or lost) and reject (retCode, HTTP 200)
    # are FakeVenue's ---------------------------------------------------------------------------
    def rate_limit(self, path: str | None = None, times: int = 1, *,  # type: ignore[override]
                   status: int = 200) -> None:
        """Next `times` calls: retCode 10006 with the limit headers (HTTP 200, or 403 for IP)."""
        self.faults.append(Fault("ratelimit", None, path, status, "10006", RATE_LIMIT_MSG, times))

    def set_price(self, symbol: str, price: float) -> None:
        """Move the market to `price`: conditional orders and TP/SL crossed on the way trigger."""
        self.candle(symbol, max(price, self.prices[symbol]), min(price, self.prices[symbol]),
                    price)

    def candle(self, symbol: str, high: float, low: float, close: float) -> None:
        """A later candle: stops, then targets, then conditional orders within [low, high]."""
        self._position_tpsl(symbol, high, low)
        for order in [o for o in self.orders if o["symbol"] == symbol
                      and o["orderStatus"] == "Untriggered"]:
            trigger = float(order["triggerPrice"])
            if (order["triggerDirection"] == 1 and high >= trigger) or (
                    order["triggerDirection"] == 2 and low <= trigger):
                self._trigger(order, trigger)
        self.prices[symbol] = close

    def restart(self) -> None:
        """A Bybit service restart: realtime forgets closed orders (history still has them)."""
        self._forgotten.update(o["orderId"] for o in self.orders if not _is_open(o))

    def reveal_fills(self) -> None:
        """Lookups show the orders answered as not yet filled as they are from now on."""
        self.answer_new = 0
        self._reads_new.clear()

    def position(self, symbol: str) -> float:
        """Signed position size on `symbol`."""
        return self.positions.get(symbol, Position()).size

    def open_orders(self, symbol: str | None = None) -> list[dict]:
        """Orders still open (New, PartiallyFilled, Untriggered)."""
        return [o for o in self.orders if _is_open(o) and symbol in (None, o["symbol"])]

    # -- order engine -------------------------------------------------------------------------
    def _new_id(self) -> str:
        return str(uuid.UUID(int=(0xB1B17 << 96) + next(self._ids)))

    def _fill(self, order: dict, qty: float, price: float) -> None:
        """Execute `qty` of `order` at `price`: position, balance, execution, closed PnL."""
        symbol, now = order["symbol"], self.now_ms()
        pos = self.positions.setdefault(symbol, Position(created=now))
        signed = qty if order["side"] == "Buy" else -qty
        fee = price * qty * self.taker_fee
        closed = 0.0
        if pos.size and (pos.size > 0) != (signed > 0):
            closed = min(abs(pos.size), qty)
            pnl = (price - pos.entry) * closed * (1 if pos.size > 0 else -1)
            open_fee = pos.entry * closed * self.taker_fee
            self._closed_pnl(order, pos, closed, price, pnl, open_fee, fee * closed / qty)
            self.balance += pnl
            pos.cum_realised += pnl
            rest = pos.size + signed
            if abs(rest) < 1e-12:
                pos.size, pos.entry = 0.0, 0.0
                pos.take_profit = pos.stop_loss = ""
            elif (rest > 0) != (pos.size > 0):
                pos.size, pos.entry = rest, price
            else:
                pos.size = rest
        else:
            total = abs(pos.size) + qty
            pos.entry = (pos.entry * abs(pos.size) + price * qty) / total
            pos.size += signed
        self.balance -= fee
        pos.cum_realised -= fee
        pos.updated = now
        value = price * qty
        order.update({"orderStatus": "Filled", "avgPrice": _num(price), "cumExecQty": _num(qty),
                      "cumExecValue": _num(value), "cumExecFee": _num(fee),
                      "cumFeeDetail": {"USDT": _num(fee)}, "leavesQty": "0",
                      "leavesValue": "0", "updatedTime": str(now)})
        self.executions.append({
            "symbol": symbol, "orderId": order["orderId"], "orderLinkId": order["orderLinkId"],
            "side": order["side"], "orderPrice": order["price"], "orderQty": order["qty"],
            "leavesQty": "0", "createType": order["createType"], "orderType": "Market",
            "stopOrderType": order["stopOrderType"] or "UNKNOWN", "execFee": _num(fee),
            "execId": self._new_id(), "execPrice": _num(price), "execQty": _num(qty),
            "execType": "Trade", "execValue": _num(value), "execTime": str(now),
            "feeCurrency": "USDT", "isMaker": False, "feeRate": _num(self.taker_fee),
            "tradeIv": "", "markIv": "", "markPrice": _num(price), "indexPrice": "",
            "underlyingPrice": "", "blockTradeId": "", "closedSize": _num(closed),
            "seq": next(self._seq), "extraFees": ""})
        if pos.size == 0:
            self._drop_reduce_only(symbol)

    def _closed_pnl(self, order: dict, pos: Position, closed: float, price: float, pnl: float,
                    open_fee: float, close_fee: float) -> None:
        now = str(self.now_ms())
        self.closed_pnl.append({
            "symbol": order["symbol"], "orderType": "Market", "leverage": pos.leverage,
            "updatedTime": now, "side": order["side"], "orderId": order["orderId"],
            "closedPnl": _num(pnl - open_fee - close_fee), "openFee": _num(open_fee),
            "closeFee": _num(close_fee), "avgEntryPrice": _num(pos.entry), "qty": order["qty"],
            "cumEntryValue": _num(pos.entry * closed), "createdTime": now,
            "orderPrice": order["price"], "closedSize": _num(closed),
            "avgExitPrice": _num(price), "execType": "Trade", "fillCount": "1",
            "cumExitValue": _num(price * closed)})

    def _drop_reduce_only(self, symbol: str) -> None:
        """A flat position cancels the reduce-only orders still waiting on it."""
        for o in self.open_orders(symbol):
            if o["reduceOnly"]:
                o.update({"orderStatus": "Deactivated", "cancelType": "CancelByReduceOnly",
                          "updatedTime": str(self.now_ms())})

    def _position_tpsl(self, symbol: str, high: float, low: float) -> None:
        pos = self.positions.get(symbol)
        if pos is None or pos.size == 0:
            return
        long = pos.size > 0
        for kind, level in (("StopLoss", pos.stop_loss), ("TakeProfit", pos.take_profit)):
            if not level or pos.size == 0:
                continue
            price = float(level)
            hit = (low <= price) if (long == (kind == "StopLoss")) else (high >= price)
            if hit:
                side = "Sell" if long else "Buy"
                order = self._record(symbol, side, abs(pos.size), "", reduce_only=True,
                                     create_type=f"CreateBy{kind}", stop_type=kind)
                order.update({"triggerPrice": level, "triggerBy": "LastPrice",
                              "closeOnTrigger": True})
                self._fill(order, abs(pos.size), price)

    def _trigger(self, order: dict, price: float) -> None:
        pos = self.position(order["symbol"])
        qty = float(order["qty"])
        if order["reduceOnly"]:
            if pos == 0 or (pos > 0) == (order["side"] == "Buy"):
                order.update({"orderStatus": "Deactivated", "cancelType": "CancelByReduceOnly"})
                return
            qty = min(qty, abs(pos))
        order["orderStatus"] = "Triggered"
        self._fill(order, qty, price)

    def _record(self, symbol: str, side: str, qty: float, link_id: str, *, reduce_only: bool,
                create_type: str = "CreateByUser", stop_type: str = "", price: str = "0"
                ) -> dict:
        now = str(self.now_ms())
        order = {
            "orderId": self._new_id(), "orderLinkId": link_id, "blockTradeId": "",
            "symbol": symbol, "price": price, "qty": _num(qty), "side": side, "isLeverage": "",
            "positionIdx": 0, "orderStatus": "New", "createType": create_type,
            "cancelType": "UNKNOWN", "rejectReason": "EC_NoError", "avgPrice": "",
            "leavesQty": _num(qty), "leavesValue": "0", "cumExecQty": "0", "cumExecValue": "0",
            "cumExecFee": "0", "cumFeeDetail": {}, "timeInForce": "IOC", "orderType": "Market",
            "stopOrderType": stop_type, "orderIv": "", "triggerPrice": "", "takeProfit": "",
            "stopLoss": "", "tpTriggerBy": "", "slTriggerBy": "", "triggerDirection": 0,
            "triggerBy": "", "lastPriceOnCreated": _num(self.prices[symbol]),
            "reduceOnly": reduce_only, "closeOnTrigger": False, "placeType": "",
            "smpType": "None", "smpGroup": 0, "smpOrderId": "", "tpslMode": "",
            "tpLimitPrice": "", "slLimitPrice": "", "parentOrderLinkId": "",
            "createdTime": now, "updatedTime": now, "marketUnit": "", "extraFees": "",
            "slippageTolerance": "0", "slippageToleranceType": "UNKNOWN"}
        self.orders.append(order)
        return order

    # -- validation helpers --------------------------------------------------------------------
    def _instrument(self, p: dict) -> Instrument:
        if p.get("category") != "linear":
            raise BybitError(10001, "params error: category only support linear here")
        inst = self.instruments.get(p.get("symbol", ""))
        if inst is None:
            raise BybitError(10001, "params error: symbol invalid")
        return inst

    def _check_qty(self, inst: Instrument, qty_text: str) -> float:
        try:
            qty = float(qty_text)
        except (TypeError, ValueError):
            raise BybitError(10001, "params error: qty invalid") from None
        if qty < float(inst.min_qty) or not _steps(qty, inst.step):
            raise BybitError(10001, "The number of contracts exceeds minimum limit allowed")
        if qty > float(inst.max_qty):
            raise BybitError(10001, "The number of contracts exceeds maximum limit allowed")
        return qty

    def _check_link_id(self, link_id: str) -> None:
        if not LINK_ID.match(link_id):
            raise BybitError(10001, "params error: orderLinkId invalid, max 36 chars of "
                                    "[A-Za-z0-9_-]")
        if any(o["orderLinkId"] == link_id for o in self.orders):
            raise BybitError(110072, "OrderLinkedID is duplicate")

    def _check_attached(self, p: dict, side: str, price: float) -> None:
        """An attached SL/TP must sit on the protective side of the last price."""
        buy = side == "Buy"
        for key, word in (("stopLoss", "StopLoss"), ("takeProfit", "TakeProfit")):
            if not p.get(key):
                continue
            level = float(p[key])
            below = level < price
            wrong = (below != buy) if key == "stopLoss" else (below == buy)
            if wrong:
                rel = ("lower" if buy else "higher") if key == "stopLoss" else (
                    "higher" if buy else "lower")
                raise BybitError(10001, f"{word}:{p[key]} set for {'Buy' if buy else 'Sell'} "
                                        f"position should {rel} than base_price:"
                                        f"{_num(price)}??LastPrice")

    def _check_margin(self, symbol: str, qty: float, price: float) -> None:
        pos = self.positions.get(symbol, Position())
        lev = float(pos.leverage)
        used = sum(abs(q.size) * q.entry / float(q.leverage) for q in self.positions.values())
        need = qty * price / lev + qty * price * self.taker_fee * 2
        if need > self.balance - used:
            raise BybitError(110007, "ab not enough for new order")

    # -- private endpoints ---------------------------------------------------------------------
    def post_order_create(self, p: dict) -> dict:
        inst = self._instrument(p)
        symbol, side = inst.symbol, p.get("side")
        if side not in ("Buy", "Sell"):
            raise BybitError(10001, "params error: side invalid")
        if p.get("orderType") not in ("Market", "Limit"):
            raise BybitError(10001, "params error: orderType invalid")
        if p.get("orderType") == "Limit":
            raise BybitError(10001, "params error: this fake only fills Market orders")
        idx = int(p.get("positionIdx", 0) or 0)
        if (idx == 0) != (self.position_mode == 0):
            raise BybitError(10001, "position idx not match position mode")
        qty = self._check_qty(inst, p.get("qty"))
        link_id = p.get("orderLinkId") or ""
        if link_id:
            self._check_link_id(link_id)
        price = self.prices[symbol]
        reduce_only = _truthy(p.get("reduceOnly"))
        if p.get("triggerPrice"):
            return self._conditional(inst, p, qty, link_id, reduce_only)
        self._check_attached(p, side, price)
        pos = self.position(symbol)
        if reduce_only:
            if pos == 0 or (pos > 0) == (side == "Buy"):
                raise BybitError(110017, "current position is zero, cannot fix reduce-only "
                                         "order qty")
            qty = min(qty, abs(pos))
        else:
            if qty * price < float(inst.min_notional):
                raise BybitError(110094, f"Order does not meet minimum order value "
                                         f"{inst.min_notional}USDT")
            self._check_margin(symbol, qty, price)
        order = self._record(symbol, side, qty, link_id, reduce_only=reduce_only)
        self._attach(order, p)
        self._fill(order, qty, price)
        self._apply_attached(order, p)
        if self.answer_new > 0:
            self.answer_new -= 1
            self._reads_new[order["orderId"]] = self.new_lookups
        return {"orderId": order["orderId"], "orderLinkId": link_id}

    def _attach(self, order: dict, p: dict) -> None:
        if p.get("stopLoss") or p.get("takeProfit"):
            order.update({"takeProfit": p.get("takeProfit") or "0.00",
                          "stopLoss": p.get("stopLoss") or "0.00",
                          "tpTriggerBy": p.get("tpTriggerBy", "LastPrice"),
                          "slTriggerBy": p.get("slTriggerBy", "LastPrice"),
                          "tpslMode": p.get("tpslMode", "Full")})

    def _apply_attached(self, order: dict, p: dict) -> None:
        """Full-mode TP/SL become the position's; Partial ones become reduce-only orders."""
        pos = self.positions[order["symbol"]]
        if p.get("tpslMode", "Full") == "Full":
            if p.get("stopLoss"):
                pos.stop_loss, pos.sl_trigger_by = p["stopLoss"], p.get("slTriggerBy",
                                                                        "LastPrice")
            if p.get("takeProfit"):
                pos.take_profit, pos.tp_trigger_by = p["takeProfit"], p.get("tpTriggerBy",
                                                                            "LastPrice")
            return
        close = "Sell" if order["side"] == "Buy" else "Buy"
        for key, kind in (("stopLoss", "PartialStopLoss"), ("takeProfit", "PartialTakeProfit")):
            if p.get(key):
                child = self._record(order["symbol"], close, float(order["qty"]), "",
                                     reduce_only=True, stop_type=kind)
                rises = (close == "Buy") == (key == "stopLoss")
                child.update({"orderStatus": "Untriggered", "triggerPrice": p[key],
                              "triggerDirection": 1 if rises else 2, "tpslMode": "Partial",
                              "parentOrderLinkId": order["orderLinkId"],
                              "triggerBy": p.get("slTriggerBy" if key == "stopLoss"
                                                 else "tpTriggerBy", "LastPrice"),
                              "closeOnTrigger": True})

    def _conditional(self, inst: Instrument, p: dict, qty: float, link_id: str,
                     reduce_only: bool) -> dict:
        price, trigger = self.prices[inst.symbol], float(p["triggerPrice"])
        direction = int(p.get("triggerDirection") or 0)
        if direction == 1 and trigger <= price:
            raise BybitError(110092, f"expect Rising, but trigger_price[{_num(trigger)}] <= "
                                     f"current[{_num(price)}]??LastPrice")
        if direction == 2 and trigger >= price:
            raise BybitError(110093, f"expect Falling, but trigger_price[{_num(trigger)}] >= "
                                     f"current[{_num(price)}]??LastPrice")
        if direction not in (1, 2):
            raise BybitError(10001, "params error: triggerDirection invalid")
        if not _steps(trigger, inst.tick):
            raise BybitError(10001, "params error: triggerPrice invalid")
        order = self._record(inst.symbol, p["side"], qty, link_id, reduce_only=reduce_only,
                             stop_type="Stop")
        order.update({"orderStatus": "Untriggered", "triggerPrice": p["triggerPrice"],
                      "triggerDirection": direction, "timeInForce": "IOC",
                      "triggerBy": p.get("triggerBy", "LastPrice"),
                      "closeOnTrigger": _truthy(p.get("closeOnTrigger"))})
        return {"orderId": order["orderId"], "orderLinkId": link_id}

    def _lookup(self, p: dict, *, realtime: bool) -> list[dict]:
        """Orders by orderId > orderLinkId > symbol (the documented priority)."""
        if p.get("category") != "linear":
            raise BybitError(10001, "params error: category invalid")
        if realtime and not (p.get("symbol") or p.get("settleCoin") or p.get("baseCoin")
                             or p.get("orderId") or p.get("orderLinkId")):
            raise BybitError(10001, "Missing some parameters that must be filled in, "
                                    "symbol or settleCoin or baseCoin")
        rows = list(self.orders)
        if realtime:
            rows = [o for o in rows if o["orderId"] not in self._forgotten]
        if p.get("orderId"):
            rows = [o for o in rows if o["orderId"] == p["orderId"]]
        elif p.get("orderLinkId"):
            rows = [o for o in rows if o["orderLinkId"] == p["orderLinkId"]]
        else:
            if p.get("symbol"):
                rows = [o for o in rows if o["symbol"] == p["symbol"]]
            if realtime:
                closed = str(p.get("openOnly", "0")) != "0"
                rows = [o for o in rows if _is_open(o) != closed]
        if p.get("orderFilter") == "StopOrder":
            rows = [o for o in rows if o["stopOrderType"]]
        elif p.get("orderFilter") == "Order":
            rows = [o for o in rows if not o["stopOrderType"]]
        if not realtime:
            rows = [o for o in rows if not _is_open(o)]
            if p.get("orderStatus"):
                rows = [o for o in rows if o["orderStatus"] == p["orderStatus"]]
        limit = min(max(int(p.get("limit", 20)), 1), 50)
        return [self._as_read(o) for o in reversed(rows)][:limit]

    def _as_read(self, order: dict) -> dict:
        left = self._reads_new.get(order["orderId"], 0)
        if left <= 0:
            return dict(order)
        self._reads_new[order["orderId"]] = left - 1
        return {**order, "orderStatus": "New", "avgPrice": "", "cumExecQty": "0",
                "cumExecValue": "0", "cumExecFee": "0", "cumFeeDetail": {},
                "leavesQty": order["qty"]}

    def get_order_realtime(self, p: dict) -> dict:
        return {"list": self._lookup(p, realtime=True), "nextPageCursor": "",
                "category": "linear"}

    def get_order_history(self, p: dict) -> dict:
        return {"list": self._lookup(p, realtime=False), "nextPageCursor": "",
                "category": "linear"}

    def post_order_cancel(self, p: dict) -> dict:
        self._instrument(p)
        match = [o for o in self.orders if o["symbol"] == p["symbol"] and (
            o["orderId"] == p.get("orderId") if p.get("orderId")
            else o["orderLinkId"] == p.get("orderLinkId"))]
        if not match or not _is_open(match[0]):
            raise BybitError(110001, "order not exists or too late to cancel")
        order = match[0]
        order.update({"orderStatus": "Deactivated" if order["stopOrderType"] else "Cancelled",
                      "cancelType": "CancelByUser", "updatedTime": str(self.now_ms())})
        return {"orderId": order["orderId"], "orderLinkId": order["orderLinkId"]}

    def _position_row(self, symbol: str) -> dict:
        pos = self.positions.get(symbol, Position())
        mark = self.prices[symbol]
        inst = self.instruments[symbol]
        value = abs(pos.size) * pos.entry
        side = "" if pos.size == 0 else ("Buy" if pos.size > 0 else "Sell")
        return {
            "positionIdx": 0, "riskId": 1, "riskLimitValue": "2000000", "symbol": symbol,
            "side": side, "size": _num(abs(pos.size)), "avgPrice": _num(pos.entry),
            "positionValue": _num(value), "tradeMode": pos.trade_mode, "positionStatus": "Normal",
            "autoAddMargin": 0, "adlRankIndicator": 2 if pos.size else 0,
            "leverage": pos.leverage, "positionBalance": _num(value / float(pos.leverage)),
            "markPrice": _num(mark), "liqPrice": "", "bustPrice": "",
            "positionMM": "0", "positionIM": _num(value / float(pos.leverage)),
            "tpslMode": "Full", "takeProfit": pos.take_profit, "stopLoss": pos.stop_loss,
            "trailingStop": "0", "unrealisedPnl": _num((mark - pos.entry) * pos.size),
            "curRealisedPnl": _num(pos.cum_realised), "cumRealisedPnl": _num(pos.cum_realised),
            "sessionAvgPrice": "", "delta": "", "gamma": "", "vega": "", "theta": "",
            "seq": next(self._seq), "isReduceOnly": False, "mmrSysUpdatedTime": "",
            "leverageSysUpdatedTime": "", "breakEvenPrice": _num(pos.entry),
            "createdTime": str(pos.created or self.now_ms()),
            "updatedTime": str(pos.updated or self.now_ms()),
            "maxLeverage": inst.max_leverage}

    def get_position_list(self, p: dict) -> dict:
        if p.get("category") != "linear":
            raise BybitError(10001, "params error: category invalid")
        if p.get("symbol"):
            self._instrument(p)
            rows = [self._position_row(p["symbol"])]   # with or without a position
        elif p.get("settleCoin"):
            rows = [self._position_row(s) for s, pos in self.positions.items() if pos.size]
        else:
            raise BybitError(10001, "Missing some parameters that must be filled in, "
                                    "symbol or settleCoin")
        return {"list": rows, "nextPageCursor": "", "category": "linear"}

    def post_position_set_leverage(self, p: dict) -> dict:
        inst = self._instrument(p)
        buy, sell = p.get("buyLeverage"), p.get("sellLeverage")
        if buy != sell and self.position_mode == 0:
            raise BybitError(10001, "buy leverage must equal sell leverage in one-way mode")
        lev = float(buy)
        if not 1 <= lev <= float(inst.max_leverage):
            raise BybitError(10001, f"leverage invalid, should be in [1, {inst.max_leverage}]")
        pos = self.positions.setdefault(inst.symbol, Position(created=self.now_ms()))
        if float(pos.leverage) == lev:
            raise BybitError(110043, "leverage not modified")
        pos.leverage = _num(lev)
        return {}

    def post_position_switch_isolated(self, p: dict) -> dict:
        inst = self._instrument(p)
        pos = self.positions.setdefault(inst.symbol, Position(created=self.now_ms()))
        mode = int(p.get("tradeMode", -1))
        if mode not in (0, 1):
            raise BybitError(10001, "params error: tradeMode invalid")
        if pos.trade_mode == mode:
            raise BybitError(110026, "Cross/isolated margin mode is not modified")
        pos.trade_mode = mode
        pos.leverage = _num(float(p.get("buyLeverage") or pos.leverage))
        return {}

    def post_account_set_margin_mode(self, p: dict) -> dict:
        mode = p.get("setMarginMode")
        if mode not in ("ISOLATED_MARGIN", "REGULAR_MARGIN", "PORTFOLIO_MARGIN"):
            raise BybitError(10001, "params error: setMarginMode invalid")
        self.margin_mode = mode
        return {"reasons": []}

    def post_position_switch_mode(self, p: dict) -> dict:
        mode = int(p.get("mode", -1))
        if mode not in (0, 3):
            raise BybitError(10001, "params error: mode invalid")
        if mode == self.position_mode:
            raise BybitError(110025, "Position mode is not modified")
        if any(pos.size for pos in self.positions.values()) or self.open_orders():
            raise BybitError(110024, "You have existing positions, so position mode cannot "
                                     "be switched")
        self.position_mode = mode
        return {}

    def post_position_trading_stop(self, p: dict) -> dict:
        inst = self._instrument(p)
        if "positionIdx" not in p:
            raise BybitError(10001, "params error: positionIdx is required")
        pos = self.positions.get(inst.symbol)
        if pos is None or pos.size == 0:
            raise BybitError(10001, "can not set tp/sl/ts for zero position")
        side = "Buy" if pos.size > 0 else "Sell"
        self._check_attached(p, side, self.prices[inst.symbol])
        if "stopLoss" in p:
            pos.stop_loss = "" if str(p["stopLoss"]) in ("0", "") else str(p["stopLoss"])
            pos.sl_trigger_by = p.get("slTriggerBy", "LastPrice")
        if "takeProfit" in p:
            pos.take_profit = "" if str(p["takeProfit"]) in ("0", "") else str(p["takeProfit"])
            pos.tp_trigger_by = p.get("tpTriggerBy", "LastPrice")
        return {}

    def get_account_wallet_balance(self, p: dict) -> dict:
        if p.get("accountType") not in ("UNIFIED", "CONTRACT"):
            raise BybitError(10001, "accountType only support UNIFIED")
        upl = sum((self.prices[s] - q.entry) * q.size for s, q in self.positions.items())
        im = sum(abs(q.size) * q.entry / float(q.leverage) for q in self.positions.values())
        wallet = self.balance
        equity = wallet + upl
        coin = {"coin": "USDT", "equity": _num(equity), "usdValue": _num(equity),
                "walletBalance": _num(wallet), "free": "", "locked": "0", "spotHedgingQty": "0",
                "borrowAmount": "0", "availableToWithdraw": "", "accruedInterest": "0",
                "totalOrderIM": "0", "totalPositionIM": _num(im), "totalPositionMM": "0",
                "unrealisedPnl": _num(upl),
                "cumRealisedPnl": _num(sum(q.cum_realised for q in self.positions.values())),
                "bonus": "0", "marginCollateral": True, "collateralSwitch": True,
                "availableToBorrow": ""}
        return {"list": [{"accountType": "UNIFIED", "accountIMRate": "0", "accountMMRate": "0",
                          "totalEquity": _num(equity), "totalWalletBalance": _num(wallet),
                          "totalMarginBalance": _num(equity),
                          "totalAvailableBalance": _num(equity - im),
                          "totalPerpUPL": _num(upl), "totalInitialMargin": _num(im),
                          "totalMaintenanceMargin": "0", "accountLTV": "0", "coin": [coin]}]}

    def get_execution_list(self, p: dict) -> dict:
        rows = [e for e in self.executions if p.get("symbol") in (None, e["symbol"])
                and (not p.get("orderId") or e["orderId"] == p["orderId"])
                and int(e["execTime"]) >= int(p.get("startTime", 0))]
        limit = min(max(int(p.get("limit", 50)), 1), 100)
        return {"list": list(reversed(rows))[:limit], "nextPageCursor": "", "category": "linear"}

    def get_position_closed_pnl(self, p: dict) -> dict:
        rows = [r for r in self.closed_pnl if p.get("symbol") in (None, r["symbol"])]
        limit = min(max(int(p.get("limit", 50)), 1), 100)
        return {"list": list(reversed(rows))[:limit], "nextPageCursor": "", "category": "linear"}

    def get_account_info(self, p: dict) -> dict:
        return {"marginMode": self.margin_mode, "updatedTime": str(self.now_ms()),
                "unifiedMarginStatus": 5, "dcpStatus": "OFF", "timeWindow": 10, "smpGroup": 0,
                "isMasterTrader": False, "spotHedgingStatus": "OFF"}

    def get_user_query_api(self, p: dict) -> dict:
        return {"id": "1", "note": "fake", "apiKey": API_KEY, "readOnly": 0, "secret": "",
                "permissions": {"ContractTrade": ["Order", "Position"], "Spot": [],
                                "Wallet": [], "Options": [], "Derivatives": [],
                                "CopyTrading": [], "BlockTrade": [], "Exchange": [],
                                "NFT": [], "Affiliate": []},
                "ips": ["*"], "type": 1, "deadlineDay": 90, "expiredAt": "",
                "createdAt": "2024-01-01T00:00:00Z", "unified": 0, "uta": 1,
                "userID": 100000001, "inviterID": 0, "vipLevel": "No VIP",
                "mktMakerLevel": "0", "affiliateID": 0, "rsaPublicKey": "", "isMaster": True,
                "parentUid": "0", "kycLevel": "LEVEL_DEFAULT", "kycRegion": ""}

    def get_asset_coin_query_info(self, p: dict) -> dict:
        return {"rows": [{"name": "USDT", "coin": "USDT", "remainAmount": "50000000000",
                          "chains": []}]}

    # -- public endpoints ----------------------------------------------------------------------
    def get_market_time(self, p: dict) -> dict:
        now = self.now_ms()
        return {"timeSecond": str(now // 1000), "timeNano": str(now * 1_000_000)}

    def get_market_instruments_info(self, p: dict) -> dict:
        category = p.get("category")
        if category not in ("spot", "linear", "inverse", "option"):
            raise BybitError(10001, "params error: category invalid")
        rows = []
        if category == "linear" and p.get("status", "Trading") == "Trading":
            rows = [self._instrument_row(i) for i in self.instruments.values()
                    if p.get("symbol") in (None, i.symbol)]
        limit = min(max(int(p.get("limit", 500)), 1), 1000)
        start = int(p.get("cursor") or 0)
        page = rows[start:start + limit]
        cursor = str(start + limit) if start + limit < len(rows) else ""
        return {"category": category, "list": page, "nextPageCursor": cursor}

    def _instrument_row(self, i: Instrument) -> dict:
        scale = len(i.tick.split(".")[1]) if "." in i.tick else 0
        return {"symbol": i.symbol, "contractType": "LinearPerpetual", "status": i.status,
                "baseCoin": i.symbol[:-4], "quoteCoin": "USDT", "launchTime": str(LISTED_MS),
                "deliveryTime": "0", "deliveryFeeRate": "", "priceScale": str(scale),
                "leverageFilter": {"minLeverage": "1", "maxLeverage": i.max_leverage,
                                   "leverageStep": "0.01"},
                "priceFilter": {"minPrice": i.tick, "maxPrice": "1999999.80",
                                "tickSize": i.tick},
                "lotSizeFilter": {"maxOrderQty": i.max_qty, "minOrderQty": i.min_qty,
                                  "qtyStep": i.step, "postOnlyMaxOrderQty": i.max_qty,
                                  "maxMktOrderQty": i.max_qty,
                                  "minNotionalValue": i.min_notional},
                "unifiedMarginTrade": True, "fundingInterval": 480, "settleCoin": "USDT",
                "copyTrading": "both", "upperFundingRate": "0.005",
                "lowerFundingRate": "-0.005", "isPreListing": False, "preListingInfo": None,
                "riskParameters": {"priceLimitRatioX": "0.01", "priceLimitRatioY": "0.02"},
                "displayName": ""}

    def get_market_risk_limit(self, p: dict) -> dict:
        """Two risk-limit tiers per symbol: the instrument's max leverage up to 2M USDT."""
        if p.get("category") != "linear":
            raise BybitError(10001, "params error: category invalid")
        rows = []
        for i in self.instruments.values():
            if p.get("symbol") not in (None, i.symbol):
                continue
            top = float(i.max_leverage)
            for tier, (cap, lev) in enumerate(((2_000_000, top), (10_000_000, top / 2)), 1):
                rows.append({"id": tier, "symbol": i.symbol, "riskLimitValue": _num(cap),
                             "maintenanceMargin": "0.005", "initialMargin": _num(1 / lev),
                             "isLowestRisk": int(tier == 1), "maxLeverage": f"{lev:.2f}",
                             "mmDeduction": ""})
        return {"category": "linear", "list": rows, "nextPageCursor": ""}

    def get_market_tickers(self, p: dict) -> dict:
        if p.get("category") != "linear":
            return {"category": p.get("category"), "list": []}
        wanted = p.get("symbol")
        if wanted and wanted not in self.instruments:
            raise BybitError(10001, "Not supported symbols")
        rows = []
        for i in self.instruments.values():
            if wanted not in (None, i.symbol):
                continue
            last = _num(self.prices[i.symbol])
            rows.append({"symbol": i.symbol, "lastPrice": last, "indexPrice": last,
                         "markPrice": last, "prevPrice24h": last, "price24hPcnt": "0",
                         "highPrice24h": last, "lowPrice24h": last, "prevPrice1h": last,
                         "openInterest": "1000", "openInterestValue": "0",
                         "turnover24h": _num(i.turnover24h),
                         "volume24h": _num(i.turnover24h / self.prices[i.symbol]),
                         "fundingRate": "0.0001", "nextFundingTime": "0",
                         "predictedDeliveryPrice": "", "basisRate": "", "deliveryFeeRate": "",
                         "deliveryTime": "0", "ask1Size": "1", "bid1Price": last,
                         "ask1Price": last, "bid1Size": "1", "basis": ""})
        return {"category": "linear", "list": rows}

    def get_market_kline(self, p: dict) -> dict:
        category = p.get("category", "linear")
        symbol, interval = p.get("symbol", ""), p.get("interval", "")
        if not symbol or not interval:
            raise BybitError(10001, "params error: symbol or interval is empty")
        if category != "linear" or symbol not in self.instruments:
            raise BybitError(10001, "Not supported symbols")
        if interval not in INTERVALS:
            raise BybitError(10001, "Invalid period!")
        try:
            limit = min(max(int(p.get("limit", 200)), 1), 1000)
            start = int(p["start"]) if "start" in p else None
            end = int(p["end"]) if "end" in p else None
        except ValueError:
            raise BybitError(10001, "params error: start/end/limit invalid") from None
        if start is not None and end is not None and start > end:
            return {"symbol": symbol, "category": category, "list": []}
        rows = self._kline_rows(symbol, interval, start, end, limit)
        out = [[str(int(r.timestamp)), _text(r.open), _text(r.high), _text(r.low),
                _text(r.close), _text(r.volume), _text(r.volume * r.close)]
               for r in rows.itertuples(index=False)]
        return {"symbol": symbol, "category": category, "list": out[::-1]}

    # -- candles -------------------------------------------------------------------------------
    def _series(self, symbol: str, interval: str) -> pd.DataFrame | None:
        now = self.now_ms()
        if (symbol, interval) in self.candles:
            df = self.candles[(symbol, interval)]
            return df.loc[df["timestamp"] <= now]
        if (symbol, "1") in self.candles:
            key = (symbol, interval, now)
            if key not in self._resampled:
                one = self.candles[(symbol, "1")]
                self._resampled = {key: resample(one.loc[one["timestamp"] <= now],
                                                 INTERVALS[interval][0])}
            return self._resampled[key]
        return None

    def _bucket(self, ms: int, interval: str) -> int:
        """Open time of the candle containing `ms`."""
        if interval == "M":
            return int(np.datetime64(ms, "ms").astype("datetime64[M]").astype("datetime64[ms]")
                       .astype(np.int64))
        step = INTERVALS[interval][1]
        origin = WEEK_ORIGIN if interval == "W" else 0
        return ms - (ms - origin) % step

    def _kline_rows(self, symbol: str, interval: str, start: int | None, end: int | None,
                    limit: int) -> pd.DataFrame:
        now = self.now_ms()
        hi = now if end is None else min(end, now)
        lo = self._bucket(start, interval) if start is not None else None
        series = self._series(symbol, interval)
        if series is None:
            series = self._synthetic(symbol, interval, lo, hi, limit)
        ts = series["timestamp"].to_numpy()
        pick = series.loc[(ts >= (lo if lo is not None else -1)) & (ts <= hi)]
        return pick.head(limit) if start is not None else pick.tail(limit)

    def _synthetic(self, symbol: str, interval: str, lo: int | None, hi: int,
                   limit: int) -> pd.DataFrame:
        first = max(LISTED_MS, lo if lo is not None else LISTED_MS)
        if interval == "M":
            grid = _month_grid(first, hi)
            grid = grid[(grid >= self._bucket(first, "M")) & (grid <= hi)]
        else:
            step = INTERVALS[interval][1]
            origin = WEEK_ORIGIN if interval == "W" else 0
            first = first + (-(first - origin)) % step
            last = hi - (hi - origin) % step
            if lo is not None:
                last = min(last, first + (limit - 1) * step)
            else:
                first = max(first, last - (limit - 1) * step)
            grid = np.arange(first, last + 1, step, dtype=np.int64)
        return synthetic(symbol, grid, INTERVALS[interval][0])

    # -- HTTP ----------------------------------------------------------------------------------
    async def _handle(self, request: web.Request) -> web.StreamResponse:
        """Authenticate, apply faults, dispatch to <method>_<path words>."""
        raw_query = request.raw_path.partition("?")[2]
        body = await request.text() if request.method == "POST" else ""
        try:
            params = _params(request.method, raw_query, body)
        except BybitError as e:
            return self._error(Request(request.method, request.path, {}), e)
        entry = Request(request.method, request.path, params)
        self.requests.append(entry)
        await self._latency()
        fault = await self._next_fault(request.method, request.path, params)
        if fault and fault.kind == "status":
            entry.status = fault.status or 502
            return _html(entry.status)
        if fault and fault.kind in ("reject", "ratelimit"):
            return self._error(entry, BybitError(int(fault.code), fault.msg, fault.status or 200),
                               limited=fault.kind == "ratelimit")
        try:
            if not request.path.startswith(PUBLIC_PREFIX):
                self._authenticate(request, raw_query if request.method == "GET" else body)
            if self.demo and request.path in DEMO_UNSUPPORTED:
                raise BybitError(10032, "Demo trading are not supported.")
            name = request.method.lower() + "_" + "_".join(
                request.path.strip("/").split("/")[1:]).replace("-", "_")
            handler = getattr(self, name, None)
            if handler is None:
                raise BybitError(10017, "Route not found", 404)
            result = handler(params)
        except BybitError as e:
            return self._error(entry, e)
        if fault and fault.kind == "lost":
            if fault.status is None:
                request.transport.close()
            entry.status = fault.status or 0
            return _html(fault.status or 504)
        return self._answer(result, private=not request.path.startswith(PUBLIC_PREFIX))

    def _answer(self, result: dict, private: bool) -> web.Response:
        body = {"retCode": 0, "retMsg": "OK", "result": result, "retExtInfo": {},
                "time": self.now_ms()}
        return web.json_response(body, headers=self._limit_headers(9) if private else None)

    def _error(self, entry: Request, e: BybitError, limited: bool = False) -> web.Response:
        entry.status, entry.ret_code = e.status, e.code
        body = {"retCode": e.code, "retMsg": e.msg, "result": {}, "retExtInfo": {},
                "time": self.now_ms()}
        return web.json_response(body, status=e.status,
                                 headers=self._limit_headers(0) if limited else None)

    def _limit_headers(self, left: int) -> dict:
        return {"X-Bapi-Limit": "10", "X-Bapi-Limit-Status": str(left),
                "X-Bapi-Limit-Reset-Timestamp": str(self.now_ms() + 1000)}

    def _authenticate(self, request: web.Request, payload: str) -> None:
        h = request.headers
        key, stamp = h.get("X-BAPI-API-KEY"), h.get("X-BAPI-TIMESTAMP", "")
        window, sign = h.get("X-BAPI-RECV-WINDOW", "5000"), h.get("X-BAPI-SIGN", "")
        if key != API_KEY:
            raise BybitError(10003, "API key is invalid.")
        now = self.now_ms()
        try:
            ts, win = int(stamp), int(window)
        except ValueError:
            raise BybitError(10002, "invalid request, please check your timestamp") from None
        if not (now - win <= ts < now + 1000) or win > self.recv_window_max:
            raise BybitError(10002, f"invalid request, please check your server timestamp or "
                                    f"recv_window param. req_timestamp[{ts}],server_timestamp"
                                    f"[{now}],recv_window[{win}]")
        origin = f"{stamp}{key}{window}{payload}"
        expected = hmac.new(SECRET.encode(), origin.encode(), hashlib.sha256).hexdigest()
        if not hmac.compare_digest(sign, expected):
            raise BybitError(10004, f"error sign! origin_string[{origin}]")


def _is_open(order: dict) -> bool:
    return order["orderStatus"] in ("New", "PartiallyFilled", "Untriggered", "Created")


def _truthy(value: Any) -> bool:
    return value is True or str(value).lower() in ("true", "1")


def _params(method: str, raw_query: str, body: str) -> dict:
    if method == "POST":
        try:
            data = json.loads(body) if body else {}
        except ValueError:
            raise BybitError(10001, "params error: body is not JSON") from None
        return {k: v for k, v in data.items()} if isinstance(data, dict) else {}
    return dict(parse_qsl(raw_query, keep_blank_values=True))


def _html(status: int) -> web.Response:
    return web.Response(status=status, text=f"<html><body><h1>{status}</h1></body></html>",
                        content_type="text/html")
