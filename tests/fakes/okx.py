"""A local fake of the OKX V5 REST API (USDT swaps): market data and trading on one aiohttp server.

    fake = FakeOKX(candles={("BTC-USDT-SWAP", "1m"): df}, now_ms=...)
    url = await fake.start()      # point ccxt's urls['api']['rest'] (data and trading) at it
    fake.set_price("BTC-USDT-SWAP", 50_000); fake.candle("BTC-USDT-SWAP", high, low, close)
    fake.fail("/api/v5/trade/batch-orders", 502); fake.reject(path, "51008", "...")
    fake.requests -> [Request(method, path, params, status, demo)]

Written from OKX's public docs (docs-v5) and ccxt 4.5.90's okx.py, which decides the endpoints:
create_order -> POST /trade/batch-orders (a one-element list; /trade/order with
options['createOrder']='privatePostTradeOrder'), stopLossPrice/takeProfitPrice -> POST
/trade/order-algo (conditional, oco when both), fetch_order(trigger) -> GET /trade/order-algo,
fetch_open_orders(trigger) -> GET /trade/orders-algo-pending, cancel_order(trigger) -> POST
/trade/cancel-algos, set_margin_mode -> POST /account/set-leverage, fetch_my_trades -> GET
/trade/fills-history, load_markets -> /public/instruments for SPOT, FUTURES, SWAP and OPTION
(twice, uly=BTC-USD/ETH-USD) plus GET /asset/currencies when keys are set outside sandbox mode.

Venue rules the fake keeps (docs-v5 unless marked):
- Envelope {"code": "0", "msg": "", "data": [...]}, codes are strings. Order endpoints answer
  code "1" (batch: "1" all failed, "2" some failed) with data[i].sCode/sMsg; parameter errors
  are top-level (50014 / 51000, HTTP 400); auth errors HTTP 401; 50011 with HTTP 429.
- Signing: base64(HMAC-SHA256(secret, timestamp + METHOD + path?query + body)); the timestamp
  (ISO 8601, ms) must lie within 30 s of the server clock (50102). Demo keys only work with
  `x-simulated-trading: 1` and production keys only without it (50101).
- sz is in contracts (ctVal base units each), a multiple of lotSz and >= minSz. clOrdId: 1-32
  alphanumerics, unique among PENDING orders only (51016): a filled market order's clOrdId can
  be sent again and opens a second order; GET /trade/order by clOrdId answers the latest one.
- Market orders fill at once at the price the test set; attached TP/SL (attachAlgoOrds) become
  one algo order (oco for both legs, conditional for one) once the entry fills, algoClOrdId =
  attachAlgoClOrdId. Wrong side vs the last price: market entry buy 51050/51051, sell
  51052/51053; conditional algo buy 51277/51278, sell 51279/51280. A candle whose range holds
  both legs triggers the stop loss (pessimistic). Trigger orders are refused in net mode (51298).
- Candles newest first, [ts, o, h, l, c, vol(contracts), volCcy(base), volCcyQuote, confirm],
  confirm "0" for the forming candle. `after`: older than ts, `before`: newer than ts, both: the
  window between; the newest `limit` rows of the selection are served. /market/candles holds
  the latest 1,440 bars, limit default 100 max 300; /market/history-candles everything since
  listing, limit default 100, max `history_limit_max` (300 in today's docs, 100 in older ones).
  Oversized limits are clamped. 6H/12H/1D/1W/1M open on Hong Kong time (UTC+8), the *utc
  variants on UTC; there is no 8H and no 3D here.

ccxt 4.5.90 error mapping, observed against this fake (tests/fakes/test_okx_fake.py). ccxt reads
the body first (data[i].sCode, then the envelope's code), the HTTP status only without a body:
    venue code (HTTP)              ccxt exception          note
    50011 (429)                    RateLimitExceeded       a bare 429 would be ExchangeNotAvailable
    50001 (503)                    OnMaintenance
    50026 (500)                    ExchangeNotAvailable
    502 html                       ExchangeNotAvailable
    504 html                       RequestTimeout          outcome unknown: look the order up
    dropped connection             ExchangeNotAvailable    outcome unknown: look the order up
    50102 (401)                    InvalidNonce            a NetworkError subclass: clock, retry
    50101, 50111, 50113 (401)      AuthenticationError
    50014, 51000 (400)             BadRequest              TRAP: 51000 also means a bad clOrdId
    51001                          BadSymbol
    51008                          InsufficientFunds
    51016                          InvalidOrder            clOrdId of a PENDING order
    51020, 51051, 51121, 51277-51280   InvalidOrder
    51400, 51603                   OrderNotFound
    59102                          ExchangeError           leverage above the instrument's max
    51050, 51052, 51053, 51065, 51169, 51149   ExchangeError   TRAP: unmapped sCodes fall back to
                                   the envelope's "1"; 51149 (HTTP 500) means "order timed out,
                                   outcome unknown" yet reads as a plain, permanent-looking error
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import itertools
import json
import math
import re
import zlib
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pandas as pd
from aiohttp import web

from .base import FakeVenue, Fault, Request

API_KEY = "okx-test-key-0123456789"
SECRET = "okx-test-secret-abcdef"
PASSPHRASE = "okx-test-passphrase"
MINUTE = 60_000
DAY = 1440 * MINUTE
HK = 8 * 60 * MINUTE                  # Hong Kong is UTC+8, no daylight saving
WEEK_ORIGIN = 4 * DAY                 # weeks open on Monday; 1970-01-01 was a Thursday
LISTED_MS = 1_573_430_400_000         # 2019-11-11, first synthetic candle
BARS = {  # bar -> (length in ms, 0 for months; offset of the opening clock)
    "1m": (MINUTE, 0), "3m": (3 * MINUTE, 0), "5m": (5 * MINUTE, 0), "15m": (15 * MINUTE, 0),
    "30m": (30 * MINUTE, 0), "1H": (60 * MINUTE, 0), "2H": (120 * MINUTE, 0),
    "4H": (240 * MINUTE, 0), "6H": (360 * MINUTE, HK), "12H": (720 * MINUTE, HK),
    "1D": (DAY, HK), "1W": (7 * DAY, HK), "1M": (0, HK), "6Hutc": (360 * MINUTE, 0),
    "12Hutc": (720 * MINUTE, 0), "1Dutc": (DAY, 0), "1Wutc": (7 * DAY, 0), "1Mutc": (0, 0)}
CANDLES_KEPT = 1440
CLORDID = re.compile(r"^[A-Za-z0-9]{1,32}$")
TAG = re.compile(r"^[A-Za-z0-9]{0,16}$")
FAILED = "Operation failed."
MMR = 0.004                           # maintenance margin rate used for mmr/liqPx


class OkxError(Exception):
    """A top-level OKX error answer: {code, msg, data: []} with an HTTP status."""

    def __init__(self, code: str, msg: str, status: int = 200) -> None:
        super().__init__(msg)
        self.code, self.msg, self.status = code, msg, status


class Rejected(Exception):
    """An order operation refused: it goes into data[i] as sCode/sMsg."""

    def __init__(self, code: str, msg: str) -> None:
        super().__init__(msg)
        self.code, self.msg = code, msg


def _param(name: str) -> OkxError:
    return OkxError("51000", f"Parameter {name} error", 400)


def _empty(name: str) -> OkxError:
    return OkxError("50014", f"Parameter {name} can not be empty.", 400)


@dataclass
class Instrument:
    """One USDT-margined perpetual swap of /public/instruments."""

    inst_id: str
    ct_val: str = "0.01"
    lot_sz: str = "0.01"
    min_sz: str = "0.01"
    tick_sz: str = "0.1"
    lever: str = "100"
    state: str = "live"
    list_time: int = LISTED_MS
    vol_ccy_24h: float = 100_000.0    # base currency

    @property
    def base(self) -> str:
        """'BTC' for BTC-USDT-SWAP."""
        return self.inst_id.split("-")[0]


DEFAULT_INSTRUMENTS = (  # values of the real listings (ctVal, lotSz, minSz, tickSz, lever)
    Instrument("BTC-USDT-SWAP", "0.01", "0.01", "0.01", "0.1", "100"),
    Instrument("ETH-USDT-SWAP", "0.1", "0.01", "0.01", "0.01", "100"),
    Instrument("LTC-USDT-SWAP", "1", "0.01", "0.01", "0.01", "50"),
)


@dataclass
class Position:
    """A net-mode position: signed contracts and average entry."""

    pos: float = 0.0
    avg: float = 0.0
    pos_id: str = ""
    c_time: int = 0
    u_time: int = 0
    realized: float = 0.0
    fees: float = 0.0


def _txt(x: float) -> str:
    """OKX-style number text: no exponent, no trailing zeros."""
    if not math.isfinite(x):
        return str(x)
    text = f"{x:.10f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def _float(value: Any, name: str) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise _param(name) from None
    if not math.isfinite(number):
        raise _param(name)
    return number


def _multiple(x: float, step: float) -> bool:
    return abs(round(x / step) * step - x) <= step * 1e-6


def _bool(value: Any) -> bool:
    return value is True or str(value).lower() == "true"


# -- bar arithmetic ----------------------------------------------------------------------------

def bar_open(ts: int, bar: str) -> int:
    """Open time of the `bar` candle that contains `ts`."""
    step, off = BARS[bar]
    if step == 0:
        month = np.datetime64(ts + off, "ms").astype("datetime64[M]")
        return int(month.astype("datetime64[ms]").astype(np.int64)) - off
    origin = WEEK_ORIGIN if step == 7 * DAY else 0
    return ts - (ts + off - origin) % step


def bar_next(open_ms: int, bar: str) -> int:
    """Open time of the candle after the one opening at `open_ms`."""
    step, off = BARS[bar]
    if step == 0:
        month = np.datetime64(open_ms + off, "ms").astype("datetime64[M]") + 1
        return int(month.astype("datetime64[ms]").astype(np.int64)) - off
    return open_ms + step


def bar_back(open_ms: int, bar: str, n: int) -> int:
    """Open time `n` candles before `open_ms`."""
    step, off = BARS[bar]
    if step == 0:
        month = np.datetime64(open_ms + off, "ms").astype("datetime64[M]") - n
        return int(month.astype("datetime64[ms]").astype(np.int64)) - off
    return open_ms - n * step


def bar_keys(ts: np.ndarray, bar: str) -> np.ndarray:
    """bar_open for an array of 1m open times."""
    step, off = BARS[bar]
    if step == 0:
        months = (ts + off).astype("datetime64[ms]").astype("datetime64[M]")
        return months.astype("datetime64[ms]").astype(np.int64) - off
    origin = WEEK_ORIGIN if step == 7 * DAY else 0
    return ts - (ts + off - origin) % step


def resample(one_minute: pd.DataFrame, bar: str) -> pd.DataFrame:
    """Native candles from 1m rows, on OKX's grid for `bar` (UTC or Hong Kong opening)."""
    key = bar_keys(one_minute["timestamp"].to_numpy(dtype=np.int64), bar)
    g = one_minute.assign(timestamp=key).groupby("timestamp", sort=True)
    return pd.DataFrame({"open": g["open"].first(), "high": g["high"].max(),
                         "low": g["low"].min(), "close": g["close"].last(),
                         "volume": g["volume"].sum()}).reset_index()


def synthetic(inst_id: str, ts: np.ndarray, nxt: np.ndarray) -> pd.DataFrame:
    """Deterministic, sane candles for any open times: a price wave seeded by the instrument."""
    seed = zlib.crc32(inst_id.encode()) % 1000
    base = 50.0 + seed / 10.0
    o = base * (1 + 0.05 * np.sin(ts / 3_600_000.0 / 7.0 + seed))
    c = base * (1 + 0.05 * np.sin(nxt / 3_600_000.0 / 7.0 + seed))
    v = 100.0 + (ts // MINUTE % 17)
    return pd.DataFrame({"timestamp": ts, "open": o, "high": np.maximum(o, c) * 1.002,
                         "low": np.minimum(o, c) * 0.998, "close": c, "volume": v})


class FakeOKX(FakeVenue):
    """The fake venue: market data, an order engine, a clock, faults and a request log."""

    def __init__(self, candles: dict[tuple[str, str], pd.DataFrame] | None = None, *,
                 now_ms: int | None = None, instruments: list[Instrument] | None = None,
                 balance: float = 10_000.0, demo: bool = False, skew_ms: int = 0,
                 history_limit_max: int = 300, default_leverage: int = 10,
                 latency_s: float = 0.0) -> None:
        super().__init__(now_ms=now_ms, skew_ms=skew_ms, latency_s=latency_s)
        self.candles = {k: v.astype({"timestamp": "int64"}).sort_values("timestamp")
                        .reset_index(drop=True) for k, v in (candles or {}).items()}
        self.instruments = {i.inst_id: i for i in (instruments or DEFAULT_INSTRUMENTS)}
        self.prices = {"BTC-USDT-SWAP": 50_000.0, "ETH-USDT-SWAP": 3_000.0,
                       "LTC-USDT-SWAP": 50.0}
        self.balance = balance            # cashBal of USDT
        self.taker_fee, self.maker_fee = 0.0005, 0.0002   # OKX regular-user swap rates
        self.demo = demo                  # the environment the API key belongs to
        self.history_limit_max = history_limit_max
        self.default_leverage = default_leverage
        self.pos_mode = "net_mode"
        self.leverage: dict[tuple[str, str], int] = {}
        self.positions: dict[tuple[str, str], Position] = {}
        self.orders: list[dict] = []
        self.algos: list[dict] = []
        self.fills: list[dict] = []
        # Orders that filled but read as live with nothing filled on their first lookups.
        self.answer_live = 0
        self.live_lookups = 1
        self._reads_live: dict[str, int] = {}
        self._ids = itertools.count(2_896_576_259_728_695_296)
        self._resampled: dict[tuple[str, str, int], pd.DataFrame] = {}

    # -- controls: the clock, fail(path, status, lost=True), rate_limit (HTTP 429, code 50011)
    # and reject(path, code, msg) (sCode for order endpoints) are FakeVenue's ----------------
    def set_price(self, inst_id: str, price: float) -> None:
        """Move the market to `price`; crossed triggers fill at their trigger."""
        self.candle(inst_id, price, price, price)

    def candle(self, inst_id: str, high: float, low: float, close: float) -> None:
        """A later candle: orders and triggers within [low, high] execute, then the price is
        close."""
        for order in [o for o in self.orders if o["instId"] == inst_id and o["state"] == "live"]:
            px = float(order["px"])
            if (order["side"] == "buy" and low <= px) or (order["side"] == "sell" and high >= px):
                self._execute(order, px, maker=True)
        for algo in [a for a in self.algos if a["instId"] == inst_id and a["state"] == "live"]:
            hit = self._algo_hit(algo, high, low)
            if hit:
                self._trigger(algo, *hit)
        self.prices[inst_id] = close

    def reveal_fills(self) -> None:
        """Lookups show the orders answered as live as they are (filled) from now on."""
        self.answer_live = 0
        self._reads_live.clear()

    def position(self, inst_id: str, mgn_mode: str = "cross") -> float:
        """Signed position in contracts."""
        return self.positions.get((inst_id, mgn_mode), Position()).pos

    def open_algos(self, inst_id: str | None = None) -> list[dict]:
        """Algo orders still waiting."""
        return [a for a in self.algos if a["state"] == "live"
                and inst_id in (None, a["instId"])]

    # -- HTTP plumbing ------------------------------------------------------------------------
    async def _handle(self, request: web.Request) -> web.StreamResponse:
        """Log, apply faults, authenticate, dispatch, wrap in OKX's envelope."""
        body = await request.text() if request.method == "POST" else ""
        entry = Request(request.method, request.path, dict(request.query),
                        demo=request.headers.get("x-simulated-trading") == "1")
        self.requests.append(entry)
        await self._latency()
        route = ROUTES.get((request.method, request.path))
        fault: Fault | None = None
        try:
            if request.method == "POST":
                entry.params = self._json(body)
            fault = await self._next_fault(request.method, request.path, entry.params)
            if fault and fault.kind == "status" and fault.status is not None:
                return self._recorded(entry, self._fault_answer(fault))
            if route is None:
                if any(path == request.path for _, path in ROUTES):
                    raise OkxError("50115", "Invalid request method.", 405)
                raise OkxError("404", "Not Found", 404)
            name, private, ordering = route
            if private:
                self._authenticate(request, body, entry.demo)
            if fault and fault.kind == "reject":
                response = self._rejection(fault, ordering, entry.params)
            else:
                response = self._dispatch(name, ordering, entry.params)
        except OkxError as e:
            response = _reply({"code": e.code, "data": [], "msg": e.msg},
                                         status=e.status)
        if fault and fault.kind == "lost":
            return self._lost(request, entry, fault)  # the order is in, the answer is not
        return self._recorded(entry, response)

    def _fault_answer(self, fault: Fault) -> web.Response:
        return _status(fault.status, fault.headers)

    @staticmethod
    def _json(body: str) -> Any:
        if not body:
            raise OkxError("50000", "Body for POST request cannot be empty.", 400)
        try:
            return json.loads(body)
        except ValueError:
            raise OkxError("50002", "JSON syntax error", 400) from None

    def _dispatch(self, name: str, ordering: bool, params: Any) -> web.Response:
        result = getattr(self, name)(params)
        if not ordering:
            return _ok(result)
        failed = sum(1 for item in result if item.get("sCode") != "0")
        if not failed:
            return _ok(result)
        batch = isinstance(params, list) and len(result) > 1
        code = "2" if batch and failed < len(result) else "1"
        msg = ("Bulk operation partially succeeded." if code == "2"
               else "All operations failed" if isinstance(params, list) else FAILED)
        return _reply({"code": code, "data": result, "msg": msg})

    def _rejection(self, fault: Fault, ordering: bool, params: Any) -> web.Response:
        if not ordering:
            raise OkxError(fault.code, fault.msg, fault.status or 200)
        items = params if isinstance(params, list) else [params]
        data = [{"clOrdId": str(p.get("clOrdId", "")) if isinstance(p, dict) else "",
                 "ordId": "", "sCode": fault.code, "sMsg": fault.msg, "tag": "",
                 "ts": str(self.now_ms())} for p in items]
        msg = "All operations failed" if isinstance(params, list) else FAILED
        return _reply({"code": "1", "data": data, "msg": msg},
                                 status=fault.status or 200)

    def _authenticate(self, request: web.Request, body: str, demo: bool) -> None:
        h = request.headers
        for header, code in (("OK-ACCESS-KEY", "50103"), ("OK-ACCESS-PASSPHRASE", "50104"),
                             ("OK-ACCESS-SIGN", "50106"), ("OK-ACCESS-TIMESTAMP", "50107")):
            if not h.get(header):
                raise OkxError(code, f'Request header "{header}" cannot be empty.', 401)
        if h["OK-ACCESS-KEY"] != API_KEY:
            raise OkxError("50111", "Invalid OK-ACCESS-KEY.", 401)
        if demo != self.demo:
            raise OkxError("50101", "APIKey does not match current environment.", 401)
        if h["OK-ACCESS-PASSPHRASE"] != PASSPHRASE:
            raise OkxError("50105", 'Request header "OK-ACCESS-PASSPHRASE" incorrect.', 401)
        stamp = h["OK-ACCESS-TIMESTAMP"]
        try:
            sent = datetime.strptime(stamp, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)
        except ValueError:
            raise OkxError("50112", "Invalid OK-ACCESS-TIMESTAMP.", 401) from None
        if abs(self.wall_ms() - sent.timestamp() * 1000) > 30_000:
            raise OkxError("50102", "Timestamp request expired.", 401)
        prehash = stamp + request.method + request.raw_path + body
        expected = base64.b64encode(hmac.new(SECRET.encode(), prehash.encode(),
                                             hashlib.sha256).digest()).decode()
        if not hmac.compare_digest(h["OK-ACCESS-SIGN"], expected):
            raise OkxError("50113", "Invalid signature.", 401)

    # -- public endpoints ---------------------------------------------------------------------
    def h_time(self, p: dict) -> list:
        return [{"ts": str(self.now_ms())}]

    def h_instruments(self, p: dict) -> list:
        kind = p.get("instType")
        if not kind:
            raise _empty("instType")
        if kind not in ("SPOT", "MARGIN", "SWAP", "FUTURES", "OPTION"):
            raise _param("instType")
        if kind != "SWAP":
            return []  # the fake lists USDT swaps only
        return [_instrument_row(i) for i in self.instruments.values()
                if p.get("instId") in (None, i.inst_id)]

    def h_currencies(self, p: dict) -> list:
        codes = ["USDT"] + [i.base for i in self.instruments.values()]
        return [{"canDep": True, "canInternal": True, "canWd": True, "ccy": c,
                 "chain": f"{c}-ERC20", "mainNet": False, "maxFee": "1", "minFee": "0.1",
                 "minWd": "1", "name": c, "wdTickSz": "4", "minDep": "0.00000001",
                 "needTag": False, "burningFeeRate": "", "ctAddr": "", "depQuotaFixed": "",
                 "logoLink": "", "maxWd": "1000000", "usedWdQuota": "0", "wdQuota": "1000000"}
                for c in dict.fromkeys(codes) if p.get("ccy") in (None, c)]

    def h_tickers(self, p: dict) -> list:
        if not p.get("instType"):
            raise _empty("instType")
        if p["instType"] != "SWAP":
            return []
        return [self._ticker(i) for i in self.instruments.values()]

    def h_ticker(self, p: dict) -> list:
        return [self._ticker(self._inst(p))]

    def _ticker(self, inst: Instrument) -> dict:
        last, now = _txt(self.prices.get(inst.inst_id, 1.0)), str(self.now_ms())
        return {"instType": "SWAP", "instId": inst.inst_id, "last": last, "lastSz": "1",
                "askPx": last, "askSz": "10", "bidPx": last, "bidSz": "10", "open24h": last,
                "high24h": last, "low24h": last, "sodUtc0": last, "sodUtc8": last,
                "volCcy24h": _txt(inst.vol_ccy_24h),
                "vol24h": _txt(inst.vol_ccy_24h / float(inst.ct_val)), "ts": now}

    def h_candles(self, p: dict) -> list:
        return self._candles(p, history=False)

    def h_history_candles(self, p: dict) -> list:
        return self._candles(p, history=True)

    def _candles(self, p: dict, history: bool) -> list:
        inst = self._inst(p)
        bar = p.get("bar", "1m")
        if bar not in BARS:
            raise _param("bar")
        try:
            limit = int(p.get("limit", 100))
            after = int(p["after"]) if p.get("after") else None
            before = int(p["before"]) if p.get("before") else None
        except ValueError:
            raise _param("limit/after/before") from None
        if limit < 1:
            raise _param("limit")
        limit = min(limit, self.history_limit_max if history else 300)
        now = self.now_ms()
        current = bar_open(now, bar)
        lo = max(bar_open(inst.list_time, bar), before + 1 if before is not None else 0)
        if not history:
            lo = max(lo, bar_back(current, bar, CANDLES_KEPT - 1))
        hi = current if after is None else min(current, after - 1)
        rows = self._rows(inst.inst_id, bar, lo, hi, limit)
        out = []
        ct_val = float(inst.ct_val)
        for r in rows.itertuples(index=False):
            ts = int(r.timestamp)
            confirm = "1" if bar_next(ts, bar) <= now else "0"
            out.append([str(ts), _txt(r.open), _txt(r.high), _txt(r.low), _txt(r.close),
                        _txt(r.volume / ct_val), _txt(r.volume), _txt(r.volume * r.close),
                        confirm])
        return out

    def _series(self, inst_id: str, bar: str) -> pd.DataFrame | None:
        now = self.now_ms()
        if (inst_id, bar) in self.candles:
            df = self.candles[(inst_id, bar)]
            return df.loc[df["timestamp"] <= now]
        if (inst_id, "1m") in self.candles:
            key = (inst_id, bar, now)
            if key not in self._resampled:
                one = self.candles[(inst_id, "1m")]
                self._resampled = {key: resample(one.loc[one["timestamp"] <= now], bar)}
            return self._resampled[key]
        return None

    def _rows(self, inst_id: str, bar: str, lo: int, hi: int, limit: int) -> pd.DataFrame:
        """Candles with lo <= open <= hi, the newest `limit` of them, newest first."""
        series = self._series(inst_id, bar)
        if series is not None:
            ts = series["timestamp"].to_numpy()
            return series.loc[(ts >= lo) & (ts <= hi)].tail(limit).iloc[::-1]
        grid, t = [], bar_open(hi, bar) if hi >= lo else None
        while t is not None and t >= lo and len(grid) < limit:
            grid.append(t)
            t = bar_back(t, bar, 1)
        ts = np.array(grid, dtype=np.int64)
        nxt = np.array([bar_next(int(x), bar) for x in grid], dtype=np.int64)
        return synthetic(inst_id, ts, nxt)

    # -- account endpoints --------------------------------------------------------------------
    def h_config(self, p: dict) -> list:
        return [{"acctLv": "2", "acctStpMode": "cancel_maker", "autoLoan": False,
                 "ctIsoMode": "automatic", "enableSpotBorrow": False, "greeksType": "PA",
                 "ip": "", "kycLv": "2", "label": "fake", "level": "Lv1", "levelTmp": "",
                 "liquidationGear": "-1", "mainUid": "44705892343619584",
                 "mgnIsoMode": "automatic", "opAuth": "0", "perm": "read_only,trade",
                 "posMode": self.pos_mode, "roleType": "0", "spotBorrowAutoRepay": False,
                 "spotOffsetType": "", "spotRoleType": "0", "spotTraderInsts": [],
                 "traderInsts": [], "type": "0", "uid": "44705892343619584"}]

    def h_set_position_mode(self, p: dict) -> list:
        mode = p.get("posMode")
        if mode not in ("net_mode", "long_short_mode"):
            raise _param("posMode")
        if any(x.pos for x in self.positions.values()) or self._pending():
            raise OkxError("59000", "Settings failed. Close positions and cancel orders "
                                    "before changing settings.")
        self.pos_mode = mode
        return [{"posMode": mode}]

    def h_set_leverage(self, p: dict) -> list:
        inst = self._inst(p)
        mode = p.get("mgnMode")
        if not mode:
            raise _empty("mgnMode")
        if mode not in ("cross", "isolated"):
            raise _param("mgnMode")
        lever = _float(p.get("lever"), "lever")
        if lever < 1 or lever != int(lever):
            raise _param("lever")
        if lever > float(inst.lever):
            raise OkxError("59102", "Leverage exceeds the maximum leverage. "
                                    "Please adjust the leverage.")
        self.leverage[(inst.inst_id, mode)] = int(lever)
        return [{"instId": inst.inst_id, "lever": str(int(lever)), "mgnMode": mode,
                 "posSide": p.get("posSide", "net")}]

    def h_leverage_info(self, p: dict) -> list:
        inst, mode = self._inst(p), p.get("mgnMode")
        if mode not in ("cross", "isolated"):
            raise _param("mgnMode")
        return [{"instId": inst.inst_id, "mgnMode": mode, "posSide": "net",
                 "lever": str(self._lever(inst.inst_id, mode))}]

    def h_balance(self, p: dict) -> list:
        rows = [r for r in self._position_rows({}) if r]
        upl = sum(float(r["upl"]) for r in rows)
        imr = sum(float(r["imr"] or 0) for r in rows)
        iso = sum(float(r["margin"] or 0) for r in rows)
        eq = self.balance + upl
        avail = eq - imr - iso
        now = str(self.now_ms())
        detail = {"availBal": _txt(avail), "availEq": _txt(avail), "borrowFroz": "",
                  "cashBal": _txt(self.balance), "ccy": "USDT", "crossLiab": "0",
                  "disEq": _txt(eq), "eq": _txt(eq), "eqUsd": _txt(eq), "fixedBal": "0",
                  "frozenBal": _txt(imr + iso), "imr": "", "interest": "0",
                  "isoEq": _txt(iso), "isoLiab": "0", "isoUpl": "0", "liab": "0",
                  "maxLoan": "", "mgnRatio": "", "mmr": "", "notionalLever": "",
                  "ordFrozen": "0", "spotInUseAmt": "", "stgyEq": "0", "twap": "0",
                  "uTime": now, "upl": _txt(upl), "uplLiab": "0"}
        details = [detail] if p.get("ccy") in (None, "", "USDT") else []
        return [{"adjEq": "", "availEq": _txt(avail), "borrowFroz": "", "details": details,
                 "imr": _txt(imr), "isoEq": _txt(iso), "mgnRatio": "", "mmr": "",
                 "notionalUsd": _txt(sum(float(r["notionalUsd"]) for r in rows)),
                 "ordFroz": "", "totalEq": _txt(eq), "uTime": now, "upl": _txt(upl)}]

    def h_positions(self, p: dict) -> list:
        if p.get("instType") not in (None, "SWAP", "MARGIN", "FUTURES", "OPTION"):
            raise _param("instType")
        wanted = set(p["instId"].split(",")) if p.get("instId") else None
        return self._position_rows({"wanted": wanted, "instType": p.get("instType")})

    def _position_rows(self, f: dict) -> list:
        rows = []
        for (inst_id, mode), pos in self.positions.items():
            if pos.pos == 0 or (f.get("wanted") and inst_id not in f["wanted"]):
                continue
            if f.get("instType") not in (None, "SWAP"):
                continue
            ct = float(self.instruments[inst_id].ct_val)
            mark = self.prices[inst_id]
            lever = self._lever(inst_id, mode)
            notional = abs(pos.pos) * ct * mark
            upl = (mark - pos.avg) * pos.pos * ct
            margin = abs(pos.pos) * ct * pos.avg / lever
            sign = 1 if pos.pos > 0 else -1
            liq = pos.avg * (1 - sign / lever + sign * MMR)
            rows.append({
                "adl": "1", "availPos": _txt(abs(pos.pos)) if mode == "isolated" else "",
                "avgPx": _txt(pos.avg), "baseBal": "", "bePx": _txt(pos.avg), "cTime":
                str(pos.c_time), "ccy": "USDT", "closeOrderAlgo": [], "deltaBS": "",
                "fee": _txt(pos.fees), "fundingFee": "0", "gammaBS": "",
                "imr": _txt(notional / lever) if mode == "cross" else "", "instId": inst_id,
                "instType": "SWAP", "interest": "", "last": _txt(mark), "lever": str(lever),
                "liab": "", "liabCcy": "", "liqPenalty": "0", "liqPx": _txt(max(liq, 0.0)),
                "margin": _txt(margin) if mode == "isolated" else "", "markPx": _txt(mark),
                "mgnMode": mode, "mgnRatio": "", "mmr": _txt(notional * MMR),
                "notionalUsd": _txt(notional), "optVal": "", "pendingCloseOrdLiabVal": "",
                "pnl": _txt(pos.realized), "pos": _txt(pos.pos), "posCcy": "",
                "posId": pos.pos_id, "posSide": "net", "quoteBal": "",
                "realizedPnl": _txt(pos.realized + pos.fees), "spotInUseAmt": "",
                "thetaBS": "", "tradeId": self.fills[-1]["tradeId"] if self.fills else "",
                "uTime": str(pos.u_time), "upl": _txt(upl), "uplLastPx": _txt(upl),
                "uplRatio": _txt(upl / margin if margin else 0.0), "usdPx": "",
                "vegaBS": ""})
        return rows

    # -- trade endpoints ----------------------------------------------------------------------
    def h_order(self, p: Any) -> list:
        if not isinstance(p, dict):
            raise OkxError("50002", "JSON syntax error", 400)
        return [self._place_one(p)]

    def h_batch_orders(self, p: Any) -> list:
        if not isinstance(p, list) or not p:
            raise OkxError("50002", "JSON syntax error", 400)
        if len(p) > 20:
            raise OkxError("51111", "Maximum 20 orders can be placed in bulk.")
        return [self._place_one(item) for item in p]

    def _place_one(self, p: dict) -> dict:
        cid = str(p.get("clOrdId", ""))
        try:
            order = self._place(p)
        except Rejected as e:
            return {"clOrdId": cid, "ordId": "", "sCode": e.code, "sMsg": e.msg,
                    "subCode": "", "tag": str(p.get("tag", "")), "ts": str(self.now_ms())}
        return {"clOrdId": order["clOrdId"], "ordId": order["ordId"], "sCode": "0",
                "sMsg": "Order placed", "subCode": "", "tag": order["tag"],
                "ts": str(self.now_ms())}

    def _check_common(self, p: dict) -> tuple[Instrument, str, float]:
        """instId, tdMode, side, posSide, sz, clOrdId and tag as the venue checks them."""
        inst = self._inst(p)
        for name in ("tdMode", "side", "ordType"):
            if not p.get(name):
                raise _empty(name)
        if p["tdMode"] not in ("cross", "isolated"):
            raise _param("tdMode")
        if p["side"] not in ("buy", "sell"):
            raise _param("side")
        pos_side = p.get("posSide", "net" if self.pos_mode == "net_mode" else "")
        allowed = ("net",) if self.pos_mode == "net_mode" else ("long", "short")
        if pos_side not in allowed:
            raise _param("posSide")
        if "clOrdId" in p and not CLORDID.match(str(p["clOrdId"])):
            raise _param("clOrdId")
        if not TAG.match(str(p.get("tag", ""))):
            raise _param("tag")
        sz = _float(p.get("sz"), "sz") if p.get("sz") is not None else 0.0
        if sz <= 0 and not p.get("closeFraction"):
            raise _param("sz")
        if sz > 0:
            if not _multiple(sz, float(inst.lot_sz)):
                raise Rejected("51121", "Order quantity must be a multiple of the lot size.")
            if sz < float(inst.min_sz):
                raise Rejected("51020", "Your order should meet or exceed the minimum "
                                        "order amount.")
        return inst, p["tdMode"], sz

    def _place(self, p: dict) -> dict:
        inst, mode, sz = self._check_common(p)
        kind = p["ordType"]
        if kind not in ("market", "limit", "post_only", "ioc", "fok", "optimal_limit_ioc"):
            raise _param("ordType")
        cid = str(p.get("clOrdId", ""))
        if cid and any(o["clOrdId"] == cid for o in self._pending()):
            raise Rejected("51016", "Client order ID already exists.")
        reduce_only = _bool(p.get("reduceOnly", False))
        attach = self._check_attached(p, inst, reduce_only)
        last = self.prices[inst.inst_id]
        self._check_reduce(inst.inst_id, mode, p["side"], sz, reduce_only)
        if not reduce_only:
            self._check_margin(inst, mode, p["side"], sz, last)
        px = None if kind in ("market", "optimal_limit_ioc") else _float(p.get("px"), "px")
        order = self._new_order(inst, p, sz, px, reduce_only, attach)
        crosses = px is None or (p["side"] == "buy" and px >= last) or (
            p["side"] == "sell" and px <= last)
        if kind == "post_only" and crosses:
            order["state"], order["cancelSource"] = "canceled", "31"
        elif crosses:
            self._execute(order, last, maker=False)
            if self.answer_live > 0:
                self.answer_live -= 1
                self._reads_live[order["ordId"]] = self.live_lookups
        elif kind in ("ioc", "fok"):
            order["state"] = "canceled"
        return order

    def _check_attached(self, p: dict, inst: Instrument, reduce_only: bool) -> list[dict]:
        attach = p.get("attachAlgoOrds") or []
        if not isinstance(attach, list):
            raise _param("attachAlgoOrds")
        if attach and reduce_only:
            raise Rejected("51100", "Unable to place order. Take profit/Stop loss conditions "
                                    "cannot be added to reduce-only orders.")
        ref = self.prices[inst.inst_id] if p["ordType"] == "market" else _float(
            p.get("px"), "px")
        for leg in attach:
            cid = str(leg.get("attachAlgoClOrdId", ""))
            if cid and not CLORDID.match(cid):
                raise _param("attachAlgoClOrdId")
            if cid and any(a["algoClOrdId"] == cid for a in self.open_algos()):
                raise Rejected("51068", f"{cid} already exists within algoClOrdId and "
                                        f"attachAlgoClOrdId.")
            sl = _float(leg["slTriggerPx"], "slTriggerPx") if leg.get("slTriggerPx") else None
            tp = _float(leg["tpTriggerPx"], "tpTriggerPx") if leg.get("tpTriggerPx") else None
            if sl is None and tp is None and cid:
                raise Rejected("51178", "tpTriggerPx&tpOrdPx or slTriggerPx&slOrdPx can't be "
                                        "empty when using attachAlgoClOrdId.")
            self._check_attached_sides(p, sl, tp, ref)
        return attach

    @staticmethod
    def _check_attached_sides(p: dict, sl: float | None, tp: float | None, ref: float) -> None:
        market = p["ordType"] == "market"
        if p["side"] == "buy":
            if tp is not None and tp <= ref:
                raise (Rejected("51050", "The take profit trigger price must be higher than "
                                         "the best ask price") if market else
                       Rejected("51046", "The take profit trigger price must be higher than "
                                         "the order price"))
            if sl is not None and sl >= ref:
                raise (Rejected("51051", "The stop loss trigger price must be lower than the "
                                         "best ask price") if market else
                       Rejected("51047", "The stop loss trigger price must be lower than the "
                                         "order price"))
        else:
            if tp is not None and tp >= ref:
                raise (Rejected("51052", "The take profit trigger price must be lower than the "
                                         "best bid price") if market else
                       Rejected("51048", "The take profit trigger price must be lower than "
                                         "the order price"))
            if sl is not None and sl <= ref:
                raise (Rejected("51053", "The stop loss trigger price must be higher than the "
                                         "best bid price") if market else
                       Rejected("51049", "The stop loss trigger price must be higher than the "
                                         "order price"))

    def _check_reduce(self, inst_id: str, mode: str, side: str, sz: float,
                      reduce_only: bool) -> None:
        if not reduce_only:
            return
        held = self.position(inst_id, mode)
        if held == 0:
            raise Rejected("51169", "Order failed because you don't have any positions in "
                                    "this direction for this contract to reduce or close.")
        if (held > 0) == (side == "buy"):
            raise Rejected("51170", "Failed to place order. A reduce-only order can't be the "
                                    "same trading direction as your existing positions.")
        if sz > abs(held) + 1e-12:
            raise Rejected("51112", "Close order size exceeds available size for this "
                                    "position.")

    def _check_margin(self, inst: Instrument, mode: str, side: str, sz: float,
                      px: float) -> None:
        held = self.position(inst.inst_id, mode)
        after = held + (sz if side == "buy" else -sz)
        grow = max(0.0, abs(after) - abs(held)) * float(inst.ct_val) * px
        need = grow / self._lever(inst.inst_id, mode) + sz * float(inst.ct_val) * px * \
            self.taker_fee
        avail = float(self.h_balance({})[0]["availEq"])
        if need > avail + 1e-9:
            raise Rejected("51008", "Order failed. Insufficient USDT margin in account")

    def _new_order(self, inst: Instrument, p: dict, sz: float, px: float | None,
                   reduce_only: bool, attach: list[dict], algo: dict | None = None) -> dict:
        now = str(self.now_ms())
        order = {
            "accFillSz": "0", "algoClOrdId": algo["algoClOrdId"] if algo else "",
            "algoId": algo["algoId"] if algo else "", "attachAlgoClOrdId":
            str(attach[0].get("attachAlgoClOrdId", "")) if attach else "",
            "attachAlgoOrds": [self._attach_row(leg) for leg in attach], "avgPx": "",
            "cTime": now, "cancelSource": "", "cancelSourceReason": "", "category": "normal",
            "ccy": "", "clOrdId": str(p.get("clOrdId", "")), "fee": "0", "feeCcy": "USDT",
            "fillPx": "", "fillSz": "0", "fillTime": "", "instId": inst.inst_id,
            "instType": "SWAP", "isTpLimit": "false",
            "lever": str(self._lever(inst.inst_id, p["tdMode"])),
            "linkedAlgoOrd": {"algoId": ""}, "ordId": str(next(self._ids)),
            "ordType": p["ordType"], "pnl": "0", "posSide": "net",
            "px": _txt(px) if px is not None else "", "pxType": "", "pxUsd": "", "pxVol": "",
            "quickMgnType": "", "rebate": "0", "rebateCcy": "USDT",
            "reduceOnly": "true" if reduce_only else "false", "side": p["side"],
            "slOrdPx": "", "slTriggerPx": "", "slTriggerPxType": "", "source": "",
            "state": "live", "stpId": "", "stpMode": p.get("stpMode", "cancel_maker"),
            "sz": _txt(sz), "tag": str(p.get("tag", "")), "tdMode": p["tdMode"], "tgtCcy": "",
            "tpOrdPx": "", "tpTriggerPx": "", "tpTriggerPxType": "", "tradeId": "",
            "uTime": now}
        self.orders.append(order)
        return order

    @staticmethod
    def _attach_row(leg: dict) -> dict:
        return {"attachAlgoClOrdId": str(leg.get("attachAlgoClOrdId", "")),
                "attachAlgoId": "", "amendPxOnTriggerType": "0", "failCode": "",
                "failReason": "", "slOrdPx": str(leg.get("slOrdPx", "")),
                "slTriggerPx": str(leg.get("slTriggerPx", "")),
                "slTriggerPxType": str(leg.get("slTriggerPxType", "last")) if
                leg.get("slTriggerPx") else "", "sz": "", "tpOrdKind": "condition",
                "tpOrdPx": str(leg.get("tpOrdPx", "")),
                "tpTriggerPx": str(leg.get("tpTriggerPx", "")),
                "tpTriggerPxType": str(leg.get("tpTriggerPxType", "last")) if
                leg.get("tpTriggerPx") else ""}

    def _execute(self, order: dict, px: float, maker: bool) -> None:
        """Fill `order` whole at `px`: position, balance, a fill row, then attached TP/SL."""
        inst = self.instruments[order["instId"]]
        sz, ct = float(order["sz"]), float(inst.ct_val)
        mode, now = order["tdMode"], self.now_ms()
        pos = self.positions.setdefault((inst.inst_id, mode), Position())
        if pos.pos == 0:
            pos.pos_id, pos.c_time, pos.realized, pos.fees = str(next(self._ids)), now, 0.0, 0.0
        signed = sz if order["side"] == "buy" else -sz
        pnl = _apply(pos, signed, px, ct)
        fee = -sz * ct * px * (self.maker_fee if maker else self.taker_fee)
        pos.realized += pnl
        pos.fees += fee
        pos.u_time = now
        self.balance += pnl + fee
        trade_id = str(next(self._ids))
        order.update({"accFillSz": order["sz"], "avgPx": _txt(px), "fee": _txt(fee),
                      "fillPx": _txt(px), "fillSz": order["sz"], "fillTime": str(now),
                      "pnl": _txt(pnl), "state": "filled", "tradeId": trade_id,
                      "uTime": str(now)})
        self.fills.append({
            "instType": "SWAP", "instId": inst.inst_id, "tradeId": trade_id,
            "ordId": order["ordId"], "clOrdId": order["clOrdId"], "billId":
            str(next(self._ids)), "subType": "1" if order["side"] == "buy" else "2",
            "tag": order["tag"], "fillPx": _txt(px), "fillSz": order["sz"],
            "fillIdxPx": _txt(px), "fillPnl": _txt(pnl), "fillPxVol": "", "fillPxUsd": "",
            "fillMarkVol": "", "fillFwdPx": "", "fillMarkPx": _txt(px),
            "side": order["side"], "posSide": "net", "execType": "M" if maker else "T",
            "feeCcy": "USDT", "fee": _txt(fee), "ts": str(now), "fillTime": str(now),
            "feeRate": _txt(-(self.maker_fee if maker else self.taker_fee)),
            "tradeQuoteCcy": "USDT"})
        if order["attachAlgoOrds"]:
            self._attach(order)

    def _attach(self, order: dict) -> None:
        leg = order["attachAlgoOrds"][0]
        p = {"instId": order["instId"], "tdMode": order["tdMode"], "ordType":
             "oco" if leg["slTriggerPx"] and leg["tpTriggerPx"] else "conditional",
             "side": "sell" if order["side"] == "buy" else "buy", "sz": order["sz"],
             "reduceOnly": True, "algoClOrdId": leg["attachAlgoClOrdId"],
             "slTriggerPx": leg["slTriggerPx"], "slOrdPx": leg["slOrdPx"] or "-1",
             "tpTriggerPx": leg["tpTriggerPx"], "tpOrdPx": leg["tpOrdPx"] or "-1",
             "slTriggerPxType": leg["slTriggerPxType"], "tpTriggerPxType":
             leg["tpTriggerPxType"], "tag": order["tag"]}
        algo = self._new_algo(p, float(order["sz"]))
        leg["attachAlgoId"] = algo["algoId"]
        order["linkedAlgoOrd"] = {"algoId": algo["algoId"]}

    def _lever(self, inst_id: str, mode: str) -> int:
        return self.leverage.get((inst_id, mode), self.default_leverage)

    def _inst(self, p: dict) -> Instrument:
        inst_id = p.get("instId") if isinstance(p, dict) else None
        if not inst_id:
            raise _empty("instId")
        if inst_id not in self.instruments:
            raise OkxError("51001", "Instrument ID, Instrument ID code or Spread ID "
                                    "doesn't exist.")
        return self.instruments[inst_id]

    def _pending(self) -> list[dict]:
        return [o for o in self.orders if o["state"] in ("live", "partially_filled")]

    def _find_order(self, p: dict) -> dict:
        inst = self._inst(p)
        if not p.get("ordId") and not p.get("clOrdId"):
            raise OkxError("51003", "Either client order ID or order ID is required.")
        for o in reversed(self.orders):  # the latest order holding a reused clOrdId
            if o["instId"] == inst.inst_id and (
                    o["ordId"] == p.get("ordId") if p.get("ordId")
                    else o["clOrdId"] == p.get("clOrdId")):
                return o
        raise OkxError("51603", "Order does not exist.")

    def h_get_order(self, p: dict) -> list:
        order = self._find_order(p)
        if self._reads_live.get(order["ordId"], 0) > 0:
            self._reads_live[order["ordId"]] -= 1
            return [_as_live(order)]
        return [_public(order)]

    def h_orders_pending(self, p: dict) -> list:
        rows = [_public(o) for o in reversed(self._pending())]
        rows += [_as_live(o) for o in reversed(self.orders) if self._reads_live.get(o["ordId"])]
        return _filter(rows, p)[: _limit(p)]

    def h_orders_history(self, p: dict) -> list:
        if not p.get("instType"):
            raise _empty("instType")
        done = [_public(o) for o in reversed(self.orders)
                if o["state"] in ("filled", "canceled")]
        if p.get("state"):
            done = [o for o in done if o["state"] == p["state"]]
        return _filter(done, p)[: _limit(p)]

    def h_cancel_order(self, p: Any) -> list:
        if not isinstance(p, dict):
            raise OkxError("50002", "JSON syntax error", 400)
        return [self._cancel_one(p)]

    def h_cancel_batch_orders(self, p: Any) -> list:
        if not isinstance(p, list):
            raise OkxError("50002", "JSON syntax error", 400)
        return [self._cancel_one(item) for item in p]

    def _cancel_one(self, p: dict) -> dict:
        try:
            order = self._find_order(p)
        except OkxError as e:
            if e.code != "51603":
                raise
            order = None
        now = str(self.now_ms())
        if order is None or order["state"] not in ("live", "partially_filled"):
            return {"clOrdId": str(p.get("clOrdId", "")), "ordId": str(p.get("ordId", "")),
                    "sCode": "51400", "sMsg": "Order cancellation failed as the order has been "
                                              "filled, canceled or does not exist.", "ts": now}
        order.update({"state": "canceled", "cancelSource": "1", "uTime": now})
        return {"clOrdId": order["clOrdId"], "ordId": order["ordId"], "sCode": "0",
                "sMsg": "", "ts": now}

    def h_fills(self, p: dict) -> list:
        rows = list(reversed(self.fills))
        if p.get("ordId"):
            rows = [r for r in rows if r["ordId"] == p["ordId"]]
        if p.get("begin"):
            rows = [r for r in rows if int(r["ts"]) >= int(p["begin"])]
        if p.get("end"):
            rows = [r for r in rows if int(r["ts"]) <= int(p["end"])]
        return _filter(rows, p)[: _limit(p)]

    def h_fills_history(self, p: dict) -> list:
        if not p.get("instType"):
            raise _empty("instType")
        return self.h_fills(p)

    # -- algo orders --------------------------------------------------------------------------
    def h_order_algo(self, p: Any) -> list:
        if not isinstance(p, dict):
            raise OkxError("50002", "JSON syntax error", 400)
        cid = str(p.get("algoClOrdId") or p.get("clOrdId") or "")
        try:
            algo = self._place_algo(p)
        except Rejected as e:
            return [{"algoClOrdId": cid, "algoId": "", "clOrdId": cid, "sCode": e.code,
                     "sMsg": e.msg, "tag": str(p.get("tag", ""))}]
        return [{"algoClOrdId": algo["algoClOrdId"], "algoId": algo["algoId"],
                 "clOrdId": algo["clOrdId"], "sCode": "0", "sMsg": "", "tag": algo["tag"]}]

    def _place_algo(self, p: dict) -> dict:
        inst, mode, sz = self._check_common(p)
        kind = p["ordType"]
        if kind == "trigger" and self.pos_mode == "net_mode":
            raise Rejected("51298", "Trigger orders are not available in the net mode of "
                                    "Expiry Futures and Perpetual Futures")
        if kind not in ("conditional", "oco"):
            raise _param("ordType")
        cid = str(p.get("algoClOrdId") or p.get("clOrdId") or "")
        if cid and not CLORDID.match(cid):
            raise _param("algoClOrdId")
        if cid and any(a["algoClOrdId"] == cid for a in self.open_algos()):
            raise Rejected("51065", "algoClOrdId already exists.")
        sl = _float(p["slTriggerPx"], "slTriggerPx") if p.get("slTriggerPx") else None
        tp = _float(p["tpTriggerPx"], "tpTriggerPx") if p.get("tpTriggerPx") else None
        if kind == "conditional" and sl is not None:
            tp = None  # docs: a net conditional with both legs keeps the stop loss only
        if sl is None and tp is None:
            raise _empty("slTriggerPx")
        if kind == "oco" and (sl is None or tp is None):
            raise _param("tpTriggerPx" if tp is None else "slTriggerPx")
        self._check_algo_sides(p["side"], sl, tp, self.prices[inst.inst_id])
        close = str(p.get("closeFraction", "")) == "1"
        if close and not _bool(p.get("reduceOnly")):
            raise Rejected("51328", "closeFraction is only available for reduceOnly orders")
        q = {**p, "algoClOrdId": cid, "tpTriggerPx": _txt(tp) if tp is not None else "",
             "slTriggerPx": _txt(sl) if sl is not None else ""}
        return self._new_algo(q, sz)

    @staticmethod
    def _check_algo_sides(side: str, sl: float | None, tp: float | None, last: float) -> None:
        if side == "sell":
            if tp is not None and tp <= last:
                raise Rejected("51279", "TP trigger price cannot be lower than the last price.")
            if sl is not None and sl >= last:
                raise Rejected("51280", "SL trigger price cannot be higher than the last price.")
        else:
            if tp is not None and tp >= last:
                raise Rejected("51277", "TP trigger price cannot be higher than the last price.")
            if sl is not None and sl <= last:
                raise Rejected("51278", "SL trigger price cannot be lower than the last price.")

    def _new_algo(self, p: dict, sz: float) -> dict:
        now, inst_id = str(self.now_ms()), p["instId"]
        sl, tp = str(p.get("slTriggerPx") or ""), str(p.get("tpTriggerPx") or "")
        algo = {
            "activePx": "", "actualPx": "", "actualSide": "", "actualSz": "0",
            "algoClOrdId": str(p.get("algoClOrdId", "")), "algoId": str(next(self._ids)),
            "amendPxOnTriggerType": "0", "attachAlgoOrds": [], "cTime": now,
            "callbackRatio": "", "callbackSpread": "", "ccy": "",
            "clOrdId": str(p.get("algoClOrdId", "")),
            "closeFraction": str(p.get("closeFraction", "")), "failCode": "",
            "instId": inst_id, "instType": "SWAP", "isTradeBorrowMode": "",
            "last": _txt(self.prices[inst_id]), "lever": str(self._lever(inst_id, p["tdMode"])),
            "linkedOrd": {"ordId": ""}, "moveTriggerPx": "", "ordId": "", "ordIdList": [],
            "ordPx": "", "ordType": p["ordType"], "posSide": "net", "pxLimit": "",
            "pxSpread": "", "pxVar": "", "quickMgnType": "",
            "reduceOnly": "true" if _bool(p.get("reduceOnly")) else "false",
            "side": p["side"], "slOrdPx": str(p.get("slOrdPx", "-1")) if sl else "",
            "slTriggerPx": sl, "slTriggerPxType": str(p.get("slTriggerPxType") or "last")
            if sl else "", "state": "live", "sz": _txt(sz) if sz else "", "szLimit": "",
            "tag": str(p.get("tag", "")), "tdMode": p["tdMode"], "tgtCcy": "",
            "timeInterval": "", "tpOrdPx": str(p.get("tpOrdPx", "-1")) if tp else "",
            "tpTriggerPx": tp, "tpTriggerPxType": str(p.get("tpTriggerPxType") or "last")
            if tp else "", "triggerPx": "", "triggerPxType": "", "triggerTime": "",
            "uTime": now}
        self.algos.append(algo)
        return algo

    @staticmethod
    def _algo_hit(algo: dict, high: float, low: float) -> tuple[str, float] | None:
        """('sl' | 'tp', trigger price) when the candle crosses a leg; the stop loss first."""
        sl = float(algo["slTriggerPx"]) if algo["slTriggerPx"] else None
        tp = float(algo["tpTriggerPx"]) if algo["tpTriggerPx"] else None
        closing_long = algo["side"] == "sell"
        if sl is not None and ((closing_long and low <= sl) or (not closing_long and high >= sl)):
            return "sl", sl
        if tp is not None and ((closing_long and high >= tp) or (not closing_long and low <= tp)):
            return "tp", tp
        return None

    def _trigger(self, algo: dict, leg: str, px: float) -> None:
        now = str(self.now_ms())
        held = self.position(algo["instId"], algo["tdMode"])
        sz = abs(held) if algo["closeFraction"] == "1" else float(algo["sz"] or 0)
        reduce_only = algo["reduceOnly"] == "true"
        wrong_way = held == 0 or (held > 0) == (algo["side"] == "buy")
        algo.update({"triggerTime": now, "uTime": now, "actualSide": leg})
        if reduce_only and wrong_way:
            algo.update({"state": "order_failed", "failCode": "51169"})
            return
        if reduce_only:
            sz = min(sz, abs(held))
        inst = self.instruments[algo["instId"]]
        p = {"instId": algo["instId"], "tdMode": algo["tdMode"], "side": algo["side"],
             "ordType": "market", "tag": algo["tag"]}
        order = self._new_order(inst, p, sz, None, reduce_only, [], algo=algo)
        self._execute(order, px, maker=False)
        algo.update({"state": "effective", "actualSz": _txt(sz), "actualPx": _txt(px),
                     "ordId": order["ordId"], "ordIdList": [order["ordId"]]})

    def _find_algo(self, p: dict) -> dict:
        for a in reversed(self.algos):
            if (p.get("algoId") and a["algoId"] == p["algoId"]) or (
                    p.get("algoClOrdId") and a["algoClOrdId"] == p["algoClOrdId"]):
                return a
        raise OkxError("51603", "Order does not exist.")

    def h_get_order_algo(self, p: dict) -> list:
        if not p.get("algoId") and not p.get("algoClOrdId"):
            raise OkxError("50015", "Either parameter algoId or algoClOrdId is required", 400)
        return [dict(self._find_algo(p))]

    def h_orders_algo_pending(self, p: dict) -> list:
        kinds = self._algo_kinds(p)
        rows = [dict(a) for a in reversed(self.algos) if a["state"] == "live"
                and a["ordType"] in kinds]
        return _filter(rows, p)[: _limit(p)]

    def h_orders_algo_history(self, p: dict) -> list:
        kinds = self._algo_kinds(p)
        if not p.get("state") and not p.get("algoId"):
            raise OkxError("50015", "Either parameter state or algoId is required", 400)
        rows = [dict(a) for a in reversed(self.algos) if a["state"] != "live"
                and a["ordType"] in kinds and p.get("state") in (None, a["state"])]
        return _filter(rows, p)[: _limit(p)]

    @staticmethod
    def _algo_kinds(p: dict) -> set[str]:
        if not p.get("ordType"):
            raise _empty("ordType")
        kinds = set(p["ordType"].split(","))
        if len(kinds) > 1 and kinds != {"conditional", "oco"}:
            raise _param("ordType")  # only conditional and oco can be asked together
        return kinds

    def h_cancel_algos(self, p: Any) -> list:
        if not isinstance(p, list):
            raise OkxError("50002", "JSON syntax error", 400)
        out = []
        for item in p:
            try:
                algo = self._find_algo(item)
            except OkxError:
                algo = None
            if algo is None or algo["state"] != "live" or algo["instId"] != item.get("instId"):
                out.append({"algoClOrdId": str(item.get("algoClOrdId", "")),
                            "algoId": str(item.get("algoId", "")), "clOrdId": "",
                            "sCode": "51400", "sMsg": "Cancellation failed as the order has "
                                                      "been filled, canceled or does not exist.",
                            "tag": ""})
                continue
            algo.update({"state": "canceled", "uTime": str(self.now_ms())})
            out.append({"algoClOrdId": algo["algoClOrdId"], "algoId": algo["algoId"],
                        "clOrdId": "", "sCode": "0", "sMsg": "", "tag": ""})
        return out


def _apply(pos: Position, signed: float, px: float, ct: float) -> float:
    """Add a signed fill to a net position; returns the realised PnL in USDT."""
    if pos.pos == 0 or (pos.pos > 0) == (signed > 0):
        total = abs(pos.pos) + abs(signed)
        pos.avg = (pos.avg * abs(pos.pos) + px * abs(signed)) / total
        pos.pos += signed
        return 0.0
    closed = min(abs(pos.pos), abs(signed))
    pnl = (px - pos.avg) * closed * ct * (1 if pos.pos > 0 else -1)
    rest = pos.pos + signed
    if abs(rest) < 1e-12:
        pos.pos, pos.avg = 0.0, 0.0
    elif (rest > 0) != (pos.pos > 0):
        pos.pos, pos.avg = rest, px
    else:
        pos.pos = rest
    return pnl


def _public(order: dict) -> dict:
    return dict(order)


def _as_live(order: dict) -> dict:
    """How a lookup may show a market order that has in fact filled: live, nothing filled."""
    return {**order, "state": "live", "accFillSz": "0", "avgPx": "", "fillPx": "",
            "fillSz": "0", "fillTime": "", "fee": "0", "pnl": "0", "tradeId": ""}


def _filter(rows: list[dict], p: dict) -> list[dict]:
    for key in ("instId", "algoId", "algoClOrdId"):
        if p.get(key):
            rows = [r for r in rows if r.get(key) == p[key]]
    if p.get("instType"):
        rows = [r for r in rows if r.get("instType") == p["instType"]]
    return rows


def _limit(p: dict) -> int:
    try:
        return max(1, min(100, int(p.get("limit", 100))))
    except ValueError:
        raise _param("limit") from None


def _reply(payload: Any, status: int = 200, headers: dict | None = None) -> web.Response:
    """JSON as OKX writes it: compact, no spaces after separators."""
    return web.Response(text=json.dumps(payload, separators=(",", ":")), status=status,
                        headers=headers, content_type="application/json")


def _ok(data: list) -> web.Response:
    return _reply({"code": "0", "data": data, "msg": ""})


def _status(status: int | None, headers: dict) -> web.Response:
    if status == 429:
        return _reply({"msg": "Too Many Requests", "code": "50011"}, status=429,
                                 headers=headers)
    if status == 503:
        return _reply({"code": "50001", "data": [], "msg": "Service temporarily "
                                  "unavailable. Please try again later."}, status=503,
                                 headers=headers)
    if status == 500:
        return _reply({"code": "50026", "data": [], "msg": "System error. Try "
                                  "again later"}, status=500, headers=headers)
    status = status or 502
    reason = {502: "Bad Gateway", 504: "Gateway Time-out"}.get(status, "Error")
    return web.Response(status=status, headers=headers, content_type="text/html",
                        text=f"<html><body><h1>{status} {reason}</h1></body></html>")


def _instrument_row(i: Instrument) -> dict:
    family = i.inst_id.rsplit("-", 1)[0]
    return {"alias": "", "auctionEndTime": "", "baseCcy": "", "category": "1",
            "contTdSwTime": str(i.list_time), "ctMult": "1", "ctType": "linear",
            "ctVal": i.ct_val, "ctValCcy": i.base, "expTime": "", "futureSettlement": False,
            "instFamily": family, "instId": i.inst_id,
            "instIdCode": zlib.crc32(i.inst_id.encode()) % 100_000, "instType": "SWAP",
            "lever": i.lever, "listTime": str(i.list_time), "lotSz": i.lot_sz,
            "maxIcebergSz": "100000000", "maxLmtAmt": "20000000", "maxLmtSz": "100000000",
            "maxMktAmt": "", "maxMktSz": "12000", "maxStopSz": "12000",
            "maxTriggerSz": "100000000", "maxTwapSz": "100000000", "minSz": i.min_sz,
            "openType": "", "optType": "", "quoteCcy": "", "ruleType": "normal",
            "settleCcy": "USDT", "state": i.state, "stk": "", "tickSz": i.tick_sz,
            "tradeQuoteCcyList": [], "uly": family}


_V5 = "/api/v5/"
ROUTES: dict[tuple[str, str], tuple[str, bool, bool]] = {  # -> (handler, private, order-style)
    ("GET", _V5 + "public/time"): ("h_time", False, False),
    ("GET", _V5 + "public/instruments"): ("h_instruments", False, False),
    ("GET", _V5 + "market/tickers"): ("h_tickers", False, False),
    ("GET", _V5 + "market/ticker"): ("h_ticker", False, False),
    ("GET", _V5 + "market/candles"): ("h_candles", False, False),
    ("GET", _V5 + "market/history-candles"): ("h_history_candles", False, False),
    ("GET", _V5 + "asset/currencies"): ("h_currencies", True, False),
    ("GET", _V5 + "account/config"): ("h_config", True, False),
    ("POST", _V5 + "account/set-position-mode"): ("h_set_position_mode", True, False),
    ("POST", _V5 + "account/set-leverage"): ("h_set_leverage", True, False),
    ("GET", _V5 + "account/leverage-info"): ("h_leverage_info", True, False),
    ("GET", _V5 + "account/balance"): ("h_balance", True, False),
    ("GET", _V5 + "account/positions"): ("h_positions", True, False),
    ("POST", _V5 + "trade/order"): ("h_order", True, True),
    ("POST", _V5 + "trade/batch-orders"): ("h_batch_orders", True, True),
    ("GET", _V5 + "trade/order"): ("h_get_order", True, False),
    ("GET", _V5 + "trade/orders-pending"): ("h_orders_pending", True, False),
    ("GET", _V5 + "trade/orders-history"): ("h_orders_history", True, False),
    ("POST", _V5 + "trade/cancel-order"): ("h_cancel_order", True, True),
    ("POST", _V5 + "trade/cancel-batch-orders"): ("h_cancel_batch_orders", True, True),
    ("GET", _V5 + "trade/fills"): ("h_fills", True, False),
    ("GET", _V5 + "trade/fills-history"): ("h_fills_history", True, False),
    ("POST", _V5 + "trade/order-algo"): ("h_order_algo", True, True),
    ("GET", _V5 + "trade/order-algo"): ("h_get_order_algo", True, False),
    ("GET", _V5 + "trade/orders-algo-pending"): ("h_orders_algo_pending", True, False),
    ("GET", _V5 + "trade/orders-algo-history"): ("h_orders_algo_history", True, False),
    ("POST", _V5 + "trade/cancel-algos"): ("h_cancel_algos", True, True),
}
