"""A fake OKX v5 business stream (wss://ws.okx.com:8443/ws/v5/business), from OKX's
documentation.

{"op": "subscribe", "args": [{"channel": "candle1m", "instId": "BTC-USDT-SWAP"}]} answered
with one {"event": "subscribe", "arg": {...}, "connId"} per arg; the text "ping" answered
"pong"; pushes {"arg": {"channel", "instId"}, "data": [[ts, o, h, l, c, vol, volCcy,
volCcyQuote, confirm]]}; a socket silent for 30 s is closed (`idle_close_s`).
"""
from __future__ import annotations

import json

from .ws_base import Client, FakeStream, Kline

BARS = {"1m": "1m", "3m": "3m", "5m": "5m", "15m": "15m", "30m": "30m", "1h": "1H",
        "2h": "2H", "4h": "4H", "6h": "6Hutc", "12h": "12Hutc", "1d": "1Dutc"}
CONTRACTS_PER_COIN = 100  # vol counts contracts, volCcy coins


class FakeOkxStream(FakeStream):
    path = "/ws/v5/business"
    idle_close_s = 30.0

    def topic(self, k: Kline) -> str:
        return f"candle{BARS[k.timeframe]}:{k.symbol.replace('/', '-')}-SWAP"

    def frame(self, k: Kline, topic: str) -> str:
        channel, inst = topic.split(":")
        return json.dumps({"arg": {"channel": channel, "instId": inst}, "data": [[
            str(k.open_ms), str(k.open), str(k.high), str(k.low), str(k.close),
            str(k.volume * CONTRACTS_PER_COIN), str(k.volume), str(k.volume * k.close),
            "1" if k.closed else "0"]]})

    def on_message(self, client: Client, text: str) -> list[str]:
        if text == "ping":
            return ["pong"]
        msg = json.loads(text)
        if msg.get("op") != "subscribe":
            return [json.dumps({"event": "error", "code": "60012", "msg": "Invalid request"})]
        out = []
        for arg in msg["args"]:
            client.topics.add(f"{arg['channel']}:{arg['instId']}")
            out.append(json.dumps({"event": "subscribe", "arg": arg, "connId": "a1"}))
        return out
