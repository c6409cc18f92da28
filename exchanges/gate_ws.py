"""Gate USDT perpetuals candle stream: `futures.candlesticks` per [interval, contract], closed
flag `w`.

From Gate's Futures WebSocket v4 documentation (https://www.gate.com/docs/developers/futures/ws/en,
its zh_CN edition of 2026 for the fields): USDT contracts stream at
wss://fx-ws.gateio.ws/v4/ws/usdt; a request is {"time": s, "channel", "event", "payload"} and a
candle subscription names one interval and one contract, {"channel": "futures.candlesticks",
"event": "subscribe", "payload": ["1m", "BTC_USDT"]} (intervals 10s 1m 5m 15m 30m 1h 4h 8h 1d
7d), answered {"event": "subscribe", "error": null, "result": {"status": "success"}} or with an
`error` {code, message}; updates are {"channel": "futures.candlesticks", "event": "update",
"result": [{"t": open time in seconds, "o", "h", "l", "c", "v": volume in contracts, "a": base
amount, "n": "1m_BTC_USDT", "w": true once the window is closed}]}. Gate notes a `w: true`
update may be missed: the next window's open proves the close and REST reads it. The server
pings at the protocol level (aiohttp answers) and drops a client that does not pong; we also
send {"time": s, "channel": "futures.ping"}, answered by channel "futures.pong", so a quiet
socket is told from a dead one. Since 2025-12-09 contract sizes may be fractional: only a
connection opened with the header X-Gate-Size-Decimal: 1 gets `v` unrounded, as ccxt asks the
REST candles (whose `v` our REST path reads as the volume), so the stream sends it too.

Gate documents no limit on subscriptions, client messages or socket age; its maintainers'
answer at https://github.com/gateio/gatews/issues/25 gives none for subscriptions and messages,
at most 100 connections per host recommended, and that a socket too busy to be read in time
is closed: so 200 topics a socket, 20 subscribe messages a second, a fresh socket a day as on
the other venues. How long after a close the `w: true` update comes is not documented: 1 s is
our estimate.
"""
from __future__ import annotations

import json
import time
from collections.abc import Sequence
from typing import Any

from .stream import KlineUpdate, Parsed, StreamProtocolError, loads
from .venue import WsSpec

SPEC = WsSpec(url="wss://fx-ws.gateio.ws/v4/ws/usdt", dialect="exchanges.gate_ws",
              publish_delay_s=1.0, topics_per_connection=200, topics_per_message=1,
              messages_per_s=20.0, ping_every_s=10.0, stall_s=45.0, max_life_s=23.5 * 3600,
              headers=(("X-Gate-Size-Decimal", "1"),))
CHANNEL = "futures.candlesticks"
# Gate's candle intervals carry our names; 10s and 7d are not native timeframes here.
TIMEFRAMES = frozenset({"1m", "5m", "15m", "30m", "1h", "4h", "8h", "1d"})


def symbol_of(contract: str) -> str:
    """'BTC_USDT' -> 'BTC/USDT'; anything but a USDT contract is a StreamProtocolError."""
    base, _, quote = contract.rpartition("_")
    if quote != "USDT" or not base:
        raise StreamProtocolError(f"not a USDT contract: {contract}")
    return f"{base}/{quote}"


class GateDialect:
    """Gate USDT perpetual candlesticks."""

    spec = SPEC

    def path(self, base_url: str, topics: Sequence[str]) -> str:
        return base_url

    def topic(self, symbol: str, timeframe: str) -> str:
        # Imported here: exchanges/gate.py imports this module for its SPEC.
        from .gate import contract

        if timeframe not in TIMEFRAMES:
            raise ValueError(f"Gate streams no {timeframe} candles")
        return f"{timeframe}_{contract(symbol)}"  # as the updates name it in `n`

    def subscribe(self, topics: Sequence[str]) -> list[str]:
        now = int(time.time())
        return [json.dumps({"time": now, "channel": CHANNEL, "event": "subscribe",
                            "payload": topic.split("_", 1)})
                for topic in topics]

    def ping(self) -> str | None:
        return json.dumps({"time": int(time.time()), "channel": "futures.ping"})

    def parse(self, text: str) -> Parsed:
        msg = loads(text)
        if not isinstance(msg, dict):
            raise StreamProtocolError(f"unexpected frame {text[:80]!r}")
        if msg.get("error"):
            return Parsed(error=str(msg["error"]))
        if msg.get("channel") != CHANNEL or msg.get("event") != "update":
            return Parsed()  # pongs, subscribe answers, system notices
        result = msg.get("result")
        rows: list[Any] = result if isinstance(result, list) else [result]
        try:
            return Parsed(updates=tuple(_update(row) for row in rows))
        except (KeyError, TypeError, ValueError, AttributeError) as e:
            raise StreamProtocolError(f"malformed candlestick: {text[:120]!r}") from e


def _update(row: Any) -> KlineUpdate:
    """One candlestick row; `v` (contracts) is the volume, as on the REST path."""
    interval, contract = row["n"].split("_", 1)
    if interval not in TIMEFRAMES:
        raise StreamProtocolError(f"unexpected interval in {row['n']!r}")
    return KlineUpdate(symbol=symbol_of(contract), timeframe=interval,
                       open_ms=int(row["t"]) * 1000, open=float(row["o"]),
                       high=float(row["h"]), low=float(row["l"]), close=float(row["c"]),
                       volume=float(row["v"]), closed=row.get("w") is True)


DIALECT = GateDialect()
