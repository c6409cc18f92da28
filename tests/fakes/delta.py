"""A local fake of Delta Exchange India's REST API v2 (perpetuals): market data and trading.

    fake = FakeDelta(candles={("BTCUSD", "1m"): df}, now_ms=...)   # data: frozen clock
    fake = FakeDelta(demo=True)                                     # trading: the testnet
    await fake.start(); fake.set_price("BTCUSD", 50_000); fake.candle("BTCUSD", h, l, c)
    fake.fail("/v2/orders", 502, lost=True); fake.reject("/v2/orders", "insufficient_margin")
    fake.calls("POST", "/v2/orders") -> [params]

Written from Delta India's API documentation (docs.india.delta.exchange, whose sources are
github.com/delta-exchange/slate: _authentication.md, _rest_api.md, _rate_limits.md,
_response_formats.md, _place_order_error_codes.md, _changelog.md), and ccxt 4.5.90's delta.py,
which decides the endpoints (publicGetSettings for the time, GET /v2/assets + /v2/products for
load_markets, /v2/history/candles, POST /v2/orders, GET /v2/orders/client_order_id/{id},
GET /v2/orders, /v2/positions/margined, /v2/wallet/balances, /v2/fills,
POST /v2/products/{id}/orders/leverage).

Venue rules the fake keeps:
- Hosts: production api.india.delta.exchange, testnet (demo accounts)
  cdn-ind.testnet.deltaex.org; keys of one environment are refused by the other
  ({"error": "InvalidApiKey", ...}, HTTP 401). api.delta.exchange is Delta Global.
- Envelope: {"success": true, "result": ..., "meta": {...}}; errors
  {"success": false, "error": {"code": "<label>", "context": {...}}} (HTTP 400 for order
  refusals, 404 for an unknown order); the auth layer answers {"error": "<Label>",
  "message": ...} with HTTP 401. Timestamps in microseconds, decimals as strings.
- Auth headers api-key, timestamp (unix seconds), signature = hex HMAC-SHA256(secret,
  method + timestamp + path + query + body); a signature older than 5 s is refused
  (SignatureExpired, 401); a wrong one is {"error": {"code": "Signature Mismatch"}} (401).
  Every request needs a User-Agent, else the CDN answers 403 {"error": "Forbidden",
  "message": "Request blocked by CDN"}.
- Rate limits: 20,000 weight per 5-minute window; candles, products, tickers, open orders,
  positions and balances weigh 3, order writes 5, fills and order history 10. Over it: HTTP 429
  with X-RATE-LIMIT-RESET (ms to the window's reset).
- Products: numeric id + symbol (BTCUSD); perpetual_futures quoted and settled in USD; sizes are
  whole contracts of contract_value base units; tick_size; orders name the product_id.
- Candles: GET /v2/history/candles?resolution&symbol&start&end (seconds, both required and
  inclusive), rows {time (s), open, high, low, close, volume}, newest first, at most 2,000 (the
  newest of the window); the forming candle is served. Resolutions 1m 3m 5m 15m 30m 1h 2h 4h
  6h 1d 1w, on the UTC epoch grid (weeks open on Monday).
- Orders: size integer >= 1; client_order_id at most 32 characters; a reused client_order_id is
  not documented as refused (the fake accepts it; the lookup answers the latest). Market orders
  fill at once at the set price (state closed). stop_order_type stop_loss_order /
  take_profit_order + stop_price make a waiting order (state pending) that triggers on the last
  traded price, stop first when a candle spans both; reduce-only orders never grow a position
  and are cancelled when it is flat. A stop already crossed is refused as invalid_stop_price:
  the docs name no label for it, this one is the fake's assumption.
- Positions: GET /v2/positions?product_id is real time; GET /v2/positions/margined may lag
  (`margined_lag_s`, "up to 10 secs" in the docs). Fills carry created_at in ISO 8601 to the
  second (ccxt's recorded answer) and filter on start_time (microseconds).

ccxt 4.5.90 exception of each answer (pinned by tests/fakes/test_delta_fake.py):
    answer (HTTP)                              ccxt exception
    insufficient_margin (400)                  InsufficientFunds
    open_order_not_found (400)                 OrderNotFound
    Signature Mismatch (401)                   ExchangeError       TRAP: generic
    invalid_stop_price (400)                   ExchangeError       TRAP: generic
    no_position_for_reduce_only (400)          ExchangeError       TRAP: generic
    SignatureExpired, InvalidApiKey (401)      AuthenticationError (by HTTP status; no code)
    rate_limit_exceeded (429)                  ExchangeError       TRAP: the body's label wins
                                                                   over the status
    502/504 html, dropped connection           ExchangeNotAvailable / RequestTimeout
"""
from __future__ import annotations

import asyncio
import hashlib
import hmac
import itertools
import json
import re
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from aiohttp import web

from .base import FakeVenue, Fault, Request
from .binance_data import INTERVAL_MS, resample, synthetic

API_KEY = "delta-test-key-0123456789"
SECRET = "delta-test-secret-abcdef"
DEMO_API_KEY = "delta-demo-key-0123456789"
DEMO_SECRET = "delta-demo-secret-abcdef"
WINDOW_S = 5
MAX_CANDLES = 2000
LISTED_MS = 1_573_430_400_000
RESOLUTIONS = ("1m", "3m", "5m", "15m", "30m", "1h", "2h", "4h", "6h", "1d", "1w")
CLIENT_ID = re.compile(r"^.{1,32}$")
USD_ID = 14
WEIGHTS = {"/v2/history/candles": 3, "/v2/products": 3, "/v2/tickers": 3,
           "/v2/wallet/balances": 3, "/v2/positions": 3, "/v2/positions/margined": 3,
           "/v2/fills": 10, "/v2/orders/history": 10}
QUOTA = 20_000
WINDOW_MS = 300_000


class DeltaError(Exception):
    """An error answer: a label in {"error": {"code": ...}}, or the auth layer's string form."""

    def __init__(self, code: str, status: int = 400, context: dict | None = None,
                 flat: str = "") -> None:
        super().__init__(code)
        self.code, self.status, self.context, self.flat = code, status, context or {}, flat

    def body(self) -> dict:
        if self.flat:
            return {"error": self.code, "message": self.flat, **self.context}
        return {"success": False, "error": {"code": self.code, "context": self.context}}


@dataclass
class Product:
    """One perpetual of GET /v2/products."""

    id: int
    symbol: str
    contract_value: str
    tick_size: str
    turnover_usd: float = 50_000_000.0

    @property
    def base(self) -> str:
        return self.symbol.removesuffix("USD")


DEFAULT_PRODUCTS = (Product(27, "BTCUSD", "0.001", "0.5"), Product(3136, "ETHUSD", "0.01", "0.05"),
                    Product(16614, "LTCUSD", "0.1", "0.01", 5_000_000.0))


@dataclass
class Position:
    size: int = 0
    entry: float = 0.0
    realized: float = 0.0


@dataclass
class Margined:
    """A product's position changes (wall time, (size, entry)): the lagging
    /positions/margined shows the last one older than the lag."""

    history: list = field(default_factory=list)


def _num(x: float) -> str:
    text = f"{x:.10f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def _truthy(value: Any) -> bool:
    return value is True or str(value).lower() == "true"


class FakeDelta(FakeVenue):
    """The fake venue: products, candles, an order engine, a clock, faults and a request log."""

    REJECT_STATUS = 400

    def __init__(self, candles: dict[tuple[str, str], pd.DataFrame] | None = None, *,
                 now_ms: int | None = None, demo: bool = False,
                 products: tuple[Product, ...] = DEFAULT_PRODUCTS, balance: float = 10_000.0,
                 margin_mode: str = "isolated", margined_lag_s: float = 10.0,
                 skew_ms: int = 0, latency_s: float = 0.0, bounds: str = "[]") -> None:
        super().__init__(now_ms=now_ms, skew_ms=skew_ms, latency_s=latency_s)
        self.candles = {k: v.astype({"timestamp": "int64"}).sort_values("timestamp")
                        .reset_index(drop=True) for k, v in (candles or {}).items()}
        self.products = {p.symbol: p for p in products}
        self.by_id = {p.id: p for p in products}
        self.prices = {"BTCUSD": 50_000.0, "ETHUSD": 3_000.0, "LTCUSD": 50.0}
        self.demo, self.balance, self.margin_mode = demo, balance, margin_mode
        self.margined_lag_s = margined_lag_s
        self.bounds = bounds  # candle window bounds: the docs do not say; "[]" by default
        self.taker_fee = 0.0005
        self.leverage: dict[int, int] = {}
        self.positions: dict[int, Position] = {}
        self.margined: dict[int, Margined] = {}
        self.orders: list[dict] = []
        self.fills: list[dict] = []
        self.used_weight = 0
        self._last_us = 0
        self.quota = QUOTA                # weight per fixed 5-minute window
        self.window_start_ms = 0
        self._ids = itertools.count(1_000_001)
        self._resampled: dict[tuple[str, str], pd.DataFrame] = {}

    # -- controls: FakeVenue's clock, fail, calls; rate_limit answers Delta's 429 with
    # X-RATE-LIMIT-RESET; reject(path, label, msg="") refuses with a Delta error label (400)
    def set_price(self, symbol: str, price: float) -> None:
        self.candle(symbol, price, price, price)

    def candle(self, symbol: str, high: float, low: float, close: float) -> None:
        """A later candle: waiting stops within [low, high] trigger (stops first), then the
        last traded price is `close`."""
        waiting = sorted((o for o in self.orders if o["product_symbol"] == symbol
                          and o["state"] == "pending"),
                         key=lambda o: o["stop_order_type"] != "stop_loss_order")
        for order in waiting:
            stop = float(order["stop_price"])
            if order["state"] == "pending" and low <= stop <= high:
                self._trigger(order, stop)
        self.prices[symbol] = close

    def position(self, symbol: str) -> int:
        """Signed position in contracts."""
        return self.positions.get(self.products[symbol].id, Position()).size

    def waiting(self, symbol: str | None = None) -> list[dict]:
        """Stop orders still waiting."""
        return [o for o in self.orders if o["state"] == "pending"
                and symbol in (None, o["product_symbol"])]

    # -- HTTP plumbing ----------------------------------------------------------------------
    async def _handle(self, request: web.Request) -> web.StreamResponse:
        """Log, CDN check, faults, auth, quota, dispatch; Delta's envelope around the answer."""
        self.requests.append(entry := Request(request.method, request.path,
                                              dict(request.query)))
        body = await request.text() if request.method in ("POST", "PUT", "DELETE") else ""
        await asyncio.sleep(self.latency_s)  # a round trip to Delta (0: none)
        fault: Fault | None = None
        try:
            if not request.headers.get("User-Agent"):
                raise DeltaError("Forbidden", 403, flat="Request blocked by CDN")
            if body:
                try:
                    entry.params = json.loads(body)
                except ValueError:
                    raise DeltaError("bad_schema") from None
            fault = await self._next_fault(request.method, request.path, entry.params)
            if fault and fault.kind == "status" and fault.status is not None:
                return self._recorded(entry, self._fault_answer(fault))
            handler, private = self._route(request.method, request.path)
            if private:
                self._authenticate(request, body)
            limited = self._spend(WEIGHTS.get(request.path,
                                              5 if request.method != "GET" else 1))
            if limited is not None:
                entry.status = 429
                return limited
            if fault and fault.kind == "reject":
                raise DeltaError(fault.code, fault.status or 400,
                                 {"message": fault.msg} if fault.msg else None)
            params = dict(entry.params) if isinstance(entry.params, dict) else {}
            response = _ok(handler(params, request.path))
        except DeltaError as e:
            response = _reply(e.body(), e.status)
        if fault and fault.kind == "lost":
            return self._lost(request, entry, fault)
        return self._recorded(entry, response)

    def _fault_answer(self, fault: Fault) -> web.Response:
        return _status(fault.status or 502, fault.headers)

    def _route(self, method: str, path: str) -> tuple[Any, bool]:
        routes = {("GET", "/v2/settings"): (self.h_settings, False),
                  ("GET", "/v2/assets"): (self.h_assets, False),
                  ("GET", "/v2/products"): (self.h_products, False),
                  ("GET", "/v2/tickers"): (self.h_tickers, False),
                  ("GET", "/v2/history/candles"): (self.h_candles, False),
                  ("GET", "/v2/wallet/balances"): (self.h_balances, True),
                  ("GET", "/v2/profile"): (self.h_profile, True),
                  ("GET", "/v2/positions"): (self.h_position, True),
                  ("GET", "/v2/positions/margined"): (self.h_margined, True),
                  ("POST", "/v2/orders"): (self.h_place, True),
                  ("DELETE", "/v2/orders"): (self.h_cancel, True),
                  ("GET", "/v2/orders"): (self.h_active, True),
                  ("GET", "/v2/orders/history"): (self.h_history, True),
                  ("GET", "/v2/fills"): (self.h_fills, True)}
        if (method, path) in routes:
            return routes[(method, path)]
        if path.startswith("/v2/orders/client_order_id/") and method == "GET":
            return self.h_by_client_id, True
        if re.fullmatch(r"/v2/orders/\d+", path) and method == "GET":
            return self.h_by_id, True
        if re.fullmatch(r"/v2/products/\d+/orders/leverage", path):
            return self.h_leverage, True
        raise DeltaError("not_found", 404)

    def _spend(self, weight: int) -> web.Response | None:
        """Deduct `weight` from the 5-minute quota; Delta's 429 once it is spent."""
        now = self.wall_ms()
        if now - self.window_start_ms >= WINDOW_MS:
            self.window_start_ms, self.used_weight = now - now % WINDOW_MS, 0
        if self.used_weight + weight > self.quota:
            reset = self.window_start_ms + WINDOW_MS - now
            return _status(429, {"X-RATE-LIMIT-RESET": str(reset)})
        self.used_weight += weight
        return None

    def _authenticate(self, request: web.Request, body: str) -> None:
        h = request.headers
        key, stamp, sign = h.get("api-key"), h.get("timestamp"), h.get("signature")
        secret = {API_KEY: SECRET, DEMO_API_KEY: DEMO_SECRET}.get(key or "")
        if secret is None or (key == DEMO_API_KEY) != self.demo:
            raise DeltaError("InvalidApiKey", 401, flat="Api Key not found")
        try:
            sent_s = int(stamp or "")
        except ValueError:
            raise DeltaError("SignatureExpired", 401, flat="your signature has expired") from None
        server_s = self.wall_ms() // 1000
        if server_s - sent_s > WINDOW_S or sent_s - server_s > WINDOW_S:
            raise DeltaError("SignatureExpired", 401, {"request_time": sent_s,
                             "server_time": server_s}, flat="your signature has expired")
        prehash = request.method + (stamp or "") + request.raw_path + body
        expected = hmac.new(secret.encode(), prehash.encode(), hashlib.sha256).hexdigest()
        if not hmac.compare_digest(sign or "", expected):
            raise DeltaError("Signature Mismatch", 401, {"signature_data": prehash})

    # -- public -----------------------------------------------------------------------------
    def h_settings(self, p: dict, path: str) -> dict:
        return {"server_time": self.now_ms() * 1000}

    def h_assets(self, p: dict, path: str) -> list:
        return [{"id": USD_ID, "symbol": "USD", "precision": 6, "deposit_status": "enabled",
                 "withdrawal_status": "enabled", "base_withdrawal_fee": "0",
                 "min_withdrawal_amount": "10"},
                *({"id": 100 + i, "symbol": s.base, "precision": 8,
                   "deposit_status": "disabled", "withdrawal_status": "disabled",
                   "base_withdrawal_fee": "0", "min_withdrawal_amount": "0"}
                  for i, s in enumerate(self.products.values()))]

    def h_products(self, p: dict, path: str) -> list:
        usd = {"id": USD_ID, "symbol": "USD", "precision": 6}
        return [{"id": pr.id, "symbol": pr.symbol, "description": f"{pr.base} Perpetual",
                 "contract_type": "perpetual_futures", "state": "live",
                 "trading_status": "operational", "contract_value": pr.contract_value,
                 "contract_unit_currency": pr.base, "tick_size": pr.tick_size,
                 "notional_type": "vanilla", "is_quanto": False, "position_size_limit": 100000,
                 "default_leverage": "10", "initial_margin": "0.5",
                 "maintenance_margin": "0.25", "taker_commission_rate": str(self.taker_fee),
                 "maker_commission_rate": "0.0002", "launch_time": "2019-11-11T00:00:00Z",
                 "product_specs": {}, "underlying_asset": {"id": 100 + i, "symbol": pr.base,
                                                           "precision": 8},
                 "quoting_asset": usd, "settling_asset": usd,
                 "spot_index": {"symbol": f".DE{pr.base}USD"}}
                for i, pr in enumerate(self.products.values())]

    def h_tickers(self, p: dict, path: str) -> list:
        return [{"symbol": pr.symbol, "product_id": pr.id, "contract_type": "perpetual_futures",
                 "close": self.prices.get(pr.symbol, 1.0), "mark_price": str(self.prices.get(
                     pr.symbol, 1.0)), "turnover": pr.turnover_usd,
                 "turnover_symbol": "USD", "turnover_usd": pr.turnover_usd,
                 "volume": pr.turnover_usd / self.prices.get(pr.symbol, 1.0),
                 "timestamp": self.now_ms() * 1000} for pr in self.products.values()]

    def h_candles(self, p: dict, path: str) -> list:
        resolution, symbol = p.get("resolution"), p.get("symbol")
        if resolution not in RESOLUTIONS or symbol not in self.products:
            raise DeltaError("bad_schema", 400, {"schema_errors": [
                {"code": "validation_error", "param": "resolution/symbol"}]})
        try:
            start, end = int(p["start"]) * 1000, int(p["end"]) * 1000
        except (KeyError, ValueError):
            raise DeltaError("bad_schema") from None
        step = INTERVAL_MS[resolution]
        start += 1000 if self.bounds[0] == "(" else 0
        end -= 1000 if self.bounds[1] == ")" else 0
        hi = min(end, self.now_ms())
        frame = self._series(symbol, resolution)
        if frame is not None:
            ts = frame["timestamp"]
            rows = frame[(ts >= start) & (ts <= hi)]
        else:
            first = max(start + (-(start - _origin(resolution)) % step), LISTED_MS)
            opens = np.arange(first, hi + 1, step, dtype=np.int64)
            rows = synthetic(symbol, opens, resolution)
        rows = rows.iloc[-MAX_CANDLES:].iloc[::-1]
        return [{"time": int(r.timestamp) // 1000, "open": r.open, "high": r.high,
                 "low": r.low, "close": r.close, "volume": r.volume}
                for r in rows.itertuples(index=False)]

    def _series(self, symbol: str, resolution: str) -> pd.DataFrame | None:
        one = self.candles.get((symbol, "1m"))
        if one is None:
            return None
        if (symbol, resolution) not in self._resampled:
            self._resampled[(symbol, resolution)] = resample(one, resolution)
        return self._resampled[(symbol, resolution)]

    # -- account ----------------------------------------------------------------------------
    def h_balances(self, p: dict, path: str) -> list:
        return [{"asset_id": USD_ID, "asset_symbol": "USD", "balance": _num(self.balance),
                 "available_balance": _num(self.balance), "order_margin": "0",
                 "position_margin": "0"}]

    def h_profile(self, p: dict, path: str) -> dict:
        return {"id": 1, "margin_mode": self.margin_mode, "email": "fake@example.com"}

    def h_leverage(self, p: dict, path: str) -> dict:
        pid = int(path.split("/")[3])
        if pid not in self.by_id:
            raise DeltaError("invalid_contract")
        if "leverage" in p:
            self.leverage[pid] = int(float(p["leverage"]))
        return {"leverage": str(self.leverage.get(pid, 10)), "product_id": pid,
                "order_margin": "0"}

    def h_position(self, p: dict, path: str) -> dict:
        try:
            pid = int(p["product_id"])
        except (KeyError, ValueError):
            raise DeltaError("bad_schema") from None
        pos = self.positions.get(pid, Position())
        return {"size": pos.size, "entry_price": _num(pos.entry) if pos.size else None}

    def h_margined(self, p: dict, path: str) -> list:
        now = time.time()
        out = []
        for pid, m in self.margined.items():
            shown: tuple[int, float] = (0, 0.0)
            for at, value in m.history:
                if at + self.margined_lag_s <= now:
                    shown = value
            if shown[0]:
                pr = self.by_id[pid]
                out.append({"product_id": pid, "product_symbol": pr.symbol, "size": shown[0],
                            "entry_price": _num(shown[1]), "margin": "0",
                            "liquidation_price": "0", "realized_pnl": "0"})
        return out

    # -- orders -----------------------------------------------------------------------------
    def _product(self, p: dict) -> Product:
        if "product_id" in p:
            pr = self.by_id.get(int(p["product_id"]))
        else:
            pr = self.products.get(str(p.get("product_symbol")))
        if pr is None:
            raise DeltaError("invalid_contract")
        return pr

    def h_place(self, p: dict, path: str) -> dict:
        pr = self._product(p)
        size, side = p.get("size"), p.get("side")
        if not isinstance(size, int) or isinstance(size, bool):  # documented as an integer
            raise DeltaError("bad_schema", 400, {"schema_errors": [
                {"code": "validation_error", "message": "size must be an integer",
                 "param": "size"}]})
        cid = p.get("client_order_id")
        if side not in ("buy", "sell") or size < 1 or (
                cid is not None and not CLIENT_ID.match(str(cid))):
            raise DeltaError("bad_schema")
        if p.get("order_type") not in ("market_order", "limit_order"):
            raise DeltaError("bad_schema")
        reduce_only = _truthy(p.get("reduce_only"))
        last = self.prices.get(pr.symbol, 1.0)
        order = {"id": next(self._ids), "user_id": 1, "size": size, "unfilled_size": size,
                 "side": side, "order_type": p["order_type"],
                 "limit_price": p.get("limit_price"), "stop_order_type": None,
                 "stop_price": None, "stop_trigger_method": None, "paid_commission": "0",
                 "commission": "0", "reduce_only": reduce_only,
                 "client_order_id": cid, "state": "open",
                 "created_at": str(self._stamp_us()), "product_id": pr.id,
                 "product_symbol": pr.symbol, "average_fill_price": None}
        stop_type = p.get("stop_order_type")
        if stop_type:
            if stop_type not in ("stop_loss_order", "take_profit_order") or \
                    not p.get("stop_price"):
                raise DeltaError("bad_schema")
            stop = float(p["stop_price"])
            # A stop loss waits beyond the market against the position, a target beyond it
            # in its favour: a sell stop below the last price, a sell target above it.
            falls = (side == "sell") == (stop_type == "stop_loss_order")
            if (falls and stop >= last) or (not falls and stop <= last):
                raise DeltaError("invalid_stop_price", 400, {"stop_price": p["stop_price"],
                                                             "last_traded_price": _num(last)})
            order.update(stop_order_type=stop_type, stop_price=p["stop_price"],
                         stop_trigger_method=p.get("stop_trigger_method", "mark_price"),
                         state="pending")
            if reduce_only and not self.position(pr.symbol):
                raise DeltaError("no_position_for_reduce_only")
            self.orders.append(order)
            return order
        self._check_reduce(pr, side, reduce_only)
        if self._margin_needed(pr, size, last) > self.balance:
            raise DeltaError("insufficient_margin", 400, {"available_balance":
                                                          _num(self.balance)})
        self.orders.append(order)
        self._execute(order, last)
        return order

    def _stamp_us(self) -> int:
        """An order's created_at (microseconds): the wall clock, strictly increasing."""
        self._last_us = max(self.wall_ms() * 1000, self._last_us + 1000)
        return self._last_us

    def _check_reduce(self, pr: Product, side: str, reduce_only: bool) -> None:
        size = self.position(pr.symbol)
        if reduce_only and (not size or (size > 0) == (side == "buy")):
            raise DeltaError("no_position_for_reduce_only")

    def _margin_needed(self, pr: Product, size: int, price: float) -> float:
        return size * float(pr.contract_value) * price / self.leverage.get(pr.id, 10)

    def _execute(self, order: dict, price: float) -> None:
        pr = self.by_id[order["product_id"]]
        pos = self.positions.setdefault(pr.id, Position())
        size = order["size"]
        if order["reduce_only"]:
            size = min(size, abs(pos.size))
        signed = size if order["side"] == "buy" else -size
        cv = float(pr.contract_value)
        pnl = 0.0
        if pos.size and (pos.size > 0) != (signed > 0):
            closed = min(abs(signed), abs(pos.size))
            pnl = (price - pos.entry) * closed * cv * (1 if pos.size > 0 else -1)
        new = pos.size + signed
        if not pos.size or (pos.size > 0) == (signed > 0):
            pos.entry = (pos.entry * abs(pos.size) + price * abs(signed)) / abs(new)
        elif new and (new > 0) != (pos.size > 0):
            pos.entry = price
        pos.size = new
        fee = size * cv * price * self.taker_fee
        self.balance += pnl - fee
        order.update(state="closed", unfilled_size=order["size"] - size,
                     average_fill_price=_num(price), paid_commission=_num(fee))
        self.fills.append({"id": next(self._ids), "order_id": str(order["id"]),
                           "client_order_id": order["client_order_id"], "side": order["side"],
                           "size": size, "price": _num(price), "role": "taker",
                           "commission": _num(fee), "created_at": _iso_s(self.wall_ms()),
                           "timestamp_us": self.wall_ms() * 1000,
                           "product_id": pr.id, "product_symbol": pr.symbol,
                           "product": {"id": pr.id, "symbol": pr.symbol,
                                       "settling_asset": {"symbol": "USD"}},
                           "meta_data": {"order_type": order["order_type"]}})
        m = self.margined.setdefault(pr.id, Margined())
        m.history.append((time.time(), (pos.size, pos.entry)))
        if not pos.size:
            for o in self.orders:  # reduce-only orders die with the position
                if o["product_id"] == pr.id and o["reduce_only"] and \
                        o["state"] in ("open", "pending"):
                    o["state"] = "cancelled"

    def _trigger(self, order: dict, price: float) -> None:
        if order["reduce_only"] and not self.position(order["product_symbol"]):
            order["state"] = "cancelled"
            return
        self._execute(order, price)

    def _find(self, p: dict) -> dict:
        if p.get("id") is not None:
            found = [o for o in self.orders if str(o["id"]) == str(p["id"])]
        else:
            found = [o for o in self.orders if o["client_order_id"] is not None
                     and o["client_order_id"] == p.get("client_order_id")]
        if not found:
            raise DeltaError("open_order_not_found")
        return found[-1]

    def h_cancel(self, p: dict, path: str) -> dict:
        order = self._find(p)
        if order["state"] not in ("open", "pending"):
            raise DeltaError("open_order_not_found")
        order["state"] = "cancelled"
        return order

    def h_by_client_id(self, p: dict, path: str) -> dict:
        cid = path.rsplit("/", 1)[1]
        found = [o for o in self.orders if o["client_order_id"] == cid]
        if not found:
            raise DeltaError("not_found", 404)
        return found[-1]

    def h_by_id(self, p: dict, path: str) -> dict:
        found = [o for o in self.orders if str(o["id"]) == path.rsplit("/", 1)[1]]
        if not found:
            raise DeltaError("not_found", 404)
        return found[-1]

    def h_active(self, p: dict, path: str) -> list:
        states = str(p.get("states") or "open,pending").split(",")
        ids = {int(x) for x in str(p.get("product_ids") or "").split(",") if x}
        return [o for o in self.orders if o["state"] in states
                and (not ids or o["product_id"] in ids)]

    def h_history(self, p: dict, path: str) -> list:
        """Closed and cancelled orders, newest first (page_size of them)."""
        ids = {int(x) for x in str(p.get("product_ids") or "").split(",") if x}
        done = [o for o in self.orders if o["state"] in ("closed", "cancelled")
                and (not ids or o["product_id"] in ids)][::-1]
        return done[:int(p.get("page_size") or 100)]

    def h_fills(self, p: dict, path: str) -> list:
        ids = {int(x) for x in str(p.get("product_ids") or "").split(",") if x}
        since = int(p.get("start_time") or 0)
        return [f for f in self.fills if (not ids or f["product_id"] in ids)
                and f["timestamp_us"] >= since][::-1]


def _iso_s(ms: int) -> str:
    """A fill's created_at as ccxt's recorded answers show it: ISO 8601, whole seconds."""
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(ms // 1000))


def _origin(resolution: str) -> int:
    return 4 * 1440 * 60_000 if resolution == "1w" else 0


def _reply(payload: Any, status: int = 200, headers: dict | None = None) -> web.Response:
    return web.Response(text=json.dumps(payload), status=status, headers=headers,
                        content_type="application/json")


def _ok(result: Any) -> web.Response:
    return _reply({"success": True, "result": result, "meta": {"after": None, "before": None}})


def _status(status: int, headers: dict) -> web.Response:
    if status == 429:
        return _reply({"success": False, "error": {"code": "rate_limit_exceeded"}}, 429,
                      {"X-RATE-LIMIT-RESET": "1000", **headers})
    reason = {502: "Bad Gateway", 503: "Service Unavailable", 504: "Gateway Time-out"}
    return web.Response(status=status, headers=headers, content_type="text/html",
                        text=f"<html><body><h1>{status} {reason.get(status, 'Error')}</h1>"
                             "</body></html>")
