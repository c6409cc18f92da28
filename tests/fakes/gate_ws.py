"""A fake Gate USDT futures stream (wss://fx-ws.gateio.ws/v4/ws/usdt), from Gate's Futures
WebSocket v4 documentation.

{"time", "channel": "futures.candlesticks", "event": "subscribe", "payload": [interval,
contract]} answered {"time", "time_ms", "channel", "event": "subscribe", "payload", "error": null,
"result": {"status": "success"}}, or with "error": {"code": 2, "message"} and status "fail" for
an interval Gate does not serve; {"time", "channel": "futures.ping"} answered by channel
"futures.pong"; updates {"time", "time_ms", "channel": "futures.candlesticks", "event": "update",
"result": [{"t": seconds, "v", "c", "h", "l", "o", "n": "1m_BTC_USDT", "a", "w"}]}. `v` counts
contracts: a decimal string on a socket opened with X-Gate-Size-Decimal: 1, else rounded down
to an integer (`size_decimal` records what the last connect asked). Gate pings at the protocol
level (`server_ping_s`) and documents no idle close.
"""
from __future__ import annotations

import json
import math
import time

from aiohttp import web

from .ws_base import Client, FakeStream, Kline

CHANNEL = "futures.candlesticks"
INTERVALS = ("10s", "1m", "5m", "15m", "30m", "1h", "4h", "8h", "1d", "7d")
MULTIPLIER = 0.01  # base units per contract, for `a`


def _envelope(channel: str, event: str, **fields: object) -> str:
    now = time.time()
    return json.dumps({"time": int(now), "time_ms": int(now * 1000), "channel": channel,
                       "event": event, **fields})


class FakeGateStream(FakeStream):
    path = "/v4/ws/usdt"

    def __init__(self) -> None:
        super().__init__()
        self.size_decimal = False

    def topic(self, k: Kline) -> str:
        return f"{k.timeframe}_{k.symbol.replace('/', '_')}"

    def frame(self, k: Kline, topic: str) -> str:
        size = str(k.volume) if self.size_decimal else math.floor(k.volume)
        return _envelope(CHANNEL, "update", result=[{
            "t": k.open_ms // 1000, "v": size, "c": str(k.close), "h": str(k.high),
            "l": str(k.low), "o": str(k.open), "n": topic, "a": str(k.volume * MULTIPLIER),
            "w": k.closed}])

    def on_open(self, client: Client, request: web.Request) -> None:
        self.size_decimal = request.headers.get("X-Gate-Size-Decimal") == "1"

    def on_message(self, client: Client, text: str) -> list[str]:
        msg = json.loads(text)
        channel, event, payload = msg.get("channel"), msg.get("event"), msg.get("payload")
        if channel == "futures.ping":
            return [_envelope("futures.pong", "", result=None)]
        if channel == CHANNEL and event == "subscribe" and isinstance(payload, list) \
                and len(payload) == 2 and payload[0] in INTERVALS:
            client.topics.add("_".join(payload))
            return [_envelope(CHANNEL, "subscribe", payload=payload, error=None,
                              result={"status": "success"})]
        return [_envelope(str(channel), str(event), payload=payload,
                          error={"code": 2, "message": "invalid argument"},
                          result={"status": "fail"})]
