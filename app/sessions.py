"""Closing the daemon's sessions at shutdown, each bounded, whatever the others do."""
from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable

import structlog

log = structlog.get_logger(__name__)
CLOSE_TIMEOUT_S = 2.0


async def close_all(parts: Iterable[tuple[str, Callable[[], Awaitable[object]]]]) -> None:
    """Close each (name, close) in turn, each within CLOSE_TIMEOUT_S."""
    for part, close in parts:
        try:
            await asyncio.wait_for(close(), timeout=CLOSE_TIMEOUT_S)
        except Exception:  # noqa: BLE001 - shutdown goes on whatever one session does
            log.warning("close_failed", part=part)
