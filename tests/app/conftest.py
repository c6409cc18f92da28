"""Fixtures shared by the daemon tests."""
from __future__ import annotations

import pytest

from tests.fakes.binance_data import FakeBinance


@pytest.fixture
async def fake():
    """A local Binance market-data server (real-time clock, synthetic BTCUSDT and ETHUSDT)."""
    server = FakeBinance()
    await server.start()
    yield server
    await server.close()
