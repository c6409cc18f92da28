"""Connections are capped when accepted (in total and per address), a client that does not finish
its headers is dropped, and what was turned away is logged as one summary line."""
from __future__ import annotations

import asyncio
import logging
import time

import pytest
from structlog.testing import capture_logs

from api.connections import FD_RESERVE, MAX_CONNECTIONS, connection_cap

from .stub import AUTH, connect, from_address, read_until_closed

UNFINISHED = b"GET /api/v1/health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: "  # never ends


def test_the_connection_cap_leaves_descriptors_for_the_exchanges_and_telegram():
    assert connection_cap(1024) == 1024 - FD_RESERVE  # systemd's default soft limit
    assert connection_cap(1024) <= 1024 // 2
    assert connection_cap(1 << 20) == MAX_CONNECTIONS
    assert 0 < connection_cap(256) < 256


async def test_a_flood_of_unfinished_requests_is_capped_per_address_and_logged_once(served):
    server = await served(max_connections=40, max_connections_per_address=10,
                          header_timeout_s=2.0)
    with capture_logs() as logs:
        flood = [await connect(server.port, UNFINISHED) for _ in range(30)]
        started = time.monotonic()
        answers = await asyncio.gather(*(read_until_closed(r, 0.5) for r, _ in flood))
        refused = [a for a in answers if a is not None]
        assert len(refused) == 20 and time.monotonic() - started < 1.0  # closed at once
        assert all(a == b"" or a.startswith(b"HTTP/1.1 503 ") for a in refused)
        # The flood's address has spent its share; another address is still served.
        async with from_address("127.0.0.2") as http:
            async with http.get(server.url + "/api/v1/health", headers=AUTH) as r:
                assert r.status == 200
        for _, writer in flood:
            writer.close()
        await server.stop()  # the summary is written now rather than a minute later
    summaries = [e for e in logs if e["event"] == "api_turned_away"]
    assert len(summaries) == 1, summaries
    assert summaries[0]["connections_refused"] == 20 and "127.0.0.1 (20)" in summaries[0][
        "addresses"]


async def test_when_every_connection_is_taken_the_next_is_refused_until_one_ends(served):
    server = await served(max_connections=6, max_connections_per_address=6, header_timeout_s=5.0)
    held = [await connect(server.port, UNFINISHED, local=f"127.0.0.{i + 2}") for i in range(6)]
    reader, _ = await connect(server.port, UNFINISHED, local="127.0.0.9")
    assert await read_until_closed(reader, 1.0) is not None  # refused
    for _, writer in held:
        writer.close()
    await asyncio.sleep(0.1)
    async with from_address("127.0.0.9") as http:
        async with http.get(server.url + "/api/v1/health", headers=AUTH) as r:
            assert r.status == 200


@pytest.mark.slow  # over a second: left out of make test-fast
async def test_a_client_that_does_not_finish_its_headers_is_dropped_after_the_timeout(served):
    server = await served(header_timeout_s=0.5)
    reader, _ = await connect(server.port, UNFINISHED)
    started = time.monotonic()
    assert await read_until_closed(reader, 3.0) is not None  # dropped, nothing answered
    assert 0.4 < time.monotonic() - started < 1.5
    # A connection whose first request arrived in time is not dropped at that deadline.
    request = (b"GET /api/v1/health HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nAuthorization: %s\r\n\r\n"
               % (server.port, AUTH["Authorization"].encode()))
    reader, writer = await connect(server.port, request)
    assert (await reader.readuntil(b"\r\n\r\n")).startswith(b"HTTP/1.1 200")
    await reader.readexactly(len(b'{"ok":true}'))
    await asyncio.sleep(0.8)
    writer.write(request)
    assert (await reader.readuntil(b"\r\n\r\n")).startswith(b"HTTP/1.1 200")
    writer.close()


async def test_malformed_requests_are_counted_in_the_summary_not_logged_one_by_one(served,
                                                                                   caplog):
    server = await served()
    with capture_logs() as logs, caplog.at_level(logging.INFO):
        for _ in range(20):
            reader, _ = await connect(server.port, b"GET / HTTP/1.1\r\nX-Bad header\r\n\r\n")
            assert (await read_until_closed(reader, 2.0) or b"").startswith(b"HTTP/1.")
        await server.stop()
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
    summaries = [e for e in logs if e["event"] == "api_turned_away"]
    assert len(summaries) == 1 and summaries[0]["bad_requests"] == 20
