"""The Host header must name this server (DNS rebinding); the session cookie is Secure behind a
trusted TLS proxy only; no response names the server's software or version."""
from __future__ import annotations

import aiohttp
import pytest

from api.hosts import Hosts

from .stub import AUTH, PASSWORD, USER, connect, from_address, read_until_closed

LOGIN = {"username": USER, "password": PASSWORD}


@pytest.mark.parametrize("host,local,allowed", [
    ("127.0.0.1:8080", ("127.0.0.1", 8080), True),
    ("localhost:8080", ("127.0.0.1", 8080), True),
    ("LOCALHOST.:8080", ("127.0.0.1", 8080), True),
    ("[::1]:8080", ("::1", 8080, 0, 0), True),
    ("localhost:8080", ("::1", 8080, 0, 0), True),
    ("192.168.1.10:8080", ("192.168.1.10", 8080), True),       # a 0.0.0.0 listener, by address
    ("192.168.1.10:8080", ("::ffff:192.168.1.10", 8080, 0, 0), True),
    ("127.0.0.1:8081", ("127.0.0.1", 8080), False),            # another port
    ("127.0.0.1", ("127.0.0.1", 8080), False),
    ("127.0.0.1", ("127.0.0.1", 80), True),
    ("rebound.attacker.example:8080", ("127.0.0.1", 8080), False),
    ("localhost:8080", ("192.168.1.10", 8080), False),         # not a loopback listener
    ("my-server.lan:8080", ("192.168.1.10", 8080), False),
    ("choch.example.com", ("127.0.0.1", 8080), True),          # API_PUBLIC_NAME
    ("choch.example.com:9999", ("127.0.0.1", 8080), True),
    ("other.example.com:8443", ("127.0.0.1", 8080), True),
    ("other.example.com", ("127.0.0.1", 8080), False),         # 80 or 443 by default
    ("third.example.com", ("127.0.0.1", 8080), True),
    ("other.example.com:8444", ("127.0.0.1", 8080), False),
    ("choch.example.com.evil.example", ("127.0.0.1", 8080), False),
    ("a:b:c", ("127.0.0.1", 8080), False),
    ("", ("127.0.0.1", 8080), False),
])
def test_hosts_answered_are_the_own_address_loopback_names_and_public_names(host, local, allowed):
    hosts = Hosts(["choch.example.com", "other.example.com:8443", "third.example.com:443"])
    assert hosts.allows(host, local) is allowed


async def test_a_request_naming_another_host_gets_421_ping_excepted(served):
    server = await served(public_names=("choch.example.com",))
    async with aiohttp.ClientSession(headers=AUTH) as http:
        for host, status in ((f"127.0.0.1:{server.port}", 200), (f"localhost:{server.port}", 200),
                             ("choch.example.com", 200), (f"rebound.example:{server.port}", 421),
                             ("127.0.0.1:1", 421)):
            async with http.get(server.url + "/api/v1/health", headers={"Host": host}) as r:
                assert r.status == status, host
        async with http.get(server.url + "/login", headers={"Host": "rebound.example"}) as r:
            assert r.status == 421
        async with http.get(server.url + "/api/v1/ping", headers={"Host": "probe"}) as r:
            assert r.status == 200  # no data: answered whatever the Host


async def test_the_cookie_is_secure_only_when_a_trusted_proxy_says_https(served):
    server = await served(trusted_proxies=("127.0.0.1",))
    https = {"X-Forwarded-Proto": "https"}

    async def cookie(http: aiohttp.ClientSession, headers: dict) -> str:
        async with http.post(server.url + "/login", data=LOGIN, headers=headers,
                             allow_redirects=False) as r:
            assert r.status == 303
            return r.headers["Set-Cookie"]

    async with aiohttp.ClientSession() as http:
        assert "Secure" in await cookie(http, https)
        assert "Secure" not in await cookie(http, {"X-Forwarded-Proto": "http"})
        assert "Secure" not in await cookie(http, {})
    async with from_address("127.0.0.2") as http:  # not the proxy: its header is not believed
        assert "Secure" not in await cookie(http, https)


async def test_no_response_names_the_server_software(served):
    server = await served()
    cases = [("/api/v1/health", AUTH, 200), ("/api/v1/health", {}, 401),
             ("/no/such/page", AUTH, 404), ("/static/style.css", AUTH, 200),
             ("/api/v1/trades?limit=0", AUTH, 400), ("/api/v1/ping", {}, 200),
             ("/login", {}, 200)]
    async with aiohttp.ClientSession() as http:
        for path, headers, status in cases:
            async with http.get(server.url + path, headers=headers) as r:
                assert r.status == status, path
                assert r.headers.get("Server", "choch") == "choch", path
        async with http.put(server.url + "/api/v1/health", headers=AUTH) as r:
            assert r.status == 405 and r.headers.get("Server", "choch") == "choch"
    reader, _ = await connect(server.port, b"GET / HTTP/1.1\r\nX-Bad header\r\n\r\n")
    answer = await read_until_closed(reader, 2.0) or b""
    assert answer.startswith(b"HTTP/1.") and b"aiohttp" not in answer and b"Python" not in answer
