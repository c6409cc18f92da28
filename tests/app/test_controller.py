"""/status reports what the daemon saw: slots behind, the last reconciliation's failure."""
from __future__ import annotations

from types import SimpleNamespace

from app.controller import DaemonController
from config import load_settings


def _daemon(store, **kw):
    base = dict(settings=load_settings({}, dotenv_path=None), clock=lambda: 100.0,
                started_at=40.0, symbols=["BTC/USDT"], store=store, last_slot={},
                trading_error=None, manager=SimpleNamespace(paused=False))
    base.update(kw)
    return SimpleNamespace(**base)


def test_status_is_healthy_when_slots_and_reconciliation_went_through(store):
    status = DaemonController(_daemon(store)).status()
    assert status["uptime_s"] == 60 and status["mode"] == "paper"
    assert status["data_health"] == "ok" and status["trading_health"] == "ok"


def test_status_names_streams_behind_and_a_failed_reconciliation(store):
    slot = {"failed": ["BTC/USDT"], "behind": []}
    status = DaemonController(_daemon(store, last_slot={"15m": slot},
                                      trading_error="TransientExchangeError: 503")).status()
    assert status["data_health"].startswith("degraded (1 stream")
    assert status["trading_health"] == "last reconciliation failed: TransientExchangeError: 503"
