"""One websocket to a venue's candle stream: connect, subscribe, keep alive, read, reconnect.

Our own small aiohttp client, not ccxt.pro: ccxt.pro's watch_ohlcv hands back the forming
candle without the venue's closed flag, and its cache overwrites a candle by open time, so a
late forming update can replace a closed one. Here every frame goes through the venue's
dialect (exchanges/<venue>_ws.py) and the caller sees the flag as the venue sent it. aiohttp is
already the HTTP client of the daemon; no new dependency.

The loop reconnects with capped backoff after a refused connect, a closed socket, a stall (no
frame for the venue's `stall_s`) or the venue's maximum socket age, and says why to `on_down`.
Reconnects replay nothing: the caller's book notices the hole and REST fills it.
"""
from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable, Sequence

import aiohttp
import structlog

from domain.backoff import Backoff, Jitter

from .stream import Dialect, KlineUpdate, StreamProtocolError

log = structlog.get_logger(__name__)

RECONNECT = Backoff(base_s=1.0, factor=2.0, cap_s=60.0, jitter=Jitter.EQUAL)
# Pongs keep a socket looking alive while its subscriptions may be gone: no candle update at
# all for this many stall periods is a stall too (a reconnect costs one REST read per hole).
DATA_STALL_FACTOR = 3
CONNECT_TIMEOUT_S = 10.0


class Down(Exception):
    """The socket is unusable; `reason` is one of refused, closed, stall, aged, protocol."""

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason


class StreamConnection:
    """One socket carrying `topics`, kept up until `stop` is set."""

    def __init__(self, dialect: Dialect, url: str, topics: Sequence[str], *,
                 on_update: Callable[[KlineUpdate], None],
                 on_up: Callable[[], None] = lambda: None,
                 on_down: Callable[[str], None] = lambda reason: None,
                 backoff: Backoff = RECONNECT, clock: Callable[[], float] = time.monotonic,
                 session: aiohttp.ClientSession | None = None) -> None:
        self.dialect = dialect
        self.spec = dialect.spec
        self.url = dialect.path(url, topics)
        self.topics = list(topics)
        self.on_update = on_update
        self.on_up = on_up
        self.on_down = on_down
        self.backoff = backoff
        self.clock = clock
        self.session = session
        self.connected = False
        self.last_message: float | None = None  # clock() of the last frame received
        self.last_update: float | None = None   # ... and of the last candle update
        self.messages = 0
        self._ws: aiohttp.ClientWebSocketResponse | None = None  # the socket open now

    async def run(self, stop: asyncio.Event) -> None:
        """Connect, read, reconnect with backoff, until stop is set."""
        own = self.session is None
        session = self.session or aiohttp.ClientSession()
        failures = 0
        try:
            while not stop.is_set():
                try:
                    await self._session(session, stop)
                    failures = 0  # the venue's socket age, or a stop: reconnect at once
                except Down as e:
                    failures = failures + 1 if e.reason == "refused" or not self.messages \
                        else 1
                    log.warning("stream_down", venue=self.dialect.spec.dialect,
                                reason=e.reason, detail=str(e)[:200], topics=len(self.topics))
                    self.on_down(e.reason)
                finally:
                    self.connected = False
                if failures and not stop.is_set():
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(stop.wait(), self.backoff.delay(failures))
        finally:
            if own:
                await session.close()

    async def _session(self, session: aiohttp.ClientSession, stop: asyncio.Event) -> None:
        """One socket's life: connect, subscribe, read until it ends (Down) or stop."""
        try:
            ws = await session.ws_connect(self.url, autoping=True, heartbeat=None,
                                          headers=dict(self.spec.headers),
                                          timeout=aiohttp.ClientWSTimeout(ws_close=5.0),
                                          max_msg_size=8 << 20)
        except (aiohttp.ClientError, OSError, TimeoutError) as e:
            raise Down("refused", str(e) or type(e).__name__) from e
        async with ws:
            self._ws = ws
            opened = self.clock()
            self.last_message = self.last_update = opened
            for n, text in enumerate(self.dialect.subscribe(self.topics)):
                if n:  # the venue's limit on client messages per second
                    await asyncio.sleep(1.0 / self.spec.messages_per_s)
                await ws.send_str(text)
            self.connected = True
            self.on_up()
            try:
                await self._read(ws, stop, opened)
            finally:
                self._ws = None

    async def close(self) -> None:
        """Close the open socket, so that a stop does not wait for the read's timeout."""
        if self._ws is not None:
            await self._ws.close()

    async def _read(self, ws: aiohttp.ClientWebSocketResponse, stop: asyncio.Event,
                    opened: float) -> None:
        spec = self.spec
        last_ping = opened
        pings = self.dialect.ping() is not None  # asked again each time: it may carry a time
        while not stop.is_set():
            now = self.clock()
            if now - opened >= spec.max_life_s:
                return  # before the venue's own cut: a fresh socket, the hole refilled by REST
            silent = now - (self.last_message or opened)
            if silent >= spec.stall_s:
                raise Down("stall", f"no frame for {silent:.0f} s")
            quiet = now - (self.last_update or opened)
            if quiet >= spec.stall_s * DATA_STALL_FACTOR:
                raise Down("stall", f"no candle update for {quiet:.0f} s")
            if pings and now - last_ping >= spec.ping_every_s:
                await ws.send_str(self.dialect.ping() or "")
                last_ping = now
            wait = spec.stall_s - silent
            if pings:
                wait = min(wait, spec.ping_every_s - (now - last_ping))
            try:
                # Not receive(timeout=): aiohttp restarts that timeout after every ping it
                # answers, so a venue pinging often would keep a stop waiting for ever. Not
                # wait_for either: it makes a task per frame.
                async with asyncio.timeout(max(0.05, min(wait, 1.0))):
                    msg = await ws.receive()
            except TimeoutError:
                continue
            if stop.is_set():
                return  # closed by close(): not the venue's doing
            if msg.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSING,
                            aiohttp.WSMsgType.CLOSED, aiohttp.WSMsgType.ERROR):
                raise Down("closed", f"{msg.type.name} {msg.data!r}"[:120])
            if msg.type is not aiohttp.WSMsgType.TEXT:
                continue
            reply = self._frame(msg.data)
            if reply is not None:
                await ws.send_str(reply)

    def _frame(self, text: str) -> str | None:
        """One text frame: updates to the caller; the reply it asks for, if any."""
        self.last_message = self.clock()
        self.messages += 1
        try:
            parsed = self.dialect.parse(text)
        except StreamProtocolError as e:
            raise Down("protocol", str(e)) from e
        if parsed.error is not None:
            log.error("stream_subscription_refused", venue=self.spec.dialect,
                      error=parsed.error[:200])
        if parsed.updates:
            self.last_update = self.last_message
        for update in parsed.updates:
            self.on_update(update)
        return parsed.reply
