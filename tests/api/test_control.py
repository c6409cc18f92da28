"""Control over HTTP (API_CONTROL=1) through the Telegram commands' code paths, CSRF-protected."""
from __future__ import annotations

import json

import pytest

from .scenario import PASSWORD, USER

pytestmark = [pytest.mark.slow, pytest.mark.asyncio(loop_scope="module")]
JSON = {"Content-Type": "application/json"}


async def post(http, url, body=None, **headers):
    async with http.post(url, data=json.dumps(body or {}), headers={**JSON, **headers},
                         allow_redirects=False) as r:
        return r.status, json.loads(await r.read() or b"{}")


async def login(http, run) -> str:
    """Log in through the form; the session's CSRF token."""
    async with http.post(run.url + "/login", data={"username": USER, "password": PASSWORD},
                         allow_redirects=False) as r:
        assert r.status == 303
    async with http.get(run.url + "/api/v1/session") as r:
        return (await r.json())["csrf"]


def notices(run) -> list[str]:
    rows = run.daemon.store.conn.execute("SELECT payload FROM outbox WHERE topic='notice' "
                                         "ORDER BY id").fetchall()
    return [json.loads(r["payload"])["text"] for r in rows
            if json.loads(r["payload"])["event"] == "api_control"]


async def test_a_cookie_session_needs_its_csrf_token_to_pause_and_resume(run, http):
    csrf = await login(http, run)
    manager = run.daemon.manager
    status, answer = await post(http, run.url + "/api/v1/control/pause")
    assert status == 403 and "CSRF" in answer["error"] and not manager.paused
    status, _ = await post(http, run.url + "/api/v1/control/pause", **{"X-CSRF-Token": "x" * 43})
    assert status == 403 and not manager.paused
    status, answer = await post(http, run.url + "/api/v1/control/pause",
                                **{"X-CSRF-Token": csrf})
    assert status == 200 and manager.paused and answer["action"] == "pause"
    assert notices(run)[-1].startswith(f"pause via the web API by {USER} (session) from 127.0.0.1")
    status, _ = await post(http, run.url + "/api/v1/control/resume", **{"X-CSRF-Token": csrf})
    assert status == 200 and not manager.paused
    assert len(notices(run)) == 2


async def test_a_control_request_must_be_json_and_same_origin(run, http):
    async with http.post(run.url + "/api/v1/control/pause", data="x",
                         headers={**run.auth(), "Content-Type": "text/plain"}) as r:
        assert r.status == 415
    status, _ = await post(http, run.url + "/api/v1/control/pause", **run.auth(),
                           Origin="http://evil.example")
    assert status == 403
    status, _ = await post(http, run.url + "/api/v1/control/pause", **run.auth(),
                           **{"Sec-Fetch-Site": "cross-site"})
    assert status == 403 and not run.daemon.manager.paused


async def test_close_one_symbol_closes_the_position_as_telegram_close_does(run, http):
    store = run.daemon.store
    held = store.open_positions()
    assert len(held) == 1
    status, answer = await post(http, run.url + "/api/v1/control/close", {"symbol": "LTCUSDT"},
                                **run.auth())
    assert status == 200 and answer["action"] == "close LTC/USDT"
    assert answer["result"].startswith("Closed") and "closed by command" in answer["result"]
    closed = store.position(held[0].id)
    assert closed.status == "closed" and closed.exit_reason == "closed by command"
    assert store.open_positions() == []
    assert notices(run)[-1].startswith(f"close LTC/USDT via the web API by {USER} (basic)")
    status, answer = await post(http, run.url + "/api/v1/control/close", {"symbol": "<x>"},
                                **run.auth())
    assert status == 400


async def test_close_all_needs_an_explicit_confirmation(run, http):
    status, answer = await post(http, run.url + "/api/v1/control/closeall", **run.auth())
    assert status == 400 and "confirm" in answer["error"]
    status, answer = await post(http, run.url + "/api/v1/control/closeall", {"confirm": True},
                                **run.auth())
    assert status == 200 and answer["result"] == "no open positions"
