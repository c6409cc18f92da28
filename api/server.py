"""The API's aiohttp application and its runner on the daemon's own event loop.

Bounded by design: request bodies (client_max_size), time per request, requests in flight and
header sizes; chart renders run in a worker thread. A slow or hostile client holds at most a
socket, never the loop that processes signals.
"""
from __future__ import annotations

import asyncio
import base64
import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

import structlog
from aiohttp import web

from . import control, routes
from .auth import COOKIE, SESSION_TTL_S, Auth, Credentials, Principal, address, csrf_ok, same_origin
from .metrics import Metrics
from .state import DaemonControls, DaemonView

log = structlog.get_logger(__name__)
AUTH = web.AppKey("auth", Auth)
DASHBOARD_HEADER = ("X-Requested-With", "choch-dashboard")  # the dashboard's own fetches
LOGIN_PAGE = Path(__file__).resolve().parent / "login.html"
# Reachable without credentials: the health probe and the login form itself.
PUBLIC = frozenset({("GET", "/api/v1/ping"), ("HEAD", "/api/v1/ping"), ("GET", "/login"),
                    ("HEAD", "/login"), ("POST", "/login")})
UNLIMITED = frozenset({"/api/v1/ping"})  # answers even when the request cap is reached
CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
       "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")


@dataclass(frozen=True)
class ApiConfig:
    """Where to listen, who may enter, and the bounds of each request."""

    host: str
    port: int
    username: str
    password: str = field(repr=False)
    control: bool = False
    request_timeout_s: float = 10.0
    max_body_bytes: int = 16 * 1024
    max_in_flight: int = 32


CONFIG = web.AppKey("config", ApiConfig)


def _login_page(error: str = "") -> tuple[str, str]:
    """The login form's HTML (with an optional error line) and its CSP (its inline style)."""
    html = LOGIN_PAGE.read_text()
    style = re.search(r"<style>(.*?)</style>", html, re.S)
    digest = base64.b64encode(hashlib.sha256(style.group(1).encode()).digest()).decode() \
        if style else ""
    if error:
        html = html.replace("<!--error-->", f'<p class="error" role="alert">{error}</p>')
    csp = CSP.replace("style-src 'self'", f"style-src 'sha256-{digest}'")
    return html, csp


def _login_response(status: int = 200, error: str = "") -> web.Response:
    html, csp = _login_page(error)
    return web.Response(text=html, status=status, content_type="text/html",
                        headers={"Content-Security-Policy": csp, "Cache-Control": "no-store",
                                 "WWW-Authenticate": 'Cookie realm="choch", form-action="/login"'})


def _challenge(request: web.Request) -> web.Response:
    """401 without data: the login form for a browser page, Basic's challenge for scripts."""
    accept = request.headers.get("Accept", "")
    if request.method == "GET" and "text/html" in accept:
        return _login_response(401)
    body = '{"error":"authentication required"}'
    # Never Basic for the dashboard's own fetches: the browser would pop up its login dialog.
    scheme = ('Cookie realm="choch"' if request.headers.get(DASHBOARD_HEADER[0]) ==
              DASHBOARD_HEADER[1] else 'Basic realm="choch", charset="UTF-8"')
    return web.Response(text=body, status=401, content_type="application/json",
                        headers={"WWW-Authenticate": scheme, "Cache-Control": "no-store"})


@web.middleware
async def _security_headers(request: web.Request, handler) -> web.StreamResponse:
    try:
        response = await handler(request)
    except web.HTTPException as e:
        _harden(e.headers)
        raise
    _harden(response.headers)
    return response


def _harden(headers) -> None:
    headers.setdefault("Content-Security-Policy", CSP)
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault("Referrer-Policy", "same-origin")


def _bounds(config: ApiConfig):
    """Middleware: at most `max_in_flight` requests at once, each within the time limit."""
    gate = asyncio.Semaphore(config.max_in_flight)

    @web.middleware
    async def bounded(request: web.Request, handler) -> web.StreamResponse:
        if request.path in UNLIMITED:
            return await handler(request)
        if gate.locked():
            return routes.json_response({"error": "busy, try again"}, 503)
        async with gate:
            try:
                return await asyncio.wait_for(handler(request), config.request_timeout_s)
            except asyncio.TimeoutError:
                log.warning("api_request_timeout", path=request.path, peer=address(request))
                return routes.json_response({"error": "request took too long"}, 503)
    return bounded


@web.middleware
async def _authenticate(request: web.Request, handler) -> web.StreamResponse:
    if (request.method, request.path) in PUBLIC:
        return await handler(request)
    principal = await request.app[AUTH].authenticate(request)
    if principal is None:
        if "Authorization" in request.headers:
            log.warning("api_auth_failed", path=request.path, peer=address(request))
        return _challenge(request)
    request[control.PRINCIPAL] = principal
    return await handler(request)


async def login_form(request: web.Request) -> web.Response:
    return _login_response()


async def login(request: web.Request) -> web.Response:
    """The form's POST: a session cookie and back to the dashboard, or the form again."""
    if not same_origin(request):
        return _login_response(403, "Cross-site login refused.")
    form = await request.post()
    user, password = str(form.get("username", "")), str(form.get("password", ""))
    if not await request.app[AUTH].check_password(request, user, password):
        log.warning("api_login_failed", peer=address(request))
        return _login_response(401, "Wrong user name or password.")
    session = request.app[AUTH].open_session(user)
    log.info("api_login", peer=address(request))
    response = web.Response(status=303, headers={"Location": "/", "Cache-Control": "no-store"})
    response.set_cookie(COOKIE, session.token, max_age=int(SESSION_TTL_S), path="/",
                        httponly=True, samesite="Strict", secure=request.secure)
    return response


async def logout(request: web.Request) -> web.Response:
    """End the cookie session (CSRF token from the form field or the header)."""
    principal: Principal = request[control.PRINCIPAL]
    form = await request.post()
    token = str(form["csrf"]) if "csrf" in form else None
    if principal.session is None or not csrf_ok(request, principal, token):
        return routes.json_response({"error": "CSRF check failed"}, 403)
    request.app[AUTH].close_session(principal.session)
    response = web.Response(status=303, headers={"Location": "/login"})
    response.del_cookie(COOKIE, path="/")
    return response


async def session_info(request: web.Request) -> web.Response:
    """Who is logged in, the CSRF token of a cookie session, and whether control is on."""
    principal: Principal = request[control.PRINCIPAL]
    return routes.json_response({
        "user": principal.user, "via": principal.via,
        "csrf": principal.session.csrf if principal.session else None,
        "control": request.app[CONFIG].control})


def create_app(config: ApiConfig, view: DaemonView, metrics: Metrics,
               controls: Optional[DaemonControls] = None, *,
               auth: Optional[Auth] = None) -> web.Application:
    """The application: auth on everything but ping and the login form; control only if on."""
    app = web.Application(client_max_size=config.max_body_bytes,
                          middlewares=[_security_headers, _bounds(config), _authenticate])
    app[AUTH] = auth or Auth(Credentials(config.username, config.password))
    app[CONFIG] = config
    app[routes.VIEW] = view
    app[routes.METRICS] = metrics
    if config.control and controls is not None:
        app[control.CONTROLS] = controls
    routes.add_routes(app)
    control.add_routes(app)
    app.router.add_get("/login", login_form)
    app.router.add_post("/login", login)
    app.router.add_post("/logout", logout)
    app.router.add_get("/api/v1/session", session_info)
    return app


class ApiServer:
    """Serves an application on the running loop until stop()."""

    def __init__(self, app: web.Application, host: str, port: int) -> None:
        self.app, self.host, self.port = app, host, port
        self._runner: Optional[web.AppRunner] = None

    async def start(self) -> None:
        """Bind and serve (OSError when the address is taken or not ours)."""
        runner = web.AppRunner(self.app, access_log=None, shutdown_timeout=1.0,
                               keepalive_timeout=15.0, max_line_size=8190, max_field_size=8190)
        await runner.setup()
        try:
            site = web.TCPSite(runner, self.host, self.port, backlog=128)
            await site.start()
        except BaseException:
            await runner.cleanup()
            raise
        self._runner = runner
        server = getattr(site, "_server", None)
        if server is not None and server.sockets:
            self.port = server.sockets[0].getsockname()[1]  # the real one when 0 was asked
        log.info("api_listening", host=self.host, port=self.port)

    @property
    def url(self) -> str:
        """Base URL of the server, e.g. http://127.0.0.1:8080."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    async def stop(self) -> None:
        """Stop serving (open connections are closed within a second)."""
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
