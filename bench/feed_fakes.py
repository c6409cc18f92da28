"""A venue's REST and websocket fakes for bench/feed.py, served from a child process so that
their CPU time (answering, building and sending 1,200 frames) does not count as the daemon's."""
from __future__ import annotations

import asyncio
import multiprocessing
import time
from typing import Any

from bench.venue_fakes import FAKES


def _stream(name: str) -> Any:
    from tests.fakes.binance_ws import FakeBinanceStream
    from tests.fakes.bybit_ws import FakeBybitStream
    from tests.fakes.gate_ws import FakeGateStream
    from tests.fakes.okx_ws import FakeOkxStream
    return {"binance": FakeBinanceStream, "bybit": FakeBybitStream, "gate": FakeGateStream,
            "okx": FakeOkxStream}[name]()


def _serve(conn, name: str, symbols: int, latency_ms: float, now_ms: int) -> None:
    """Child process: both fakes up, then one command at a time from the parent."""
    from tests.fakes.ws_base import Kline

    async def serve() -> None:
        spec = FAKES[name]
        rest = spec.build(symbols, latency_ms / 1000)
        rest.set_now(now_ms)
        await rest.start()
        stream = await _stream(name).start()
        conn.send((rest.url, stream.url))
        loop = asyncio.get_running_loop()
        while True:
            command, arg = await loop.run_in_executor(None, conn.recv)
            if command == "stop":
                break
            if command == "set_now":
                rest.set_now(arg)
                conn.send(None)
            elif command == "candle_reads":
                conn.send(sum(1 for r in rest.requests if r.path in spec.candle_paths))
            elif command == "subscribed":
                conn.send(len(stream.subscribed))
            elif command == "push":  # every frame, in order, as fast as the socket takes them
                started = time.perf_counter()
                for fields in arg:
                    await stream.push(Kline(*fields))
                conn.send(time.perf_counter() - started)
        await stream.close()
        await (rest.close() if hasattr(rest, "close") else rest.stop())

    asyncio.run(serve())


class RemoteFeedFakes:
    """One venue's REST fake and stream fake, in a child process."""

    def __init__(self, name: str, symbols: int, latency_ms: float, now_ms: int) -> None:
        self.conn, child = multiprocessing.Pipe()
        self.process = multiprocessing.Process(
            target=_serve, args=(child, name, symbols, latency_ms, now_ms), daemon=True)
        self.process.start()
        self.url, self.stream_url = self._answer()

    def _answer(self, timeout_s: float = 60.0) -> Any:
        """The child's next answer; an error naming it when it died or went silent."""
        if not self.conn.poll(timeout_s):
            state = "exited" if not self.process.is_alive() else "stopped answering"
            raise RuntimeError(f"the fake process {state} (code {self.process.exitcode})")
        return self.conn.recv()

    def _ask(self, command: str, arg: Any = None) -> Any:
        self.conn.send((command, arg))
        return self._answer()

    def set_now(self, now_ms: int) -> None:
        """The REST fake's clock (which candle is closed)."""
        self._ask("set_now", now_ms)

    def candle_reads(self) -> int:
        """REST candle requests the fake has answered so far."""
        return int(self._ask("candle_reads"))

    def subscribed(self) -> int:
        """Topics the stream's open sockets carry."""
        return int(self._ask("subscribed"))

    def start_push(self, klines: list[tuple]) -> None:
        """Have the stream send these Kline fields in order; `pushed` waits for the end."""
        self.conn.send(("push", klines))

    def pushed(self) -> float:
        """Wait until the frames asked by start_push are sent; the seconds sending took."""
        return float(self._answer())

    def close(self) -> None:
        """Stop the child."""
        self.conn.send(("stop", None))
        self.process.join(10)
        if self.process.is_alive():
            self.process.kill()
