"""Binance USD-M kline stream: `<symbol>@kline_<interval>` on combined streams, closed flag `k.x`.

From Binance's USD-M websocket documentation: combined streams are read at
`/stream?streams=a/b/c` and pushed as {"stream": name, "data": payload}; more can be added with
{"method": "SUBSCRIBE", "params": [...], "id": n}; at most 10 incoming messages per second and
1024 streams per connection (we use 200, so a reconnect refetches little); the server pings
every 3 minutes and aiohttp answers with a pong; a connection lives at most 24 hours. Klines
are pushed every 250 ms, so a minute without a frame on 200 streams is a dead socket. A closed
kline arrives about 2 s after its close, so a fallback timer must wait longer than that.
"""
from __future__ import annotations

import json
from collections.abc import Sequence

from .stream import KlineUpdate, Parsed, StreamProtocolError, batches, loads
from .venue import WsSpec

SPEC = WsSpec(url="wss://fstream.binance.com", dialect="exchanges.binance_ws",
              publish_delay_s=2.0, topics_per_connection=200, topics_per_message=100,
              messages_per_s=5.0, ping_every_s=0.0, stall_s=60.0, max_life_s=23.5 * 3600)


class BinanceDialect:
    """Binance USD-M combined kline streams."""

    spec = SPEC

    def path(self, base_url: str, topics: Sequence[str]) -> str:
        # Topics are subscribed by message, so a long list never makes an overlong URL.
        return base_url.rstrip("/") + "/stream"

    def topic(self, symbol: str, timeframe: str) -> str:
        return f"{symbol.replace('/', '').lower()}@kline_{timeframe}"

    def subscribe(self, topics: Sequence[str]) -> list[str]:
        return [json.dumps({"method": "SUBSCRIBE", "params": part, "id": n + 1})
                for n, part in enumerate(batches(topics, self.spec.topics_per_message))]

    def ping(self) -> str | None:
        return None  # the server pings; aiohttp answers

    def parse(self, text: str) -> Parsed:
        msg = loads(text)
        if not isinstance(msg, dict):
            raise StreamProtocolError(f"unexpected frame {text[:80]!r}")
        if "result" in msg and "id" in msg:
            return Parsed()  # a SUBSCRIBE acknowledgement
        if "error" in msg:
            return Parsed(error=str(msg["error"]))
        data = msg.get("data")
        if not isinstance(data, dict) or data.get("e") != "kline":
            return Parsed()  # another event on the same socket
        try:
            k = data["k"]
            symbol = k["s"]
            if not symbol.endswith("USDT"):
                raise StreamProtocolError(f"not a USDT perpetual: {symbol}")
            return Parsed(updates=(KlineUpdate(
                symbol=f"{symbol[:-4]}/USDT", timeframe=k["i"], open_ms=int(k["t"]),
                open=float(k["o"]), high=float(k["h"]), low=float(k["l"]), close=float(k["c"]),
                volume=float(k["v"]), closed=k["x"] is True),))
        except (KeyError, TypeError, ValueError) as e:
            raise StreamProtocolError(f"malformed kline: {text[:120]!r}") from e


DIALECT = BinanceDialect()
