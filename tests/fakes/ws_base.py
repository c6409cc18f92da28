"""The common part of the venues' websocket fakes: sockets, subscriptions, pushes and faults.

A venue fake (binance_ws.py, bybit_ws.py, gate_ws.py, okx_ws.py) says how its documented
messages look: how a client subscribes, what a kline push is, how pings go, and when the venue
closes an idle socket. This part serves the sockets and scripts the faults:

    fake.refuse(n)        the next n connects are refused (HTTP 503 before the upgrade)
    await fake.drop()     every socket closed by the server now
    fake.stalled = True   the server keeps sockets open but sends nothing (pongs neither)
    fake.muted = True     pongs still answered, but no candle pushed (subscriptions lost)
    fake.duplicate = True every push sent twice
    fake.reorder = True   pushes held back and sent in pairs, the later one first
    fake.flagless = True  closed candles are pushed without the closed flag
    fake.kill_after(n)    the socket is closed after its next n pushes (mid-candle)
"""
from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass

from aiohttp import WSMsgType, web

from . import serve_locally


@dataclass(frozen=True)
class Kline:
    """One candle push: our symbol, native timeframe, open time, OHLCV and the closed flag."""

    symbol: str
    timeframe: str
    open_ms: int
    open: float
    high: float
    low: float
    close: float
    volume: float
    closed: bool


class Client:
    """One client socket and the topics it subscribed."""

    def __init__(self, ws: web.WebSocketResponse) -> None:
        self.ws = ws
        self.topics: set[str] = set()
        self.held: list[str] = []  # a push kept back for `reorder`
        self.kill_in: int | None = None


class FakeStream:
    """A websocket server speaking one venue's candle stream (subclasses give the dialect)."""

    path = "/"
    url_is_base = False  # True where the venue's documented URL is a base (Binance)
    idle_close_s: float | None = None  # the venue closes a socket it heard nothing from
    server_ping_s: float | None = None  # the venue pings; no pong in half of it: closed

    def __init__(self) -> None:
        self.clients: list[Client] = []
        self.connects = 0
        self.refused = 0
        self.client_messages: list[str] = []
        self.stalled = False
        self.muted = False
        self.duplicate = False
        self.reorder = False
        self.flagless = False
        self._refuse = 0
        self._kill: int | None = None
        self.runner: web.AppRunner | None = None
        self.url = ""

    # -- the venue's dialect (subclasses) -------------------------------------------------------

    def topic(self, k: Kline) -> str:
        raise NotImplementedError

    def frame(self, k: Kline, topic: str) -> str:
        raise NotImplementedError

    def on_message(self, client: Client, text: str) -> list[str]:
        """A client text: subscribe or ping; the answers to send back."""
        raise NotImplementedError

    # -- server -------------------------------------------------------------------------------

    async def start(self) -> FakeStream:
        app = web.Application()
        app.router.add_get(self.path, self._handle)
        self.runner, base = await serve_locally(app)
        self.url = "ws" + base[len("http"):] + ("" if self.url_is_base else self.path)
        return self

    async def close(self) -> None:
        await self.drop()
        if self.runner is not None:
            await self.runner.cleanup()

    @property
    def subscribed(self) -> set[str]:
        """Every topic an open socket carries."""
        return {t for c in self.clients for t in c.topics}

    def refuse(self, times: int) -> None:
        self._refuse = times

    def kill_after(self, pushes: int) -> None:
        self._kill = pushes

    async def drop(self) -> None:
        for c in list(self.clients):
            with contextlib.suppress(Exception):
                await c.ws.close()
        self.clients.clear()

    async def push(self, k: Kline) -> None:
        """Send one kline to every socket subscribed to its topic (faults applied)."""
        if self.stalled or self.muted:
            return
        if self.flagless:
            k = Kline(**{**k.__dict__, "closed": False})
        topic = self.topic(k)
        for c in list(self.clients):
            if topic not in c.topics:
                continue
            text = self.frame(k, topic)
            out = [text, text] if self.duplicate else [text]
            if self.reorder:
                c.held.append(text)
                if len(c.held) < 2:
                    continue
                out, c.held = list(reversed(c.held)), []
            for t in out:
                await self._send(c, t)

    async def _send(self, c: Client, text: str) -> None:
        if c.ws.closed:
            return
        await c.ws.send_str(text)
        if c.kill_in is not None:
            c.kill_in -= 1
            if c.kill_in <= 0:
                await c.ws.close()

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        self.connects += 1
        if self._refuse > 0:
            self._refuse -= 1
            self.refused += 1
            return web.Response(status=503, text="refused")
        ws = web.WebSocketResponse(autoping=not self.stalled, heartbeat=self.server_ping_s)
        await ws.prepare(request)
        client = Client(ws)
        if self._kill is not None:
            client.kill_in, self._kill = self._kill, None
        self.clients.append(client)
        self.on_open(client, request)
        try:
            while True:
                try:
                    msg = await ws.receive(timeout=self.idle_close_s)
                except TimeoutError:
                    break  # the venue's idle rule
                if msg.type is not WSMsgType.TEXT:
                    break
                self.client_messages.append(msg.data)
                if self.stalled:
                    continue
                for answer in self.on_message(client, msg.data):
                    await ws.send_str(answer)
        finally:
            if client in self.clients:
                self.clients.remove(client)
            await ws.close()
        return ws

    def on_open(self, client: Client, request: web.Request) -> None:
        """Topics named in the URL (Binance's combined streams)."""


async def settle(seconds: float = 0.05) -> None:
    """Let the sockets deliver what was sent."""
    await asyncio.sleep(seconds)
