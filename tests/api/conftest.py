"""Fixtures for the API tests: one scripted daemon run per test module, an HTTP client, and a
server over a stub daemon."""
from __future__ import annotations

import aiohttp
import pytest
import pytest_asyncio

from api import ApiConfig, ApiServer, Metrics, create_app

from .scenario import start_run, stop_run
from .stub import PASSWORD, USER, StubControls, StubView


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def run(tmp_path_factory):
    """The daemon after its scripted replay, serving the API (stopped after the module)."""
    started = await start_run(tmp_path_factory.mktemp("api"))
    yield started
    assert await stop_run(started) == 0


@pytest_asyncio.fixture(loop_scope="module")
async def http():
    """A client session without a cookie jar of its own making (each test logs in itself)."""
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as session:
        yield session


@pytest.fixture
async def served():
    """Start a server on a free loopback port with `config` overrides; stopped afterwards."""
    servers = []

    async def start(view=None, controls=None, **overrides):
        config = ApiConfig("127.0.0.1", 0, USER, PASSWORD, **overrides)
        app = create_app(config, view or StubView(), Metrics(), controls or StubControls())
        server = ApiServer(app, "127.0.0.1", 0)
        await server.start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        await server.stop()
