"""A local fake of Gate's API v4 for USDT-settled perpetual futures: market data and trading.

    fake = FakeGate(candles={("BTC_USDT", "1m"): df}, now_ms=...)   # data, frozen clock
    fake = FakeGate(demo=True)                                         # the futures testnet
    url = await fake.start(); fake.set_price("BTC_USDT", 50_000); fake.candle(c, high, low, close)
    fake.fail(path, 502, lost=True, when=...); fake.reject(path, label, msg, when=...)
    fake.rate_limit(path); fake.calls("POST", "/api/v4/futures/usdt/orders")

Written from Gate's API v4 documentation (https://www.gate.com/docs/developers/apiv4/, the
gateapi-python model docs) and ccxt 4.5.90's gate.py, which decides the endpoints: fetch_time ->
GET /spot/time; load_markets (types swap) -> GET /futures/usdt/contracts; fetch_tickers ->
/futures/usdt/tickers; fetch_ohlcv -> /futures/usdt/candlesticks; create_order -> POST
/futures/usdt/orders, with stopLossPrice/takeProfitPrice POST /futures/usdt/price_orders;
fetch_order -> GET /futures/usdt/orders/{id or text}; fetch_open_orders/fetch_closed_orders
(trigger) -> GET /futures/usdt/price_orders?status=open|finished; cancel_order(trigger) -> DELETE
/futures/usdt/price_orders/{id}; set_leverage -> POST /futures/usdt/positions/{c}/leverage (query
string); fetch_positions -> /futures/usdt/positions; fetch_balance -> /futures/usdt/accounts;
fetch_my_trades -> /futures/usdt/my_trades_timerange.

Venue rules the fake keeps (docs unless marked):
- Success is the bare JSON (no envelope), 200, or 201 for a created order. Errors are
  {"label": ..., "message": ...} with the HTTP status: 400 parameters, 401 authentication,
  404 ORDER_NOT_FOUND, 429 TOO_MANY_REQUESTS (X-Gate-RateLimit-* headers), 5xx server.
- Signing: headers KEY, Timestamp (seconds), SIGN = hex HMAC-SHA512(secret, METHOD \\n
  /api/v4/path \\n query \\n hex SHA512(body) \\n Timestamp); more than 60 s from the server
  clock is REQUEST_EXPIRED. The testnet has keys of its own: a fake made with demo=True takes
  only the testnet pair, one without only the production pair (INVALID_KEY otherwise).
- Contracts: size is a signed whole number of contracts (quanto_multiplier base units each),
  positive buys; market orders are price "0" with tif ioc and fill at once at the set price.
  reduce_only larger than the position is cut to it; with no position it finishes unfilled
  (finish_as reduce_only). One-way positions (mode single); in_dual_mode false.
- text, the client id: "t-" + at most 28 of [0-9A-Za-z_.-] (else INVALID_PARAM_VALUE), or
  web/api/app. A reused text is NOT refused: the later order wins the lookup. GET
  /orders/{text} finds an order while open and for an hour after it ends (ORDER_NOT_FOUND).
- Price-triggered orders: initial {contract, size, price, tif, text, reduce_only} (text: "How
  the order was created: web, api, app", so an id sent in it is answered as "api"), trigger
  {price_type, price, rule}: rule 1 fires at last >= price, rule 2 at <=. A trigger already
  crossed is refused: rule 1 AUTO_TRIGGER_PRICE_GREATE_LAST ("Trigger.Price must > last_price"),
  rule 2 AUTO_TRIGGER_PRICE_LESS_LAST. Their own lookups take only the numeric id; listing needs
  status open|finished. They answer {"id": n}. They stay after the position closes (no OCO).
  A candle triggers the stop of a position first (pessimistic).
- Candles: interval 1m 5m 15m 30m 1h 4h 8h 1d (epoch-aligned); from/to in seconds, inclusive;
  limit (default 100) conflicts with from/to (INVALID_PARAM_VALUE); at most 2,000 points per
  request; a `from` more than 10,000 intervals back is refused ("Candlestick too long ago.
  Maximum 10000 points ago are allowed"); oldest first; the forming candle is served as the last
  row. Rows {"t": seconds, "v": volume, "c", "h", "l", "o": strings, "sum": quote volume}.
- Rate limits: public futures endpoints 200 requests / 10 s per IP (ccxt paces at 50 ms).

ccxt 4.5.90 error mapping, pinned by tests/fakes/test_gate_fake.py:
    label (HTTP)                               ccxt exception
    TOO_MANY_REQUESTS (429)                    RateLimitExceeded
    SERVER_ERROR (500), 502/504 html           ExchangeNotAvailable / ... / RequestTimeout
    INVALID_KEY, INVALID_SIGNATURE (401)       AuthenticationError
    REQUEST_EXPIRED (401)                      AuthenticationError   TRAP: our clock, not keys
    ORDER_NOT_FOUND (404)                      OrderNotFound
    AUTO_TRIGGER_PRICE_* (400)                 InvalidOrder          TRAP: a wrong-side stop
    INVALID_PARAM_VALUE (400)                  BadRequest
"""
from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import re
import time
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from aiohttp import web

from .base import FakeVenue, Fault, Request
from .binance_data import INTERVAL_MS, _text, resample, synthetic

API_KEY, SECRET = "gate-prod-key", "gate-prod-secret"
DEMO_API_KEY, DEMO_SECRET = "gate-testnet-key", "gate-testnet-secret"
V4 = "/api/v4"
FUT = V4 + "/futures/usdt"
INTERVALS = ("1m", "5m", "15m", "30m", "1h", "4h", "8h", "1d")
MAX_POINTS, MAX_BACK, WINDOW_S = 2000, 10_000, 60
TEXT = re.compile(r"^(t-[0-9A-Za-z_.-]{1,28}|web|api|app)$")
HOUR_MS = 3_600_000


@dataclass(frozen=True)
class Contract:
    """One perpetual as /futures/usdt/contracts lists it."""

    name: str
    multiplier: str     # quanto_multiplier
    price_round: str    # order_price_round
    leverage_max: str = "100"
    volume_24h_quote: float | None = None  # the ticker's; None: 100 x the last price


CONTRACTS = (Contract("BTC_USDT", "0.0001", "0.1", "125"),
             Contract("ETH_USDT", "0.01", "0.01", "100"),
             Contract("LTC_USDT", "0.1", "0.01", "75"))


class GateError(Exception):
    """An error answer: label, message, HTTP status."""

    def __init__(self, label: str, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.label, self.message, self.status = label, message, status


@dataclass
class Position:
    """A one-way position: signed contracts, average entry, leverage settings."""

    size: int = 0
    entry: float = 0.0
    leverage: str = "10"
    cross_limit: str = "0"
    realised: float = 0.0


class FakeGate(FakeVenue):
    """The fake venue: market data, an order engine, a clock, faults and a request log."""

    REJECT_STATUS = 400

    def __init__(self, candles: dict[tuple[str, str], pd.DataFrame] | None = None, *,
                 now_ms: int | None = None, demo: bool = False, balance: float = 10_000.0,
                 latency_s: float = 0.0, skew_ms: int = 0,
                 contracts: tuple[Contract, ...] | None = None) -> None:
        super().__init__(now_ms=now_ms, skew_ms=skew_ms, latency_s=latency_s)
        self.candles = {k: v.astype({"timestamp": "int64"}).sort_values("timestamp")
                        .reset_index(drop=True) for k, v in (candles or {}).items()}
        # contracts: the listing (default BTC, ETH, LTC); those given are priced at 100.
        self.contracts = {c.name: c for c in (CONTRACTS if contracts is None else contracts)}
        self.prices = ({"BTC_USDT": 50_000.0, "ETH_USDT": 3_000.0, "LTC_USDT": 50.0}
                       if contracts is None else {name: 100.0 for name in self.contracts})
        self.demo, self.balance = demo, balance
        self.dual_mode = False
        self.positions: dict[str, Position] = {}
        self.orders: list[dict] = []
        self.price_orders: list[dict] = []
        self.trades: list[dict] = []
        self._ids = itertools.count(58_000_000_001)
        self._resampled: dict[tuple[str, str], pd.DataFrame] = {}

    # -- the market ---------------------------------------------------------------------------
    def set_price(self, contract: str, price: float) -> None:
        self.candle(contract, price, price, price)

    def candle(self, contract: str, high: float, low: float, close: float) -> None:
        """A later candle: price orders within [low, high] fire (stops first), then close."""
        waiting = [o for o in self.price_orders if o["status"] == "open"
                   and o["initial"]["contract"] == contract]
        waiting.sort(key=lambda o: 0 if _kind(o) == "stop" else 1)
        for o in waiting:
            px, rule = float(o["trigger"]["price"]), o["trigger"]["rule"]
            if (rule == 1 and high >= px) or (rule == 2 and low <= px):
                self._fire(o, px)
        self.prices[contract] = close

    def position(self, contract: str) -> int:
        """Signed position in contracts."""
        return self.positions.get(contract, Position()).size

    def open_price_orders(self, contract: str | None = None) -> list[dict]:
        return [o for o in self.price_orders if o["status"] == "open"
                and contract in (None, o["initial"]["contract"])]

    # -- HTTP plumbing ------------------------------------------------------------------------
    async def _handle(self, request: web.Request) -> web.StreamResponse:
        body = await request.text() if request.method in ("POST", "PUT", "PATCH") else ""
        query = dict(request.query)
        entry = Request(request.method, request.path, query, demo=self.demo)
        self.requests.append(entry)
        await self._latency()
        fault: Fault | None = None
        try:
            if body:
                try:
                    entry.params = {**query, **json.loads(body)}
                except ValueError:
                    raise GateError("INVALID_REQUEST_BODY", "invalid JSON body") from None
            handler, args, private = self._route(request.method, request.path)
            fault = await self._next_fault(request.method, request.path, entry.params)
            if fault and fault.kind == "status" and fault.status is not None:
                return self._recorded(entry, self._fault_answer(fault))
            if private:
                self._authenticate(request, body)
            if fault and fault.kind == "reject":
                raise GateError(fault.code, fault.msg, fault.status or 400)
            payload, status = handler(entry.params, *args)
            response = _reply(payload, status)
        except GateError as e:
            response = _reply({"label": e.label, "message": e.message}, e.status)
        if fault and fault.kind == "lost":
            return self._lost(request, entry, fault)
        return self._recorded(entry, response)

    def _fault_answer(self, fault: Fault) -> web.Response:
        return _status(fault.status, fault.headers)

    def _route(self, method: str, path: str) -> tuple[Any, tuple, bool]:
        for (m, pattern), (name, private) in ROUTES.items():
            match = pattern.fullmatch(path)
            if match and m == method:
                return getattr(self, name), match.groups(), private
        raise GateError("NOT_FOUND", f"{method} {path} not found", 404)

    def _authenticate(self, request: web.Request, body: str) -> None:
        h = request.headers
        if not (h.get("KEY") and h.get("SIGN") and h.get("Timestamp")):
            raise GateError("MISSING_REQUIRED_HEADER", "KEY, SIGN and Timestamp required", 401)
        key, secret = (DEMO_API_KEY, DEMO_SECRET) if self.demo else (API_KEY, SECRET)
        if h["KEY"] != key:
            raise GateError("INVALID_KEY", "Invalid key provided", 401)
        try:
            stamp = float(h["Timestamp"])
        except ValueError:
            raise GateError("INVALID_PARAM_VALUE", "invalid Timestamp") from None
        if abs(self.wall_ms() / 1000 - stamp) > WINDOW_S:
            raise GateError("REQUEST_EXPIRED", "Request timestamp expired", 401)
        query = request.raw_path.partition("?")[2]
        payload = "\n".join([request.method, request.path, query,
                             hashlib.sha512(body.encode()).hexdigest(), h["Timestamp"]])
        want = hmac.new(secret.encode(), payload.encode(), hashlib.sha512).hexdigest()
        if not hmac.compare_digest(h["SIGN"], want):
            raise GateError("INVALID_SIGNATURE", "Signature mismatch", 401)

    # -- market data --------------------------------------------------------------------------
    def h_time(self, p: dict) -> tuple[Any, int]:
        return {"server_time": self.now_ms()}, 200

    def h_contracts(self, p: dict) -> tuple[Any, int]:
        return [self._contract_row(c) for c in self.contracts.values()], 200

    def _contract_row(self, c: Contract) -> dict:
        last = _text(self.prices[c.name])
        return {"name": c.name, "type": "direct", "quanto_multiplier": c.multiplier,
                "order_price_round": c.price_round, "mark_price_round": c.price_round,
                "order_size_min": 1, "order_size_max": 1_000_000, "leverage_min": "1",
                "leverage_max": c.leverage_max, "cross_leverage_default": "10",
                "order_price_deviate": "0.5", "mark_price": last, "last_price": last,
                "index_price": last, "maintenance_rate": "0.004", "in_delisting": False,
                "status": "trading", "enable_decimal": False, "funding_interval": 28800,
                "taker_fee_rate": "0.00075", "maker_fee_rate": "-0.00025",
                "create_time": 1_569_398_400, "launch_time": 1_569_398_400}

    def h_tickers(self, p: dict) -> tuple[Any, int]:
        rows = []
        for name, c in self.contracts.items():
            last = self.prices[name]
            quote = 100 * last if c.volume_24h_quote is None else c.volume_24h_quote
            rows.append({"contract": name, "last": _text(last), "mark_price": _text(last),
                         "index_price": _text(last), "change_percentage": "0",
                         "volume_24h": "1000000", "volume_24h_base": "100",
                         "volume_24h_quote": _text(quote),
                         "volume_24h_settle": _text(quote), "high_24h": _text(last),
                         "low_24h": _text(last), "highest_bid": _text(last),
                         "lowest_ask": _text(last), "funding_rate": "0.0001"})
        return rows, 200

    def h_candles(self, p: dict) -> tuple[Any, int]:
        name, interval = p.get("contract", ""), p.get("interval", "5m")
        if name not in self.contracts:
            raise GateError("CONTRACT_NOT_FOUND", f"contract {name} not found")
        if interval not in INTERVALS:
            raise GateError("INVALID_PARAM_VALUE", "invalid argument: interval")
        step = INTERVAL_MS[interval]
        now = self.now_ms()
        if "limit" in p and ("from" in p or "to" in p):
            raise GateError("INVALID_PARAM_VALUE", "limit conflicts with from and to")
        hi = int(p["to"]) * 1000 if "to" in p else now
        if "from" in p:
            lo = int(p["from"]) * 1000
        else:
            lo = hi - hi % step - (int(p.get("limit", 100)) - 1) * step
        if lo < now - now % step - MAX_BACK * step:
            raise GateError("INVALID_PARAM_VALUE", "Candlestick too long ago. Maximum 10000 "
                            "points ago are allowed")
        if (hi - lo) // step + 1 > MAX_POINTS:
            raise GateError("INVALID_PARAM_VALUE", "Maximum 2000 points can be returned")
        rows = self._series(name, interval, lo, min(hi, now))
        return [{"t": int(r.timestamp) // 1000, "v": r.volume, "o": _text(r.open),
                 "h": _text(r.high), "l": _text(r.low), "c": _text(r.close),
                 "sum": _text(r.volume * r.close)} for r in rows.itertuples()], 200

    def _series(self, name: str, interval: str, lo: int, hi: int) -> pd.DataFrame:
        """Candles opening in [lo, hi]: stored 1m resampled, or synthetic."""
        step = INTERVAL_MS[interval]
        one = self.candles.get((name, "1m"))
        if one is None:
            first = lo + (-lo) % step
            ts = np.arange(first, hi + 1, step, dtype=np.int64)
            return synthetic(name, ts, interval)
        if (name, interval) not in self._resampled:
            self._resampled[(name, interval)] = resample(one, interval)
        frame = self._resampled[(name, interval)]
        ts = frame["timestamp"]
        return frame[(ts >= lo) & (ts <= hi)]

    # -- account ------------------------------------------------------------------------------
    def h_accounts(self, p: dict) -> tuple[Any, int]:
        pnl = sum((self.prices[c] - pos.entry) * pos.size * self._mult(c)
                  for c, pos in self.positions.items() if pos.size)
        return {"currency": "USDT", "total": _text(self.balance),
                "available": _text(self.balance), "unrealised_pnl": _text(pnl),
                "position_margin": "0", "order_margin": "0", "point": "0", "bonus": "0",
                "in_dual_mode": self.dual_mode, "enable_credit": False}, 200

    def h_dual_mode(self, p: dict) -> tuple[Any, int]:
        if any(pos.size for pos in self.positions.values()):
            raise GateError("POSITION_HOLDING", "position holding")
        self.dual_mode = str(p.get("dual_mode")).lower() == "true"
        return self.h_accounts(p)

    def h_leverage(self, p: dict, name: str) -> tuple[Any, int]:
        contract = self._contract(name)
        lev, cross = p.get("leverage"), p.get("cross_leverage_limit", "0")
        if lev is None:
            raise GateError("MISSING_REQUIRED_PARAM", "leverage required")
        if float(lev) > float(contract.leverage_max) or float(cross) > float(
                contract.leverage_max):
            raise GateError("LEVERAGE_TOO_HIGH", "leverage too high")
        pos = self.positions.setdefault(name, Position())
        pos.leverage, pos.cross_limit = str(lev), str(cross)
        return self._position_row(name, pos), 200

    def h_positions(self, p: dict) -> tuple[Any, int]:
        holding = str(p.get("holding")).lower() == "true"
        return [self._position_row(c, pos) for c, pos in self.positions.items()
                if pos.size or not holding], 200

    def _position_row(self, name: str, pos: Position) -> dict:
        mult, last = self._mult(name), self.prices[name]
        return {"user": 1, "contract": name, "size": pos.size, "leverage": pos.leverage,
                "cross_leverage_limit": pos.cross_limit, "leverage_max": "100",
                "risk_limit": "1000000", "maintenance_rate": "0.004",
                "value": _text(abs(pos.size) * mult * last), "margin": "0",
                "entry_price": _text(pos.entry), "mark_price": _text(last), "liq_price": "0",
                "unrealised_pnl": _text((last - pos.entry) * pos.size * mult),
                "realised_pnl": _text(pos.realised), "mode": "single", "pending_orders": 0,
                "update_time": self.wall_ms() // 1000}

    # -- orders -------------------------------------------------------------------------------
    def h_post_order(self, p: dict) -> tuple[Any, int]:
        """A futures order (market: price 0, tif ioc), filled at once at the set price."""
        name = p.get("contract", "")
        self._contract(name)
        size = _size(p.get("size"))
        text = str(p.get("text") or "api")
        if not TEXT.match(text):
            raise GateError("INVALID_PARAM_VALUE", "invalid argument: text")
        if str(p.get("price")) not in ("0", "0.0") or p.get("tif", "gtc") != "ioc":
            raise GateError("INVALID_PARAM_VALUE", "only market orders (price 0, ioc) here")
        order = self._new_order(name, size, text, bool(p.get("reduce_only")))
        return order, 201

    def _new_order(self, name: str, size: int, text: str, reduce_only: bool) -> dict:
        now = self.wall_ms()
        order = {"id": next(self._ids), "user": 1, "contract": name, "size": size,
                 "price": "0", "tif": "ioc", "text": text, "is_reduce_only": reduce_only,
                 "is_close": False, "is_liq": False, "iceberg": 0, "left": size,
                 "fill_price": "0", "status": "finished", "finish_as": "ioc",
                 "create_time": now / 1000, "finish_time": now / 1000, "mkfr": "-0.00025",
                 "tkfr": "0.00075"}
        held = self.position(name)
        if reduce_only:
            if held == 0 or (held > 0) == (size > 0):
                order["finish_as"] = "reduce_only"
                self.orders.append(order)
                return order
            size = max(size, -held) if size < 0 else min(size, -held)
        self._fill(order, name, size, self.prices[name])
        self.orders.append(order)
        return order

    def _fill(self, order: dict, name: str, size: int, px: float) -> None:
        pos = self.positions.setdefault(name, Position())
        mult = self._mult(name)
        fee = abs(size) * mult * px * 0.00075
        if pos.size and (pos.size > 0) != (size > 0):
            closed = min(abs(size), abs(pos.size)) * (1 if pos.size > 0 else -1)
            pos.realised += (px - pos.entry) * closed * mult
            self.balance += (px - pos.entry) * closed * mult
        new = pos.size + size
        if new == 0:
            pos.entry = 0.0
        elif pos.size == 0 or (pos.size > 0) != (new > 0):
            pos.entry = px
        elif (pos.size > 0) == (size > 0):
            pos.entry = (pos.entry * abs(pos.size) + px * abs(size)) / abs(new)
        pos.size = new
        self.balance -= fee
        order.update(left=order["size"] - size, fill_price=_text(px), finish_as="filled")
        self.trades.append({"id": next(self._ids), "create_time": self.wall_ms() / 1000,
                            "contract": name, "order_id": str(order["id"]), "size": size,
                            "price": _text(px), "role": "taker", "text": order["text"],
                            "fee": _text(fee), "point_fee": "0"})

    def h_get_order(self, p: dict, ref: str) -> tuple[Any, int]:
        """By numeric id always; by text while open and for an hour after the end."""
        if ref.isdigit():
            found = [o for o in self.orders if str(o["id"]) == ref]
        else:
            recent = self.wall_ms() / 1000 - HOUR_MS / 1000
            found = [o for o in self.orders if o["text"] == ref and
                     (o["status"] == "open" or o["finish_time"] >= recent)]
        if not found:
            raise GateError("ORDER_NOT_FOUND", "Order not found", 404)
        return found[-1], 200  # a reused text: the later order

    def h_list_orders(self, p: dict) -> tuple[Any, int]:
        status = _status_param(p)
        rows = [o for o in self.orders if o["status"] == status
                and p.get("contract") in (None, o["contract"])]
        return rows[::-1][:_limit(p)], 200

    # -- price-triggered orders ---------------------------------------------------------------
    def h_post_price_order(self, p: dict) -> tuple[Any, int]:
        initial, trigger = p.get("initial") or {}, p.get("trigger") or {}
        name = initial.get("contract", "")
        self._contract(name)
        size = _size(initial.get("size"), allow_zero=bool(initial.get("close")))
        text = str(initial.get("text") or "api")
        if not TEXT.match(text):
            raise GateError("INVALID_PARAM_VALUE", "invalid argument: initial.text")
        try:
            price, rule = float(trigger["price"]), int(trigger["rule"])
        except (KeyError, TypeError, ValueError):
            raise GateError("INVALID_PARAM_VALUE", "invalid argument: trigger") from None
        if rule not in (1, 2):
            raise GateError("INVALID_PARAM_VALUE", "invalid argument: Trigger.rule")
        last = self.prices[name]
        if rule == 1 and price <= last:
            raise GateError("AUTO_TRIGGER_PRICE_GREATE_LAST",
                            "invalid argument: Trigger.Price must > last_price")
        if rule == 2 and price >= last:
            raise GateError("AUTO_TRIGGER_PRICE_LESS_LAST",
                            "invalid argument: Trigger.Price must < last_price")
        order = {"id": next(self._ids), "user": 1, "create_time": self.wall_ms() / 1000,
                 "finish_time": 0, "trade_id": 0, "status": "open", "reason": "",
                 "initial": {"contract": name, "size": size,
                             "price": str(initial.get("price", "0")),
                             # Documented as how the order was made (web, api, app): an
                             # id sent in it is not kept.
                             "tif": initial.get("tif", "gtc"), "text": "api",
                             "is_reduce_only": bool(initial.get("reduce_only")),
                             "is_close": bool(initial.get("close"))},
                 "trigger": {"strategy_type": 0, "price_type": int(trigger.get("price_type", 0)),
                             "price": _text(price), "rule": rule,
                             "expiration": int(trigger.get("expiration", 0))}}
        self.price_orders.append(order)
        return {"id": order["id"]}, 201

    def _fire(self, o: dict, px: float) -> None:
        """A crossed trigger: its market order at the trigger price (reduce-only kept)."""
        self.prices[o["initial"]["contract"]] = px
        made = self._new_order(o["initial"]["contract"], o["initial"]["size"],
                               o["initial"]["text"], o["initial"]["is_reduce_only"])
        o.update(status="finished", finish_as="succeeded", trade_id=made["id"],
                 finish_time=self.wall_ms() / 1000)

    def h_list_price_orders(self, p: dict) -> tuple[Any, int]:
        status = _status_param(p)
        rows = [o for o in self.price_orders if o["status"] == status
                and p.get("contract") in (None, o["initial"]["contract"])]
        return rows[::-1][:_limit(p)], 200

    def _price_order(self, ref: str) -> dict:
        found = [o for o in self.price_orders if str(o["id"]) == ref]
        if not found:
            raise GateError("ORDER_NOT_FOUND", "Order not found", 404)
        return found[0]

    def h_get_price_order(self, p: dict, ref: str) -> tuple[Any, int]:
        return self._price_order(ref), 200

    def h_cancel_price_order(self, p: dict, ref: str) -> tuple[Any, int]:
        o = self._price_order(ref)
        if o["status"] != "open":
            raise GateError("ORDER_NOT_FOUND", "Order not found", 404)
        o.update(status="finished", finish_as="cancelled", finish_time=self.wall_ms() / 1000)
        return o, 200

    def h_my_trades(self, p: dict) -> tuple[Any, int]:
        lo = float(p.get("from", 0))
        hi = float(p.get("to", 1e12))
        rows = [t for t in self.trades if p.get("contract") in (None, t["contract"])
                and lo <= t["create_time"] <= hi]
        return rows[::-1][:_limit(p)], 200

    # -- helpers ------------------------------------------------------------------------------
    def _contract(self, name: str) -> Contract:
        if name not in self.contracts:
            raise GateError("CONTRACT_NOT_FOUND", f"contract {name} not found")
        return self.contracts[name]

    def _mult(self, name: str) -> float:
        return float(self.contracts[name].multiplier)


def _kind(o: dict) -> str:
    rises = o["trigger"]["rule"] == 1
    return "stop" if rises == (o["initial"]["size"] > 0) else "target"


def _size(value: Any, allow_zero: bool = False) -> int:
    """A whole, signed number of contracts (decimals refused: enable_decimal is false)."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise GateError("INVALID_PARAM_VALUE", "invalid argument: size") from None
    if number != int(number) or (number == 0 and not allow_zero):
        raise GateError("INVALID_PARAM_VALUE", "invalid argument: size")
    return int(number)


def _status_param(p: dict) -> str:
    status = p.get("status")
    if status not in ("open", "finished"):
        raise GateError("INVALID_PARAM_VALUE", "invalid argument: status")
    return str(status)


def _limit(p: dict) -> int:
    return max(1, min(1000, int(p.get("limit", 100))))


def _reply(payload: Any, status: int = 200, headers: dict | None = None) -> web.Response:
    return web.Response(text=json.dumps(payload), status=status, headers=headers,
                        content_type="application/json")


def _status(status: int | None, headers: dict) -> web.Response:
    if status == 429:
        limits = {"X-Gate-RateLimit-Requests-Remain": "0", "X-Gate-RateLimit-Limit": "200",
                  "X-Gate-RateLimit-Reset-Timestamp": str(int(time.time()) + 1)}
        return _reply({"label": "TOO_MANY_REQUESTS", "message": "Request Rate limit Exceeded"},
                      429, {**limits, **headers})
    if status == 500:
        return _reply({"label": "SERVER_ERROR", "message": "Internal server error"}, 500,
                      headers)
    status = status or 502
    reason = {502: "Bad Gateway", 504: "Gateway Time-out"}.get(status, "Error")
    return web.Response(status=status, headers=headers, content_type="text/html",
                        text=f"<html><body><h1>{status} {reason}</h1></body></html>")


def _path(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern.replace("{id}", r"([^/]+)"))


ROUTES: dict[tuple[str, re.Pattern[str]], tuple[str, bool]] = {
    ("GET", _path(V4 + "/spot/time")): ("h_time", False),
    ("GET", _path(FUT + "/contracts")): ("h_contracts", False),
    ("GET", _path(FUT + "/tickers")): ("h_tickers", False),
    ("GET", _path(FUT + "/candlesticks")): ("h_candles", False),
    ("GET", _path(FUT + "/accounts")): ("h_accounts", True),
    ("POST", _path(FUT + "/dual_mode")): ("h_dual_mode", True),
    ("POST", _path(FUT + "/positions/{id}/leverage")): ("h_leverage", True),
    ("GET", _path(FUT + "/positions")): ("h_positions", True),
    ("POST", _path(FUT + "/orders")): ("h_post_order", True),
    ("GET", _path(FUT + "/orders")): ("h_list_orders", True),
    ("GET", _path(FUT + "/orders/{id}")): ("h_get_order", True),
    ("POST", _path(FUT + "/price_orders")): ("h_post_price_order", True),
    ("GET", _path(FUT + "/price_orders")): ("h_list_price_orders", True),
    ("GET", _path(FUT + "/price_orders/{id}")): ("h_get_price_order", True),
    ("DELETE", _path(FUT + "/price_orders/{id}")): ("h_cancel_price_order", True),
    ("GET", _path(FUT + "/my_trades_timerange")): ("h_my_trades", True),
    ("GET", _path(FUT + "/my_trades")): ("h_my_trades", True),
}
