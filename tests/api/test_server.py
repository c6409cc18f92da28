"""The server's own bounds and switches, on a stub view (no daemon needed)."""
from __future__ import annotations

import asyncio
import json

import aiohttp
import pytest

from .stub import AUTH, StubView


async def test_ping_is_503_unless_the_scheduler_and_delivery_are_alive(served):
    view = StubView()
    server = await served(view)
    async with aiohttp.ClientSession() as http:
        async with http.get(server.url + "/api/v1/ping") as r:
            assert r.status == 200
        view.is_alive = False
        async with http.get(server.url + "/api/v1/ping") as r:
            assert r.status == 503 and await r.text() == "unavailable\n"


async def test_a_slow_request_is_cut_off_and_other_requests_still_answer(served):
    view = StubView()
    view.delay_s = 5.0
    server = await served(view, request_timeout_s=0.3)
    async with aiohttp.ClientSession(headers=AUTH) as http:
        slow = asyncio.ensure_future(http.get(server.url + "/api/v1/positions"))
        async with http.get(server.url + "/api/v1/health") as r:
            assert r.status == 200  # answered while the slow one waits
        response = await asyncio.wait_for(slow, 2.0)
        assert response.status == 503 and "too long" in (await response.json())["error"]
        response.release()


async def test_a_large_body_is_refused_before_it_is_read(served):
    server = await served(control=True, max_body_bytes=1024)
    async with aiohttp.ClientSession(headers=AUTH) as http:
        async with http.post(server.url + "/api/v1/control/close", data=b"x" * 4096,
                             headers={"Content-Type": "application/json"}) as r:
            assert r.status == 413


@pytest.mark.slow  # over a second: left out of make test-fast
async def test_requests_beyond_the_cap_are_turned_away_but_ping_still_answers(served):
    view = StubView()
    view.delay_s = 1.0
    server = await served(view, max_in_flight=2)
    async with aiohttp.ClientSession(headers=AUTH) as http:
        busy = [asyncio.ensure_future(http.get(server.url + "/api/v1/positions"))
                for _ in range(2)]
        await asyncio.sleep(0.2)
        async with http.get(server.url + "/api/v1/health") as r:
            assert r.status == 503 and (await r.json())["error"] == "busy, try again"
        async with http.get(server.url + "/api/v1/ping") as r:
            assert r.status == 200
        for response in await asyncio.gather(*busy):
            assert response.status == 200
            response.release()


async def test_control_is_refused_while_api_control_is_off(served):
    server = await served(control=False)
    async with aiohttp.ClientSession(headers=AUTH) as http:
        async with http.post(server.url + "/api/v1/control/pause", data="{}",
                             headers={"Content-Type": "application/json"}) as r:
            assert r.status == 403 and "API_CONTROL=1" in (await r.json())["error"]
        async with http.get(server.url + "/api/v1/session") as r:
            assert json.loads(await r.read())["control"] is False


async def test_responses_carry_the_security_headers(served):
    server = await served()
    async with aiohttp.ClientSession() as http:
        async with http.get(server.url + "/api/v1/health") as r:
            assert r.status == 401
            assert r.headers["X-Frame-Options"] == "DENY"
            assert r.headers["X-Content-Type-Options"] == "nosniff"
            assert "frame-ancestors 'none'" in r.headers["Content-Security-Policy"]
        async with http.get(server.url + "/login") as r:
            assert r.status == 200 and "style-src 'sha256-" in r.headers["Content-Security-Policy"]
