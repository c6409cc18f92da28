"""Fixtures for the API tests: one scripted daemon run per test module, an HTTP client."""
from __future__ import annotations

import aiohttp
import pytest_asyncio

from .scenario import start_run, stop_run


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
