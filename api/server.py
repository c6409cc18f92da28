"""The API's aiohttp application and its runner on the daemon's own event loop.

Bounded by design: connections (in total and per address, counted when accepted), the time to
send the first request's headers, request bodies (client_max_size), time per request, header
sizes, and requests in flight: authenticated requests and the others (the login form) have
separate budgets, so a flood of the latter never turns the real user away. Chart renders run in
the API's own worker thread. A slow or hostile client holds at most a socket, never the loop that
processes signals.
"""
from __future__ import annotations

import asyncio
import base64
import hashlib
import math
import re
from dataclasses import dataclass, field
from pathlib import Path

import structlog
from aiohttp import web, web_response

from . import control, routes
from .auth import (
    COOKIE,
    SESSION_TTL_S,
    Auth,
    Credentials,
    Principal,
    TooManyAttempts,
    address,
    csrf_ok,
    same_origin,
)
from .connections import (
    HEADER_TIMEOUT_S,
    PER_ADDRESS,
    SUMMARY_EVERY_S,
    ConnectionGuard,
    Tally,
    connection_cap,
    fd_limit,
    http_logger,
)
from .hosts import Hosts, forwarded_https
from .metrics import Metrics
from .renders import RenderPool
from .state import DaemonControls, DaemonView

log = structlog.get_logger(__name__)
AUTH = web.AppKey("auth", Auth)
GUARD = web.AppKey("guard", ConnectionGuard)
HOSTS = web.AppKey("hosts", Hosts)
SERVER_NAME = "choch"  # the Server header: no library or version to look exploits up for
DASHBOARD_HEADER = ("X-Requested-With", "choch-dashboard")  # the dashboard's own fetches
LOGIN_PAGE = Path(__file__).resolve().parent / "login.html"
# Reachable without credentials: the health probe and the login form itself.
PUBLIC = frozenset({("GET", "/api/v1/ping"), ("HEAD", "/api/v1/ping"), ("GET", "/login"),
                    ("HEAD", "/login"), ("POST", "/login")})
# Answers even when the request budgets are spent, and whatever the Host (probes often use an
# address or a container's name; it carries no data a rebound page could read).
UNLIMITED = frozenset({"/api/v1/ping"})
CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
       "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")


@dataclass(frozen=True)
class ApiConfig:
    """Where to listen, who may enter, and the bounds of each connection and request."""

    host: str
    port: int
    username: str
    password: str = field(repr=False)
    control: bool = False
    request_timeout_s: float = 10.0
    max_body_bytes: int = 16 * 1024
    max_in_flight: int = 32            # authenticated requests at once
    max_public_in_flight: int = 8      # unauthenticated ones at once (the login form)
    public_timeout_s: float = 5.0      # for an unauthenticated request, its body included
    max_connections: int = field(default_factory=connection_cap)
    max_connections_per_address: int = PER_ADDRESS
    header_timeout_s: float = HEADER_TIMEOUT_S
    summary_every_s: float = SUMMARY_EVERY_S
    render_workers: int = 1
    render_queue: int = 2              # renders waiting for a worker; more get 503
    trusted_proxies: tuple[str, ...] = ()
    public_names: tuple[str, ...] = ()


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


def _login_response(status: int = 200, error: str = "",
                    retry_after_s: float | None = None) -> web.Response:
    html, csp = _login_page(error)
    headers = {"Content-Security-Policy": csp, "Cache-Control": "no-store",
               "WWW-Authenticate": 'Cookie realm="choch", form-action="/login"'}
    if retry_after_s is not None:
        headers["Retry-After"] = str(math.ceil(retry_after_s))
    return web.Response(text=html, status=status, content_type="text/html", headers=headers)


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


def _too_many(request: web.Request, e: TooManyAttempts) -> web.Response:
    """429: an attempt inside its address's pause (counted in the summary, not logged each)."""
    request.app[GUARD].tally.add("attempts_too_soon", address(request))
    seconds = math.ceil(e.retry_after_s)
    if request.path == "/login":
        return _login_response(429, f"Too many wrong attempts: try again in {seconds} s.",
                               e.retry_after_s)
    response = routes.json_response({"error": "too many wrong attempts, try again later"}, 429)
    response.headers["Retry-After"] = str(seconds)
    return response


@web.middleware
async def _first_request(request: web.Request, handler) -> web.StreamResponse:
    """The connection's first request is here: its header deadline no longer applies."""
    request.app[GUARD].request_seen(request.transport)
    return await handler(request)


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


@web.middleware
async def _known_host(request: web.Request, handler) -> web.StreamResponse:
    """421 for a Host header that does not name this server (DNS rebinding)."""
    if request.path in UNLIMITED or request.app[HOSTS].allows(
            request.headers.get("Host"), request.get_extra_info("sockname")):
        return await handler(request)
    request.app[GUARD].tally.add("wrong_host", address(request),
                                 request.headers.get("Host", "")[:100])
    return routes.json_response({"error": "misdirected request: this server does not answer "
                                          "to that Host name"}, 421)


@web.middleware
async def _authenticate(request: web.Request, handler) -> web.StreamResponse:
    if (request.method, request.path) in PUBLIC:
        return await handler(request)
    try:
        principal = await request.app[AUTH].authenticate(request)
    except TooManyAttempts as e:
        return _too_many(request, e)
    if principal is None:
        if "Authorization" in request.headers:
            log.warning("api_auth_failed", path=request.path, peer=address(request))
        return _challenge(request)
    request[control.PRINCIPAL] = principal
    return await handler(request)


def _bounds(config: ApiConfig):
    """Middleware after authentication: authenticated requests and the others (the login form)
    each have their own cap on requests in flight and their own time limit."""
    members = asyncio.Semaphore(config.max_in_flight)
    public = asyncio.Semaphore(config.max_public_in_flight)

    @web.middleware
    async def bounded(request: web.Request, handler) -> web.StreamResponse:
        if request.path in UNLIMITED:
            return await handler(request)
        known = control.PRINCIPAL in request
        gate = members if known else public
        if gate.locked():
            return routes.json_response({"error": "busy, try again"}, 503)
        limit_s = config.request_timeout_s if known else config.public_timeout_s
        async with gate:
            try:
                return await asyncio.wait_for(handler(request), limit_s)
            except TimeoutError:
                if not known:  # a slow login body: the client's doing, counted
                    request.app[GUARD].tally.add("slow_requests", address(request))
                    response = routes.json_response({"error": "request took too long"}, 408)
                    response.force_close()  # the rest of its body is not waited for
                    return response
                log.warning("api_request_timeout", path=request.path, peer=address(request))
                return routes.json_response({"error": "request took too long"}, 503)
    return bounded


async def login_form(request: web.Request) -> web.Response:
    return _login_response()


async def login(request: web.Request) -> web.Response:
    """The form's POST: a session cookie and back to the dashboard, or the form again."""
    if not same_origin(request):
        return _login_response(403, "Cross-site login refused.")
    auth = request.app[AUTH]
    try:
        wait = auth.slowdown.wait(address(request))
        if wait:  # refused before its body is read
            raise TooManyAttempts(wait)
        form = await request.post()
        user, password = str(form.get("username", "")), str(form.get("password", ""))
        ok = auth.check_password(request, user, password)
    except TooManyAttempts as e:
        return _too_many(request, e)
    if not ok:
        log.warning("api_login_failed", peer=address(request))
        return _login_response(401, "Wrong user name or password.")
    session = auth.open_session(user)
    log.info("api_login", peer=address(request))
    response = web.Response(status=303, headers={"Location": "/", "Cache-Control": "no-store"})
    secure = request.secure or forwarded_https(request, request.app[CONFIG].trusted_proxies)
    response.set_cookie(COOKIE, session.token, max_age=int(SESSION_TTL_S), path="/",
                        httponly=True, samesite="Strict", secure=secure)
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
               controls: DaemonControls | None = None, *,
               auth: Auth | None = None) -> web.Application:
    """The application: auth on everything but ping and the login form; control only if on."""
    app = web.Application(client_max_size=config.max_body_bytes,
                          middlewares=[_first_request, _security_headers, _known_host,
                                       _authenticate, _bounds(config)])
    app[AUTH] = auth or Auth(Credentials(config.username, config.password))
    app[CONFIG] = config
    guard = app[GUARD] = ConnectionGuard(config.max_connections,
                                         config.max_connections_per_address,
                                         config.header_timeout_s, Tally(config.summary_every_s))
    app[HOSTS] = Hosts(config.public_names)
    renders = app[routes.RENDERS] = RenderPool(config.render_workers, config.render_queue)
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

    async def closed(_app: web.Application) -> None:
        renders.shutdown()
        guard.tally.flush()
    app.on_cleanup.append(closed)
    return app


class _GuardedSite(web.BaseSite):
    """A TCP site whose connections pass the guard before aiohttp's protocol sees them."""

    def __init__(self, runner: web.BaseRunner, host: str, port: int,
                 guard: ConnectionGuard) -> None:
        super().__init__(runner, backlog=128)
        self.host, self.port, self.guard = host, port, guard

    @property
    def name(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    async def start(self) -> None:
        await super().start()
        server = self._runner.server
        if server is None:
            raise RuntimeError("the API runner has no server: runner.setup() must come first")
        self._server = await asyncio.get_running_loop().create_server(
            self.guard.protocol_factory(server), self.host, self.port, backlog=self._backlog)
        if self._server.sockets:
            self.port = self._server.sockets[0].getsockname()[1]  # the real one when 0 was asked


class ApiServer:
    """Serves an application on the running loop until stop()."""

    def __init__(self, app: web.Application, host: str, port: int) -> None:
        self.app, self.host, self.port = app, host, port
        self._runner: web.AppRunner | None = None

    async def start(self) -> None:
        """Bind and serve (OSError when the address is taken or not ours)."""
        # aiohttp names itself and its version on every response, the 400s its parser writes for
        # malformed requests included (no middleware or signal sees those): a neutral name.
        web_response.SERVER_SOFTWARE = SERVER_NAME
        guard = self.app[GUARD]
        # lingering_time: how long the unread rest of a refused body is drained before closing.
        runner = web.AppRunner(self.app, access_log=None, shutdown_timeout=1.0,
                               keepalive_timeout=15.0, max_line_size=8190, max_field_size=8190,
                               lingering_time=1.0, logger=http_logger(guard.tally))
        await runner.setup()
        try:
            site = _GuardedSite(runner, self.host, self.port, guard)
            await site.start()
        except BaseException:
            await runner.cleanup()
            raise
        self._runner = runner
        self.port = site.port
        log.info("api_listening", host=self.host, port=self.port, max_connections=guard.limit,
                 per_address=guard.per_address, open_files_limit=fd_limit())

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
