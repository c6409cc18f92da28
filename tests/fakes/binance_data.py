"""A local fake of Binance USD-M public market data (aiohttp), for ccxt to talk to for real.

    fake = FakeBinance(candles={("LTCUSDT", "1m"): df}, now_ms=...)
    await fake.start(); fetcher settings: BINANCE_DATA_URL=fake.url
    fake.set_now(ms); fake.fail("/fapi/v1/klines", 429, times=1, headers={"Retry-After": "1"})
    fake.requests -> [Request(path, params, weight, status)]

Endpoints: /fapi/v1/time, /fapi/v1/exchangeInfo, /fapi/v1/klines, /fapi/v1/ticker/24hr.
Klines follow Binance: open times filtered by startTime/endTime (inclusive), `limit` default
500, max 1500; with startTime the first `limit` rows, otherwise the last `limit`; rows are the
12-field arrays with string prices, and the candle still forming at the fake's "now" is served
(its close time is in the future). Symbols without stored candles get deterministic synthetic
ones; a stored 1m series also serves every other native interval (epoch-aligned resampling).
"""
from __future__ import annotations

import asyncio
import json
import math
import zlib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from aiohttp import web

from . import serve_locally
from .base import VenueClock

MINUTE = 60_000
INTERVAL_MS = {"1m": MINUTE, "3m": 3 * MINUTE, "5m": 5 * MINUTE, "15m": 15 * MINUTE,
               "30m": 30 * MINUTE, "1h": 60 * MINUTE, "2h": 120 * MINUTE, "4h": 240 * MINUTE,
               "6h": 360 * MINUTE, "8h": 480 * MINUTE, "12h": 720 * MINUTE,
               "1d": 1440 * MINUTE, "3d": 3 * 1440 * MINUTE, "1w": 7 * 1440 * MINUTE, "1M": 0}
WEEK_ORIGIN = 4 * 1440 * MINUTE  # Binance weeks open on Monday; 1970-01-01 was a Thursday
LISTED_MS = 1_569_398_400_000  # 2019-09-25, BTCUSDT's onboardDate on the real exchange
EXCHANGE_INFO = (Path(__file__).resolve().parents[3] / "shared" / "data" / "binance-futures-rest"
                 / "fapi_v1_exchangeInfo_BTCUSDT_ETHUSDT_2022-02-19_nautilus.json")
ERRORS = {  # status -> Binance's body for it
    400: {"code": -1102,
          "msg": "A mandatory parameter was not sent, was empty/null, or malformed."},
    418: {"code": -1003, "msg": "Way too many requests; IP(127.0.0.1) banned until "
                                "1767225600000. Please use the websocket for live updates "
                                "to avoid bans."},
    429: {"code": -1003, "msg": "Too many requests; current limit of IP(127.0.0.1) is 2400 "
                                "requests per minute. Please use the websocket for live "
                                "updates to avoid polling the API."},
    500: {"code": -1000, "msg": "An unknown error occured while processing the request."},
    503: {"code": -1001, "msg": "Internal error; unable to process your request. "
                                "Please try again."},
}


def kline_weight(limit: int) -> int:
    """Binance's request weight of /fapi/v1/klines for a limit."""
    return 1 if limit < 100 else 2 if limit < 500 else 5 if limit <= 1000 else 10


@dataclass
class Request:
    """One request the fake answered: path, query parameters, weight, HTTP status."""

    path: str
    params: dict
    weight: int
    status: int = 200


@dataclass
class Fault:
    """A scripted failure for the next `times` requests to `path`."""

    status: int | None = 500  # None: answer 200 (with `delay_s` or `malformed`)
    times: int = 1
    headers: dict = field(default_factory=dict)
    delay_s: float = 0.0
    malformed: bool = False


@dataclass
class Listing:
    """One symbol of exchangeInfo and ticker/24hr."""

    symbol: str
    quote_volume: float = 1e9
    status: str = "TRADING"
    contract_type: str = "PERPETUAL"
    quote: str = "USDT"


def _month_grid(lo: int, hi: int) -> np.ndarray:
    months = np.arange(np.datetime64(lo, "ms").astype("datetime64[M]"),
                       np.datetime64(hi, "ms").astype("datetime64[M]") + 1)
    return months.astype("datetime64[ms]").astype(np.int64)


def _close_times(ts: np.ndarray, interval: str) -> np.ndarray:
    if interval == "1M":
        nxt = (ts.astype("datetime64[ms]").astype("datetime64[M]") + 1)
        return nxt.astype("datetime64[ms]").astype(np.int64) - 1
    return ts + INTERVAL_MS[interval] - 1


def _text(x: float) -> str:
    return f"{x:.8f}".rstrip("0").rstrip(".") if math.isfinite(x) else str(x)


def synthetic(symbol: str, ts: np.ndarray, interval: str) -> pd.DataFrame:
    """Deterministic, sane candles for any open times: a price wave seeded by the symbol."""
    seed = zlib.crc32(symbol.encode()) % 1000
    length = INTERVAL_MS[interval] or 30 * 1440 * MINUTE
    t = ts.astype(np.float64) / 3_600_000.0
    base = 50.0 + seed / 10.0
    o = base * (1 + 0.05 * np.sin(t / 7.0 + seed))
    c = base * (1 + 0.05 * np.sin((t + length / 3_600_000.0) / 7.0 + seed))
    h = np.maximum(o, c) * 1.002
    lo = np.minimum(o, c) * 0.998
    v = 100.0 + (ts // length % 17)
    return pd.DataFrame({"timestamp": ts, "open": o, "high": h, "low": lo, "close": c,
                         "volume": v.astype(np.float64)})


def resample(one_minute: pd.DataFrame, interval: str) -> pd.DataFrame:
    """Epoch-aligned native candles from 1m rows (Binance's own grid)."""
    ts = one_minute["timestamp"].to_numpy(dtype=np.int64)
    if interval == "1M":
        key = ts.astype("datetime64[ms]").astype("datetime64[M]").astype("datetime64[ms]")
        key = key.astype(np.int64)
    else:
        step = INTERVAL_MS[interval]
        origin = WEEK_ORIGIN if interval == "1w" else 0
        key = ts - (ts - origin) % step
    g = one_minute.assign(timestamp=key).groupby("timestamp", sort=True)
    return pd.DataFrame({"open": g["open"].first(), "high": g["high"].max(),
                         "low": g["low"].min(), "close": g["close"].last(),
                         "volume": g["volume"].sum()}).reset_index()


class FakeBinance(VenueClock):
    """The fake server: a controllable clock, scripted faults and a request log."""

    def __init__(self, candles: dict[tuple[str, str], pd.DataFrame] | None = None, *,
                 now_ms: int | None = None, listings: list[Listing] | None = None,
                 latency_s: float = 0.0, skew_ms: int = 0) -> None:
        self.candles = {k: v.astype({"timestamp": "int64"}).sort_values("timestamp")
                        .reset_index(drop=True) for k, v in (candles or {}).items()}
        self.listings = listings if listings is not None else [
            Listing(s) for s in dict.fromkeys([k[0] for k in self.candles] + ["BTCUSDT",
                                                                             "ETHUSDT"])]
        self.latency_s = latency_s
        self.skew_ms = skew_ms  # server clock = host clock + skew when no frozen now is set
        self._now = now_ms
        self.requests: list[Request] = []
        self.faults: dict[str, list[Fault]] = {}
        self.corrupt: dict[tuple[str, str, int], int] = {}
        self.scramble_next = 0
        self._resampled: dict[tuple[str, str, int], pd.DataFrame] = {}
        self._runner: web.AppRunner | None = None
        self.url = ""

    # -- control: now_ms, set_now, advance are VenueClock's, over _now and skew_ms ------------

    def fail(self, path: str, status: int | None = 500, times: int = 1,
             headers: dict | None = None, *, delay_s: float = 0.0,
             malformed: bool = False) -> None:
        """Script the next `times` answers of `path` (e.g. '/fapi/v1/klines')."""
        self.faults.setdefault(path, []).append(
            Fault(status, times, dict(headers or {}), delay_s, malformed))

    def corrupt_candle(self, symbol: str, interval: str, open_ms: int, times: int = 1) -> None:
        """Serve the candle at open_ms with high below low for the next `times` answers."""
        self.corrupt[(symbol, interval, int(open_ms))] = times

    def paths(self) -> list[str]:
        """Paths requested so far, in order."""
        return [r.path for r in self.requests]

    def weight(self) -> int:
        """Total request weight of the successful requests so far."""
        return sum(r.weight for r in self.requests if r.status == 200)

    # -- lifecycle ----------------------------------------------------------------------------

    async def start(self) -> FakeBinance:
        """Listen on 127.0.0.1, a free port; sets .url."""
        app = web.Application(middlewares=[self._middleware])
        app.router.add_get("/fapi/v1/time", self._time)
        app.router.add_get("/fapi/v1/exchangeInfo", self._exchange_info)
        app.router.add_get("/fapi/v1/klines", self._klines)
        app.router.add_get("/fapi/v1/ticker/24hr", self._ticker)
        self._runner, self.url = await serve_locally(app, shutdown_timeout=0.1)
        return self

    async def close(self) -> None:
        """Stop listening."""
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    # -- plumbing -----------------------------------------------------------------------------

    @web.middleware
    async def _middleware(self, request: web.Request, handler):
        params = dict(request.query)
        entry = Request(request.path, params, 0)
        self.requests.append(entry)
        if self.latency_s:
            await asyncio.sleep(self.latency_s)
        queue = self.faults.get(request.path) or []
        if queue:
            fault = queue[0]
            fault.times -= 1
            if fault.times <= 0:
                queue.pop(0)
            if fault.delay_s:
                await asyncio.sleep(fault.delay_s)
            if fault.status is not None:
                entry.status = fault.status
                body = ERRORS.get(fault.status, ERRORS[500])
                return web.json_response(body, status=fault.status, headers=fault.headers)
            if fault.malformed:
                return web.Response(text='[[1700000000000,"1.0","1.1"', status=200,
                                    content_type="application/json", headers=fault.headers)
        response = await handler(request)
        entry.status = response.status
        entry.weight = getattr(response, "weight", 0) if response.status == 200 else 0
        response.headers["X-MBX-USED-WEIGHT-1M"] = str(self.weight())
        return response

    @staticmethod
    def _answer(payload, weight: int) -> web.Response:
        response = web.json_response(payload)
        response.weight = weight
        return response

    @staticmethod
    def _error(status: int, code: int, msg: str) -> web.Response:
        return web.json_response({"code": code, "msg": msg}, status=status)

    # -- endpoints ----------------------------------------------------------------------------

    async def _time(self, request: web.Request) -> web.Response:
        return self._answer({"serverTime": self.now_ms()}, 1)

    def _symbol_template(self) -> dict:
        if EXCHANGE_INFO.is_file():
            return json.loads(EXCHANGE_INFO.read_text())["symbols"][0]
        return {"symbol": "BTCUSDT", "pair": "BTCUSDT", "contractType": "PERPETUAL",
                "deliveryDate": 4133404802000, "onboardDate": LISTED_MS, "status": "TRADING",
                "baseAsset": "BTC", "quoteAsset": "USDT", "marginAsset": "USDT",
                "pricePrecision": 2, "quantityPrecision": 3, "baseAssetPrecision": 8,
                "quotePrecision": 8, "underlyingType": "COIN", "settlePlan": 0,
                "filters": [{"filterType": "PRICE_FILTER", "minPrice": "0.01",
                             "maxPrice": "1000000", "tickSize": "0.01"},
                            {"filterType": "LOT_SIZE", "minQty": "0.001", "maxQty": "1000",
                             "stepSize": "0.001"}],
                "orderTypes": ["LIMIT", "MARKET"], "timeInForce": ["GTC"]}

    async def _exchange_info(self, request: web.Request) -> web.Response:
        template = self._symbol_template()
        symbols = []
        for item in self.listings:
            base = item.symbol[: -len(item.quote)]
            symbols.append({**template, "symbol": item.symbol, "pair": item.symbol,
                            "baseAsset": base, "quoteAsset": item.quote,
                            "marginAsset": item.quote, "status": item.status,
                            "contractType": item.contract_type,
                            "deliveryDate": 4133404802000 if item.contract_type == "PERPETUAL"
                            else 1648195200000})
        return self._answer({"timezone": "UTC", "serverTime": self.now_ms(),
                             "futuresType": "U_MARGINED",
                             "rateLimits": [{"rateLimitType": "REQUEST_WEIGHT",
                                             "interval": "MINUTE", "intervalNum": 1,
                                             "limit": 2400}],
                             "exchangeFilters": [], "assets": [], "symbols": symbols}, 1)

    async def _ticker(self, request: web.Request) -> web.Response:
        wanted = request.query.get("symbol")
        rows = [{"symbol": item.symbol, "lastPrice": "1.0", "volume": "1000",
                 "quoteVolume": _text(item.quote_volume), "openTime": self.now_ms() - 86_400_000,
                 "closeTime": self.now_ms()}
                for item in self.listings if wanted in (None, item.symbol)]
        if wanted:
            if not rows:
                return self._error(400, -1121, "Invalid symbol.")
            return self._answer(rows[0], 1)
        return self._answer(rows, 40)

    def _series(self, symbol: str, interval: str) -> pd.DataFrame | None:
        if (symbol, interval) in self.candles:
            df = self.candles[(symbol, interval)]
            return df.loc[df["timestamp"] <= self.now_ms()]
        if (symbol, "1m") in self.candles:
            now = self.now_ms()
            key = (symbol, interval, now)
            if key not in self._resampled:
                one = self.candles[(symbol, "1m")]
                self._resampled = {key: resample(one.loc[one["timestamp"] <= now], interval)}
            return self._resampled[key]
        return None

    def _rows(self, symbol: str, interval: str, start: int | None, end: int | None,
              limit: int) -> pd.DataFrame:
        now = self.now_ms()
        hi = now if end is None else min(end, now)
        series = self._series(symbol, interval)
        if series is not None:
            ts = series["timestamp"].to_numpy()
            pick = series.loc[(ts >= (start if start is not None else -1)) & (ts <= hi)]
            return pick.head(limit) if start is not None else pick.tail(limit)
        # Synthetic: the interval's grid from the listing date to `hi`.
        lo = max(LISTED_MS, start if start is not None else LISTED_MS)
        if interval == "1M":
            grid = _month_grid(lo, hi)
            grid = grid[(grid >= lo) & (grid <= hi)]
        else:
            step = INTERVAL_MS[interval]
            origin = WEEK_ORIGIN if interval == "1w" else 0
            first = lo + (-(lo - origin)) % step
            last = hi - (hi - origin) % step
            if start is not None:
                last = min(last, first + (limit - 1) * step)
            else:
                first = max(first, last - (limit - 1) * step)
            grid = np.arange(first, last + 1, step, dtype=np.int64)
        grid = grid[:limit] if start is not None else grid[-limit:]
        return synthetic(symbol, grid, interval)

    async def _klines(self, request: web.Request) -> web.Response:
        q = request.query
        symbol, interval = q.get("symbol", ""), q.get("interval", "")
        if not symbol or not interval:
            return self._error(400, -1102, "Mandatory parameter 'symbol' was not sent, was "
                                           "empty/null, or malformed.")
        if symbol not in {item.symbol for item in self.listings}:
            return self._error(400, -1121, "Invalid symbol.")
        if interval not in INTERVAL_MS:
            return self._error(400, -1120, "Invalid interval.")
        try:
            limit = int(q.get("limit", 500))
            start = int(q["startTime"]) if "startTime" in q else None
            end = int(q["endTime"]) if "endTime" in q else None
        except ValueError:
            return self._error(400, -1100, "Illegal characters found in a parameter.")
        if not 1 <= limit <= 1500:
            return self._error(400, -1130, "Data sent for parameter 'limit' is not valid.")
        if start is not None and end is not None and start > end:
            return self._error(400, -1023, "Start time is greater than end time.")
        rows = self._rows(symbol, interval, start, end, limit)
        ts = rows["timestamp"].to_numpy(dtype=np.int64)
        close_times = _close_times(ts, interval)
        out = []
        for i, row in enumerate(rows.itertuples(index=False)):
            o, h, l, c, v = row.open, row.high, row.low, row.close, row.volume
            key = (symbol, interval, int(ts[i]))
            if self.corrupt.get(key, 0) > 0:
                self.corrupt[key] -= 1
                h = l * 0.5  # high below low: impossible
            out.append([int(ts[i]), _text(o), _text(h), _text(l), _text(c), _text(v),
                        int(close_times[i]), _text(v * c), 100, _text(v / 2),
                        _text(v * c / 2), "0"])
        if self.scramble_next > 0 and out:
            self.scramble_next -= 1
            out = out[::-1] + out[-1:]  # reversed, with one row twice
        return self._answer(out, kline_weight(limit))
