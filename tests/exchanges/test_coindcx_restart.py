"""kill -9 while a CoinDCX entry is in flight: with no client id on the venue, the restarted
daemon finds the entry by what its intent wrote down, or gives it up; it never sends it again."""
from __future__ import annotations

import numpy as np
import pytest

from app import components
from config import load_settings
from store import Store
from tests.conformance.conftest import MIN, NOW
from tests.conformance.harness_coindcx import CoindcxHarness
from tests.conformance.test_trading import TF_MS, Killed, signal
from tests.fakes.binance_data import synthetic
from trading.reconcile import EntryDecision


@pytest.fixture
async def harness():
    h = CoindcxHarness()
    start = NOW - NOW % MIN - 1440 * MIN
    await h.start(synthetic("BTCUSDT", np.arange(start, NOW + 1, MIN, dtype=np.int64), "1m"),
                  NOW)
    yield h
    await h.stop()


@pytest.fixture
def settings(harness):
    return load_settings({**harness.env(), "SYMBOLS": harness.symbol, "POSITION_SIZE": "100",
                          "LEVERAGE": "20", "FETCH_TIMEOUT_S": "2"}, dotenv_path=None)


@pytest.fixture
async def managers():
    made = []

    async def make(settings, store):
        broker = components.trading(settings, backoff_s=0.01, rate_limit=False)
        manager = components.position_manager(settings, store, broker)
        made.append(manager)
        await manager.start(["BTC/USDT"])
        return manager

    yield make
    for manager in made:
        await manager.close_session()


async def test_killed_after_the_entry_reached_the_venue_it_is_found_and_protected(
        harness, settings, tmp_path, managers):
    path = tmp_path / "state.db"
    store = Store(path)
    manager = await managers(settings, store)
    send = manager.broker.market_order

    async def sent_then_killed(*args, **kwargs):
        await send(*args, **kwargs)
        raise Killed()  # the answer never recorded: the intent holds no venue id

    manager.broker.market_order = sent_then_killed
    with pytest.raises(Killed):
        await manager.on_signal(signal(store, settings, harness.symbol, harness.price), TF_MS)
    store.close()
    assert harness.position_size() > 0 and harness.protective() == []
    reopened = Store(path)
    try:
        restarted = await managers(settings, reopened)
        [pos] = reopened.open_positions()
        assert harness.entry_orders() == 1 and harness.position_size() == pytest.approx(
            pos.quantity)
        assert harness.protective() == [("stop", pos.stop), ("target", pos.target)]
        report = await restarted.reconcile()
        assert harness.entry_orders() == 1 and not report.skipped
    finally:
        reopened.close()


async def test_killed_before_the_entry_left_it_is_never_sent_again(harness, settings, tmp_path,
                                                                   managers):
    path = tmp_path / "state.db"
    store = Store(path)
    manager = await managers(settings, store)

    async def killed_before_sending(*args, **kwargs):
        raise Killed()

    manager.broker.market_order = killed_before_sending
    with pytest.raises(Killed):
        await manager.on_signal(signal(store, settings, harness.symbol, harness.price), TF_MS)
    store.close()
    reopened = Store(path)
    try:
        restarted = await managers(settings, reopened)
        report = await restarted.reconcile()
        assert list(report.entries.values()) == [EntryDecision.WAITING]  # not found yet
        restarted.reconciler.now_ms = lambda: 10**13  # long after: given up, not re-sent
        report = await restarted.reconcile()
        assert list(report.entries.values()) == [EntryDecision.ABANDONED]
        assert harness.entry_orders() == 0 and harness.position_size() == 0
        assert reopened.open_positions() == []
    finally:
        reopened.close()
