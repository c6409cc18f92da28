"""A local fake of Bitget's API v2 (USDT-M futures, "mix"): market data and trading, one server.

    fake = FakeBitget({("BTCUSDT", "1m"): df}, now_ms=...)   # data on a frozen clock
    url = await fake.start()
    fake.set_price("BTCUSDT", 50_000); fake.candle("BTCUSDT", high, low, close)
    fake.fail(path, 502, lost=True); fake.reject(path, "40917", "..."); fake.rate_limit(path)
    fake.calls("POST", "/api/v2/mix/order/place-order") -> [params, ...]

Written from Bitget's API documentation (https://www.bitget.com/api-doc/contract/...), and
ccxt 4.5.90's bitget.py for which endpoints its unified methods call:
- Envelope {"code": "00000", "msg": "success", "requestTime": ms, "data": ...}; errors carry a
  string code and data null, HTTP 400 (parameters, orders), 401 (keys, signature), 429 (rate
  limit, code "429"), 5xx html from the gateway. Market data: 20 requests/s per IP per
  endpoint (Get-Candle-Data "Frequency limit: 20 times/1s (IP)").
- Signing (common/signature): ACCESS-SIGN = base64(HMAC-SHA256(secret, timestamp + METHOD +
  requestPath + "?" + queryString + body)), ACCESS-TIMESTAMP in ms within 30 s of the server
  (40008), ACCESS-KEY (40006), ACCESS-PASSPHRASE (40012), signature (40009). Demo trading
  (common/demotrading): the same host, demo keys, and the header PAPTRADING: 1; a key used in
  the other environment is refused (40099).
- Spot and perpetual share the id BTCUSDT: the mix endpoints name the family by productType
  (USDT-FUTURES; the demo's SUSDT-FUTURES is its own product, unused with PAPTRADING).
- Contracts (market/Get-All-Symbols-Contracts): sizes in the base coin, sizeMultiplier step,
  minTradeNum minimum, pricePlace/priceEndStep tick. Tickers carry 24h quoteVolume.
- Candles (market/Get-Candle-Data, Get-History-Candle-Data): rows [ts, o, h, l, c, base vol,
  quote vol], oldest first, the forming candle included. A page is anchored at endTime: the
  newest `limit` candles opening at or before it (and not before startTime, when sent).
  /market/candles: limit default 100, max 1000, only a recent window per granularity (1m-5m
  one month, 15m 52 days, 30m 62 days, 1H 83 days, 4H 240 days, 6H 360 days);
  /market/history-candles: limit default 100, max 200, any age. A range over 90 days is
  refused (40808 here). Granularities 1m 3m 5m 15m 30m 1H 4H 6H 12H 1D 1W 1M, *utc variants.
- Trading (contract/trade, contract/plan): one-way positions (posMode one_way_mode; a hedge
  account refuses one-way orders, 40774); market orders fill at the set price; reduceOnly YES
  with nothing to reduce is 22002; clientOid 1-32 of [A-Za-z0-9_] (43011), a reused clientOid
  is 40786 (ccxt: plain ExchangeError). place-order answers only {orderId, clientOid}; the
  order detail (GET /order/detail) never returns plan orders (40109). Position TP/SL
  (place-tpsl-order, planType pos_loss/pos_profit, holdSide buy|sell in one-way mode) close the
  whole position at the trigger, are listed by orders-plan-pending/-history with planType
  profit_loss, cancelled by cancel-plan-order (planType defaults to normal_plan: a position
  TP/SL is cancelled only when named by its own planType; ids it cannot cancel come back in
  failureList under code 00000), and cancelled when the position closes. A stop
  on the wrong side of the mark price is refused: long 40917, short 45122.

ccxt 4.5.90 error mapping, pinned by tests/fakes/test_bitget_fake.py:
    venue code (HTTP)        ccxt exception           note
    429 (429)                DDoSProtection           our table: RATE_LIMITED
    40008 (401)              InvalidNonce             our clock: resync, resend
    40006, 40009, 40012      AuthenticationError
    40099 (401)              ExchangeError            TRAP: the demo/live key mix-up, unmapped
    40109, 43001, 40768      OrderNotFound
    43025                    InvalidOrder             TRAP: only 'plan order gone'
    40786 (400)              ExchangeError            TRAP: the duplicate clientOid, unmapped
    40774, 40917, 45122      InvalidOrder
    22002 (400)              ExchangeError            nothing to reduce
    502/504 html             ExchangeNotAvailable / RequestTimeout
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
from urllib.parse import unquote

import numpy as np
import pandas as pd
from aiohttp import web

from .base import FakeVenue, Fault, Request
from .binance_data import _text, resample, synthetic

API_KEY = "bitget-test-key-0123"
SECRET = "bitget-test-secret-abcdef"
PASSPHRASE = "bitget-test-passphrase"
MINUTE = 60_000
DAY = 1440 * MINUTE
PRODUCT = "USDT-FUTURES"
LISTED_MS = 1_573_430_400_000
# Bitget granularity -> (binance interval name for the shared helpers, recent window in days).
GRANULARITY = {"1m": ("1m", 30), "3m": ("3m", 30), "5m": ("5m", 30), "15m": ("15m", 52),
               "30m": ("30m", 62), "1H": ("1h", 83), "4H": ("4h", 240),
               "6Hutc": ("6h", 360), "12Hutc": ("12h", 720), "1Dutc": ("1d", 1440)}
INTERVAL_MS = {"1m": MINUTE, "3m": 3 * MINUTE, "5m": 5 * MINUTE, "15m": 15 * MINUTE,
               "30m": 30 * MINUTE, "1h": 60 * MINUTE, "4h": 240 * MINUTE, "6h": 360 * MINUTE,
               "12h": 720 * MINUTE, "1d": DAY}
CLIENT_OID = re.compile(r"^[A-Za-z0-9_]{1,32}$")
MAX_SPAN_MS = 90 * DAY


class BitgetError(Exception):
    """An error answer: code (string), msg, HTTP status."""

    def __init__(self, code: str, msg: str, status: int = 400) -> None:
        super().__init__(msg)
        self.code, self.msg, self.status = code, msg, status


@dataclass
class Contract:
    """One USDT-M perpetual of /mix/market/contracts (values like the real listing)."""

    symbol: str
    size_step: str = "0.0001"
    min_size: str = "0.0001"
    price_place: str = "1"
    quote_volume: float = 5e9

    @property
    def base(self) -> str:
        return self.symbol.removesuffix("USDT")


DEFAULT_CONTRACTS = (Contract("BTCUSDT"), Contract("ETHUSDT", "0.01", "0.01", "2"),
                     Contract("LTCUSDT", "0.1", "0.1", "2", 5e7))


def _steps(value: float, step: str) -> bool:
    n = value / float(step)
    return abs(n - round(n)) < 1e-6


class FakeBitget(FakeVenue):
    """The fake venue: candles, contracts, a one-way order engine, faults, a request log."""

    def __init__(self, candles: dict[tuple[str, str], pd.DataFrame] | None = None, *,
                 now_ms: int | None = None, demo: bool = False, balance: float = 10_000.0,
                 prices: dict[str, float] | None = None, latency_s: float = 0.0,
                 contracts: tuple[Contract, ...] = DEFAULT_CONTRACTS) -> None:
        super().__init__(now_ms=now_ms, latency_s=latency_s)
        self.candles = {k: v.astype({"timestamp": "int64"}).sort_values("timestamp")
                        .reset_index(drop=True) for k, v in (candles or {}).items()}
        self.contracts = {c.symbol: c for c in contracts}
        self.prices = {"BTCUSDT": 50_000.0, "ETHUSDT": 3_000.0, "LTCUSDT": 50.0,
                       **(prices or {})}
        self.demo = demo               # which environment the API key belongs to
        self.balance = balance
        self.pos_mode = "one_way_mode"
        self.margin_mode: dict[str, str] = {}
        self.leverage: dict[str, str] = {}
        self.positions: dict[str, list[float]] = {}   # symbol -> [signed size, average entry]
        self.orders: list[dict] = []
        self.plans: list[dict] = []
        self.fills: list[dict] = []
        self._ids = itertools.count(1_300_000_000_000_000_000)
        self._resampled: dict[tuple, pd.DataFrame] = {}

    # -- scripting: the clock, fail and rate_limit (HTTP 429 {"code":"429"}) are FakeVenue's --
    def reject(self, path: str, code: str, msg: str, times: int = 1, *,  # type: ignore[override]
               when=None) -> None:
        """Refuse the next `times` matching calls with Bitget's numeric `code` (HTTP 400)."""
        super().reject(path, int(code), msg, times, status=400, when=when)

    def set_price(self, symbol: str, price: float) -> None:
        """Move the mark and last price; crossed TP/SL orders fire at their trigger."""
        self.candle(symbol, price, price, price)

    def candle(self, symbol: str, high: float, low: float, close: float) -> None:
        """A later candle: TP/SL within [low, high] fire (the stop first), then price = close."""
        for plan in sorted(self.open_plans(symbol), key=lambda p: p["planType"] != "pos_loss"):
            if plan["planStatus"] == "live" and self._crossed(plan, high, low):
                self._fire(plan)
        self.prices[symbol] = close

    def position(self, symbol: str) -> float:
        """The signed position in base units."""
        return self.positions.get(symbol, [0.0, 0.0])[0]

    def open_plans(self, symbol: str | None = None) -> list[dict]:
        return [p for p in self.plans if p["planStatus"] == "live"
                and symbol in (None, p["symbol"])]

    # -- HTTP plumbing --------------------------------------------------------------------------
    async def _handle(self, request: web.Request) -> web.StreamResponse:
        body = await request.text() if request.method == "POST" else ""
        entry = Request(request.method, request.path, dict(request.query))
        self.requests.append(entry)
        await self._latency()
        route = ROUTES.get((request.method, request.path))
        fault = None
        try:
            if request.method == "POST":
                try:
                    entry.params = json.loads(body) if body else {}
                except ValueError:
                    raise BitgetError("40017", "Parameter verification failed") from None
            fault = await self._next_fault(request.method, request.path, entry.params)
            if fault and fault.kind == "status":  # status None: a 502 too
                return self._recorded(entry, self._fault_answer(fault))
            if route is None:
                raise BitgetError("40404", "Request URL NOT FOUND", 404)
            name, private = route
            if private:
                self._authenticate(request, body)
            if fault and fault.kind == "reject":
                raise BitgetError(str(fault.code), fault.msg, fault.status or 400)
            response = _reply({"code": "00000", "msg": "success",
                               "requestTime": self.now_ms(),
                               "data": getattr(self, name)(entry.params)})
        except BitgetError as e:
            response = _reply({"code": e.code, "msg": e.msg, "requestTime": self.now_ms(),
                               "data": None}, e.status)
        if fault and fault.kind == "lost":
            return self._lost(request, entry, fault)
        return self._recorded(entry, response)

    def _fault_answer(self, fault: Fault) -> web.Response:
        return _status(fault.status)

    def _authenticate(self, request: web.Request, body: str) -> None:
        h = request.headers
        if h.get("ACCESS-KEY") != API_KEY:
            raise BitgetError("40006", "Invalid ACCESS_KEY", 401)
        if (h.get("PAPTRADING") == "1") != self.demo:
            raise BitgetError("40099", "The exchange environment is incorrect", 401)
        if h.get("ACCESS-PASSPHRASE") != PASSPHRASE:
            raise BitgetError("40012", "apikey/password is incorrect", 401)
        stamp = h.get("ACCESS-TIMESTAMP", "")
        if not stamp.isdigit() or abs(int(time.time() * 1000) - int(stamp)) > 30_000:
            raise BitgetError("40008", "Request timestamp expired", 401)
        query = unquote(request.query_string)
        prehash = stamp + request.method + request.path + ("?" + query if query else "") + body
        sign = base64.b64encode(hmac.new(SECRET.encode(), prehash.encode(),
                                         hashlib.sha256).digest()).decode()
        if not hmac.compare_digest(h.get("ACCESS-SIGN", ""), sign):
            raise BitgetError("40009", "sign signature error", 401)

    # -- public ---------------------------------------------------------------------------------
    def h_time(self, p: dict) -> dict:
        return {"serverTime": str(self.now_ms())}

    def _product(self, p: dict) -> str:
        kind = str(p.get("productType", "")).upper()
        if not kind:
            raise BitgetError("40019", "Parameter productType cannot be empty")
        return kind

    def h_contracts(self, p: dict) -> list:
        if self._product(p) != PRODUCT:
            return []
        return [{"symbol": c.symbol, "baseCoin": c.base, "quoteCoin": "USDT",
                 "buyLimitPriceRatio": "0.01", "sellLimitPriceRatio": "0.01",
                 "feeRateUpRatio": "0.005", "makerFeeRate": "0.0002", "takerFeeRate": "0.0006",
                 "openCostUpRatio": "0.01", "supportMarginCoins": ["USDT"],
                 "minTradeNum": c.min_size, "priceEndStep": "1", "volumePlace": "4",
                 "pricePlace": c.price_place, "sizeMultiplier": c.size_step,
                 "symbolType": "perpetual", "minTradeUSDT": "5", "maxSymbolOrderNum": "200",
                 "maxProductOrderNum": "400", "maxPositionNum": "150", "symbolStatus": "normal",
                 "offTime": "-1", "limitOpenTime": "-1", "deliveryTime": "",
                 "deliveryStartTime": "", "deliveryPeriod": "", "launchTime": str(LISTED_MS),
                 "fundInterval": "8", "minLever": "1", "maxLever": "125", "posLimit": "0.05",
                 "maintainTime": ""} for c in self.contracts.values()]

    def h_tickers(self, p: dict) -> list:
        if self._product(p) != PRODUCT:
            return []
        now = str(self.now_ms())
        out = []
        for c in self.contracts.values():
            last = _text(self.prices.get(c.symbol, 1.0))
            out.append({"symbol": c.symbol, "lastPr": last, "askPr": last, "bidPr": last,
                        "bidSz": "1", "askSz": "1", "high24h": last, "low24h": last,
                        "ts": now, "change24h": "0", "baseVolume": _text(c.quote_volume
                                                                         / float(last)),
                        "quoteVolume": _text(c.quote_volume), "usdtVolume":
                        _text(c.quote_volume), "openUtc": last, "changeUtc24h": "0",
                        "indexPrice": last, "fundingRate": "0.0001", "holdingAmount": "0",
                        "deliveryStartTime": None, "deliveryTime": None,
                        "deliveryStatus": "", "open24h": last, "markPrice": last})
        return out

    def h_candles(self, p: dict) -> list:
        return self._candles(p, history=False)

    def h_history_candles(self, p: dict) -> list:
        return self._candles(p, history=True)

    def _candles(self, p: dict, history: bool) -> list:
        self._product(p)
        symbol = p.get("symbol", "")
        if symbol not in self.contracts:
            raise BitgetError("40034", "Parameter symbol does not exist")
        gran = p.get("granularity", "")
        if gran not in GRANULARITY:
            raise BitgetError("40808", f"Parameter verification exception granularity={gran}")
        interval, recent_days = GRANULARITY[gran]
        try:
            limit = int(p.get("limit", 100))
            end = int(p["endTime"]) if p.get("endTime") else None
            start = int(p["startTime"]) if p.get("startTime") else None
        except ValueError:
            raise BitgetError("40808", "Parameter verification exception") from None
        limit = max(1, min(limit, 200 if history else 1000))
        now = self.now_ms()
        if start is not None and end is not None and end - start > MAX_SPAN_MS:
            raise BitgetError("40808", "The time range cannot exceed 90 days")
        hi = min(now, end) if end is not None else now
        lo = max(start or 0, LISTED_MS)
        if not history:
            lo = max(lo, now - recent_days * DAY)
        rows = self._rows(symbol, interval, lo, hi, limit)
        return [[str(int(r.timestamp)), _text(r.open), _text(r.high), _text(r.low),
                 _text(r.close), _text(r.volume), _text(r.volume * r.close)]
                for r in rows.itertuples(index=False)]

    def _rows(self, symbol: str, interval: str, lo: int, hi: int, limit: int) -> pd.DataFrame:
        """The newest `limit` candles opening in [lo, hi], oldest first."""
        step = INTERVAL_MS[interval]
        now = self.now_ms()
        if (symbol, "1m") in self.candles:
            one = self.candles[(symbol, "1m")]
            key = (symbol, interval, now)
            if key not in self._resampled:
                self._resampled = {key: resample(one.loc[one["timestamp"] <= now], interval)}
            series = self._resampled[key]
            ts = series["timestamp"].to_numpy()
            return series.loc[(ts >= lo) & (ts <= hi)].tail(limit)
        last = hi - hi % step
        first = max(lo + (-lo) % step, last - (limit - 1) * step)
        grid = np.arange(first, last + 1, step, dtype=np.int64)
        return synthetic(symbol, grid, interval)

    # -- account --------------------------------------------------------------------------------
    def _contract(self, p: dict) -> Contract:
        if self._product(p) != PRODUCT or p.get("symbol", "").upper() not in self.contracts:
            raise BitgetError("40034", "Parameter symbol does not exist")
        return self.contracts[p["symbol"].upper()]

    def _equity(self) -> tuple[float, float]:
        upl = sum(size * (self.prices[s] - avg) for s, (size, avg) in self.positions.items())
        margin = sum(abs(size) * avg / float(self.leverage.get(s, "10"))
                     for s, (size, avg) in self.positions.items())
        return self.balance + upl, margin

    def _account_row(self, symbol: str | None) -> dict:
        equity, margin = self._equity()
        row = {"marginCoin": "USDT", "locked": "0", "available": _text(self.balance),
               "crossedMaxAvailable": _text(equity - margin),
               "isolatedMaxAvailable": _text(equity - margin),
               "maxTransferOut": _text(equity - margin), "accountEquity": _text(equity),
               "usdtEquity": _text(equity), "btcEquity": "0", "crossedRiskRate": "0",
               "unrealizedPL": _text(equity - self.balance), "coupon": "0",
               "crossedUnrealizedPL": "0", "isolatedUnrealizedPL": "0", "posMode": self.pos_mode}
        if symbol is not None:
            lever = self.leverage.get(symbol, "10")
            row.update({"symbol": symbol.lower(), "marginMode":
                        self.margin_mode.get(symbol, "crossed"), "crossedMarginLeverage": lever,
                        "isolatedLongLever": lever, "isolatedShortLever": lever})
        return row

    def h_account(self, p: dict) -> dict:
        return self._account_row(self._contract(p).symbol)

    def h_accounts(self, p: dict) -> list:
        return [self._account_row(None)] if self._product(p) == PRODUCT else []

    def h_set_margin_mode(self, p: dict) -> dict:
        c = self._contract(p)
        mode = p.get("marginMode")
        if mode not in ("crossed", "isolated"):
            raise BitgetError("40808", "Parameter verification exception marginMode")
        if mode != self.margin_mode.get(c.symbol, "crossed") and (
                self.position(c.symbol) or self.open_plans(c.symbol)):
            raise BitgetError("45117", "Currently holding positions or orders, the margin mode "
                                       "cannot be adjusted")
        self.margin_mode[c.symbol] = mode
        return {"symbol": c.symbol.lower(), "marginCoin": "USDT", "longLeverage":
                self.leverage.get(c.symbol, "10"), "shortLeverage":
                self.leverage.get(c.symbol, "10"), "marginMode": mode}

    def h_set_leverage(self, p: dict) -> dict:
        c = self._contract(p)
        lever = str(p.get("leverage", ""))
        if not lever.isdigit() or not 1 <= int(lever) <= 125:
            raise BitgetError("40808", "Parameter verification exception leverage")
        self.leverage[c.symbol] = lever
        return {"symbol": c.symbol.lower(), "marginCoin": "USDT", "longLeverage": lever,
                "shortLeverage": lever, "crossMarginLeverage": lever,
                "marginMode": self.margin_mode.get(c.symbol, "crossed")}

    def h_set_position_mode(self, p: dict) -> dict:
        mode = p.get("posMode")
        if mode not in ("one_way_mode", "hedge_mode"):
            raise BitgetError("40808", "Parameter verification exception posMode")
        if any(size for size, _ in self.positions.values()):
            raise BitgetError("40920", "Position or order exists, the position mode cannot be "
                                       "switched")
        self.pos_mode = mode
        return {"posMode": mode}

    def h_positions(self, p: dict) -> list:
        if self._product(p) != PRODUCT:
            return []
        out = []
        for symbol, (size, avg) in self.positions.items():
            if not size:
                continue
            lever = self.leverage.get(symbol, "10")
            out.append({"marginCoin": "USDT", "symbol": symbol,
                        "holdSide": "long" if size > 0 else "short", "openDelegateSize": "0",
                        "marginSize": _text(abs(size) * avg / float(lever)),
                        "available": _text(abs(size)), "locked": "0",
                        "total": _text(abs(size)), "leverage": lever,
                        "achievedProfits": "0", "openPriceAvg": _text(avg),
                        "marginMode": self.margin_mode.get(symbol, "crossed"),
                        "posMode": self.pos_mode, "unrealizedPL":
                        _text(size * (self.prices[symbol] - avg)), "liquidationPrice": "0",
                        "keepMarginRate": "0.004", "markPrice": _text(self.prices[symbol]),
                        "cTime": str(self.now_ms()), "uTime": str(self.now_ms())})
        return out

    # -- orders ---------------------------------------------------------------------------------
    def _client_oid(self, p: dict, book: list[dict]) -> str:
        oid = str(p.get("clientOid") or "")
        if oid and not CLIENT_OID.match(oid):
            raise BitgetError("43011", "The parameter does not meet the specification clientOid")
        if oid and any(o["clientOid"] == oid for o in book):
            raise BitgetError("40786", "Duplicate clientOid")
        return oid or str(next(self._ids))

    def h_place_order(self, p: dict) -> dict:
        c = self._contract(p)
        if self.pos_mode == "hedge_mode" and not p.get("tradeSide"):
            raise BitgetError("40774", "The order type for unilateral position must also be "
                                       "the unilateral position type.")
        side, kind = p.get("side"), p.get("orderType")
        if side not in ("buy", "sell") or kind not in ("market", "limit"):
            raise BitgetError("40808", "Parameter verification exception side/orderType")
        if p.get("marginMode") not in ("crossed", "isolated"):
            raise BitgetError("40808", "Parameter verification exception marginMode")
        size = float(p.get("size") or 0)
        if size < float(c.min_size) or not _steps(size, c.size_step):
            raise BitgetError("45110", f"less than the minimum order quantity {c.min_size}")
        oid = self._client_oid(p, self.orders)
        held = self.position(c.symbol)
        reduce_only = p.get("reduceOnly") == "YES"
        if reduce_only and (held == 0 or (held > 0) == (side == "buy")):
            raise BitgetError("22002", "No position to close")
        if reduce_only:
            size = min(size, abs(held))
        order = self._order(c.symbol, side, size, oid, reduce_only, p.get("marginMode", ""))
        self._fill(order)
        return {"orderId": order["orderId"], "clientOid": oid}

    def _order(self, symbol: str, side: str, size: float, oid: str, reduce_only: bool,
               margin_mode: str) -> dict:
        now = str(self.now_ms())
        order = {"symbol": symbol, "size": _text(size), "orderId": str(next(self._ids)),
                 "clientOid": oid, "baseVolume": "0", "fee": "0", "price": "",
                 "priceAvg": "", "state": "live", "side": side, "force": "gtc",
                 "totalProfits": "0", "posSide": "net", "marginCoin": "USDT",
                 "quoteVolume": "0", "orderType": "market", "leverage":
                 self.leverage.get(symbol, "10"), "marginMode": margin_mode or
                 self.margin_mode.get(symbol, "crossed"),
                 "reduceOnly": "YES" if reduce_only else "NO", "enterPointSource": "API",
                 "tradeSide": "sell_single" if side == "sell" else "buy_single",
                 "posMode": "one_way_mode", "orderSource": "market", "cTime": now, "uTime": now,
                 "presetStopSurplusPrice": "", "presetStopLossPrice": ""}
        self.orders.append(order)
        return order

    def _fill(self, order: dict) -> None:
        symbol, side, size = order["symbol"], order["side"], float(order["size"])
        px = self.prices[symbol]
        held, avg = self.positions.get(symbol, [0.0, 0.0])
        signed = size if side == "buy" else -size
        profit = 0.0
        if held and (held > 0) != (signed > 0):
            closed = min(abs(held), size)
            profit = (px - avg) * closed * (1 if held > 0 else -1)
            rest = held + signed
            if not rest:
                avg = 0.0
            elif (rest > 0) != (held > 0):
                avg = px  # reversed: the rest opened at this price
            held = rest
        else:
            avg = (abs(held) * avg + size * px) / (abs(held) + size)
            held += signed
        self.positions[symbol] = [round(held, 10), avg]
        fee = size * px * 0.0006
        self.balance += profit - fee
        now = str(self.now_ms())
        order.update({"state": "filled", "baseVolume": _text(size), "priceAvg": _text(px),
                      "price": _text(px), "fee": _text(-fee), "totalProfits": _text(profit),
                      "quoteVolume": _text(size * px), "uTime": now})
        self.fills.append({"tradeId": str(next(self._ids)), "symbol": symbol,
                           "orderId": order["orderId"], "price": _text(px),
                           "baseVolume": _text(size), "feeDetail": [
                               {"deduction": "no", "feeCoin": "USDT",
                                "totalDeductionFee": "0", "totalFee": _text(-fee)}],
                           "side": side, "quoteVolume": _text(size * px),
                           "profit": _text(profit), "enterPointSource": "API",
                           "tradeSide": order["tradeSide"], "posMode": "one_way_mode",
                           "tradeScope": "taker", "cTime": now})
        if not self.positions[symbol][0]:
            for plan in self.open_plans(symbol):  # position TP/SL go with the position
                plan.update({"planStatus": "cancelled", "uTime": now})

    def h_order_detail(self, p: dict) -> dict:
        c = self._contract(p)
        for o in reversed(self.orders):
            if o["symbol"] == c.symbol and (
                    (p.get("orderId") and o["orderId"] == p["orderId"])
                    or (not p.get("orderId") and p.get("clientOid")
                        and o["clientOid"] == p["clientOid"])):
                return dict(o)
        raise BitgetError("40109", "The data of the order cannot be found, please confirm the "
                                   "order number")

    def h_fills(self, p: dict) -> dict:
        self._product(p)
        rows = [f for f in reversed(self.fills)
                if p.get("symbol", "").upper() in ("", f["symbol"])
                and int(p.get("startTime") or 0) <= int(f["cTime"])
                and int(f["cTime"]) <= int(p.get("endTime") or 1 << 62)]
        return {"fillList": rows[: int(p.get("limit") or 100)], "endId": ""}

    def h_place_tpsl(self, p: dict) -> dict:
        c = self._contract(p)
        plan_type, hold = p.get("planType"), p.get("holdSide")
        if plan_type not in ("pos_loss", "pos_profit") or hold not in ("buy", "sell"):
            raise BitgetError("40808", "Parameter verification exception planType/holdSide")
        try:
            trigger = float(p["triggerPrice"])
        except (KeyError, ValueError):
            raise BitgetError("40808", "Parameter verification exception triggerPrice") from None
        oid = self._client_oid(p, self.plans)
        held, mark = self.position(c.symbol), self.prices[c.symbol]
        if held == 0 or (held > 0) != (hold == "buy"):
            raise BitgetError("40891", "Insufficient position, can not set profit or stop loss")
        if plan_type == "pos_loss" and hold == "buy" and trigger >= mark:
            raise BitgetError("40917", f"Stop price for long positions please < mark price "
                                       f"{_text(mark)}")
        if plan_type == "pos_loss" and hold == "sell" and trigger <= mark:
            raise BitgetError("45122", f"Short position stop loss price please > mark price "
                                       f"{_text(mark)}")
        for old in self.open_plans(c.symbol):  # one position stop and one target at a time
            if old["planType"] == plan_type:
                old.update({"planStatus": "cancelled", "uTime": str(self.now_ms())})
        now = str(self.now_ms())
        plan = {"planType": plan_type, "symbol": c.symbol, "size": "", "orderId":
                str(next(self._ids)), "clientOid": oid, "price": "0", "executePrice": "0",
                "callbackRatio": "", "triggerPrice": _text(trigger),
                "triggerType": p.get("triggerType") or "mark_price", "planStatus": "live",
                "side": "sell" if hold == "buy" else "buy", "posSide": "net",
                "marginCoin": "USDT", "marginMode": self.margin_mode.get(c.symbol, "crossed"),
                "enterPointSource": "API", "tradeSide": "close", "posMode": "one_way_mode",
                "orderType": "market", "stopSurplusTriggerPrice": "",
                "stopSurplusExecutePrice": "", "stopSurplusTriggerType": "",
                "stopLossTriggerPrice": "", "stopLossExecutePrice": "",
                "stopLossTriggerType": "", "cTime": now, "uTime": now}
        self.plans.append(plan)
        return {"orderId": plan["orderId"], "clientOid": oid}

    def _crossed(self, plan: dict, high: float, low: float) -> bool:
        trigger, long = float(plan["triggerPrice"]), plan["side"] == "sell"
        if plan["planType"] == "pos_loss":
            return low <= trigger if long else high >= trigger
        return high >= trigger if long else low <= trigger

    def _fire(self, plan: dict) -> None:
        symbol, held = plan["symbol"], self.position(plan["symbol"])
        plan.update({"planStatus": "executed", "uTime": str(self.now_ms())})
        if not held:
            return
        self.prices[symbol] = float(plan["triggerPrice"])
        order = self._order(symbol, plan["side"], abs(held), str(next(self._ids)), True, "")
        self._fill(order)

    def _plan_rows(self, p: dict, live: bool) -> dict:
        self._product(p)
        if p.get("planType") not in ("normal_plan", "track_plan", "profit_loss"):
            raise BitgetError("40808", "Parameter verification exception planType")
        rows = [] if p["planType"] != "profit_loss" else [
            {**x, "symbol": x["symbol"].lower()} for x in reversed(self.plans)
            if (x["planStatus"] == "live") == live
            and p.get("symbol", "").upper() in ("", x["symbol"])
            and (not p.get("clientOid") or x["clientOid"] == p["clientOid"])
            and (not p.get("orderId") or x["orderId"] == p["orderId"])]
        return {"entrustedList": rows[: int(p.get("limit") or 100)] or None, "endId": None}

    def h_plans_pending(self, p: dict) -> dict:
        return self._plan_rows(p, live=True)

    def h_plans_history(self, p: dict) -> dict:
        return self._plan_rows(p, live=False)

    def h_cancel_plan(self, p: dict) -> dict:
        c = self._contract(p)
        done, failed = [], []
        for item in p.get("orderIdList") or []:
            plan = next((x for x in self.open_plans(c.symbol)
                         if x["orderId"] == item.get("orderId")
                         or (item.get("clientOid") and x["clientOid"] == item["clientOid"])),
                        None)
            if plan is None or p.get("planType") not in (None, plan["planType"]):
                failed.append({"orderId": item.get("orderId", ""), "clientOid":
                               item.get("clientOid", ""), "errorMsg": "Plan order does not "
                               "exist", "errorCode": "43025"})
                continue
            plan.update({"planStatus": "cancelled", "uTime": str(self.now_ms())})
            done.append({"orderId": plan["orderId"], "clientOid": plan["clientOid"]})
        return {"successList": done, "failureList": failed}  # code 00000 either way


def _reply(payload: Any, status: int = 200) -> web.Response:
    return web.Response(text=json.dumps(payload, separators=(",", ":")), status=status,
                        content_type="application/json")


def _status(status: int | None) -> web.Response:
    if status == 429:
        return _reply({"code": "429", "msg": "Too Many Requests", "requestTime":
                       int(time.time() * 1000), "data": None}, 429)
    status = status or 502
    reason = {502: "Bad Gateway", 503: "Service Unavailable", 504: "Gateway Time-out"}
    return web.Response(status=status, content_type="text/html",
                        text=f"<html><body><h1>{status} {reason.get(status, 'Error')}</h1>"
                             "</body></html>")


_MIX = "/api/v2/mix/"
ROUTES: dict[tuple[str, str], tuple[str, bool]] = {  # -> (handler, private)
    ("GET", "/api/v2/public/time"): ("h_time", False),
    ("GET", _MIX + "market/contracts"): ("h_contracts", False),
    ("GET", _MIX + "market/tickers"): ("h_tickers", False),
    ("GET", _MIX + "market/candles"): ("h_candles", False),
    ("GET", _MIX + "market/history-candles"): ("h_history_candles", False),
    ("GET", _MIX + "account/account"): ("h_account", True),
    ("GET", _MIX + "account/accounts"): ("h_accounts", True),
    ("POST", _MIX + "account/set-margin-mode"): ("h_set_margin_mode", True),
    ("POST", _MIX + "account/set-leverage"): ("h_set_leverage", True),
    ("POST", _MIX + "account/set-position-mode"): ("h_set_position_mode", True),
    ("GET", _MIX + "position/all-position"): ("h_positions", True),
    ("POST", _MIX + "order/place-order"): ("h_place_order", True),
    ("GET", _MIX + "order/detail"): ("h_order_detail", True),
    ("GET", _MIX + "order/fills"): ("h_fills", True),
    ("POST", _MIX + "order/place-tpsl-order"): ("h_place_tpsl", True),
    ("GET", _MIX + "order/orders-plan-pending"): ("h_plans_pending", True),
    ("GET", _MIX + "order/orders-plan-history"): ("h_plans_history", True),
    ("POST", _MIX + "order/cancel-plan-order"): ("h_cancel_plan", True),
}
