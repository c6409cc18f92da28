"""OKX v5 business candle stream: channel `candle<bar>` per instId, closed flag `confirm`.

From OKX's v5 websocket documentation: candles live on /ws/v5/business; subscribe with
{"op": "subscribe", "args": [{"channel": "candle1m", "instId": "BTC-USDT-SWAP"}, ...]} (the
request at most 64 kB, 480 subscribe requests an hour per connection, 3 connects a second per
IP); a socket silent for 30 s is closed, so the client sends the text "ping" and gets "pong";
pushes are {"arg": {...}, "data": [[ts, o, h, l, c, vol, volCcy, volCcyQuote, confirm]]} with
confirm "1" once the candle has closed. Bars of 6h and more are asked on the UTC grid (6Hutc),
as the REST side asks them.
"""
from __future__ import annotations

import json
from collections.abc import Sequence

from .stream import KlineUpdate, Parsed, StreamProtocolError, batches, loads
from .venue import WsSpec

SPEC = WsSpec(url="wss://ws.okx.com:8443/ws/v5/business", dialect="exchanges.okx_ws",
              publish_delay_s=0.5, topics_per_connection=200, topics_per_message=100,
              messages_per_s=3.0, ping_every_s=20.0, stall_s=45.0, max_life_s=23.5 * 3600)
BARS = {"1m": "1m", "3m": "3m", "5m": "5m", "15m": "15m", "30m": "30m", "1h": "1H",
        "2h": "2H", "4h": "4H", "6h": "6Hutc", "12h": "12Hutc", "1d": "1Dutc", "1w": "1Wutc",
        "1M": "1Mutc"}
TIMEFRAMES = {v: k for k, v in BARS.items()}


class OkxDialect:
    """OKX v5 business candles of USDT swaps."""

    spec = SPEC

    def path(self, base_url: str, topics: Sequence[str]) -> str:
        return base_url

    def topic(self, symbol: str, timeframe: str) -> str:
        return f"candle{BARS[timeframe]}:{symbol.replace('/', '-')}-SWAP"

    def subscribe(self, topics: Sequence[str]) -> list[str]:
        def arg(topic: str) -> dict[str, str]:
            channel, inst = topic.split(":")
            return {"channel": channel, "instId": inst}

        return [json.dumps({"op": "subscribe", "args": [arg(t) for t in part]})
                for part in batches(topics, self.spec.topics_per_message)]

    def ping(self) -> str | None:
        return "ping"

    def parse(self, text: str) -> Parsed:
        if text == "pong":
            return Parsed()
        msg = loads(text)
        if not isinstance(msg, dict):
            raise StreamProtocolError(f"unexpected frame {text[:80]!r}")
        if "event" in msg:
            ok = msg["event"] != "error"
            return Parsed() if ok else Parsed(error=f"{msg.get('code')} {msg.get('msg')}")
        try:
            arg = msg["arg"]
            channel, inst = arg["channel"], arg["instId"]
            if not channel.startswith("candle"):
                return Parsed()
            base, quote, kind = inst.split("-")
            if quote != "USDT" or kind != "SWAP":
                raise StreamProtocolError(f"not a USDT swap: {inst}")
            tf = TIMEFRAMES[channel[len("candle"):]]
            return Parsed(updates=tuple(
                KlineUpdate(symbol=f"{base}/USDT", timeframe=tf, open_ms=int(row[0]),
                            open=float(row[1]), high=float(row[2]), low=float(row[3]),
                            close=float(row[4]), volume=float(row[6]), closed=row[8] == "1")
                for row in msg["data"]))
        except (KeyError, TypeError, ValueError, IndexError) as e:
            raise StreamProtocolError(f"malformed candle: {text[:120]!r}") from e


DIALECT = OkxDialect()
