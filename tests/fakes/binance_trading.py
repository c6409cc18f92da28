"""A fake Binance USD-M trading API on 127.0.0.1 with an order engine, for ccxt to talk to for real.

Signed requests are checked like Binance does (HMAC-SHA256 over the query or body, X-MBX-APIKEY,
timestamp within recvWindow). Market orders fill at a price the test sets; conditional (algo)
orders trigger when the test moves the price or feeds a candle. Faults are injected per path.
"""
from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import time
from dataclasses import dataclass, field
from urllib.parse import parse_qsl

from aiohttp import web

from . import serve_locally
from .base import Fault, take_fault

API_KEY = "test-key-0123456789"
SECRET = "test-secret-abcdef"

# Per symbol: tickSize, stepSize, minQty, min notional, leverage brackets (cap, max leverage).
# Values follow the recorded exchangeInfo/leverageBracket files in ../shared/data.
SYMBOLS = {
    "BTCUSDT": ("0.10", "0.001", "0.001", "100", [(50000, 125), (600000, 100), (3000000, 75)]),
    "ETHUSDT": ("0.01", "0.001", "0.001", "20", [(50000, 125), (600000, 100), (3000000, 75)]),
    "LTCUSDT": ("0.01", "0.001", "0.001", "20", [(10000, 75), (50000, 50), (100000, 40)]),
}
PUBLIC = {"/fapi/v1/time", "/fapi/v1/exchangeInfo", "/fapi/v1/ping"}


class BinanceReject(Exception):
    """A Binance error answer: HTTP status plus {code, msg}."""

    def __init__(self, code: int, msg: str, status: int = 400) -> None:
        super().__init__(msg)
        self.code, self.msg, self.status = code, msg, status


@dataclass
class Position:
    """One-way position: signed amount and average entry."""

    amount: float = 0.0
    entry: float = 0.0


@dataclass
class FakeBinanceTrading:
    """State of the fake exchange; tests drive prices and faults through it."""

    prices: dict[str, float] = field(default_factory=lambda: {
        "BTCUSDT": 50000.0, "ETHUSDT": 3000.0, "LTCUSDT": 50.0})
    balance: float = 10000.0
    taker_fee: float = 0.0005      # Binance USD-M base (VIP 0) taker rate; every fill here takes
    fee_asset: str = "USDT"        # "BNB" when the account pays fees in BNB at a discount
    clock_offset_ms: int = 0
    dual_side: bool = False
    leverage: dict[str, int] = field(default_factory=dict)
    margin_type: dict[str, str] = field(default_factory=dict)
    positions: dict[str, Position] = field(default_factory=dict)
    orders: list[dict] = field(default_factory=list)
    algos: list[dict] = field(default_factory=list)
    trades: list[dict] = field(default_factory=list)
    requests: list[tuple[str, str, dict]] = field(default_factory=list)
    faults: list[Fault] = field(default_factory=list)
    # Market orders answered NEW with executedQty 0 although they filled (Binance may do so);
    # each such order then also reads NEW on its first `new_lookups` lookups by id.
    answer_new: int = 0
    new_lookups: int = 1
    url: str = ""

    def __post_init__(self) -> None:
        self._ids = itertools.count(1000)
        self._runner: web.AppRunner | None = None
        self._reads_new: dict[int, int] = {}   # orderId -> lookups still answered NEW

    # -- test controls ------------------------------------------------------------------------
    def fail(self, path: str | None = None, status: int = 502, *, method: str | None = None,
             times: int = 1, lost: bool = False, when=None) -> None:
        """Answer `status` (5xx/429) on the next `times` matching calls; lost: process, then
        fail."""
        self.faults.append(Fault("lost" if lost else "status", method, path, status,
                                 times=times, when=when))

    def reject(self, path: str, code: int, msg: str, *, method: str | None = "POST",
               status: int = 400, times: int = 1, when=None) -> None:
        """Answer a Binance error {code, msg} on the next `times` matching calls."""
        self.faults.append(Fault("reject", method, path, status, str(code), msg, times,
                                 when=when))

    def now_ms(self) -> int:
        """The fake server's clock."""
        return int(time.time() * 1000) + self.clock_offset_ms

    def set_price(self, symbol: str, price: float) -> None:
        """Move the market: conditional orders whose trigger is crossed fill at their trigger."""
        self.candle(symbol, price, price, price)

    def candle(self, symbol: str, high: float, low: float, close: float) -> None:
        """A later candle: stops/targets within [low, high] trigger, then the price is `close`."""
        for algo in [a for a in self.algos if a["symbol"] == symbol and a["algoStatus"] == "NEW"]:
            trigger = float(algo["triggerPrice"])
            up = (algo["orderType"] == "STOP_MARKET") == (algo["side"] == "BUY")
            if (up and high >= trigger) or (not up and low <= trigger):
                self._trigger(algo, trigger)
        self.prices[symbol] = close

    def reveal_fills(self) -> None:
        """Lookups by id show the orders answered NEW as they are (filled) from now on."""
        self.answer_new = 0
        self._reads_new.clear()

    def position(self, symbol: str) -> float:
        """Signed position amount on `symbol`."""
        return self.positions.get(symbol, Position()).amount

    def open_algos(self, symbol: str | None = None) -> list[dict]:
        """Conditional orders still waiting."""
        return [a for a in self.algos if a["algoStatus"] == "NEW"
                and (symbol is None or a["symbol"] == symbol)]

    def calls(self, method: str, path: str) -> list[dict]:
        """Params of every received request to `method path`."""
        return [p for m, pa, p in self.requests if m == method and pa == path]

    # -- engine -------------------------------------------------------------------------------
    def _fill(self, symbol: str, side: str, qty: float, price: float, order_id: int,
              reduce_only: bool) -> float:
        """Apply a fill to the position; returns realised PnL."""
        pos = self.positions.setdefault(symbol, Position())
        signed = qty if side == "BUY" else -qty
        if reduce_only:
            if pos.amount == 0 or (pos.amount > 0) == (signed > 0):
                raise BinanceReject(-2022, "ReduceOnly Order is rejected.")
            signed = max(-abs(pos.amount), min(abs(pos.amount), signed))
            qty = abs(signed)
        pnl = 0.0
        if pos.amount != 0 and (pos.amount > 0) != (signed > 0):
            closed = min(abs(pos.amount), abs(signed))
            pnl = (price - pos.entry) * closed * (1 if pos.amount > 0 else -1)
            rest = pos.amount + signed
            if abs(rest) < 1e-12:
                pos.amount, pos.entry = 0.0, 0.0
            elif (rest > 0) != (pos.amount > 0):
                pos.amount, pos.entry = rest, price
            else:
                pos.amount = rest
        else:
            total = abs(pos.amount) + abs(signed)
            pos.entry = (pos.entry * abs(pos.amount) + price * abs(signed)) / total
            pos.amount += signed
        commission = price * qty * self.taker_fee
        self.balance += pnl - (commission if self.fee_asset == "USDT" else 0.0)
        self.trades.append({
            "symbol": symbol, "id": next(self._ids), "orderId": order_id, "side": side,
            "price": str(price), "qty": str(qty), "realizedPnl": f"{pnl:.8f}",
            "quoteQty": str(price * qty), "commission": f"{commission:.8f}",
            "commissionAsset": self.fee_asset,
            "time": self.now_ms(), "positionSide": "BOTH", "buyer": side == "BUY",
            "maker": False, "marginAsset": "USDT"})
        return qty

    def _trigger(self, algo: dict, price: float) -> None:
        symbol = algo["symbol"]
        amount = self.position(symbol)
        qty = abs(amount) if algo["closePosition"] else float(algo["quantity"])
        algo["algoStatus"], algo["triggerTime"] = "FINISHED", self.now_ms()
        if qty <= 0:
            algo["algoStatus"] = "EXPIRED"
            return
        order = self._new_order(symbol, algo["side"], "MARKET", qty, price, f"algo{algo['algoId']}",
                                reduce_only=True, orig_type=algo["orderType"])
        algo["actualOrderId"] = str(order["orderId"])
        algo["actualPrice"] = str(price)

    def _new_order(self, symbol: str, side: str, type_: str, qty: float, price: float,
                   client_id: str, reduce_only: bool, orig_type: str = "MARKET") -> dict:
        order_id = next(self._ids)
        filled = self._fill(symbol, side, qty, price, order_id, reduce_only)
        now = self.now_ms()
        order = {
            "orderId": order_id, "symbol": symbol, "status": "FILLED", "clientOrderId": client_id,
            "price": "0", "avgPrice": str(price), "origQty": str(filled),
            "executedQty": str(filled), "cumQty": str(filled), "cumQuote": str(filled * price),
            "timeInForce": "GTC", "type": type_, "reduceOnly": reduce_only,
            "closePosition": False, "side": side, "positionSide": "BOTH", "stopPrice": "0",
            "workingType": "CONTRACT_PRICE", "priceProtect": False, "origType": orig_type,
            "priceMatch": "NONE", "selfTradePreventionMode": "EXPIRE_MAKER", "goodTillDate": 0,
            "time": now, "updateTime": now}
        self.orders.append(order)
        return order

    # -- endpoint handlers: each takes the params and returns the JSON answer ---------------------
    def _market(self, params: dict) -> str:
        symbol = params.get("symbol", "")
        if symbol not in SYMBOLS:
            raise BinanceReject(-1121, "Invalid symbol.")
        return symbol

    def h_post_order(self, p: dict) -> dict:
        symbol = self._market(p)
        cid = p.get("newClientOrderId") or f"auto{next(self._ids)}"
        if any(o["clientOrderId"] == cid and o["status"] == "NEW" for o in self.orders):
            raise BinanceReject(-4116, "ClientOrderId is duplicated.")
        if p.get("type") != "MARKET":
            raise BinanceReject(-4120, "Order type not supported for this endpoint. "
                                       "Please use the Algo Order API endpoints instead.")
        qty = float(p["quantity"])
        tick, step, min_qty, min_notional, brackets = SYMBOLS[symbol]
        if qty < float(min_qty) or abs(round(qty / float(step)) * float(step) - qty) > 1e-9:
            raise BinanceReject(-1111, "Precision is over the maximum defined for this asset.")
        price = self.prices[symbol]
        reduce_only = str(p.get("reduceOnly", "false")).lower() == "true"
        if not reduce_only:
            if qty * price < float(min_notional):
                raise BinanceReject(-4164, f"Order's notional must be no smaller than "
                                           f"{min_notional} (unless you choose reduce only).")
            lev = self.leverage.get(symbol, 20)
            notional = (abs(self.position(symbol)) * price) + qty * price
            if notional / lev > self.balance:
                raise BinanceReject(-2019, "Margin is insufficient.")
        order = self._new_order(symbol, p["side"], "MARKET", qty, price, cid, reduce_only)
        if self.answer_new > 0:
            self.answer_new -= 1
            self._reads_new[order["orderId"]] = self.new_lookups
            return _as_new(order)
        return order

    def _find_order(self, p: dict) -> dict:
        symbol = self._market(p)
        for o in self.orders:
            if o["symbol"] == symbol and (str(o["orderId"]) == p.get("orderId")
                                          or o["clientOrderId"] == p.get("origClientOrderId")):
                return o
        raise BinanceReject(-2013, "Order does not exist.")

    def h_get_order(self, p: dict) -> dict:
        order = self._find_order(p)
        if self._reads_new.get(order["orderId"], 0) > 0:
            self._reads_new[order["orderId"]] -= 1
            return _as_new(order)
        return order

    def h_delete_order(self, p: dict) -> dict:
        self._find_order(p)
        raise BinanceReject(-2011, "Unknown order sent.")  # market orders are never open

    def h_get_openorders(self, p: dict) -> list:
        return [o for o in self.orders if o["status"] == "NEW"
                and ("symbol" not in p or o["symbol"] == p["symbol"])]

    def h_post_algoorder(self, p: dict) -> dict:
        symbol = self._market(p)
        if p.get("algoType") != "CONDITIONAL":
            raise BinanceReject(-1102, "Mandatory parameter 'algoType' was not sent.")
        kind = p.get("type")
        if kind not in ("STOP_MARKET", "TAKE_PROFIT_MARKET", "STOP", "TAKE_PROFIT"):
            raise BinanceReject(-1116, "Invalid orderType.")
        cid = p.get("clientAlgoId") or f"auto{next(self._ids)}"
        if any(a["clientAlgoId"] == cid for a in self.algos):
            raise BinanceReject(-20132, "The client algo id is duplicated.")
        close = str(p.get("closePosition", "false")).lower() == "true"
        if close and "reduceOnly" in p:
            raise BinanceReject(-1106, "Parameter 'reduceOnly' sent when not required.")
        trigger = float(p["triggerPrice"])
        price = self.prices[symbol]
        up = (kind.startswith("STOP")) == (p["side"] == "BUY")
        if (up and price >= trigger) or (not up and price <= trigger):
            raise BinanceReject(-2021, "Order would immediately trigger.")
        now = self.now_ms()
        algo = {
            "algoId": next(self._ids), "clientAlgoId": cid, "algoType": "CONDITIONAL",
            "orderType": kind, "symbol": symbol, "side": p["side"], "positionSide": "BOTH",
            "timeInForce": "GTC", "quantity": p.get("quantity", "0"), "algoStatus": "NEW",
            "triggerPrice": p["triggerPrice"], "price": "0", "icebergQuantity": None,
            "selfTradePreventionMode": "EXPIRE_MAKER",
            "workingType": p.get("workingType", "CONTRACT_PRICE"), "priceMatch": "NONE",
            "closePosition": close, "priceProtect": False,
            "reduceOnly": str(p.get("reduceOnly", "false")).lower() == "true",
            "createTime": now, "updateTime": now, "triggerTime": 0, "goodTillDate": 0}
        self.algos.append(algo)
        return algo

    def _find_algo(self, p: dict) -> dict:
        for a in self.algos:
            if str(a["algoId"]) == p.get("algoId") or a["clientAlgoId"] == p.get("clientAlgoId"):
                return a
        raise BinanceReject(-2013, "Order does not exist.")

    def h_get_algoorder(self, p: dict) -> dict:
        return self._find_algo(p)

    def h_delete_algoorder(self, p: dict) -> dict:
        algo = self._find_algo(p)
        if algo["algoStatus"] != "NEW":
            raise BinanceReject(-20124, "Invalid algo id or it has been completed.")
        algo["algoStatus"], algo["updateTime"] = "CANCELED", self.now_ms()
        return {"algoId": algo["algoId"], "clientAlgoId": algo["clientAlgoId"], "code": "200",
                "msg": "success"}

    def h_get_openalgoorders(self, p: dict) -> list:
        return self.open_algos(p.get("symbol"))

    def h_get_positionside_dual(self, p: dict) -> dict:
        return {"dualSidePosition": self.dual_side}

    def h_post_margintype(self, p: dict) -> dict:
        symbol = self._market(p)
        if self.margin_type.get(symbol, "CROSSED") == p["marginType"]:
            raise BinanceReject(-4046, "No need to change margin type.")
        self.margin_type[symbol] = p["marginType"]
        return {"code": 200, "msg": "success"}

    def h_post_leverage(self, p: dict) -> dict:
        symbol = self._market(p)
        self.leverage[symbol] = int(p["leverage"])
        cap = max(c for c, lev in SYMBOLS[symbol][4] if lev >= int(p["leverage"]))
        return {"leverage": int(p["leverage"]), "maxNotionalValue": str(cap), "symbol": symbol}

    def h_get_leveragebracket(self, p: dict) -> list:
        out = []
        for symbol, (*_, brackets) in SYMBOLS.items():
            if p.get("symbol") not in (None, symbol):
                continue
            rows, floor = [], 0
            for i, (cap, lev) in enumerate(brackets, start=1):
                rows.append({"bracket": i, "initialLeverage": lev, "notionalCap": cap,
                             "notionalFloor": floor, "maintMarginRatio": 0.004 * i,
                             "cum": 0.0})
                floor = cap
            out.append({"symbol": symbol, "brackets": rows})
        return out

    def _position_rows(self, p: dict) -> list:
        rows = []
        for symbol, pos in self.positions.items():
            if pos.amount == 0 or p.get("symbol") not in (None, symbol):
                continue
            mark = self.prices[symbol]
            rows.append({
                "symbol": symbol, "positionSide": "BOTH", "positionAmt": f"{pos.amount:.3f}",
                "entryPrice": str(pos.entry), "breakEvenPrice": str(pos.entry),
                "markPrice": str(mark),
                "unRealizedProfit": f"{(mark - pos.entry) * pos.amount:.8f}",
                "liquidationPrice": "0", "isolatedMargin": "0",
                "notional": f"{mark * pos.amount:.8f}", "marginAsset": "USDT",
                "isolatedWallet": "0", "initialMargin": "0", "maintMargin": "0",
                "positionInitialMargin": "0", "openOrderInitialMargin": "0", "adl": 0,
                "bidNotional": "0", "askNotional": "0", "updateTime": self.now_ms()})
        return rows

    def h_get_positionrisk(self, p: dict) -> list:
        return self._position_rows(p)

    def h_get_account(self, p: dict) -> dict:
        bal = f"{self.balance:.8f}"
        return {"totalWalletBalance": bal, "availableBalance": bal, "totalMarginBalance": bal,
                "totalUnrealizedProfit": "0", "maxWithdrawAmount": bal,
                "assets": [{"asset": "USDT", "walletBalance": bal, "availableBalance": bal,
                            "marginBalance": bal, "unrealizedProfit": "0",
                            "maxWithdrawAmount": bal, "crossWalletBalance": bal,
                            "updateTime": self.now_ms()}],
                "positions": self._position_rows(p)}

    def h_get_usertrades(self, p: dict) -> list:
        since = int(p.get("startTime", 0))
        return [t for t in self.trades if t["symbol"] == p.get("symbol") and t["time"] >= since]

    def h_get_time(self, p: dict) -> dict:
        return {"serverTime": self.now_ms()}

    def h_get_ping(self, p: dict) -> dict:
        return {}

    def h_get_exchangeinfo(self, p: dict) -> dict:
        return {"timezone": "UTC", "serverTime": self.now_ms(), "futuresType": "U_MARGINED",
                "rateLimits": [], "exchangeFilters": [], "assets": [],
                "symbols": [_symbol_info(s) for s in SYMBOLS]}

    # -- HTTP ---------------------------------------------------------------------------------
    async def handle(self, request: web.Request) -> web.Response:
        """Authenticate, apply faults, dispatch to h_<method>_<path>."""
        raw = request.query_string if request.method in ("GET", "DELETE") else await request.text()
        params = dict(parse_qsl(raw, keep_blank_values=True))
        path = request.path
        self.requests.append((request.method, path, params))
        fault = self._take_fault(request.method, path, params)
        if fault and fault.kind == "status":
            return _status(fault.status)
        if fault and fault.kind == "reject":
            return _error(fault.status or 400, int(fault.code), fault.msg)
        try:
            if path not in PUBLIC:
                self._authenticate(request, raw, params)
            name = "h_" + request.method.lower() + "_" + _route(path)
            handler = getattr(self, name, None)
            if handler is None:
                return _error(404, -5000, f"Path {path}, Method {request.method} is invalid")
            body = handler(params)
        except BinanceReject as e:
            return _error(e.status, e.code, e.msg)
        if fault and fault.kind == "lost":
            return _status(fault.status)
        return web.json_response(body)

    def _take_fault(self, method: str, path: str, params: dict) -> Fault | None:
        return take_fault(self.faults, method, path, params)

    def _authenticate(self, request: web.Request, raw: str, params: dict) -> None:
        if request.headers.get("X-MBX-APIKEY") != API_KEY:
            raise BinanceReject(-2015, "Invalid API-key, IP, or permissions for action.", 401)
        signed, sep, signature = raw.rpartition("&signature=")
        expected = hmac.new(SECRET.encode(), signed.encode(), hashlib.sha256).hexdigest()
        if not sep or not hmac.compare_digest(signature, expected):
            raise BinanceReject(-1022, "Signature for this request is not valid.")
        window = int(params.get("recvWindow", 5000))
        if abs(self.now_ms() - int(params.get("timestamp", 0))) > window:
            raise BinanceReject(-1021, "Timestamp for this request is outside of the recvWindow.")

    async def start(self) -> str:
        """Listen on 127.0.0.1 at a random port; returns the base URL."""
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self.handle)
        self._runner, self.url = await serve_locally(app)
        return self.url

    async def stop(self) -> None:
        """Shut the server down."""
        if self._runner:
            await self._runner.cleanup()


def _route(path: str) -> str:
    """'/fapi/v3/positionRisk' -> 'positionrisk' (the API version does not matter here)."""
    parts = path.strip("/").split("/")[2:]
    return "_".join(parts).lower()


def _as_new(order: dict) -> dict:
    """How Binance may answer a market order that has in fact filled: NEW, nothing executed."""
    return {**order, "status": "NEW", "avgPrice": "0.00", "executedQty": "0", "cumQty": "0",
            "cumQuote": "0.00000"}


def _status(status: int) -> web.Response:
    if status == 429:
        return _error(429, -1003, "Too many requests; current limit is 2400 requests per minute.")
    return web.Response(status=status, text="<html><body>Bad Gateway</body></html>",
                        content_type="text/html")


def _error(status: int, code: int, msg: str) -> web.Response:
    return web.Response(status=status, text=json.dumps({"code": code, "msg": msg}),
                        content_type="application/json")


def _symbol_info(symbol: str) -> dict:
    tick, step, min_qty, min_notional, _ = SYMBOLS[symbol]
    base = symbol[:-4]
    return {
        "symbol": symbol, "pair": symbol, "contractType": "PERPETUAL",
        "deliveryDate": 4133404802000, "onboardDate": 1569398400000, "status": "TRADING",
        "maintMarginPercent": "2.5000", "requiredMarginPercent": "5.0000", "baseAsset": base,
        "quoteAsset": "USDT", "marginAsset": "USDT", "pricePrecision": 2,
        "quantityPrecision": 3, "baseAssetPrecision": 8, "quotePrecision": 8,
        "underlyingType": "COIN", "underlyingSubType": [], "settlePlan": 0,
        "triggerProtect": "0.0500", "liquidationFee": "0.012000", "marketTakeBound": "0.30",
        "filters": [
            {"minPrice": "0.01", "maxPrice": "1246396.60", "filterType": "PRICE_FILTER",
             "tickSize": tick},
            {"stepSize": step, "filterType": "LOT_SIZE", "maxQty": "1000", "minQty": min_qty},
            {"stepSize": step, "filterType": "MARKET_LOT_SIZE",
             "maxQty": {"BTCUSDT": "120", "ETHUSDT": "2000"}.get(symbol, "5000"),
             "minQty": min_qty},
            {"limit": 200, "filterType": "MAX_NUM_ORDERS"},
            {"limit": 10, "filterType": "MAX_NUM_ALGO_ORDERS"},
            {"notional": min_notional, "filterType": "MIN_NOTIONAL"},
            {"multiplierDown": "0.5454", "multiplierUp": "1.1000", "multiplierDecimal": "4",
             "filterType": "PERCENT_PRICE"}],
        "orderTypes": ["LIMIT", "MARKET", "STOP", "STOP_MARKET", "TAKE_PROFIT",
                       "TAKE_PROFIT_MARKET", "TRAILING_STOP_MARKET"],
        "timeInForce": ["GTC", "IOC", "FOK", "GTX"]}
