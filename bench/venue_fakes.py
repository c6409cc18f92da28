"""Each venue's local fake for bench/venues.py, served from a child process so that its CPU
time does not count as the daemon's."""
from __future__ import annotations

import asyncio
import multiprocessing
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

AT = 1_770_786_002_000  # 2026-02-11 05:00:02 UTC: 15m, 25m and 1h candles all just closed


def _binance(symbols: int, latency_s: float) -> Any:
    from tests.fakes.binance_data import FakeBinance, Listing
    listings = [Listing(f"S{i:03d}USDT", quote_volume=1e9 - i) for i in range(symbols)]
    return FakeBinance(listings=listings, now_ms=AT, latency_s=latency_s)


def _bybit(symbols: int, latency_s: float) -> Any:
    from tests.fakes.bybit import FakeBybit, Instrument
    names = [f"S{i:03d}USDT" for i in range(symbols)]
    return FakeBybit(now_ms=AT, latency_s=latency_s, prices={n: 100.0 for n in names},
                     instruments=[Instrument(n, turnover24h=1e9 - i)
                                  for i, n in enumerate(names)])


def _okx(symbols: int, latency_s: float) -> Any:
    from tests.fakes.okx import FakeOKX, Instrument
    return FakeOKX(now_ms=AT, latency_s=latency_s,
                   instruments=[Instrument(f"S{i:03d}-USDT-SWAP", vol_ccy_24h=1e9 - i)
                                for i in range(symbols)])


def _gate(symbols: int, latency_s: float) -> Any:
    from tests.fakes.gate import Contract, FakeGate
    return FakeGate(now_ms=AT, latency_s=latency_s,
                    contracts=tuple(Contract(f"S{i:03d}_USDT", "1", "0.01",
                                             volume_24h_quote=1e9 - i)
                                    for i in range(symbols)))


def _kucoin(symbols: int, latency_s: float) -> Any:
    from tests.fakes.kucoin import Contract, FakeKucoin
    return FakeKucoin(now_ms=AT, latency_s=latency_s,
                      contracts=tuple(Contract(f"S{i:03d}USDTM", f"S{i:03d}", 1.0, 0.01,
                                               turnover_24h=1e9 - i)
                                      for i in range(symbols)))


def _bitget(symbols: int, latency_s: float) -> Any:
    from tests.fakes.bitget import Contract, FakeBitget
    return FakeBitget(now_ms=AT, latency_s=latency_s,
                      contracts=tuple(Contract(f"S{i:03d}USDT", quote_volume=1e9 - i)
                                      for i in range(symbols)))


def _bingx(symbols: int, latency_s: float) -> Any:
    from tests.fakes.bingx import FakeBingX
    names = [f"S{i:03d}-USDT" for i in range(symbols)]
    return FakeBingX(now_ms=AT, latency_s=latency_s,
                     contracts={n: (2, 2, "0.01") for n in names},
                     quote_volumes={n: 1e9 - i for i, n in enumerate(names)})


def _delta(symbols: int, latency_s: float) -> Any:
    from tests.fakes.delta import FakeDelta, Product
    return FakeDelta(now_ms=AT, latency_s=latency_s,
                     products=tuple(Product(1000 + i, f"S{i:03d}USD", "1", "0.01",
                                            turnover_usd=1e9 - i)
                                    for i in range(symbols)))


@dataclass(frozen=True)
class BenchFake:
    """How to serve one venue's fake and tell its candle requests in the request log."""

    build: Callable[[int, float], Any]  # (symbols, latency_s) -> the fake, not started
    candle_paths: tuple[str, ...]
    symbol_key: str
    interval_key: str
    ccxt_id: str  # for the RSS probe while the venue module is not there yet


FAKES = {
    "binance": BenchFake(_binance, ("/fapi/v1/klines",), "symbol", "interval", "binanceusdm"),
    "bybit": BenchFake(_bybit, ("/v5/market/kline",), "symbol", "interval", "bybit"),
    "okx": BenchFake(_okx, ("/api/v5/market/candles", "/api/v5/market/history-candles"),
                     "instId", "bar", "okx"),
    "gate": BenchFake(_gate, ("/api/v4/futures/usdt/candlesticks",), "contract", "interval",
                      "gate"),
    "kucoin": BenchFake(_kucoin, ("/api/v1/kline/query",), "symbol", "granularity",
                        "kucoinfutures"),
    "bitget": BenchFake(_bitget, ("/api/v2/mix/market/candles",
                                  "/api/v2/mix/market/history-candles"),
                        "symbol", "granularity", "bitget"),
    "bingx": BenchFake(_bingx, ("/openApi/swap/v3/quote/klines",), "symbol", "interval", "bingx"),
    "delta": BenchFake(_delta, ("/v2/history/candles",), "symbol", "resolution", "delta"),
}


def _log_rows(fake: Any, spec: BenchFake) -> list[tuple[str, str, str]]:
    """The fake's request log as (path, symbol, interval): plain tuples cross the pipe."""
    rows = []
    for r in fake.requests:
        params = r.params if isinstance(r.params, dict) else {}
        rows.append((r.path, str(params.get(spec.symbol_key, "")),
                     str(params.get(spec.interval_key, ""))))
    return rows


def _serve(conn, name: str, symbols: int, latency_ms: float) -> None:
    """Child process: run the venue's fake (its CPU is not ours), report its request log."""
    async def serve():
        spec = FAKES[name]
        fake = spec.build(symbols, latency_ms / 1000)
        await fake.start()
        conn.send(fake.url)
        loop = asyncio.get_running_loop()
        while (await loop.run_in_executor(None, conn.recv)) == "requests":
            conn.send(_log_rows(fake, spec))
        await (fake.close() if hasattr(fake, "close") else fake.stop())

    asyncio.run(serve())


class RemoteFake:
    """A venue's fake in a child process, so its CPU time does not count as the daemon's."""

    def __init__(self, name: str, symbols: int, latency_ms: float) -> None:
        self.conn, child = multiprocessing.Pipe()
        self.process = multiprocessing.Process(target=_serve,
                                               args=(child, name, symbols, latency_ms),
                                               daemon=True)
        self.process.start()
        self.url = self.conn.recv()

    @property
    def requests(self) -> list[tuple[str, str, str]]:
        """The child's request log so far: (path, symbol, interval)."""
        self.conn.send("requests")
        return self.conn.recv()

    def close(self) -> None:
        """Stop the child."""
        self.conn.send("stop")
        self.process.join(5)
