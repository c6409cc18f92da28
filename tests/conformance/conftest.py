"""One harness per registered venue: every conformance test runs once for each of them."""
from __future__ import annotations

import numpy as np
import pytest

from config import load_settings
from exchanges import registry
from store import Store
from tests.fakes.binance_data import synthetic

from .harness import HARNESSES
from .harness_data_only import DATA_ONLY, DataOnlyHarness

MIN = 60_000
DAY = 86_400_000
# The data fakes' frozen clock: 2026-02-10 13:17:30 UTC, inside a 1m, 25m and 7h candle.
NOW = 1_770_729_450_000
DAYS = 6


@pytest.fixture(scope="session")
def one_minute():
    """Six days of deterministic 1m candles up to NOW (the last one forming)."""
    start = NOW - NOW % MIN - DAYS * DAY
    return synthetic("BTCUSDT", np.arange(start, NOW + 1, MIN, dtype=np.int64), "1m")


# Venues only the tests register: a data-only one, to hold the port to what such a venue needs.
TEST_VENUES = {DATA_ONLY.name: DataOnlyHarness}


@pytest.fixture(params=[*registry.names(), *TEST_VENUES])
async def harness(request, one_minute, monkeypatch):
    """The started fakes of one registered venue (a test venue is registered for the test)."""
    if request.param in TEST_VENUES:
        monkeypatch.setitem(registry.VENUES, request.param, TEST_VENUES[request.param].venue)
    factory = HARNESSES.get(request.param) or TEST_VENUES.get(request.param)
    if factory is None:
        pytest.fail(f"venue {request.param!r} has no conformance harness "
                    "(tests/conformance/harness.py HARNESSES)")
    venue = factory()
    await venue.start(one_minute, NOW)
    yield venue
    await venue.stop()


@pytest.fixture
def settings(harness):
    """Settings whose data and trading instances are the harness venue's fakes."""
    env = {**harness.env(), "SYMBOLS": harness.symbol, "POSITION_SIZE": "100",
           "LEVERAGE": "20", "FETCH_TIMEOUT_S": "2"}
    return load_settings(env, dotenv_path=None)


@pytest.fixture
def state_path(tmp_path):
    return tmp_path / "state.db"


@pytest.fixture
def db(state_path):
    store = Store(state_path)
    yield store
    store.close()
