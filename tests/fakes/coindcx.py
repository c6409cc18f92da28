"""A local fake of CoinDCX Futures (USDT-margined perpetuals): both hosts on one port.

    fake = FakeCoindcx(candles={("B-BTC_USDT", "1m"): df}, now_ms=...)   # data, frozen clock
    fake = FakeCoindcx()                                                  # trading, real time
    url = await fake.start(); fake.set_price("B-BTC_USDT", 50_000); fake.candle(p, h, l, c)
    fake.fail(path, 504, lost=True, when=...); fake.reject(path, 400, msg, when=...)
    fake.reject_leg("stop", msg); fake.rate_limit(path); fake.calls("POST", CREATE)

Written from CoinDCX's API documentation (docs.coindcx.com: "Futures End Points", "Errors",
FAQ); no ccxt class speaks CoinDCX futures. Venue rules the fake keeps:
- public.coindcx.com: GET /market_data/candlesticks?pair&from&to&resolution&pcode=f, from/to in
  seconds (open times, inclusive here), resolution 1|5|60|1D, answer {"s": "ok", "data":
  [{open, high, low, close, volume, time (ms)}]} oldest first, the forming candle included.
  Without pcode=f the SPOT market of the same name is served (other prices). The docs name no
  row limit: the fake keeps the oldest CAP rows of a window (marked: a guess, larger than the
  client's window). GET /market_data/v3/current_prices/futures/rt -> {ts, vs, prices: {pair:
  {v, ls, mp, ...}}}. Every answer's Date header is the fake's clock (whole seconds): the docs
  have no server-time endpoint.
- api.coindcx.com public: /exchange/v1/derivatives/futures/data/active_instruments (a list of
  pairs) and /data/instrument?pair (quantity_increment, min_quantity, min_notional,
  price_increment, max_market_order_quantity, dynamic_position_leverage_details).
- Private calls carry a JSON body with `timestamp` (ms; over 10 s old refused), X-AUTH-APIKEY
  and X-AUTH-SIGNATURE = hex HMAC-SHA256 of the body's bytes. Errors are HTTP statuses with
  {"code": status, "message", "status": "error"}: 401 bad key or signature, 400/422 refusals
  by message, 404 not found, 429 Too Many Requests, 5xx (HTML from the gateway: outcome unknown).
- orders/create answers a LIST with status "initial" (avg_price 0); the market order fills at
  the set price at once and the fill is read back from POST /orders (status list, side, page,
  size; newest first; no pair filter). Leverage must equal the position's (422). No client id.
- One position per pair (active_pos signed, in coins); TP/SL apply to the whole position:
  positions/create_tpsl {id, stop_loss|take_profit: {stop_price, order_type}} answers per leg
  an order (status untriggered) or {"success": false, "error": "SL already exists"}; a wrong-side
  trigger is refused per leg in words (marked: the docs list the words for trigger orders,
  "Trigger price should be ... the current price"). Triggered: the whole position closes at the
  trigger; a flat position's TP/SL are cancelled. orders/cancel {id}: "Order not found" 404,
  a finished order 400 "This order cannot be cancelled".
"""
from __future__ import annotations

import hashlib
import hmac
import json
import uuid
from dataclasses import dataclass
from email.utils import formatdate
from typing import Any

import numpy as np
import pandas as pd
from aiohttp import web

from .base import FakeVenue, Fault, Request
from .binance_data import INTERVAL_MS, resample, synthetic

API_KEY, SECRET = "cdx-key", "cdx-secret"
WINDOW_MS = 10_000
CAP = 1000
FUT = "/exchange/v1/derivatives/futures"
CREATE, ORDERS, TPSL = FUT + "/orders/create", FUT + "/orders", FUT + "/positions/create_tpsl"
CANDLES = "/market_data/candlesticks"
RESOLUTION = {"1": "1m", "5": "5m", "60": "1h", "1D": "1d"}
INSTRUMENTS = {"B-BTC_USDT": (0.001, 0.1, 50_000.0), "B-ETH_USDT": (0.01, 0.01, 3_000.0),
               "B-LTC_USDT": (0.1, 0.01, 50.0)}
LISTED_MS = 1_700_000_000_000
LEG_KINDS = {"stop_loss": ("stop", "stop_market", "SL"),
             "take_profit": ("target", "take_profit_market", "TP")}


class CdxError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status, self.message = status, message


@dataclass
class Position:
    id: str
    size: float = 0.0
    avg: float = 0.0
    leverage: float = 5.0
    margin_type: str = "crossed"


class FakeCoindcx(FakeVenue):
    """The fake venue: market data, an order engine, a clock, faults and a request log."""

    def __init__(self, candles: dict[tuple[str, str], pd.DataFrame] | None = None, *,
                 now_ms: int | None = None, balance: float = 10_000.0,
                 latency_s: float = 0.0, skew_ms: int = 0) -> None:
        super().__init__(now_ms=now_ms, skew_ms=skew_ms, latency_s=latency_s)
        self.candles = {k: v.astype({"timestamp": "int64"}).sort_values("timestamp")
                        .reset_index(drop=True) for k, v in (candles or {}).items()}
        self.prices = {p: px for p, (_, _, px) in INSTRUMENTS.items()}
        self.balance = balance
        self.demo = False
        self.positions = {p: Position(str(uuid.uuid5(uuid.NAMESPACE_URL, p)))
                          for p in INSTRUMENTS}
        self.orders: list[dict] = []
        self.trades: list[dict] = []
        self.leg_rejects: list[tuple[str, str]] = []
        # Readings the docs leave open, to hold the client to none of them: the row cap and
        # which end of a window it keeps, whether `to` is exclusive, the Date header's clock.
        self.cap, self.keep_newest, self.to_exclusive = CAP, False, False
        self.date_from_wall = False
        self._resampled: dict[tuple[str, str], pd.DataFrame] = {}

    # -- controls: FakeVenue's clock, fail, rate_limit; a reject is an HTTP status ------------
    def reject(self, path: str, status: int, msg: str, *, times: int = 1,  # type: ignore[override]
               when=None) -> None:
        """The next matching call is refused with `status` and `msg` (HTTP error)."""
        super().reject(path, status, msg, times, status=status, when=when)

    def reject_leg(self, kind: str, msg: str) -> None:
        """The next create_tpsl leg of `kind` ('stop'|'target') fails with `msg`."""
        self.leg_rejects.append((kind, msg))

    # -- the market ---------------------------------------------------------------------------
    def set_price(self, pair: str, price: float) -> None:
        self.candle(pair, price, price, price)

    def candle(self, pair: str, high: float, low: float, close: float) -> None:
        """A later candle: TP/SL within [low, high] fire (the stop first), then price = close."""
        waiting = sorted(self.untriggered(pair), key=lambda o: o["order_type"] != "stop_market")
        for o in waiting:
            px, rises = o["stop_price"], (o["order_type"] == "stop_market") == (o["side"] == "buy")
            if o["status"] == "untriggered" and ((rises and high >= px) or
                                                 (not rises and low <= px)):
                size = abs(self.positions[pair].size)
                o.update(status="filled", total_quantity=size, avg_price=px)
                self._fill(o, pair, o["side"], size, px)
        self.prices[pair] = close

    def position(self, pair: str) -> float:
        return self.positions[pair].size

    def untriggered(self, pair: str | None = None) -> list[dict]:
        return [o for o in self.orders if o["status"] == "untriggered"
                and pair in (None, o["pair"])]

    def _fill(self, o: dict, pair: str, side: str, qty: float, px: float) -> None:
        pos = self.positions[pair]
        signed = qty if side == "buy" else -qty
        new = round(pos.size + signed, 10)
        if pos.size == 0 or (pos.size > 0) == (signed > 0):
            pos.avg = (pos.avg * abs(pos.size) + px * qty) / (abs(pos.size) + qty)
        elif new and (new > 0) != (pos.size > 0):
            pos.avg = px
        pos.size = new
        self.trades.append({"price": px, "quantity": qty, "is_maker": False,
                            "fee_amount": px * qty * 0.00075, "pair": pair, "side": side,
                            "timestamp": float(self.wall_ms()), "order_id": o["id"],
                            "margin_currency_short_name": "USDT"})
        if pos.size == 0:
            for w in self.untriggered(pair):
                w["status"] = "cancelled"

    def _order(self, pair: str, side: str, order_type: str, qty: float, **extra: Any) -> dict:
        now = self.wall_ms()
        o = {"id": str(uuid.uuid4()), "pair": pair, "side": side, "status": "open",
             "order_type": order_type, "leverage": self.positions[pair].leverage,
             "price": self.prices[pair], "stop_price": 0.0, "avg_price": 0.0,
             "total_quantity": qty, "remaining_quantity": qty, "cancelled_quantity": 0.0,
             "fee_amount": 0.0, "stage": "default", "margin_currency_short_name": "USDT",
             "created_at": now, "updated_at": now, **extra}
        self.orders.append(o)
        return o

    def execute(self, pair: str, side: str, qty: float) -> dict:
        """A market order filled at once at the set price (the web site's, or the API's)."""
        o = self._order(pair, side, "market_order", qty)
        px = self.prices[pair]
        o.update(status="filled", remaining_quantity=0.0, avg_price=px)
        self._fill(o, pair, side, qty, px)
        return o

    # -- HTTP plumbing ------------------------------------------------------------------------
    async def _handle(self, request: web.Request) -> web.StreamResponse:
        body = await request.read()
        params: dict[str, Any] = dict(request.query)
        if body:
            try:
                params.update(json.loads(body))
            except ValueError:
                params["_bad_json"] = True
        entry = Request(request.method, request.path, params)
        self.requests.append(entry)
        await self._latency()
        route = ROUTES.get((request.method, request.path))
        fault = await self._next_fault(request.method, request.path, params)
        if fault and fault.kind == "status" and fault.status is not None:
            return self._recorded(entry, self._fault_answer(fault))
        try:
            if route is None:
                raise CdxError(404, "Not Found")
            name, private = route
            if private:
                self._authenticate(request, body, params)
            if fault and fault.kind == "reject":
                raise CdxError(int(fault.status or 400), fault.msg)
            response = self._reply(getattr(self, name)(params))
        except CdxError as e:
            response = self._reply({"code": e.status, "message": e.message,
                                    "status": "error"}, e.status)
        if fault and fault.kind == "lost":
            return self._lost(request, entry, fault)
        return self._recorded(entry, response)

    def _fault_answer(self, fault: Fault) -> web.Response:
        return self._status(fault.status or 502)

    def _headers(self) -> dict[str, str]:
        clock = self.wall_ms() if self.date_from_wall else self.now_ms()
        return {"Date": formatdate(clock / 1000, usegmt=True)}

    def _reply(self, payload: Any, status: int = 200) -> web.Response:
        return web.Response(text=json.dumps(payload), status=status, headers=self._headers(),
                            content_type="application/json")

    def _status(self, status: int) -> web.Response:
        if status == 429:
            return self._reply({"code": 429, "message": "Too Many Requests",
                                "status": "error"}, 429)
        return web.Response(status=status, headers=self._headers(), content_type="text/html",
                            text=f"<html><body><h1>{status}</h1></body></html>")

    def _authenticate(self, request: web.Request, body: bytes, params: dict) -> None:
        if request.headers.get("X-AUTH-APIKEY") != API_KEY:
            raise CdxError(401, "Invalid credentials")
        want = hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
        if not hmac.compare_digest(request.headers.get("X-AUTH-SIGNATURE", ""), want):
            raise CdxError(401, "Invalid signature")
        stamp = params.get("timestamp")
        if not isinstance(stamp, int) or self.wall_ms() - stamp > WINDOW_MS:
            raise CdxError(400, "Request expired: timestamp is older than 10 seconds")

    # -- market data --------------------------------------------------------------------------
    def h_candles(self, p: dict) -> Any:
        pair, tf = p.get("pair", ""), RESOLUTION.get(p.get("resolution", ""))
        if tf is None or pair not in INSTRUMENTS:
            raise CdxError(400, "Invalid request")
        try:
            lo, hi = int(p["from"]) * 1000, int(p["to"]) * 1000
        except (KeyError, ValueError):
            raise CdxError(400, "Invalid request") from None
        hi = hi - 1 if self.to_exclusive else hi
        frame = self._series(pair if p.get("pcode") == "f" else "spot:" + pair, tf, lo,
                             min(hi, self.now_ms()))
        frame = frame.iloc[-self.cap:] if self.keep_newest else frame.iloc[:self.cap]
        return {"s": "ok", "data": [
            {"open": r.open, "high": r.high, "low": r.low, "volume": r.volume,
             "close": r.close, "time": int(r.timestamp)} for r in frame.itertuples()]}

    def _series(self, key: str, tf: str, lo: int, hi: int) -> pd.DataFrame:
        step = INTERVAL_MS[tf]
        stored = self.candles.get((key, "1m"))
        if stored is not None:
            if (key, tf) not in self._resampled:
                self._resampled[(key, tf)] = stored if tf == "1m" else resample(stored, tf)
            frame = self._resampled[(key, tf)]
            ts = frame["timestamp"]
            return frame[(ts >= lo) & (ts <= hi)].reset_index(drop=True)
        first = max(lo + (-lo) % step, LISTED_MS)
        return synthetic(key, np.arange(first, hi + 1, step, dtype=np.int64), tf)

    def h_prices(self, p: dict) -> Any:
        now = self.now_ms()
        return {"ts": now, "vs": 1, "prices": {
            pair: {"v": 1_000.0 * (i + 1), "ls": px, "mp": px, "h": px, "l": px, "pc": 0.0,
                   "fr": 5e-05, "mkt": pair[2:].replace("_", "")}
            for i, (pair, px) in enumerate(self.prices.items())}}

    def h_active(self, p: dict) -> Any:
        return list(INSTRUMENTS)

    def h_instrument(self, p: dict) -> Any:
        pair = p.get("pair", "")
        if pair not in INSTRUMENTS:
            raise CdxError(404, "Instrument not found")
        step, tick, _ = INSTRUMENTS[pair]
        return {"instrument": {
            "pair": pair, "status": "active", "kind": "perpetual", "settle_currency_short_name":
            "USDT", "margin_currency_short_name": "USDT", "unit_contract_value": 1.0,
            "quantity_increment": step, "min_trade_size": step, "min_quantity": step,
            "price_increment": tick, "min_notional": 5.0, "max_market_order_quantity": 1e6,
            "max_quantity": 1e7, "dynamic_position_leverage_details": {
                "5": 15_000_000.0, "10": 1_000_000.0, "20": 100_000.0, "25": 50_000.0}}}

    # -- trading ------------------------------------------------------------------------------
    def _pair(self, pair: Any) -> str:
        if pair not in INSTRUMENTS:
            raise CdxError(400, "Invalid pair")
        return str(pair)

    def h_create(self, p: dict) -> Any:
        o = p.get("order") or {}
        pair, side = self._pair(o.get("pair")), o.get("side")
        if side not in ("buy", "sell") or o.get("order_type") != "market_order":
            raise CdxError(422, "Invalid order")
        step = INSTRUMENTS[pair][0]
        qty = float(o.get("total_quantity") or 0)
        if qty < step or abs(qty / step - round(qty / step)) > 1e-6:
            raise CdxError(422, f"Quantity should be greater than {step} and divisible by it")
        pos = self.positions[pair]
        if o.get("leverage") is not None and float(o["leverage"]) != pos.leverage:
            raise CdxError(422, "Order leverage must be equal to position leverage")
        if qty * self.prices[pair] < 5.0:
            raise CdxError(400, "Minimum order value should be 5 USDT")
        p["_opens"] = pos.size == 0 or (pos.size > 0) == (side == "buy")
        done = self.execute(pair, side, qty)
        return [{**done, "status": "initial", "avg_price": 0.0, "remaining_quantity": qty}]

    def h_orders(self, p: dict) -> Any:
        statuses, side = set(str(p.get("status", "")).split(",")), p.get("side")
        if side not in ("buy", "sell") or not statuses - {""}:
            raise CdxError(400, "Invalid request")
        page, size = int(p.get("page") or 1), int(p.get("size") or 10)
        rows = [o for o in reversed(self.orders) if o["side"] == side
                and o["status"] in statuses]
        return [dict(o) for o in rows[(page - 1) * size:page * size]]

    def h_cancel(self, p: dict) -> Any:
        o = next((o for o in self.orders if o["id"] == p.get("id")), None)
        if o is None:
            raise CdxError(404, "Order not found")
        if o["status"] not in ("open", "untriggered", "initial"):
            raise CdxError(400, "This order cannot be cancelled")
        o["status"] = "cancelled"
        return {"message": "success", "status": 200, "code": 200}

    def _position_row(self, pair: str) -> dict:
        pos = self.positions[pair]
        tp = next((o["stop_price"] for o in self.untriggered(pair)
                   if o["order_type"] == "take_profit_market"), None)
        sl = next((o["stop_price"] for o in self.untriggered(pair)
                   if o["order_type"] == "stop_market"), None)
        return {"id": pos.id, "pair": pair, "active_pos": pos.size, "avg_price": pos.avg,
                "inactive_pos_buy": 0.0, "inactive_pos_sell": 0.0, "leverage": pos.leverage,
                "take_profit_trigger": tp, "stop_loss_trigger": sl, "margin_type":
                pos.margin_type, "mark_price": self.prices[pair],
                "margin_currency_short_name": "USDT", "updated_at": self.wall_ms()}

    def h_positions(self, p: dict) -> Any:
        pairs = [x for x in str(p.get("pairs") or "").split(",") if x] or list(INSTRUMENTS)
        return [self._position_row(self._pair(x)) for x in pairs]

    def h_leverage(self, p: dict) -> Any:
        self.positions[self._pair(p.get("pair"))].leverage = float(p.get("leverage") or 0)
        return {"message": "success", "status": 200, "code": 200}

    def h_margin_type(self, p: dict) -> Any:
        if p.get("margin_type") not in ("isolated", "crossed"):
            raise CdxError(400, "Invalid margin type")
        self.positions[self._pair(p.get("pair"))].margin_type = p["margin_type"]
        return {"message": "success", "status": 200, "code": 200}

    def h_tpsl(self, p: dict) -> Any:
        pair = next((x for x, pos in self.positions.items() if pos.id == p.get("id")), None)
        if pair is None:
            raise CdxError(404, "Position not found")
        return {leg: self._leg(pair, leg, p[leg]) for leg in LEG_KINDS if leg in p}

    def _leg(self, pair: str, leg: str, spec: dict) -> dict:
        kind, order_type, short = LEG_KINDS[leg]
        pos, px = self.positions[pair], self.prices[pair]
        refused = next((m for k, m in self.leg_rejects if k == kind), None)
        if refused is not None:
            self.leg_rejects.remove((kind, refused))
            return {"success": False, "error": refused}
        if not pos.size:
            return {"success": False, "error": "Position is not active"}
        if any(o["order_type"] == order_type for o in self.untriggered(pair)):
            return {"success": False, "error": f"{short} already exists"}
        trigger = float(spec.get("stop_price") or 0)
        falls = (kind == "stop") == (pos.size > 0)  # a long's stop and a short's target
        if falls and trigger >= px:
            return {"success": False, "error": "Trigger price should be less than the "
                                               "current price"}
        if not falls and trigger <= px:
            return {"success": False, "error": "Trigger price should be greater than the "
                                               "current price"}
        o = self._order(pair, "sell" if pos.size > 0 else "buy", order_type, 0.0,
                        stop_price=trigger, status="untriggered", stage="tpsl_exit",
                        order_category="complete_tpsl")
        return dict(o)

    def h_trades(self, p: dict) -> Any:
        pair = self._pair(p.get("pair"))
        return [dict(t) for t in self.trades if t["pair"] == pair]

    def h_wallets(self, p: dict) -> Any:
        return [{"id": "w-usdt", "currency_short_name": "USDT", "balance": str(self.balance),
                 "locked_balance": "0.0", "cross_order_margin": "0.0",
                 "cross_user_margin": "0.0"}]


ROUTES: dict[tuple[str, str], tuple[str, bool]] = {
    ("GET", CANDLES): ("h_candles", False),
    ("GET", "/market_data/v3/current_prices/futures/rt"): ("h_prices", False),
    ("GET", FUT + "/data/active_instruments"): ("h_active", False),
    ("GET", FUT + "/data/instrument"): ("h_instrument", False),
    ("POST", CREATE): ("h_create", True),
    ("POST", ORDERS): ("h_orders", True),
    ("POST", FUT + "/orders/cancel"): ("h_cancel", True),
    ("POST", FUT + "/positions"): ("h_positions", True),
    ("POST", FUT + "/positions/update_leverage"): ("h_leverage", True),
    ("POST", FUT + "/positions/margin_type"): ("h_margin_type", True),
    ("POST", TPSL): ("h_tpsl", True),
    ("POST", FUT + "/trades"): ("h_trades", True),
    ("GET", FUT + "/wallets"): ("h_wallets", True),
}
