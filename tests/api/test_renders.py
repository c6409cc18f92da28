"""The API renders charts in its own worker thread: a flood of chart requests never delays the
alerts' renders in the default executor."""
from __future__ import annotations

import asyncio
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from types import SimpleNamespace

import aiohttp
import pytest

from api.renders import RenderBusy, RenderPool
from app.api_view import DaemonApiView

from .stub import AUTH

RENDER_S = 0.5


@pytest.fixture
def slow_renders(monkeypatch):
    """alerts.chart.render_chart taking RENDER_S; the names of the threads it ran in."""
    threads: list[str] = []

    def render_chart(payload):
        threads.append(threading.current_thread().name)
        time.sleep(RENDER_S)
        return b"\x89PNG"

    monkeypatch.setattr("alerts.chart.render_chart", render_chart)
    return threads


@pytest.mark.slow  # over a second: left out of make test-fast
async def test_a_flood_of_chart_requests_never_delays_an_alert_render(served, slow_renders):
    loop = asyncio.get_running_loop()
    loop.set_default_executor(ThreadPoolExecutor(max_workers=2))  # where the alerts render
    view = DaemonApiView(SimpleNamespace())
    view._chart_payload = lambda signal_id: {"candles": [signal_id]}  # type: ignore[method-assign]
    server = await served(view)
    async with aiohttp.ClientSession(headers=AUTH) as http:
        flood = [asyncio.ensure_future(http.get(f"{server.url}/api/v1/signals/{i}/chart.png"))
                 for i in range(1, 9)]
        await asyncio.sleep(0.1)
        started = time.monotonic()
        assert await asyncio.to_thread(lambda: b"alert chart") == b"alert chart"
        assert time.monotonic() - started < RENDER_S / 2
        statuses = []
        for response in await asyncio.gather(*flood):
            statuses.append(response.status)
            response.release()
    assert slow_renders and all(name.startswith("api-render") for name in slow_renders)
    assert statuses.count(200) == 3 and statuses.count(503) == 5  # one rendering, two queued


async def test_a_render_still_running_keeps_its_place_after_its_request_gave_up():
    pool = RenderPool(workers=1, waiting=0)
    release = threading.Event()
    first = asyncio.ensure_future(pool.run(lambda _: release.wait(2), None))
    await asyncio.sleep(0.05)
    first.cancel()
    with pytest.raises(RenderBusy):
        await pool.run(lambda _: b"", None)
    release.set()
    await asyncio.sleep(0.05)
    assert await pool.run(lambda x: x, b"png") == b"png"
    pool.shutdown()
