"""Authenticated requests never share a budget with unauthenticated ones: wrong passwords and
slow login forms cannot turn the real user away."""
from __future__ import annotations

import asyncio
import time

import aiohttp
import pytest

from api.auth import SlowDown
from api.server import AUTH as AUTH_KEY

from .stub import AUTH, PASSWORD, USER, StubControls, connect, from_address, read_until_closed

JSON = {"Content-Type": "application/json"}


def slow_login(port: int) -> bytes:
    """A login form whose body is announced but never sent."""
    return (b"POST /login HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nContent-Type: "
            b"application/x-www-form-urlencoded\r\nContent-Length: 100\r\n\r\nusername=u"
            % port)


async def test_the_real_user_gets_through_while_wrong_passwords_and_slow_logins_are_in_flight(
        served):
    controls = StubControls()
    server = await served(controls=controls, control=True, max_connections_per_address=256)
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as user:
        async with user.post(server.url + "/login", data={"username": USER,
                                                          "password": PASSWORD}) as r:
            assert r.status == 200  # followed the redirect to the dashboard: signed in
        slow = [await connect(server.port, slow_login(server.port)) for _ in range(33)]
        async with aiohttp.ClientSession() as attacker:
            wrong = {"Authorization": aiohttp.encode_basic_auth(USER, "guess")}
            guesses = [asyncio.ensure_future(attacker.get(server.url + "/api/v1/health",
                                                          headers=wrong)) for _ in range(40)]
            await asyncio.sleep(0.2)
            started = time.monotonic()
            async with user.get(server.url + "/api/v1/health") as r:  # the cookie session
                assert r.status == 200
            async with from_address("127.0.0.2") as script:  # Basic, from its own address
                async with script.get(server.url + "/api/v1/health", headers=AUTH) as r:
                    assert r.status == 200
                async with script.post(server.url + "/api/v1/control/pause", data="{}",
                                       headers={**AUTH, **JSON}) as r:
                    assert r.status == 200 and controls.done[0] == "pause"
            assert time.monotonic() - started < 1.0
            statuses = []
            for guess in await asyncio.gather(*guesses):
                statuses.append(guess.status)
                guess.release()
            assert set(statuses) <= {401, 429} and statuses.count(429) >= 30
        for _, writer in slow:
            writer.close()


async def test_a_slowed_down_address_gets_429_at_once_holding_no_slot(served):
    server = await served(max_in_flight=2)
    server.app[AUTH_KEY].slowdown = SlowDown(free=1, base_s=30.0, cap_s=30.0)
    wrong = {"Authorization": aiohttp.encode_basic_auth(USER, "guess")}
    async with aiohttp.ClientSession() as http:
        async with http.get(server.url + "/api/v1/health", headers=wrong) as r:
            assert r.status == 401
        started = time.monotonic()
        for _ in range(10):
            async with http.get(server.url + "/api/v1/health", headers=wrong) as r:
                assert r.status == 429 and int(r.headers["Retry-After"]) in (29, 30)
        assert time.monotonic() - started < 1.0
    async with from_address("127.0.0.2") as http:
        async with http.get(server.url + "/api/v1/health", headers=AUTH) as r:
            assert r.status == 200


@pytest.mark.slow  # over a second: left out of make test-fast
async def test_a_login_form_whose_body_never_ends_is_answered_within_the_public_time_limit(
        served):
    server = await served(public_timeout_s=0.5)
    reader, _ = await connect(server.port, slow_login(server.port))
    started = time.monotonic()
    answer = await read_until_closed(reader, 3.0)
    assert answer is not None and answer.startswith(b"HTTP/1.1 408 ")
    assert time.monotonic() - started < 2.5  # the limit, then at most a second draining
