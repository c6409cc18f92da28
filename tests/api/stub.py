"""A stub daemon for the server's own tests (no daemon needed), and raw-socket helpers."""
from __future__ import annotations

import asyncio

import aiohttp

USER, PASSWORD = "u", "p" * 16
AUTH = {"Authorization": aiohttp.encode_basic_auth(USER, PASSWORD)}


class StubView:
    """A DaemonView whose liveness and speed the test sets."""

    def __init__(self) -> None:
        self.is_alive = True
        self.delay_s = 0.0

    def alive(self) -> bool:
        return self.is_alive

    def health(self) -> dict:
        return {"ok": True}

    def signals(self, limit, symbol, timeframe) -> list:
        return []

    async def chart_png(self, signal_id, render):
        return None

    async def positions(self) -> list:
        await asyncio.sleep(self.delay_s)
        return []

    def trades(self, limit, offset) -> dict:
        return {"trades": [], "total": 0}

    def summary(self) -> dict:
        return {"trades": 0}

    def candles(self, symbol, timeframe, limit):
        return None

    def logs(self, limit) -> list:
        return []

    def outbox(self) -> dict:
        return {"counts": {}, "pending": []}

    def config(self) -> dict:
        return {}


class StubControls:
    """DaemonControls that only record what was asked."""

    def __init__(self) -> None:
        self.done: list[str] = []

    def pause(self) -> None:
        self.done.append("pause")

    def resume(self) -> None:
        self.done.append("resume")

    async def close(self, symbol: str) -> str:
        self.done.append(f"close {symbol}")
        return "closed"

    async def close_all(self) -> str:
        return "none"

    def announce(self, action: str, who: str, result: str) -> None:
        self.done.append(f"announce {action}")


async def connect(port: int, data: bytes = b"", local: str | None = None
                  ) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    """A raw connection to the server (from `local`, another loopback address) that sent `data`."""
    reader, writer = await asyncio.open_connection(
        "127.0.0.1", port, local_addr=(local, 0) if local else None)
    if data:
        writer.write(data)
        await writer.drain()
    return reader, writer


async def read_until_closed(reader: asyncio.StreamReader, within_s: float) -> bytes | None:
    """What the server sent before closing the connection; None if still open after `within_s`."""
    try:
        return await asyncio.wait_for(reader.read(), within_s)
    except ConnectionResetError:
        return b""
    except TimeoutError:
        return None


def from_address(local: str) -> aiohttp.ClientSession:
    """A client whose connections come from another loopback address, e.g. 127.0.0.2."""
    return aiohttp.ClientSession(connector=aiohttp.TCPConnector(local_addr=(local, 0)))
