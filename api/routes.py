"""Read-only JSON under /api/v1, /metrics and the dashboard's files: handlers over a DaemonView."""
from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from aiohttp import web

from .metrics import Metrics
from .renders import RenderBusy, RenderPool
from .state import DaemonView

VIEW = web.AppKey("view", DaemonView)
METRICS = web.AppKey("metrics", Metrics)
RENDERS = web.AppKey("renders", RenderPool)
HERE = Path(__file__).resolve().parent
STATIC = HERE / "static"
OPENAPI = HERE / "openapi.json"
MAX_LIMIT = 500
SYMBOL = re.compile(r"[A-Za-z0-9]{1,20}(/[A-Za-z0-9]{1,10}(:[A-Za-z0-9]{1,10})?)?")
TIMEFRAME = re.compile(r"[0-9]{1,4}[smhdwM]")


def json_response(data: Any, status: int = 200) -> web.Response:
    """Compact JSON, never cached (it is live state)."""
    return web.json_response(data, status=status, headers={"Cache-Control": "no-store"},
                             dumps=lambda d: json.dumps(d, separators=(",", ":")))


def bad_request(why: str) -> web.HTTPBadRequest:
    """A 400 with a JSON body saying what was wrong."""
    return web.HTTPBadRequest(text=json.dumps({"error": why}), content_type="application/json")


def _limit(request: web.Request, default: int = 50) -> int:
    text = request.query.get("limit", "")
    if not text:
        return default
    if not re.fullmatch(r"[0-9]{1,6}", text) or not 1 <= int(text) <= MAX_LIMIT:
        raise bad_request(f"limit: an integer 1..{MAX_LIMIT}")
    return int(text)


def _optional(request: web.Request, name: str, pattern: re.Pattern) -> str | None:
    text = request.query.get(name, "").strip()
    if text and not pattern.fullmatch(text):
        raise bad_request(f"{name}: not a valid {name}")
    return text or None


async def ping(request: web.Request) -> web.Response:
    """200 while the scheduler and the alert delivery run, else 503; no data either way."""
    alive = request.app[VIEW].alive()
    return web.Response(text="ok\n" if alive else "unavailable\n", status=200 if alive else 503,
                        headers={"Cache-Control": "no-store"})


async def health(request: web.Request) -> web.Response:
    return json_response(request.app[VIEW].health())


async def signals(request: web.Request) -> web.Response:
    view = request.app[VIEW]
    rows = view.signals(_limit(request), _optional(request, "symbol", SYMBOL),
                        _optional(request, "timeframe", TIMEFRAME))
    return json_response({"signals": rows})


async def chart(request: web.Request) -> web.Response:
    text = request.match_info["id"]
    if not re.fullmatch(r"[0-9]{1,12}", text):
        raise bad_request("id: a signal id")
    try:
        png = await request.app[VIEW].chart_png(int(text), request.app[RENDERS].run)
    except RenderBusy:
        response = json_response({"error": "busy rendering charts, try again"}, 503)
        response.headers["Retry-After"] = "2"
        return response
    if png is None:
        return json_response({"error": "no such signal, or no candles kept for its chart"}, 404)
    return web.Response(body=png, content_type="image/png",
                        headers={"Cache-Control": "private, max-age=3600"})


async def positions(request: web.Request) -> web.Response:
    return json_response({"positions": await request.app[VIEW].positions()})


def _offset(request: web.Request) -> int:
    text = request.query.get("offset", "")
    if not text:
        return 0
    if not re.fullmatch(r"[0-9]{1,9}", text):
        raise bad_request("offset: an integer 0 or more")
    return int(text)


async def trades(request: web.Request) -> web.Response:
    limit, offset = _limit(request), _offset(request)
    page = request.app[VIEW].trades(limit, offset)
    return json_response({**page, "limit": limit, "offset": offset})


async def summary(request: web.Request) -> web.Response:
    return json_response(request.app[VIEW].summary())


async def candles(request: web.Request) -> web.Response:
    symbol = _optional(request, "symbol", SYMBOL)
    timeframe = _optional(request, "timeframe", TIMEFRAME)
    if symbol is None or timeframe is None:
        raise bad_request("symbol and timeframe are both required")
    found = request.app[VIEW].candles(symbol, timeframe, _limit(request, 300))
    if found is None:
        return json_response({"error": "no candles kept for that symbol and timeframe"}, 404)
    return json_response(found)


async def logs(request: web.Request) -> web.Response:
    return json_response({"lines": request.app[VIEW].logs(_limit(request, 50))})


async def outbox(request: web.Request) -> web.Response:
    return json_response(request.app[VIEW].outbox())


async def config(request: web.Request) -> web.Response:
    return json_response({"settings": request.app[VIEW].config()})


async def openapi(request: web.Request) -> web.StreamResponse:
    return web.FileResponse(OPENAPI, headers={"Content-Type": "application/json"})


async def metrics(request: web.Request) -> web.Response:
    body, content_type = request.app[METRICS].exposition()
    response = web.Response(body=body, headers={"Cache-Control": "no-store"})
    response.headers["Content-Type"] = content_type
    return response


async def dashboard(request: web.Request) -> web.FileResponse:
    return web.FileResponse(STATIC / "index.html", headers={"Cache-Control": "no-store"})


def add_routes(app: web.Application) -> None:
    """Register the read-only endpoints and the dashboard's files."""
    app.router.add_get("/api/v1/ping", ping)
    app.router.add_get("/api/v1/health", health)
    app.router.add_get("/api/v1/signals", signals)
    app.router.add_get("/api/v1/signals/{id}/chart.png", chart)
    app.router.add_get("/api/v1/positions", positions)
    app.router.add_get("/api/v1/trades", trades)
    app.router.add_get("/api/v1/summary", summary)
    app.router.add_get("/api/v1/candles", candles)
    app.router.add_get("/api/v1/logs", logs)
    app.router.add_get("/api/v1/outbox", outbox)
    app.router.add_get("/api/v1/config", config)
    app.router.add_get("/api/v1/openapi.json", openapi)
    app.router.add_get("/metrics", metrics)
    app.router.add_get("/", dashboard)
    app.router.add_static("/static/", STATIC, follow_symlinks=False, append_version=False)
