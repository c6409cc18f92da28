"""A fake Binance USD-M market stream (wss://fstream.binance.com), from Binance's documentation.

Combined streams at /stream (and /stream?streams=a/b), SUBSCRIBE by message with an id answered
{"result": null, "id": n}; pushes {"stream": "btcusdt@kline_1m", "data": {"e": "kline", "E",
"s", "k": {"t", "T", "s", "i", "o", "c", "h", "l", "v", "x", ...}}}; the server pings (every 3
minutes on the real venue, `server_ping_s` here) and drops a socket that does not pong.
"""
from __future__ import annotations

import json

from aiohttp import web

from .binance_data import INTERVAL_MS
from .ws_base import Client, FakeStream, Kline


class FakeBinanceStream(FakeStream):
    path = "/stream"
    url_is_base = True

    def topic(self, k: Kline) -> str:
        return f"{k.symbol.replace('/', '').lower()}@kline_{k.timeframe}"

    def frame(self, k: Kline, topic: str) -> str:
        sym = k.symbol.replace("/", "")
        end = k.open_ms + INTERVAL_MS[k.timeframe] - 1
        return json.dumps({"stream": topic, "data": {
            "e": "kline", "E": end + 1, "s": sym,
            "k": {"t": k.open_ms, "T": end, "s": sym, "i": k.timeframe, "f": 1, "L": 2,
                  "o": str(k.open), "c": str(k.close), "h": str(k.high), "l": str(k.low),
                  "v": str(k.volume), "n": 2, "x": k.closed, "q": "0", "V": "0", "Q": "0",
                  "B": "0"}}})

    def on_open(self, client: Client, request: web.Request) -> None:
        streams = request.query.get("streams", "")
        client.topics.update(s for s in streams.split("/") if s)

    def on_message(self, client: Client, text: str) -> list[str]:
        msg = json.loads(text)
        if msg.get("method") == "SUBSCRIBE":
            client.topics.update(msg["params"])
            return [json.dumps({"result": None, "id": msg["id"]})]
        return [json.dumps({"error": {"code": 2, "msg": "Invalid request"}, "id": msg.get("id")})]
