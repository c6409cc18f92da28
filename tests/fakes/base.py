"""What every venue fake shares: a clock, scripted faults, a request log, a loopback server.

A venue's fake subclasses FakeVenue, calls its __init__, and keeps to itself all that the venue
decides: its envelopes, error bodies, status codes, how each fault is answered (`_fault_answer`)
and in which order its `_handle` applies faults, authentication and dispatch.
"""
from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from . import serve_locally


@dataclass
class Request:
    """One request the fake answered."""

    method: str
    path: str
    params: Any
    status: int = 200
    demo: bool = False


@dataclass
class Fault:
    """A scripted failure: 'status' before processing, 'lost' after it, 'reject' a venue code
    (a venue may add kinds of its own: Bybit's 'ratelimit')."""

    kind: str
    method: str | None
    path: str | None
    status: int | None = 502
    code: str = ""
    msg: str = ""
    times: int = 1
    delay_s: float = 0.0
    headers: dict = field(default_factory=dict)
    when: Any = None


def take_fault(faults: list[Fault], method: str, path: str, params: Any) -> Fault | None:
    """The first scripted fault a request matches (one of its `times` used)."""
    for f in faults:
        if f.times > 0 and f.method in (None, method) and f.path in (None, path) and (
                f.when is None or f.when(params)):
            f.times -= 1
            return f
    return None


class VenueClock:
    """A venue's clock over two attributes its fake sets: `_now` (frozen when not None) and
    `skew_ms` (the venue's clock ahead of the host's)."""

    _now: int | None
    skew_ms: int

    def now_ms(self) -> int:
        """The venue clock (market data, order times): frozen when set, else wall_ms."""
        return self._now if self._now is not None else self.wall_ms()

    def wall_ms(self) -> int:
        """The clock request timestamps are checked against: host clock + skew."""
        return int(time.time() * 1000) + self.skew_ms

    def set_now(self, ms: int) -> None:
        """Freeze the venue clock at `ms`."""
        self._now = int(ms)

    def advance(self, ms: int) -> None:
        """Move the venue clock forward (freezing it if it ran)."""
        self._now = self.now_ms() + int(ms)


class FakeVenue(VenueClock):
    """The clock, faults, request log and lifecycle of a fake venue; `_handle` is the venue's."""

    # Headers the venue sends with its rate-limit answer (rate_limit adds them to the fault).
    RATE_LIMIT_HEADERS: dict[str, str] = {}
    # The HTTP status of a `reject` unless the call names one.
    REJECT_STATUS = 200

    def __init__(self, *, now_ms: int | None = None, skew_ms: int = 0,
                 latency_s: float = 0.0) -> None:
        self.skew_ms = skew_ms            # the venue's clock ahead of the host's
        self.latency_s = latency_s        # added before every answer (a round trip)
        self.requests: list[Request] = []
        self.faults: list[Fault] = []
        self._now = now_ms
        self._runner: web.AppRunner | None = None
        self.url = ""

    # -- faults -------------------------------------------------------------------------------
    def fail(self, path: str | None = None, status: int | None = 502, times: int = 1, *,
             method: str | None = None, lost: bool = False, delay_s: float = 0.0,
             headers: dict | None = None, when=None) -> None:
        """Answer `status` on the next `times` matching calls; lost: process first, then answer
        it (status None with lost: drop the connection; without, most venues answer normally
        after `delay_s`, a client timeout). `when` filters on the params."""
        self.faults.append(Fault("lost" if lost else "status", method, path, status,
                                 times=times, delay_s=delay_s, headers=dict(headers or {}),
                                 when=when))

    def rate_limit(self, path: str | None = None, times: int = 1, **kw) -> None:
        """The next `times` calls get the venue's rate-limit answer (HTTP 429)."""
        kw.setdefault("headers", self.RATE_LIMIT_HEADERS)
        self.fail(path, 429, times=times, **kw)

    def reject(self, path: str, code: Any, msg: str = "", times: int = 1, *,
               method: str | None = None, status: int | None = None, when=None) -> None:
        """Refuse the next `times` matching calls with the venue's error `code` and `msg`."""
        self.faults.append(Fault("reject", method, path,
                                 self.REJECT_STATUS if status is None else status, str(code),
                                 msg, times, when=when))

    def _take_fault(self, method: str, path: str, params: Any) -> Fault | None:
        return take_fault(self.faults, method, path, params)

    async def _next_fault(self, method: str, path: str, params: Any) -> Fault | None:
        """_take_fault, after waiting the fault's delay_s (a slow answer)."""
        fault = self._take_fault(method, path, params)
        if fault and fault.delay_s:
            await asyncio.sleep(fault.delay_s)
        return fault

    def _fault_answer(self, fault: Fault) -> web.Response:
        """The venue's answer to a 'status' or 'lost' fault (its 429, 5xx bodies)."""
        raise NotImplementedError

    def _lost(self, request: web.Request, entry: Request, fault: Fault) -> web.StreamResponse:
        """A processed request whose answer is lost: no status drops the connection."""
        if fault.status is None:
            request.transport.close()  # processed; the answer never arrives
            return self._recorded(entry, web.Response(status=200))
        return self._recorded(entry, self._fault_answer(fault))

    # -- request log --------------------------------------------------------------------------
    @staticmethod
    def _recorded(entry: Request, response: web.StreamResponse) -> web.StreamResponse:
        """`response`, its status noted in the request log."""
        entry.status = response.status
        return response

    async def _latency(self) -> None:
        if self.latency_s:
            await asyncio.sleep(self.latency_s)

    def calls(self, method: str, path: str) -> list[Any]:
        """Params of every request to `method path`."""
        return [r.params for r in self.requests if r.method == method and r.path == path]

    def paths(self) -> list[str]:
        """Paths requested so far, in order."""
        return [r.path for r in self.requests]

    # -- lifecycle ----------------------------------------------------------------------------
    async def start(self) -> str:
        """Listen on 127.0.0.1 at a free port, every path to `_handle`; returns (and sets) .url."""
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._handle)
        self._runner, self.url = await serve_locally(app, shutdown_timeout=0.1)
        return self.url

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        raise NotImplementedError

    async def stop(self) -> None:
        """Stop listening."""
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def close(self) -> None:
        await self.stop()
