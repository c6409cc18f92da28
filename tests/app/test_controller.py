"""/status reports what the daemon saw: slots behind, the last reconciliation's failure."""
from __future__ import annotations

from types import SimpleNamespace

from app.controller import DaemonController
from app.cycle import SlotSummary
from config import load_settings


def _daemon(store, **kw):
    base = dict(settings=load_settings({}, dotenv_path=None), host_clock=lambda: 100.0,
                started_at=40.0, symbols=["BTC/USDT"], store=store, last_slot={},
                trading_error=None, manager=SimpleNamespace(paused=False),
                trading=SimpleNamespace(unavailable=None))
    base.update(kw)
    return SimpleNamespace(**base)


def test_status_is_healthy_when_slots_and_reconciliation_went_through(store):
    status = DaemonController(_daemon(store)).status()
    assert status["uptime_s"] == 60 and status["mode"] == "paper"
    assert status["data_health"] == "ok" and status["trading_health"] == "ok"


def test_status_names_streams_behind_and_a_failed_reconciliation(store):
    slot = SlotSummary("15m", 0, 1, behind=[], failed=["BTC/USDT"], attempts=1, fetched=0,
                       unreachable=None)
    status = DaemonController(_daemon(store, last_slot={"15m": slot},
                                      trading_error="TransientExchangeError: 503")).status()
    assert status["data_health"].startswith("degraded (1 stream")
    assert status["trading_health"] == "last reconciliation failed: TransientExchangeError: 503"


async def test_positions_carry_the_last_close_seen_as_their_mark(store):
    import numpy as np

    from domain.candles import Candles

    def stream(ts, close, tf_ms):
        recent = Candles(np.array([ts - tf_ms, ts]), np.array([[1.0] * 5, [1.0] * 3 + [close, 1]]))
        return SimpleNamespace(recent=recent, timeframe_ms=tf_ms)

    async def positions():
        return [{"symbol": "BTC/USDT", "pnl": None}, {"symbol": "ETH/USDT", "pnl": None}]

    streams = {("BTC/USDT", "1h"): stream(0, 60000.0, 3_600_000),          # closed at 1h
               ("BTC/USDT", "15m"): stream(3_000_000, 61000.0, 900_000)}  # closed at 65 min
    daemon = _daemon(store, poller=SimpleNamespace(streams=streams),
                     manager=SimpleNamespace(paused=False, positions=positions))
    btc, eth = await DaemonController(daemon).positions()
    assert btc["mark"] == 61000.0 and "mark" not in eth
