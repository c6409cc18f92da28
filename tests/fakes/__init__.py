"""Local fake servers that answer like the real services (used by the tests and bench/)."""
from __future__ import annotations

from aiohttp import web


async def serve_locally(app: web.Application, **runner_options) -> tuple[web.AppRunner, str]:
    """Start `app` on 127.0.0.1 at a free port; returns its runner and base URL."""
    runner = web.AppRunner(app, access_log=None, **runner_options)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]
    return runner, f"http://127.0.0.1:{port}"
