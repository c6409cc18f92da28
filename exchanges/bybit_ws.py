"""Bybit v5 public linear kline stream: `kline.<interval>.<symbol>`, closed flag `confirm`.

From Bybit's v5 websocket documentation: subscribe with {"op": "subscribe", "args": [...]},
at most 10 args per request (we stay there for every category); the client sends
{"op": "ping"} every 20 s or the server drops the socket; pushes are
{"topic": "kline.5.BTCUSDT", "type": "snapshot", "data": [{"start", "end", "interval", "open",
"close", "high", "low", "volume", "confirm", ...}]}; intervals are minutes (1..720) or D/W/M.
"""
from __future__ import annotations

import json
from collections.abc import Sequence

from .stream import KlineUpdate, Parsed, StreamProtocolError, batches, loads
from .venue import WsSpec

SPEC = WsSpec(url="wss://stream.bybit.com/v5/public/linear", dialect="exchanges.bybit_ws",
              publish_delay_s=0.5, topics_per_connection=200, topics_per_message=10,
              messages_per_s=10.0, ping_every_s=20.0, stall_s=45.0, max_life_s=23.5 * 3600)
INTERVALS = {"1m": "1", "3m": "3", "5m": "5", "15m": "15", "30m": "30", "1h": "60",
             "2h": "120", "4h": "240", "6h": "360", "12h": "720", "1d": "D", "1w": "W",
             "1M": "M"}
TIMEFRAMES = {v: k for k, v in INTERVALS.items()}


class BybitDialect:
    """Bybit v5 public linear klines."""

    spec = SPEC

    def path(self, base_url: str, topics: Sequence[str]) -> str:
        return base_url

    def topic(self, symbol: str, timeframe: str) -> str:
        return f"kline.{INTERVALS[timeframe]}.{symbol.replace('/', '')}"

    def subscribe(self, topics: Sequence[str]) -> list[str]:
        return [json.dumps({"op": "subscribe", "args": part, "req_id": str(n + 1)})
                for n, part in enumerate(batches(topics, self.spec.topics_per_message))]

    def ping(self) -> str | None:
        return json.dumps({"op": "ping"})

    def parse(self, text: str) -> Parsed:
        msg = loads(text)
        if not isinstance(msg, dict):
            raise StreamProtocolError(f"unexpected frame {text[:80]!r}")
        if "op" in msg:  # subscribe answers and pongs
            ok = msg.get("success", True)
            return Parsed() if ok else Parsed(error=str(msg.get("ret_msg", msg)))
        topic = msg.get("topic", "")
        if not isinstance(topic, str) or not topic.startswith("kline."):
            return Parsed()
        try:
            _, interval, symbol = topic.split(".")
            if not symbol.endswith("USDT"):
                raise StreamProtocolError(f"not a USDT perpetual: {symbol}")
            ours, tf = f"{symbol[:-4]}/USDT", TIMEFRAMES[interval]
            return Parsed(updates=tuple(
                KlineUpdate(symbol=ours, timeframe=tf, open_ms=int(k["start"]),
                            open=float(k["open"]), high=float(k["high"]), low=float(k["low"]),
                            close=float(k["close"]), volume=float(k["volume"]),
                            closed=k["confirm"] is True)
                for k in msg["data"]))
        except (KeyError, TypeError, ValueError) as e:
            raise StreamProtocolError(f"malformed kline: {text[:120]!r}") from e


DIALECT = BybitDialect()
