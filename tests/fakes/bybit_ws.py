"""A fake Bybit v5 public linear stream (wss://stream.bybit.com/v5/public/linear), from Bybit's
documentation.

{"op": "subscribe", "args": [...]} (at most 10 args) answered {"success": true, "ret_msg": "",
"op": "subscribe", "conn_id"}; {"op": "ping"} answered {"success": true, "ret_msg": "pong",
"op": "ping"}; pushes {"topic": "kline.1.BTCUSDT", "type": "snapshot", "ts", "data": [{"start",
"end", "interval", "open", "close", "high", "low", "volume", "turnover", "confirm",
"timestamp"}]}; a socket that sends no ping is closed (`idle_close_s`).
"""
from __future__ import annotations

import json

from .binance_data import INTERVAL_MS
from .ws_base import Client, FakeStream, Kline

INTERVALS = {"1m": "1", "3m": "3", "5m": "5", "15m": "15", "30m": "30", "1h": "60",
             "2h": "120", "4h": "240", "6h": "360", "12h": "720", "1d": "D"}
MAX_ARGS = 10


class FakeBybitStream(FakeStream):
    path = "/v5/public/linear"
    idle_close_s = 30.0

    def topic(self, k: Kline) -> str:
        return f"kline.{INTERVALS[k.timeframe]}.{k.symbol.replace('/', '')}"

    def frame(self, k: Kline, topic: str) -> str:
        end = k.open_ms + INTERVAL_MS[k.timeframe] - 1
        return json.dumps({"topic": topic, "type": "snapshot", "ts": end + 1, "data": [{
            "start": k.open_ms, "end": end, "interval": INTERVALS[k.timeframe],
            "open": str(k.open), "close": str(k.close), "high": str(k.high), "low": str(k.low),
            "volume": str(k.volume), "turnover": "0", "confirm": k.closed,
            "timestamp": end + 1}]})

    def on_message(self, client: Client, text: str) -> list[str]:
        msg = json.loads(text)
        op = msg.get("op")
        if op == "ping":
            return [json.dumps({"success": True, "ret_msg": "pong", "conn_id": "c1",
                                "op": "ping"})]
        if op == "subscribe":
            args = msg.get("args", [])
            if len(args) > MAX_ARGS:
                return [json.dumps({"success": False, "ret_msg": "args size >10",
                                    "conn_id": "c1", "op": "subscribe"})]
            client.topics.update(args)
            return [json.dumps({"success": True, "ret_msg": "", "conn_id": "c1",
                                "req_id": msg.get("req_id", ""), "op": "subscribe"})]
        return [json.dumps({"success": False, "ret_msg": f"unknown op {op}", "op": op})]
