"""Trading actions over HTTP (API_CONTROL=1): pause, resume, close one, close all.

Each goes through DaemonControls, i.e. the code paths of the Telegram commands, and is logged and
announced through the alert outbox. A request must be JSON (a cross-site HTML form cannot send
that), same-origin, and from a cookie session also carry the session's CSRF token.
"""
from __future__ import annotations

import asyncio
import json
from typing import Any

import structlog
from aiohttp import web

from domain.symbols import normalize_symbol

from .auth import Principal, address, csrf_ok
from .routes import SYMBOL, json_response
from .state import DaemonControls

log = structlog.get_logger(__name__)
CONTROLS = web.AppKey("controls", DaemonControls)
PRINCIPAL = web.RequestKey("principal", Principal)  # set by the auth middleware


def _refuse(request: web.Request, status: int, why: str) -> web.Response:
    log.warning("api_control_refused", path=request.path, peer=address(request), why=why)
    return json_response({"error": why}, status)


async def _body(request: web.Request) -> dict:
    """The JSON object sent (an empty body counts as {})."""
    raw = await request.read()
    if not raw.strip():
        return {}
    try:
        data = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        data = None
    if not isinstance(data, dict):
        raise web.HTTPBadRequest(text=json.dumps({"error": "body: a JSON object"}),
                                 content_type="application/json")
    return data


def _gate(request: web.Request) -> web.Response | None:
    """Why this control request may not run (a response), or None."""
    controls: DaemonControls | None = request.app.get(CONTROLS)
    if controls is None:
        return _refuse(request, 403, "control is disabled (set API_CONTROL=1 to allow it)")
    if request.content_type != "application/json":
        return _refuse(request, 415, "send Content-Type: application/json")
    principal: Principal = request[PRINCIPAL]
    if not csrf_ok(request, principal):
        return _refuse(request, 403, "CSRF check failed: missing or wrong X-CSRF-Token, "
                                     "or a cross-site request")
    return None


def _who(request: web.Request) -> str:
    principal: Principal = request[PRINCIPAL]
    return f"{principal.user} ({principal.via}) from {address(request)}"


async def _run(request: web.Request, action: str, body: dict) -> web.Response:
    controls = request.app[CONTROLS]
    if action == "pause":
        controls.pause()
        result: Any = "trading paused: new signals are not traded; alerts continue"
    elif action == "resume":
        controls.resume()
        result = "trading resumed: new signals will be traded"
    elif action == "close":
        symbol = str(body.get("symbol", "")).strip()
        try:
            symbol = normalize_symbol(symbol) if SYMBOL.fullmatch(symbol) else ""
        except ValueError:
            symbol = ""
        if not symbol:
            return json_response({"error": "symbol: e.g. BTC/USDT or BTCUSDT"}, 400)
        result = await controls.close(symbol)
        action = f"close {symbol}"
    else:
        if body.get("confirm") is not True:
            return json_response({"error": 'closing every position needs {"confirm": true}'},
                                 400)
        result = await controls.close_all()
    controls.announce(action, _who(request), result)
    return json_response({"action": action, "result": result})


async def control(request: web.Request) -> web.Response:
    """POST /api/v1/control/{pause|resume|close|closeall}."""
    refused = _gate(request)
    if refused is not None:
        return refused
    body = await _body(request)
    # Shielded: a request that times out (or a client that leaves) must not cancel an order
    # half-way; the action finishes and is announced, only its answer is lost.
    return await asyncio.shield(_run(request, request.match_info["action"], body))


def add_routes(app: web.Application) -> None:
    """Register the control endpoint (it answers 403 while control is disabled)."""
    app.router.add_post(r"/api/v1/control/{action:(pause|resume|close|closeall)}", control)


__all__ = ["CONTROLS", "PRINCIPAL", "add_routes"]
