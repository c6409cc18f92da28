"""A local fake of the KuCoin Futures REST API (USDT-M perpetuals): market data and trading on
one aiohttp server.

    fake = FakeKucoin(candles={("XBTUSDTM", "1m"): df}, now_ms=...)
    url = await fake.start()      # KUCOIN_DATA_URL / KUCOIN_TRADING_URL (every host: futures, spot)
    fake.set_price("XBTUSDTM", 50_000); fake.candle("XBTUSDTM", high, low, close)
    fake.fail("/api/v1/orders", 502, lost=True); fake.reject(path, "300003", "...")
    fake.quiet("XBTUSDTM", start_ms, end_ms)   # nothing traded: no candles there
    fake.requests -> [Request(method, path, params, status)]

Written from KuCoin's public docs (kucoin.com/docs/rest/futures-trading, docs-new) and ccxt
4.5.90's kucoin.py/kucoinfutures.py, which decides the endpoints: load_markets -> GET
/api/v1/contracts/active; fetch_time -> /api/v1/timestamp; fetch_ticker -> /api/v1/ticker;
create_order -> POST /api/v1/orders (stop orders too; attached SL/TP -> /api/v1/st-orders, not
used); fetch_order(clientOid) -> GET /api/v1/orders/byClientOid; fetch_open_orders(trigger) ->
GET /api/v1/stopOrders; cancel_order(clientOid) -> DELETE /api/v1/orders/client-order/{id};
fetch_positions -> /api/v1/positions; fetch_balance -> /api/v1/account-overview; fetch_my_trades
-> /api/v1/fills; fetch_position_mode -> GET /api/v2/position/getPositionMode; set_margin_mode ->
POST /api/v2/position/changeMarginMode; set_leverage (cross) -> POST
/api/v2/changeCrossUserLeverage; fetch_market_leverage_tiers ->
/api/v1/contracts/risk-limit/{symbol}.

Venue rules the fake keeps:
- Envelope {"code": "200000", "data": ...}; errors {"code": "<code>", "msg": "..."}, codes as
  strings. Gateway errors (400001-400007) answer HTTP 401, 429000 HTTP 429 with the
  gw-ratelimit-* headers, 500000 HTTP 500; business codes (300003, 330005, ...) HTTP 200.
- Signing (API key version 2): KC-API-SIGN = base64(HMAC-SHA256(secret, timestamp + METHOD +
  path?query + body)), KC-API-PASSPHRASE = base64(HMAC-SHA256(secret, passphrase)),
  KC-API-TIMESTAMP (ms) within 5 s of the server clock (400002). No sandbox: one key pair.
- Contracts count in lots: `size` is an integer number of lots, each `multiplier` base units
  (XBTUSDTM 0.001 BTC). `leverage` is required on an opening order; `marginMode` (ISOLATED by
  default) must be the symbol's (330005). One-way positions; a hedge-mode account refuses
  one-way orders (330012).
- clientOid: required, at most 40 of [A-Za-z0-9_-]; refused again only while an order holding
  it is ACTIVE (400100 validation.createOrder.clientOidDuplicated, see JKorf/Kucoin.Net#120 and
  Kucoin/kucoin-api-docs#468): a filled market order's id is taken again.
- Stop orders: `stop` down (price <= stopPrice) or up (price >= stopPrice), stopPriceType
  TP/MP/IP. A stop already crossed is NOT refused: it triggers at once. A triggered stop order
  becomes a market order with the same orderId (stopTriggered true). Reduce-only orders left
  without a position are cancelled. A candle reaching both legs triggers the stop first.
- Candles: GET /api/v1/kline/query?symbol&granularity(minutes: 1 5 15 30 60 120 240 480 720
  1440 10080)&from&to (ms), rows [time, open, high, low, close, volume] oldest first, at most
  `max_rows` (200 in older docs, 500 today) of the window, the oldest first; only `to`: the
  newest rows up to it. The docs do not say whether the bounds are inclusive: the fake takes
  both as inclusive (the client sends bounds off the grid, so either reading serves the same).
  Intervals where nothing traded have NO row; the forming candle is served.
- byClientOid of an unknown id answers code 200000 with data null.

ccxt 4.5.90 error mapping, observed against this fake (tests/fakes/test_kucoin_fake.py):
    venue code (HTTP)                 ccxt exception       note
    429000 (429)                      RateLimitExceeded
    500000 (500)                      ExchangeNotAvailable
    502 html, dropped connection      ExchangeNotAvailable outcome unknown: look the order up
    400002 (401)                      InvalidNonce         clock: resync, resend
    400003, 400004, 400005 (401)      AuthenticationError
    300003                            InsufficientFunds
    330005                            InvalidOrder         margin mode of the order != symbol's
    100004                            BadRequest           TRAP: means the order is gone
    100001                            OrderNotFound        TRAP: documented as invalid parameters
    400100 clientOidDuplicated        BadRequest           TRAP: a duplicate id (client maps it)
"""
from __future__ import annotations

import base64
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
from .okx import synthetic

API_KEY = "kucoin-test-key-0123"
SECRET = "kucoin-test-secret-abcdef"
PASSPHRASE = "kucoin-test-passphrase"
MINUTE = 60_000
GRANULARITIES = (1, 5, 15, 30, 60, 120, 240, 480, 720, 1440, 10080)
WEEK_ORIGIN = 4 * 1440 * MINUTE     # a Monday
CLIENT_OID = re.compile(r"^[A-Za-z0-9_-]{1,40}$")
LISTED_MS = 1_585_555_200_000       # XBTUSDTM's firstOpenDate
WINDOW_MS = 5_000                   # KC-API-TIMESTAMP tolerance


class KucoinError(Exception):
    """An error answer: {code, msg} with an HTTP status."""

    def __init__(self, code: str, msg: str, status: int = 200) -> None:
        super().__init__(msg)
        self.code, self.msg, self.status = code, msg, status


@dataclass
class Contract:
    """One USDT-margined perpetual of /api/v1/contracts/active."""

    symbol: str
    base: str
    multiplier: float
    tick: float
    max_leverage: int = 125
    turnover_24h: float = 5e8   # USDT


DEFAULT_CONTRACTS = (  # the real listings' multiplier and tick size
    Contract("XBTUSDTM", "XBT", 0.001, 0.1),
    Contract("ETHUSDTM", "ETH", 0.01, 0.01),
    Contract("LTCUSDTM", "LTC", 1.0, 0.01, 75),
)


@dataclass
class Position:
    """A one-way position: signed lots and the average entry."""

    qty: int = 0
    avg: float = 0.0
    realised: float = 0.0
    opened: int = 0


@dataclass
class Quiet:
    """A stretch of time where nothing traded on a contract: no candle opens in it."""

    symbol: str
    start: int
    end: int


def _num(x: float) -> str:
    return f"{x:.10f}".rstrip("0").rstrip(".") or "0"


def _bucket(ts: np.ndarray, step: int) -> np.ndarray:
    origin = WEEK_ORIGIN if step == 10080 * MINUTE else 0
    return ts - (ts - origin) % step


def resample(one_minute: pd.DataFrame, step: int) -> pd.DataFrame:
    """Candles of `step` ms from 1m rows, on the UTC grid; a bucket with no 1m row has none."""
    g = one_minute.assign(timestamp=_bucket(one_minute["timestamp"].to_numpy(), step)) \
        .groupby("timestamp", sort=True)
    return pd.DataFrame({"open": g["open"].first(), "high": g["high"].max(),
                         "low": g["low"].min(), "close": g["close"].last(),
                         "volume": g["volume"].sum()}).reset_index()


def _html(status: int, headers: dict) -> web.Response:
    reason = {502: "Bad Gateway", 504: "Gateway Time-out"}.get(status, "Error")
    return web.Response(status=status, headers=headers, content_type="text/html",
                        text=f"<html><body><h1>{status} {reason}</h1></body></html>")


class FakeKucoin(FakeVenue):
    """The fake venue: contracts, candles, an order engine, a clock, faults and a request log."""

    RATE_LIMIT_HEADERS = {"gw-ratelimit-limit": "2000", "gw-ratelimit-remaining": "0",
                          "gw-ratelimit-reset": "1000"}

    def __init__(self, candles: dict[tuple[str, str], pd.DataFrame] | None = None, *,
                 now_ms: int | None = None, contracts: tuple[Contract, ...] = DEFAULT_CONTRACTS,
                 balance: float = 10_000.0, max_rows: int = 500, latency_s: float = 0.0,
                 hedge_mode: bool = False) -> None:
        super().__init__(now_ms=now_ms, latency_s=latency_s)
        self.candles = {k: v.astype({"timestamp": "int64"}).sort_values("timestamp")
                        .reset_index(drop=True) for k, v in (candles or {}).items()}
        self.contracts = {c.symbol: c for c in contracts}
        self.prices = {"XBTUSDTM": 50_000.0, "ETHUSDTM": 3_000.0, "LTCUSDTM": 50.0}
        self.balance = balance
        self.max_rows = max_rows
        self.hedge_mode = hedge_mode
        self.taker_fee = 0.0006
        self.margin_modes: dict[str, str] = {}
        self.cross_leverage: dict[str, int] = {}
        self.positions: dict[str, Position] = {}
        self.orders: list[dict] = []
        self.fills: list[dict] = []
        self.quiets: list[Quiet] = []
        self._move: tuple[str, float] | None = None
        self._ids = itertools.count(230_000_000_000_000_000)
        self._resampled: dict[tuple[str, int, int], pd.DataFrame] = {}

    # -- controls: the clock, fail, reject (HTTP 200 and a code) are FakeVenue's; rate_limit
    # answers HTTP 429, code 429000 with the gw-ratelimit-* headers ---------------------------
    def quiet(self, symbol: str, start: int, end: int) -> None:
        """Nothing traded on `symbol` in [start, end): candles opening there are not served."""
        self.quiets.append(Quiet(symbol, start, end))
        self._resampled.clear()

    def move_after_next_entry(self, symbol: str, price: float) -> None:
        """The market jumps to `price` right after the next opening market order fills."""
        self._move = (symbol, price)

    def set_price(self, symbol: str, price: float) -> None:
        """Move the market; crossed stop orders trigger at their stop price."""
        self.candle(symbol, price, price, price)

    def candle(self, symbol: str, high: float, low: float, close: float) -> None:
        """A later candle: stop orders within [low, high] trigger (stops before targets)."""
        waiting = [o for o in self.orders if o["symbol"] == symbol and self._waiting(o)]
        for o in sorted(waiting, key=lambda o: not self._is_stop_loss(o)):
            px = float(o["stopPrice"])
            if self._waiting(o) and (low <= px if o["stop"] == "down" else high >= px):
                self._trigger(o, px)
        self.prices[symbol] = close

    def position(self, symbol: str) -> int:
        """Signed position in lots."""
        return self.positions.get(symbol, Position()).qty

    def open_stops(self, symbol: str | None = None) -> list[dict]:
        """Stop orders still waiting."""
        return [o for o in self.orders if self._waiting(o) and symbol in (None, o["symbol"])]

    # -- lifecycle ----------------------------------------------------------------------------
    async def start(self) -> FakeKucoin:  # type: ignore[override]
        """Listen on loopback (.url); returns the fake itself."""
        await super().start()
        return self

    # -- HTTP plumbing ------------------------------------------------------------------------
    async def _handle(self, request: web.Request) -> web.StreamResponse:
        body = await request.text() if request.method in ("POST", "PUT") else ""
        entry = Request(request.method, request.path, dict(request.query))
        self.requests.append(entry)
        await self._latency()
        fault: Fault | None = None
        try:
            if body:
                entry.params = {**entry.params, **json.loads(body)}
            route = self._route(request.method, request.path)
            fault = await self._next_fault(request.method, request.path, entry.params)
            if fault and fault.kind == "status" and fault.status is not None:
                return self._recorded(entry, self._fault_answer(fault))
            if route is None:
                raise KucoinError("404000", "Url Not Found", 404)
            name, private, args = route
            if private:
                self._authenticate(request, body)
            if fault and fault.kind == "reject":
                raise KucoinError(fault.code, fault.msg, fault.status or 200)
            data = getattr(self, name)(entry.params, *args)
            response = _reply({"code": "200000", "data": data})
        except KucoinError as e:
            response = _reply({"code": e.code, "msg": e.msg}, e.status)
        except ValueError:
            response = _reply({"code": "400100", "msg": "Parameter Error"}, 400)
        if fault and fault.kind == "lost":
            return self._lost(request, entry, fault)
        return self._recorded(entry, response)

    def _fault_answer(self, fault: Fault) -> web.Response:
        return self._status(fault.status or 502, fault.headers)

    @staticmethod
    def _status(status: int, headers: dict) -> web.Response:
        if status == 429:
            return _reply({"code": "429000", "msg": "Too many requests. System-level rate limit "
                                                    "exceeded."}, 429, headers)
        if status == 500:
            return _reply({"code": "500000", "msg": "Internal Server Error"}, 500, headers)
        return _html(status, headers)

    def _route(self, method: str, path: str) -> tuple[str, bool, tuple] | None:
        for (m, pattern), (name, private) in ROUTES.items():
            match = re.fullmatch(pattern, path)
            if m == method and match:
                return name, private, match.groups()
        return None

    def _authenticate(self, request: web.Request, body: str) -> None:
        h = request.headers
        if not all(h.get(k) for k in ("KC-API-KEY", "KC-API-SIGN", "KC-API-TIMESTAMP",
                                      "KC-API-PASSPHRASE")):
            raise KucoinError("400001", "Please check the header of your request for "
                                        "KC-API-KEY, KC-API-SIGN, KC-API-TIMESTAMP, "
                                        "KC-API-PASSPHRASE", 401)
        if h["KC-API-KEY"] != API_KEY:
            raise KucoinError("400003", "KC-API-KEY not exists", 401)
        stamp = h["KC-API-TIMESTAMP"]
        if not stamp.isdigit() or abs(int(time.time() * 1000) - int(stamp)) > WINDOW_MS:
            raise KucoinError("400002", "KC-API-TIMESTAMP Invalid", 401)
        if h["KC-API-PASSPHRASE"] != _sign(PASSPHRASE):
            raise KucoinError("400004", "Invalid KC-API-PASSPHRASE", 401)
        if not hmac.compare_digest(h["KC-API-SIGN"],
                                   _sign(stamp + request.method + request.raw_path + body)):
            raise KucoinError("400005", "Invalid KC-API-SIGN", 401)

    def _contract(self, p: dict, symbol: str | None = None) -> Contract:
        name = symbol or p.get("symbol")
        if name not in self.contracts:
            raise KucoinError("100003", "Contract parameter invalid")
        return self.contracts[name]

    # -- public endpoints ---------------------------------------------------------------------
    def h_timestamp(self, p: dict) -> int:
        return self.now_ms()

    def h_status(self, p: dict) -> dict:
        return {"status": "open", "msg": ""}

    def h_contracts(self, p: dict) -> list:
        return [self._contract_row(c) for c in self.contracts.values()]

    def _contract_row(self, c: Contract) -> dict:
        px = self.prices.get(c.symbol, 1.0)
        return {"symbol": c.symbol, "rootSymbol": "USDT", "type": "FFWCSX",
                "firstOpenDate": LISTED_MS, "expireDate": None, "settleDate": None,
                "baseCurrency": c.base, "quoteCurrency": "USDT", "settleCurrency": "USDT",
                "maxOrderQty": 1_000_000, "maxPrice": 1_000_000.0, "lotSize": 1,
                "tickSize": c.tick, "indexPriceTickSize": c.tick, "multiplier": c.multiplier,
                "initialMargin": 0.008, "maintainMargin": 0.004, "maxRiskLimit": 100_000,
                "minRiskLimit": 100_000, "riskStep": 50_000, "makerFeeRate": 0.0002,
                "takerFeeRate": self.taker_fee, "isDeleverage": True, "isQuanto": False,
                "isInverse": False, "markMethod": "FairPrice", "fairMethod": "FundingRate",
                "status": "Open", "fundingFeeRate": 0.0001, "openInterest": "1000000",
                "turnoverOf24h": c.turnover_24h, "volumeOf24h": c.turnover_24h / px,
                "markPrice": px, "indexPrice": px, "lastTradePrice": px,
                "nextFundingRateTime": 3_600_000, "maxLeverage": c.max_leverage,
                "supportCross": True, "lowPrice": px, "highPrice": px, "priceChgPct": 0.0,
                "priceChg": 0.0}

    def h_ticker(self, p: dict) -> dict:
        c = self._contract(p)
        px = _num(self.prices.get(c.symbol, 1.0))
        return {"sequence": 1, "symbol": c.symbol, "side": "buy", "size": 1, "tradeId": "1",
                "price": px, "bestBidPrice": px, "bestBidSize": 10, "bestAskPrice": px,
                "bestAskSize": 10, "ts": self.now_ms() * 1_000_000}

    def h_risk_limit(self, p: dict, symbol: str) -> list:
        c = self._contract(p, symbol)
        return [{"symbol": c.symbol, "level": 1, "maxRiskLimit": 200_000, "minRiskLimit": 0,
                 "maxLeverage": c.max_leverage, "initialMargin": 0.008,
                 "maintainMargin": 0.004}]

    def h_klines(self, p: dict) -> list:
        c = self._contract(p)
        granularity = int(p.get("granularity") or 0)
        if granularity not in GRANULARITIES:
            raise KucoinError("400100", "granularity not in the given range!", 400)
        step = granularity * MINUTE
        now = self.now_ms()
        current = int(_bucket(np.array([now]), step)[0])
        lo = int(p["from"]) if p.get("from") else None
        hi = min(int(p["to"]), current) if p.get("to") else current
        series = self._series(c.symbol, step, lo, hi, now)
        ts = series["timestamp"].to_numpy()
        inside = series[(ts <= hi) & ((ts >= lo) if lo is not None else True)]
        rows = inside.head(self.max_rows) if lo is not None else inside.tail(self.max_rows)
        return [[int(r.timestamp), r.open, r.high, r.low, r.close, r.volume]
                for r in rows.itertuples(index=False)]

    def _series(self, symbol: str, step: int, lo: int | None, hi: int, now: int
                ) -> pd.DataFrame:
        if (symbol, "1m") in self.candles:
            key = (symbol, step, now)
            if key not in self._resampled:
                one = self.candles[(symbol, "1m")]
                one = one[one["timestamp"] <= now]
                for q in self.quiets:
                    ts = one["timestamp"]
                    one = one[(q.symbol != symbol) | (ts < q.start) | (ts >= q.end)]
                self._resampled = {key: resample(one, step)}
            return self._resampled[key]
        start = lo if lo is not None else hi - (self.max_rows - 1) * step
        first = int(_bucket(np.array([max(start, LISTED_MS)]), step)[0])
        first += step if first < start else 0
        grid = np.arange(first, hi + 1, step, dtype=np.int64)[: self.max_rows] if lo is not None \
            else np.arange(first, hi + 1, step, dtype=np.int64)[-self.max_rows:]
        frame = synthetic(symbol, grid, grid + step)
        for q in self.quiets:
            ts = frame["timestamp"]
            frame = frame[(q.symbol != symbol) | (ts < q.start) | (ts >= q.end)]
        return frame

    # -- account ------------------------------------------------------------------------------
    def h_position_mode(self, p: dict) -> dict:
        return {"positionMode": 1 if self.hedge_mode else 0}

    def h_switch_position_mode(self, p: dict) -> dict:
        if any(x.qty for x in self.positions.values()):
            raise KucoinError("300000", "There are open positions")
        self.hedge_mode = str(p.get("positionMode")) == "1"
        return {"positionMode": 1 if self.hedge_mode else 0}

    def margin_mode(self, symbol: str) -> str:
        return self.margin_modes.get(symbol, "ISOLATED")

    def h_get_margin_mode(self, p: dict) -> dict:
        c = self._contract(p)
        return {"symbol": c.symbol, "marginMode": self.margin_mode(c.symbol)}

    def h_change_margin_mode(self, p: dict) -> dict:
        c = self._contract(p)
        mode = str(p.get("marginMode", ""))
        if mode not in ("ISOLATED", "CROSS"):
            raise KucoinError("400100", "marginMode not in the given range!", 400)
        if mode != self.margin_mode(c.symbol) and (self.position(c.symbol) or self.open_stops(
                c.symbol)):
            raise KucoinError("300000", "Margin mode cannot be changed with an open position "
                                        "or orders")
        self.margin_modes[c.symbol] = mode
        return {"symbol": c.symbol, "marginMode": mode}

    def h_cross_leverage(self, p: dict) -> bool:
        c = self._contract(p)
        self.cross_leverage[c.symbol] = int(float(p.get("leverage") or 0))
        return True

    def h_overview(self, p: dict) -> dict:
        upl = sum(self._upl(s) for s in self.positions)
        margin = sum(abs(x.qty) * self.contracts[s].multiplier * x.avg / 20
                     for s, x in self.positions.items())
        equity = self.balance + upl
        return {"accountEquity": equity, "unrealisedPNL": upl, "marginBalance": equity,
                "positionMargin": margin, "orderMargin": 0, "frozenFunds": 0,
                "availableBalance": equity - margin, "currency": p.get("currency", "USDT"),
                "riskRatio": 0}

    def _upl(self, symbol: str) -> float:
        x = self.positions[symbol]
        return (self.prices[symbol] - x.avg) * x.qty * self.contracts[symbol].multiplier

    def h_positions(self, p: dict) -> list:
        return [self._position_row(s) for s, x in self.positions.items() if x.qty
                and p.get("currency") in (None, "USDT")]

    def _position_row(self, symbol: str) -> dict:
        x, c = self.positions[symbol], self.contracts[symbol]
        value = x.qty * c.multiplier * self.prices[symbol]
        return {"id": f"pos-{symbol}", "symbol": symbol, "crossMode": self.margin_mode(
                    symbol) == "CROSS", "marginMode": self.margin_mode(symbol),
                "positionSide": "BOTH", "leverage": 20, "autoDeposit": False,
                "maintMarginReq": 0.004, "riskLimit": 200_000, "realLeverage": 20,
                "delevPercentage": 0.1, "openingTimestamp": x.opened,
                "currentTimestamp": self.now_ms(), "currentQty": x.qty, "currentCost": value,
                "currentComm": 0, "unrealisedCost": value, "realisedGrossCost": 0,
                "realisedCost": 0, "isOpen": True, "markPrice": self.prices[symbol],
                "markValue": value, "posCost": value, "posCross": 0, "posInit": abs(value) / 20,
                "posComm": 0, "posLoss": 0, "posMargin": abs(value) / 20, "posMaint": 0,
                "maintMargin": abs(value) / 20, "realisedGrossPnl": x.realised,
                "realisedPnl": x.realised, "unrealisedPnl": self._upl(symbol),
                "unrealisedPnlPcnt": 0, "unrealisedRoePcnt": 0, "avgEntryPrice": x.avg,
                "liquidationPrice": 0, "bankruptPrice": 0, "settleCurrency": "USDT",
                "isInverse": False}

    # -- orders -------------------------------------------------------------------------------
    def h_place(self, p: dict) -> dict:
        c = self._contract(p)
        cid = str(p.get("clientOid") or "")
        if not CLIENT_OID.match(cid):
            raise KucoinError("400100", "clientOid is invalid", 400)
        if any(o["clientOid"] == cid and o["isActive"] or self._waiting(o)
               and o["clientOid"] == cid for o in self.orders):
            raise KucoinError("400100", "validation.createOrder.clientOidDuplicated", 200)
        side = p.get("side")
        if side not in ("buy", "sell"):
            raise KucoinError("400100", "side not in the given range!", 400)
        if p.get("type", "limit") != "market":
            raise KucoinError("300000", "the fake takes market orders only")
        size = p.get("size")
        if not isinstance(size, int) or isinstance(size, bool) or size < 1:
            raise KucoinError("300000", "Order size must be a positive integer number of lots")
        reduce_only = p.get("reduceOnly") is True or p.get("closeOrder") is True
        if not reduce_only and not p.get("leverage"):
            raise KucoinError("100001", "leverage is required")
        if str(p.get("marginMode", "ISOLATED")).upper() != self.margin_mode(c.symbol):
            raise KucoinError("330005", "The order's margin mode does not match the selected "
                                        "one. Please switch and try again.")
        if self.hedge_mode:
            raise KucoinError("330012", "Your order is in One-Way Mode, while your account is "
                                        "set to Hedge Mode. Update your settings so they match "
                                        "and try again.")
        order = self._new_order(c, p, cid, side, size, reduce_only)
        if order["stop"]:
            if p.get("stop") not in ("up", "down") or not p.get("stopPrice"):
                raise KucoinError("100001", "stop and stopPrice are required together")
            px = self.prices[c.symbol]
            if (px <= order["stopPrice"]) if order["stop"] == "down" \
                    else (px >= order["stopPrice"]):
                self._trigger(order, px)  # a crossed stop is not refused: it fires
        else:
            self._market(order, self.prices[c.symbol])
        return {"orderId": order["id"], "clientOid": cid}

    def _new_order(self, c: Contract, p: dict, cid: str, side: str, size: int,
                   reduce_only: bool) -> dict:
        now = self.now_ms()
        stop = p.get("stop") or ""
        order = {"id": str(next(self._ids)), "symbol": c.symbol, "type": "market",
                 "side": side, "price": "0", "size": size, "value": "0", "dealValue": "0",
                 "dealSize": 0, "filledValue": "0", "filledSize": 0, "avgDealPrice": "0",
                 "stp": "", "stop": stop, "stopPriceType": p.get("stopPriceType", "") if stop
                 else "", "stopTriggered": False,
                 "stopPrice": float(p["stopPrice"]) if stop and p.get("stopPrice") else None,
                 "timeInForce": "GTC", "postOnly": False, "hidden": False, "iceberg": False,
                 "leverage": str(p.get("leverage", "")), "forceHold": False,
                 "closeOrder": p.get("closeOrder") is True, "visibleSize": 0,
                 "clientOid": cid, "remark": None, "tags": "", "isActive": not stop,
                 "cancelExist": False, "createdAt": now, "updatedAt": now, "endAt": None,
                 "orderTime": now * 1_000_000, "settleCurrency": "USDT",
                 "marginMode": self.margin_mode(c.symbol), "status": "open",
                 "reduceOnly": reduce_only}
        self.orders.append(order)
        return order

    def _waiting(self, o: dict) -> bool:
        return bool(o["stop"]) and not o["stopTriggered"] and o["status"] == "open"

    @staticmethod
    def _is_stop_loss(o: dict) -> bool:
        return (o["side"] == "sell") == (o["stop"] == "down")

    def _trigger(self, order: dict, px: float) -> None:
        order.update({"stopTriggered": True, "isActive": True})
        self._market(order, px)

    def _market(self, order: dict, px: float) -> None:
        """Fill a market order at `px` (reduce-only: at most the position, none when flat)."""
        symbol, c = order["symbol"], self.contracts[order["symbol"]]
        pos = self.positions.setdefault(symbol, Position())
        sign = 1 if order["side"] == "buy" else -1
        size = order["size"]
        if order["reduceOnly"]:
            size = min(size, abs(pos.qty)) if pos.qty and (pos.qty > 0) != (sign > 0) else 0
        now = self.now_ms()
        order.update({"updatedAt": now, "endAt": now, "isActive": False, "status": "done"})
        if not size:
            order["cancelExist"] = True
            return
        value = size * c.multiplier * px
        order.update({"filledSize": size, "dealSize": size, "filledValue": _num(value),
                      "dealValue": _num(value), "value": _num(value), "avgDealPrice": _num(px)})
        pnl = _apply(pos, sign * size, px, c.multiplier, now)
        fee = value * self.taker_fee
        self.balance += pnl - fee
        self.fills.append({"symbol": symbol, "tradeId": str(next(self._ids)),
                           "orderId": order["id"], "side": order["side"], "liquidity": "taker",
                           "forceTaker": True, "price": _num(px), "size": size,
                           "value": _num(value), "openFeePay": _num(fee), "closeFeePay": "0",
                           "stop": order["stop"], "feeRate": _num(self.taker_fee),
                           "fixFee": "0", "feeCurrency": "USDT", "tradeTime": now * 1_000_000,
                           "subTradeType": None, "marginMode": order["marginMode"],
                           "displayType": "market", "fee": _num(fee), "settleCurrency": "USDT",
                           "orderType": "market", "tradeType": "trade", "createdAt": now})
        if self._move and self._move[0] == symbol and not order["reduceOnly"] \
                and not order["stop"]:
            self.prices[symbol], self._move = self._move[1], None
        if pos.qty == 0:  # reduce-only stop orders left without a position are cancelled
            for o in self.open_stops(symbol):
                if o["reduceOnly"]:
                    o.update({"status": "done", "cancelExist": True, "updatedAt": now})

    def h_by_client_oid(self, p: dict) -> dict | None:
        cid = p.get("clientOid")
        found = [o for o in self.orders if o["clientOid"] == cid]
        return dict(found[-1]) if found else None

    def h_order(self, p: dict, order_id: str) -> dict:
        for o in self.orders:
            if o["id"] == order_id:
                return dict(o)
        raise KucoinError("100001", "error.getOrder.orderNotExist")

    def h_stop_orders(self, p: dict) -> dict:
        rows = [dict(o) for o in reversed(self.open_stops(p.get("symbol")))]
        return {"currentPage": 1, "pageSize": 50, "totalNum": len(rows), "totalPage": 1,
                "items": rows[:50]}

    def h_cancel_by_client_oid(self, p: dict, cid: str) -> dict:
        for o in self.orders:
            if o["clientOid"] == cid and o["symbol"] == p.get("symbol") and (
                    self._waiting(o) or o["isActive"]):
                o.update({"status": "done", "cancelExist": True, "isActive": False,
                          "updatedAt": self.now_ms()})
                return {"clientOid": cid}
        raise KucoinError("100004", "order_not_exist_or_not_allow_to_cancel")

    def h_cancel(self, p: dict, order_id: str) -> dict:
        for o in self.orders:
            if o["id"] == order_id and (self._waiting(o) or o["isActive"]):
                o.update({"status": "done", "cancelExist": True, "isActive": False})
                return {"cancelledOrderIds": [order_id]}
        raise KucoinError("100004", "order_not_exist_or_not_allow_to_cancel")

    def h_fills(self, p: dict) -> dict:
        start = int(p.get("startAt") or 0)
        rows = [f for f in reversed(self.fills) if f["createdAt"] >= start
                and p.get("symbol") in (None, f["symbol"])]
        size = int(p.get("pageSize") or 50)
        return {"currentPage": 1, "pageSize": size, "totalNum": len(rows), "totalPage": 1,
                "items": rows[:size]}


def _apply(pos: Position, signed: int, px: float, multiplier: float, now: int) -> float:
    """Add a signed fill to a one-way position; returns the realised PnL in USDT."""
    if pos.qty == 0 or (pos.qty > 0) == (signed > 0):
        total = abs(pos.qty) + abs(signed)
        pos.avg = (pos.avg * abs(pos.qty) + px * abs(signed)) / total
        pos.opened = pos.opened if pos.qty else now
        pos.qty += signed
        return 0.0
    closed = min(abs(pos.qty), abs(signed))
    pnl = (px - pos.avg) * closed * multiplier * (1 if pos.qty > 0 else -1)
    rest = pos.qty + signed
    if rest == 0:
        pos.qty, pos.avg = 0, 0.0
    elif (rest > 0) != (pos.qty > 0):
        pos.qty, pos.avg, pos.opened = rest, px, now
    else:
        pos.qty = rest
    pos.realised += pnl
    return pnl


def _sign(text: str) -> str:
    return base64.b64encode(hmac.new(SECRET.encode(), text.encode(), hashlib.sha256)
                            .digest()).decode()


def _reply(payload: Any, status: int = 200, headers: dict | None = None) -> web.Response:
    return web.Response(text=json.dumps(payload, separators=(",", ":")), status=status,
                        headers=headers, content_type="application/json")


_V1, _V2 = "/api/v1/", "/api/v2/"
ROUTES: dict[tuple[str, str], tuple[str, bool]] = {  # (method, path regex) -> (handler, private)
    ("GET", _V1 + "timestamp"): ("h_timestamp", False),
    ("GET", _V1 + "status"): ("h_status", False),
    ("GET", _V1 + "contracts/active"): ("h_contracts", False),
    ("GET", _V1 + "ticker"): ("h_ticker", False),
    ("GET", _V1 + "kline/query"): ("h_klines", False),
    ("GET", _V1 + "contracts/risk-limit/([A-Z0-9]+)"): ("h_risk_limit", False),
    ("GET", _V2 + "position/getPositionMode"): ("h_position_mode", True),
    ("POST", _V2 + "position/switchPositionMode"): ("h_switch_position_mode", True),
    ("GET", _V2 + "position/getMarginMode"): ("h_get_margin_mode", True),
    ("POST", _V2 + "position/changeMarginMode"): ("h_change_margin_mode", True),
    ("POST", _V2 + "changeCrossUserLeverage"): ("h_cross_leverage", True),
    ("GET", _V1 + "account-overview"): ("h_overview", True),
    ("GET", _V1 + "positions"): ("h_positions", True),
    ("POST", _V1 + "orders"): ("h_place", True),
    ("GET", _V1 + "orders/byClientOid"): ("h_by_client_oid", True),
    ("GET", _V1 + "orders/([0-9]+)"): ("h_order", True),
    ("GET", _V1 + "stopOrders"): ("h_stop_orders", True),
    ("DELETE", _V1 + "orders/client-order/([A-Za-z0-9_-]+)"): ("h_cancel_by_client_oid", True),
    ("DELETE", _V1 + "orders/([0-9]+)"): ("h_cancel", True),
    ("GET", _V1 + "fills"): ("h_fills", True),
}
