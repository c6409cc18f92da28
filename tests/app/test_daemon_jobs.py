"""The daemon's parts and jobs: built in one place, reconciliation its own job, a clean stop."""
from __future__ import annotations

import asyncio
import dataclasses

import pandas as pd
import pytest
from apscheduler.triggers.interval import IntervalTrigger

import app.daemon
from alerts import OutboxDelivery
from app.cycle import Poller
from app.daemon import RECONCILE_EVERY_S, Daemon
from config import load_settings
from exchanges.binance_client import BinanceMarketData
from fetchers.adapter import TimeframeAdapter
from trading import LiveTradingRefused, PaperBroker, PositionManager

T0 = 1_772_323_200_000  # 2026-03-01 00:00 UTC


def _settings(tmp_path, url: str = "http://127.0.0.1:9", **extra):
    env = {"BINANCE_DATA_URL": url, "SYMBOLS": "BTC/USDT", "TIMEFRAMES": "1m,5m",
           "STATE_DB": str(tmp_path / "state.db"), "WARMUP_BARS": "60", "CHART": "0",
           "FETCH_DELAY_S": "0", "SLOT_RETRY_S": "0", "FETCH_TIMEOUT_S": "1",
           "FETCH_CYCLE_BUDGET_S": "1"}
    env.update(extra)
    return load_settings(env, dotenv_path=None)


class StillMarket:
    """A market-data instance that never moves: one symbol, a fixed clock, no candles."""

    async def start(self) -> None:
        pass

    async def perpetuals(self) -> dict[str, str]:
        return {"BTC/USDT": "BTCUSDT"}

    async def server_time_ms(self) -> int:
        return T0

    async def closed_candles(self, symbol, base_timeframe, since_ms=None, limit=None):
        return pd.DataFrame()

    async def close(self) -> None:
        pass


async def test_every_part_is_built_with_the_daemon_and_nothing_is_sent(fake, tmp_path):
    daemon = Daemon(_settings(tmp_path, fake.url))
    assert isinstance(daemon.fetcher, BinanceMarketData)
    assert isinstance(daemon.adapter, TimeframeAdapter) and daemon.adapter.fetcher is daemon.fetcher
    assert isinstance(daemon.delivery, OutboxDelivery)
    assert isinstance(daemon.broker, PaperBroker)
    assert isinstance(daemon.manager, PositionManager) and daemon.manager.broker is daemon.broker
    assert isinstance(daemon.poller, Poller) and daemon.poller.adapter is daemon.adapter
    await daemon.shutdown()  # never started: closing every part is still fine
    assert fake.requests == []


async def test_live_trading_refused_at_construction_releases_the_state_db(tmp_path):
    paper = _settings(tmp_path)
    # The settings check refuses it first; the broker refuses it again, before any request.
    unconfirmed = dataclasses.replace(paper, enable_trading=True, demo_trading=False,
                                      confirm_live_trading=False)
    with pytest.raises(LiveTradingRefused):
        Daemon(unconfirmed)
    again = Daemon(paper)  # the lock and the DB were let go
    await again.shutdown()


async def test_a_timeframe_slot_does_not_reconcile_the_scheduled_job_does(fake, tmp_path):
    daemon = Daemon(_settings(tmp_path, fake.url))
    await daemon.startup()
    await daemon.trading.settled()
    calls = []

    async def reconcile():
        calls.append("reconcile")

    async def on_candles(symbol, candles):
        pass  # the paper broker's fills are not what this test is about

    daemon.manager.reconcile = reconcile
    daemon.manager.on_candles = on_candles
    fake.advance(5 * 60_000)
    await daemon.run_timeframe("1m", retry_s=0)
    await daemon.run_timeframe("5m", retry_s=0)  # both close at this minute
    assert calls == []
    await daemon.reconcile()
    assert calls == ["reconcile"]

    scheduler = daemon.schedule()
    try:
        job = scheduler.get_job("reconcile")
        assert isinstance(job.trigger, IntervalTrigger)
        assert job.trigger.interval.total_seconds() == RECONCILE_EVERY_S == 60
        assert job.max_instances == 1 and job.coalesce is True
        assert job.func == daemon.reconcile
        assert {j.id for j in scheduler.get_jobs()} == {"timeframe-1m", "timeframe-5m",
                                                        "reconcile"}
    finally:
        await daemon.shutdown()


async def test_a_failed_reconciliation_is_kept_for_status_and_cleared_by_the_next(tmp_path):
    daemon = Daemon(_settings(tmp_path), fetcher=StillMarket())
    await daemon.startup()
    await daemon.trading.settled()  # reconciliation runs once trading is up
    outcomes = [RuntimeError("exchange said no"), None]

    async def reconcile():
        error = outcomes.pop(0)
        if error is not None:
            raise error

    daemon.manager.reconcile = reconcile
    await daemon.reconcile()
    assert daemon.trading_error == "RuntimeError: exchange said no"
    await daemon.reconcile()
    assert daemon.trading_error is None
    await daemon.shutdown()


async def test_shutdown_waits_for_a_cancelled_job_before_closing_the_store(
        tmp_path, monkeypatch):
    monkeypatch.setattr(app.daemon, "SHUTDOWN_JOB_WAIT_S", 0.01)
    daemon = Daemon(_settings(tmp_path), fetcher=StillMarket())
    started, cleanup = asyncio.Event(), []

    async def stuck_slot(*args, **kwargs):
        started.set()
        try:
            await asyncio.Event().wait()  # a slot that outlives the shutdown's patience
        finally:
            # What a cancelled job may still do on its way out: unwind awaits (a request being
            # closed: many turns of the loop, no real time), then write to the store.
            for _ in range(200):
                await asyncio.sleep(0)
            try:
                daemon.store.put("last_words", 1)
                cleanup.append("written")
            except Exception as e:  # noqa: BLE001
                cleanup.append(type(e).__name__)

    daemon.poller.run_slot = stuck_slot
    job = asyncio.create_task(daemon.run_timeframe("1m"))
    await started.wait()
    await daemon.shutdown()
    assert cleanup == ["written"] and job.cancelled()
