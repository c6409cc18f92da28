"""A local fake of BingX's USDT-M perpetual swap API: market data and trading.

    fake = FakeBingX(candles={("BTC-USDT", "1m"): df}, now_ms=...)   # data, frozen clock
    fake = FakeBingX(demo=True)                                        # the VST demo host
    url = await fake.start(); fake.set_price("BTC-USDT", 50_000); fake.candle(s, high, low, close)
    fake.fail(path, 504, lost=True, when=...); fake.reject(path, code, msg, when=...)
    fake.rate_limit(path); fake.calls("POST", "/openApi/swap/v2/trade/order")

Written from BingX's API documentation (https://bingx-api.github.io/docs/, USDT-M Perp Futures;
the BingX-API/BingX-swap-api-v2-doc repository) and ccxt 4.5.90's bingx.py, which decides the
endpoints: fetch_time -> GET /openApi/swap/v2/server/time; load_markets (swap only here) ->
/openApi/swap/v2/quote/contracts; fetch_tickers -> /openApi/swap/v2/quote/ticker; fetch_ohlcv
-> /openApi/swap/v3/quote/klines; create_order, fetch_order, cancel_order -> POST, GET, DELETE
/openApi/swap/v2/trade/order; fetch_open_orders -> /openApi/swap/v2/trade/openOrders;
fetch_position_mode -> GET /openApi/swap/v1/positionSide/dual; set_margin_mode -> POST
/openApi/swap/v2/trade/marginType; set_leverage -> POST /openApi/swap/v2/trade/leverage;
fetch_positions -> /openApi/swap/v2/user/positions; fetch_balance -> /openApi/swap/v3/user/balance;
fetch_closed_orders -> /openApi/swap/v2/trade/allOrders.

Venue rules the fake keeps (docs unless marked):
- Every answer is {"code": 0, "msg": "", "data": ...}; a business error is a non-zero code with
  HTTP 200. HTTP 429 (frequency limit, code 100410) and 5xx (HTML from the gateway; 504 means
  the outcome is unknown) are the only other statuses.
- Signing: header X-BX-APIKEY; the parameters (query string, then body) joined as k=v&...,
  HMAC-SHA256 hex with the secret, sent as `signature`; `timestamp` (ms) more than recvWindow
  (default 5,000 ms) from the server clock is 100421 "Null timestamp or timestamp mismatch".
  A wrong key is 100413, a wrong signature 100001. The demo (VST) host has the same API; a fake
  made with demo=True takes only the demo pair (marked: the keys are the account's own).
- Quantities are in coins (contract size 1); quantityPrecision/pricePrecision as listed.
- One-way mode: positionSide must be BOTH (LONG is the default when empty: refused, 109400);
  reduceOnly "true" with nothing to reduce is 101205 "No position to close".
- clientOrderId: 1-40 characters, stored lower-cased, only on LIMIT/MARKET orders (dropped on
  stops and targets); a reused one is refused (101481, marked: the code is ccxt's duplicate).
  GET /trade/order finds an order by orderId or clientOrderId, else 80016 "order not exist";
  GET /trade/allOrders (limit default 500, at most 1000) lists the history newest first, its
  documented fields holding no clientOrderId.
- STOP_MARKET / TAKE_PROFIT_MARKET need quantity and stopPrice, trigger on the mark price
  (= the set price here). The pending stops (targets) of a side may not add up to more than the
  position (80001, marked: code not documented); a trigger already crossed is refused: a sell
  stop at or above the mark 110411, a buy stop at or below 110412, a sell take-profit at or
  below 110413, a buy take-profit at or above 110414 (codes as issue 21 lists them). A candle
  fires the stop first; fired and waiting orders stay until cancelled (no OCO).
- Candles: interval 1m 3m 5m 15m 30m 1h 2h 4h 6h 8h 12h 1d (UTC grid); limit default 500, at
  most 1440; startTime/endTime (ms, inclusive) on the open time; with startTime the oldest rows
  from it, else the newest up to endTime (or now); oldest first; the forming candle is served.
  Rows {"open","close","high","low","volume": strings, "time": open ms}.
- Rate limits: market data 20 requests/s per IP (ccxt paces at 100 ms); trading 10/s per UID.

ccxt 4.5.90 error mapping, pinned by tests/fakes/test_bingx_fake.py:
    code (HTTP)                      ccxt exception
    100410 (429)                     OperationFailed       (the table: rate limited)
    504 html                         RequestTimeout / ExchangeNotAvailable
    100001, 100413                   AuthenticationError
    100421                           BadSymbol             TRAP: our clock, not the pair
    80016                            OrderNotFound
    110411-110414                    ExchangeError         TRAP: a wrong-side stop, unmapped
    101205                           InvalidOrder
    101481                           DuplicateOrderId
"""
from __future__ import annotations

import hashlib
import hmac
import itertools
import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, unquote

import numpy as np
import pandas as pd
from aiohttp import web

from .base import FakeVenue, Fault, Request
from .binance_data import INTERVAL_MS, _text, resample, synthetic
from .gate import _reply

API_KEY, SECRET = "bingx-prod-key", "bingx-prod-secret"
DEMO_API_KEY, DEMO_SECRET = "bingx-vst-key", "bingx-vst-secret"
SWAP = "/openApi/swap"
ORDER = SWAP + "/v2/trade/order"
INTERVALS = ("1m", "3m", "5m", "15m", "30m", "1h", "2h", "4h", "6h", "8h", "12h", "1d")
MAX_LIMIT, DEFAULT_LIMIT, WINDOW_MS = 1440, 500, 5000
CONTRACTS = {"BTC-USDT": (4, 1, "0.0001"), "ETH-USDT": (2, 2, "0.01"), "LTC-USDT": (2, 2, "0.1")}
STOPS = ("STOP_MARKET", "TAKE_PROFIT_MARKET")


class BingxError(Exception):
    """A business error: code and message (HTTP 200)."""

    def __init__(self, code: int, msg: str) -> None:
        super().__init__(msg)
        self.code, self.msg = code, msg


@dataclass
class Position:
    """A one-way position: signed coins and the average entry."""

    amount: float = 0.0
    entry: float = 0.0


class FakeBingX(FakeVenue):
    """The fake venue: market data, an order engine, a clock, faults and a request log."""

    def __init__(self, candles: dict[tuple[str, str], pd.DataFrame] | None = None, *,
                 now_ms: int | None = None, demo: bool = False, balance: float = 10_000.0,
                 latency_s: float = 0.0, skew_ms: int = 0,
                 contracts: dict[str, tuple[int, int, str]] | None = None,
                 quote_volumes: dict[str, float] | None = None) -> None:
        super().__init__(now_ms=now_ms, skew_ms=skew_ms, latency_s=latency_s)
        self.candles = {k: v.astype({"timestamp": "int64"}).sort_values("timestamp")
                        .reset_index(drop=True) for k, v in (candles or {}).items()}
        # contracts: symbol -> (quantityPrecision, pricePrecision, tradeMinQuantity), default
        # BTC, ETH, LTC; those given are priced at 100. quote_volumes: the tickers' 24h
        # quoteVolume by symbol (default 1,000 x the price).
        self.contracts = dict(CONTRACTS if contracts is None else contracts)
        self.prices = ({"BTC-USDT": 50_000.0, "ETH-USDT": 3_000.0, "LTC-USDT": 50.0}
                       if contracts is None else {s: 100.0 for s in self.contracts})
        self.quote_volumes = dict(quote_volumes or {})
        self.demo, self.balance = demo, balance
        self.hedge_mode = False
        self.positions: dict[str, Position] = {}
        self.orders: list[dict] = []
        self._ids = itertools.count(1_860_000_000_000_000_001)
        self._resampled: dict[tuple[str, str], pd.DataFrame] = {}

    # -- clock, fail, rate_limit, reject (HTTP 200, a numeric code), lifecycle: FakeVenue's -----

    def set_price(self, symbol: str, price: float) -> None:
        self.candle(symbol, price, price, price)

    def candle(self, symbol: str, high: float, low: float, close: float) -> None:
        """A later candle: conditional orders within [low, high] fire (stops first)."""
        waiting = sorted(self.open_orders(symbol), key=lambda o: o["type"] != "STOP_MARKET")
        for o in waiting:
            px = float(o["stopPrice"])
            rises = (o["type"] == "STOP_MARKET") == (o["side"] == "BUY")
            if (rises and high >= px) or (not rises and low <= px):
                self._fire(o, px)
        self.prices[symbol] = close

    def position(self, symbol: str) -> float:
        """Signed position in coins."""
        return self.positions.get(symbol, Position()).amount

    def open_orders(self, symbol: str | None = None) -> list[dict]:
        return [o for o in self.orders if o["status"] == "NEW"
                and symbol in (None, o["symbol"])]


    # -- HTTP plumbing ------------------------------------------------------------------------
    async def _handle(self, request: web.Request) -> web.StreamResponse:
        body = await request.text() if request.method in ("POST", "PUT", "DELETE") else ""
        query = request.raw_path.partition("?")[2]
        params = dict(parse_qsl(query, keep_blank_values=True))
        if body:
            params.update(_body(body))
        entry = Request(request.method, request.path, params, demo=self.demo)
        self.requests.append(entry)
        await self._latency()
        route = ROUTES.get((request.method, request.path))
        if route is None:
            return self._recorded(entry, _reply({"code": 100400, "msg": "this api is not exist"}))
        fault = await self._next_fault(request.method, request.path, params)
        if fault and fault.kind == "status":  # status None: a 502 too
            return self._recorded(entry, self._fault_answer(fault))
        name, private = route
        try:
            if private:
                self._authenticate(request, query, body, params)
            if fault and fault.kind == "reject":
                raise BingxError(int(fault.code), fault.msg)
            response = _reply({"code": 0, "msg": "", "data": getattr(self, name)(params)})
        except BingxError as e:
            response = _reply({"code": e.code, "msg": e.msg, "data": {}})
        if fault and fault.kind == "lost":
            return self._lost(request, entry, fault)
        return self._recorded(entry, response)

    def _fault_answer(self, fault: Fault) -> web.Response:
        return _status(fault.status, fault.headers)

    def _authenticate(self, request: web.Request, query: str, body: str, params: dict) -> None:
        key, secret = (DEMO_API_KEY, DEMO_SECRET) if self.demo else (API_KEY, SECRET)
        if request.headers.get("X-BX-APIKEY") != key:
            raise BingxError(100413, "Incorrect apiKey")
        signed = "&".join(p for p in (query + ("&" if query and body else "") + body).split("&")
                          if p and not p.startswith("signature="))
        want = hmac.new(secret.encode(), unquote(signed).encode(), hashlib.sha256).hexdigest()
        if not hmac.compare_digest(params.get("signature", ""), want):
            raise BingxError(100001, "Signature verification failed")
        try:
            stamp = int(params.get("timestamp", ""))
        except ValueError:
            raise BingxError(100421, "Null timestamp or timestamp mismatch") from None
        window = int(params.get("recvWindow") or WINDOW_MS)
        if abs(self.wall_ms() - stamp) > window:
            raise BingxError(100421, "Null timestamp or timestamp mismatch")

    # -- market data --------------------------------------------------------------------------
    def h_time(self, p: dict) -> Any:
        return {"serverTime": self.now_ms()}

    def h_contracts(self, p: dict) -> Any:
        return [{"contractId": str(100 + i), "symbol": s, "size": "1", "quantityPrecision": qp,
                 "pricePrecision": pp, "feeRate": 0.0005, "makerFeeRate": 0.0002,
                 "takerFeeRate": 0.0005, "tradeMinLimit": 0, "tradeMinQuantity": float(mq),
                 "tradeMinUSDT": 2, "maxLongLeverage": 125, "maxShortLeverage": 125,
                 "currency": "USDT", "asset": s.split("-")[0], "status": 1,
                 "apiStateOpen": "true", "apiStateClose": "true", "ensureTrigger": True}
                for i, (s, (qp, pp, mq)) in enumerate(self.contracts.items())]

    def h_ticker(self, p: dict) -> Any:
        rows = [{"symbol": s, "priceChange": "0", "priceChangePercent": "0",
                 "lastPrice": _text(px), "lastQty": "1", "highPrice": _text(px),
                 "lowPrice": _text(px), "volume": "1000",
                 "quoteVolume": _text(self.quote_volumes.get(s, 1000 * px)),
                 "openPrice": _text(px), "openTime": self.now_ms() - 86_400_000,
                 "closeTime": self.now_ms()} for s, px in self.prices.items()]
        return next(r for r in rows if r["symbol"] == p["symbol"]) if "symbol" in p else rows

    def h_klines(self, p: dict) -> Any:
        symbol, interval = p.get("symbol", ""), p.get("interval", "")
        self._contract(symbol)
        if interval not in INTERVALS:
            raise BingxError(109400, "Invalid parameters, err: interval")
        limit = int(p.get("limit") or DEFAULT_LIMIT)
        if not 1 <= limit <= MAX_LIMIT:
            raise BingxError(109400, "Invalid parameters, err: limit max 1440")
        step, now = INTERVAL_MS[interval], self.now_ms()
        hi = min(int(p["endTime"]), now) if "endTime" in p else now
        if "startTime" in p:
            lo = int(p["startTime"])
            rows = self._series(symbol, interval, lo, min(hi, lo + limit * step)).head(limit)
        else:
            rows = self._series(symbol, interval, hi - limit * step, hi).tail(limit)
        return [{"open": _text(r.open), "close": _text(r.close), "high": _text(r.high),
                 "low": _text(r.low), "volume": _text(r.volume), "time": int(r.timestamp)}
                for r in rows.itertuples()]

    def _series(self, symbol: str, interval: str, lo: int, hi: int) -> pd.DataFrame:
        """Candles opening in [lo, hi]: stored 1m resampled, or synthetic."""
        step = INTERVAL_MS[interval]
        one = self.candles.get((symbol, "1m"))
        if one is None:
            ts = np.arange(lo + (-lo) % step, hi + 1, step, dtype=np.int64)
            return synthetic(symbol, ts, interval)
        if (symbol, interval) not in self._resampled:
            self._resampled[(symbol, interval)] = resample(one, interval)
        frame = self._resampled[(symbol, interval)]
        return frame[(frame["timestamp"] >= lo) & (frame["timestamp"] <= hi)]

    # -- account ------------------------------------------------------------------------------
    def h_dual(self, p: dict) -> Any:
        return {"dualSidePosition": "true" if self.hedge_mode else "false"}

    def h_set_dual(self, p: dict) -> Any:
        self.hedge_mode = str(p.get("dualSidePosition")).lower() == "true"
        return self.h_dual(p)

    def h_margin_type(self, p: dict) -> Any:
        self._contract(p.get("symbol", ""))
        if p.get("marginType") not in ("ISOLATED", "CROSSED"):
            raise BingxError(109400, "Invalid parameters, err: marginType")
        return {}

    def h_leverage(self, p: dict) -> Any:
        self._contract(p.get("symbol", ""))
        if p.get("side") not in (("LONG", "SHORT") if self.hedge_mode else ("BOTH",)):
            raise BingxError(109400, "Invalid parameters, err: side")
        if not 1 <= int(p.get("leverage") or 0) <= 125:
            raise BingxError(101414, "The maximum leverage for the trading pair is 125")
        return {"leverage": int(p["leverage"]), "symbol": p["symbol"]}

    def h_balance(self, p: dict) -> Any:
        pnl = sum((self.prices[s] - pos.entry) * pos.amount for s, pos in self.positions.items())
        return [{"userId": "1", "asset": "USDT", "balance": _text(self.balance),
                 "equity": _text(self.balance + pnl), "unrealizedProfit": _text(pnl),
                 "realisedProfit": "0", "availableMargin": _text(self.balance),
                 "usedMargin": "0", "freezedMargin": "0", "shortUid": "1"}]

    def h_positions(self, p: dict) -> Any:
        return [{"symbol": s, "positionId": str(abs(hash(s)) % 10**9), "isolated": False,
                 "positionSide": "LONG" if pos.amount > 0 else "SHORT",
                 "positionAmt": _text(abs(pos.amount)), "availableAmt": _text(abs(pos.amount)),
                 "avgPrice": _text(pos.entry), "markPrice": _text(self.prices[s]),
                 "unrealizedProfit": _text((self.prices[s] - pos.entry) * pos.amount),
                 "realisedProfit": "0", "initialMargin": "0", "leverage": 20,
                 "updateTime": self.wall_ms()}
                for s, pos in self.positions.items() if pos.amount
                and p.get("symbol") in (None, s)]

    # -- orders -------------------------------------------------------------------------------
    def h_post_order(self, p: dict) -> Any:
        symbol, kind, side = p.get("symbol", ""), p.get("type", ""), p.get("side", "")
        self._contract(symbol)
        if kind not in ("MARKET", *STOPS) or side not in ("BUY", "SELL"):
            raise BingxError(109400, "Invalid parameters, err: type or side")
        if not self.hedge_mode and p.get("positionSide", "LONG") != "BOTH":
            raise BingxError(109400, "In the One-way mode, positionSide can only be BOTH")
        qty = _number(p.get("quantity"), "quantity")
        cid = str(p.get("clientOrderId") or p.get("clientOrderID") or "").lower()
        if kind != "MARKET":
            cid = ""  # kept on LIMIT/MARKET orders only
        elif cid and (len(cid) > 40 or any(o["clientOrderId"] == cid for o in self.orders)):
            raise BingxError(101481, "clientOrderId already exists or is invalid")
        order = {"symbol": symbol, "orderId": next(self._ids), "side": side, "type": kind,
                 "positionSide": "BOTH", "clientOrderId": cid, "origQty": _text(qty),
                 "price": "0", "stopPrice": "", "executedQty": "0", "avgPrice": "0",
                 "cumQuote": "0", "status": "NEW", "reduceOnly": p.get("reduceOnly") == "true",
                 "workingType": p.get("workingType", "MARK_PRICE"), "time": self.wall_ms(),
                 "updateTime": self.wall_ms(), "profit": "0", "commission": "0"}
        if kind in STOPS:
            self._check_stop(order, _number(p.get("stopPrice"), "stopPrice"), qty)
        else:
            self._fill(order, qty, self.prices[symbol])
        self.orders.append(order)
        return {"order": order}

    def _check_stop(self, order: dict, trigger: float, qty: float) -> None:
        """A closing trigger order: the right side of the mark, within the position."""
        held, mark = self.position(order["symbol"]), self.prices[order["symbol"]]
        sells = order["side"] == "SELL"
        if not held or (held > 0) != sells:
            raise BingxError(101205, "No position to close")
        pending = sum(float(o["origQty"]) for o in self.open_orders(order["symbol"])
                      if o["type"] == order["type"] and o["side"] == order["side"])
        if pending + qty > abs(held) + 1e-12:
            raise BingxError(80001, "The accumulative quantity of the pending orders cannot "
                             "be greater than the position")
        stop = order["type"] == "STOP_MARKET"
        crossed = (trigger >= mark) if stop == sells else (trigger <= mark)
        if crossed:
            code = {(True, True): 110411, (True, False): 110412, (False, True): 110413,
                    (False, False): 110414}[(stop, sells)]
            raise BingxError(code, "the trigger price is on the wrong side of the mark price")
        order["stopPrice"] = _text(trigger)

    def _fill(self, order: dict, qty: float, px: float) -> None:
        symbol = order["symbol"]
        pos = self.positions.setdefault(symbol, Position())
        signed = qty if order["side"] == "BUY" else -qty
        if order["reduceOnly"]:
            if not pos.amount or (pos.amount > 0) == (signed > 0):
                raise BingxError(101205, "No position to close")
            signed = max(signed, -pos.amount) if signed < 0 else min(signed, -pos.amount)
        new = pos.amount + signed
        if pos.amount and (pos.amount > 0) != (signed > 0):
            self.balance += (px - pos.entry) * min(abs(signed), abs(pos.amount)) * (
                1 if pos.amount > 0 else -1)
        if abs(new) < 1e-12:
            new, pos.entry = 0.0, 0.0
        elif not pos.amount or (pos.amount > 0) != (new > 0):
            pos.entry = px
        elif (pos.amount > 0) == (signed > 0):
            pos.entry = (pos.entry * abs(pos.amount) + px * abs(signed)) / abs(new)
        pos.amount = round(new, 12)
        order.update(status="FILLED", executedQty=_text(abs(signed)), avgPrice=_text(px),
                     cumQuote=_text(abs(signed) * px), updateTime=self.wall_ms())

    def _fire(self, o: dict, px: float) -> None:
        """A crossed trigger: its reduce-only market order at the trigger price."""
        self.prices[o["symbol"]] = px
        try:
            self._fill(o, float(o["origQty"]), px)
        except BingxError:
            o.update(status="CANCELLED", updateTime=self.wall_ms())

    def _find(self, p: dict) -> dict:
        cid = str(p.get("clientOrderId") or p.get("clientOrderID") or "").lower()
        for o in self.orders:
            if o["symbol"] == p.get("symbol") and (
                    str(o["orderId"]) == p.get("orderId") or (cid and o["clientOrderId"] == cid)):
                return o
        raise BingxError(80016, "order not exist")

    def h_get_order(self, p: dict) -> Any:
        return {"order": self._find(p)}

    def h_cancel_order(self, p: dict) -> Any:
        o = self._find(p)
        if o["status"] == "FILLED":
            raise BingxError(80018, "order is already filled")
        if o["status"] != "NEW":
            raise BingxError(80016, "order not exist")
        o.update(status="CANCELLED", updateTime=self.wall_ms())
        return {"order": o}

    def h_open_orders(self, p: dict) -> Any:
        return {"orders": self.open_orders(p.get("symbol"))}

    def h_all_orders(self, p: dict) -> Any:
        """Order history, newest first, without clientOrderId (not in the documented fields)."""
        limit = int(p.get("limit") or 500)
        if not 1 <= limit <= 1000:
            raise BingxError(109400, "Invalid parameters, err: limit")
        rows = [{k: v for k, v in o.items() if k != "clientOrderId"} for o in self.orders
                if p.get("symbol") in (None, o["symbol"])]
        return {"orders": rows[::-1][:limit]}

    def _contract(self, symbol: str) -> None:
        if symbol not in self.contracts:
            raise BingxError(109425, f"{symbol} not exist, please verify it")


def _number(value: Any, name: str) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise BingxError(109400, f"Invalid parameters, err: {name}") from None
    if number <= 0:
        raise BingxError(109400, f"Invalid parameters, err: {name}")
    return number


def _body(body: str) -> dict:
    """A POST/DELETE body: JSON or form-encoded (both documented)."""
    try:
        data = json.loads(body)
        return {k: str(v) for k, v in data.items()} if isinstance(data, dict) else {}
    except ValueError:
        return dict(parse_qsl(body, keep_blank_values=True))


def _status(status: int | None, headers: dict) -> web.Response:
    if status == 429:
        return _reply({"code": 100410, "msg": "The endpoint trigger frequency limit rule is "
                       "currently in the disabled period", "data": {}}, 429,
                      {"Retry-After": "1", **headers})
    status = status or 502
    reason = {502: "Bad Gateway", 504: "Gateway Time-out"}.get(status, "Error")
    return web.Response(status=status, headers=headers, content_type="text/html",
                        text=f"<html><body><h1>{status} {reason}</h1></body></html>")


ROUTES: dict[tuple[str, str], tuple[str, bool]] = {
    ("GET", SWAP + "/v2/server/time"): ("h_time", False),
    ("GET", SWAP + "/v2/quote/contracts"): ("h_contracts", False),
    ("GET", SWAP + "/v2/quote/ticker"): ("h_ticker", False),
    ("GET", SWAP + "/v3/quote/klines"): ("h_klines", False),
    ("GET", SWAP + "/v1/positionSide/dual"): ("h_dual", True),
    ("POST", SWAP + "/v1/positionSide/dual"): ("h_set_dual", True),
    ("POST", SWAP + "/v2/trade/marginType"): ("h_margin_type", True),
    ("POST", SWAP + "/v2/trade/leverage"): ("h_leverage", True),
    ("GET", SWAP + "/v3/user/balance"): ("h_balance", True),
    ("GET", SWAP + "/v2/user/positions"): ("h_positions", True),
    ("POST", ORDER): ("h_post_order", True),
    ("GET", ORDER): ("h_get_order", True),
    ("DELETE", ORDER): ("h_cancel_order", True),
    ("GET", SWAP + "/v2/trade/openOrders"): ("h_open_orders", True),
    ("GET", SWAP + "/v2/trade/allOrders"): ("h_all_orders", True),
}
