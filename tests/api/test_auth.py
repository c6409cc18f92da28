"""Authentication over the real daemon's API: every endpoint but ping, Basic and the login form."""
from __future__ import annotations

import asyncio
import json
import time

import pytest

from api.auth import SlowDown, TooManyAttempts
from api.server import AUTH

from .scenario import PASSWORD, USER

pytestmark = [pytest.mark.slow, pytest.mark.asyncio(loop_scope="module")]

GETS = ["/api/v1/health", "/api/v1/signals", "/api/v1/positions", "/api/v1/trades",
        "/api/v1/outbox", "/api/v1/config", "/api/v1/openapi.json", "/api/v1/session",
        "/metrics", "/", "/static/app.js", "/static/style.css", "/api/v1/signals/1/chart.png",
        "/api/v1/summary", "/api/v1/logs", "/api/v1/candles?symbol=LTCUSDT&timeframe=1m",
        "/static/trader.js",
        "/static/vendor/lightweight-charts/lightweight-charts.standalone.production.js"]
POSTS = ["/api/v1/control/pause", "/api/v1/control/resume", "/api/v1/control/close",
         "/api/v1/control/closeall", "/logout"]


@pytest.fixture
def no_slowdown(run):
    """Many wrong attempts in a row without waiting (the slow-down has its own test)."""
    auth = run.daemon.api.app[AUTH]
    kept, auth.slowdown = auth.slowdown, SlowDown(free=10_000)
    yield
    auth.slowdown = kept


async def _status(http, method, url, **kw):
    async with http.request(method, url, **kw) as r:
        return r.status, r.headers, await r.read()


async def test_ping_answers_without_credentials_and_carries_no_data(run, http):
    status, _, body = await _status(http, "GET", run.url + "/api/v1/ping")
    assert status == 200 and body == b"ok\n"


@pytest.mark.parametrize("method,path", [("GET", p) for p in GETS] + [("POST", p) for p in POSTS])
async def test_every_endpoint_refuses_missing_and_wrong_credentials(run, http, no_slowdown,
                                                                    method, path):
    for headers in ({}, run.auth("wrong-password"), run.auth(PASSWORD, "intruder"),
                    {"Authorization": "Basic !!!"}, {"Authorization": "Bearer x"}):
        status, reply, body = await _status(http, method, run.url + path,
                                            headers={**headers, "Accept": "application/json"})
        assert status == 401, (path, headers)
        assert json.loads(body) == {"error": "authentication required"}  # nothing else
        assert reply["WWW-Authenticate"].startswith("Basic ")


@pytest.mark.parametrize("path", GETS)
async def test_every_read_endpoint_answers_the_right_credentials(run, http, path):
    status, _, body = await _status(http, "GET", run.url + path, headers=run.auth())
    assert status == 200, (path, body[:200])


async def test_a_browser_without_a_session_gets_the_login_form_and_no_basic_popup(run, http):
    status, headers, body = await _status(http, "GET", run.url + "/",
                                          headers={"Accept": "text/html"})
    assert status == 401 and b'action="/login"' in body and b"Latest signals" not in body
    assert not headers["WWW-Authenticate"].startswith("Basic")
    status, headers, _ = await _status(http, "GET", run.url + "/api/v1/health",
                                       headers={"X-Requested-With": "choch-dashboard"})
    assert status == 401 and not headers["WWW-Authenticate"].startswith("Basic")


async def test_the_login_form_sets_an_httponly_samesite_strict_cookie(run, http):
    status, headers, _ = await _status(http, "POST", run.url + "/login", allow_redirects=False,
                                       data={"username": USER, "password": PASSWORD})
    assert status == 303 and headers["Location"] == "/"
    cookie = headers["Set-Cookie"]
    token = cookie.split(";")[0].split("=", 1)[1]
    assert cookie.startswith("choch_session=") and "HttpOnly" in cookie
    assert "SameSite=Strict" in cookie and "Path=/" in cookie
    status, _, body = await _status(http, "GET", run.url + "/api/v1/session")
    session = json.loads(body)
    assert status == 200 and session["via"] == "session" and session["user"] == USER
    assert len(session["csrf"]) >= 32 and session["control"] is True
    # Logging out needs the CSRF token; then the cookie no longer works.
    status, _, _ = await _status(http, "POST", run.url + "/logout", allow_redirects=False)
    assert status == 403
    status, headers, _ = await _status(http, "POST", run.url + "/logout", allow_redirects=False,
                                       data={"csrf": session["csrf"]})
    assert status == 303 and headers["Location"] == "/login"
    http.cookie_jar.clear()
    status, _, _ = await _status(http, "GET", run.url + "/api/v1/session",
                                 cookies={"choch_session": token})  # replayed after logout
    assert status == 401


async def test_a_wrong_login_shows_the_form_again_and_a_cross_site_one_is_refused(run, http):
    status, headers, body = await _status(http, "POST", run.url + "/login",
                                          data={"username": USER, "password": "nope"})
    assert status == 401 and b"Wrong user name or password" in body
    assert "Set-Cookie" not in headers
    status, _, _ = await _status(http, "POST", run.url + "/login",
                                 data={"username": USER, "password": PASSWORD},
                                 headers={"Origin": "http://evil.example"})
    assert status == 403
    status, _, _ = await _status(http, "GET", run.url + "/api/v1/health",
                                 cookies={"choch_session": "forged-token"})
    assert status == 401


async def test_repeated_failures_from_one_address_are_refused_during_a_growing_pause(run, http):
    auth = run.daemon.api.app[AUTH]
    kept, auth.slowdown = auth.slowdown, SlowDown(free=2, base_s=0.3, cap_s=0.6)
    try:
        for _ in range(2):
            status, _, _ = await _status(http, "GET", run.url + "/api/v1/health",
                                         headers=run.auth("guess"))
            assert status == 401
        # Inside the pause every attempt is refused at once, unchecked, the right one too.
        for password in ("guess", PASSWORD):
            started = time.monotonic()
            status, headers, body = await _status(http, "GET", run.url + "/api/v1/health",
                                                  headers=run.auth(password))
            assert status == 429 and headers["Retry-After"] == "1" and b"too many" in body
            assert time.monotonic() - started < 0.2
        status, headers, body = await _status(http, "POST", run.url + "/login",
                                              data={"username": USER, "password": PASSWORD})
        assert status == 429 and b"try again in 1 s" in body and "Set-Cookie" not in headers
        await asyncio.sleep(0.35)
        status, _, _ = await _status(http, "GET", run.url + "/api/v1/health",
                                     headers=run.auth("guess"))
        assert status == 401 and 0.5 < auth.slowdown.wait("127.0.0.1") <= 0.6  # it doubled
        await asyncio.sleep(0.65)
        status, _, _ = await _status(http, "GET", run.url + "/api/v1/health", headers=run.auth())
        assert status == 200 and auth.slowdown.wait("127.0.0.1") == 0  # a success forgets
    finally:
        auth.slowdown = kept


async def test_slow_down_pauses_grow_per_address_and_are_forgotten():
    now = [0.0]
    slow = SlowDown(clock=lambda: now[0], free=3, base_s=1.0, cap_s=4.0)
    pauses: list[float] = []
    for _ in range(7):
        now[0] += pauses[-1] if pauses else 0
        assert not slow.attempt("10.0.0.1", lambda: False)
        pauses.append(slow.wait("10.0.0.1"))
    assert pauses == [0, 0, 1.0, 2.0, 4.0, 4.0, 4.0]
    now[0] += 1.0
    checked = []
    with pytest.raises(TooManyAttempts) as refused:
        slow.attempt("10.0.0.1", lambda: checked.append(1) or True)
    assert refused.value.retry_after_s == 3.0 and not checked  # never even compared
    assert slow.wait("10.0.0.2") == 0  # another address is not affected
    now[0] += 3600
    assert slow.wait("10.0.0.1") == 0
    assert not slow.attempt("10.0.0.1", lambda: False) and slow.wait("10.0.0.1") == 0  # forgotten
