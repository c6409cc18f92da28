"""The trading venue starts in the background: transient failures are retried with the start-up
backoff and announced once each way, a stop ends the retries, a refused start still stops the
daemon with exit status 2; meanwhile signals are alerted and their trades skipped, reconciliation
waits and /close answers that trading is unavailable. The sleeps are fakes."""
from __future__ import annotations

import asyncio

import pytest
from structlog.testing import capture_logs

from app import components
from app.controller import DaemonController
from app.daemon import Daemon
from app.startup_waits import STARTUP_BACKOFF
from app.trading_start import TradingStart, TradingState
from config import load_settings
from domain.trade import TradeState
from exchanges.errors import AuthError, RateLimited, TransientExchangeError
from tests.app.notifier import RecordingNotifier
from tests.app.replay import Gate
from tests.app.test_startup_retries import FakeSleep, FlakyMarket
from tests.trading.conftest import make_signal
from trading import PaperBroker, PositionModeError
from trading.outcomes import CloseKind, CloseOutcome

DOWN = TransientExchangeError("binanceusdm GET https://demo-fapi.binance.com/fapi/v1/"
                              "positionSide/dual 503 Service Unavailable")


class Starts:
    """A broker's start failing with `errors` in turn, then doing the real start; each attempt
    may first wait for `gate` (then cleared), as a request that has not been answered yet."""

    def __init__(self, broker, errors, gate: asyncio.Event | None = None) -> None:
        self.real, self.errors, self.gate, self.calls = broker.start, list(errors), gate, 0
        broker.start = self

    async def __call__(self, symbols: list[str]) -> None:
        self.calls += 1
        if self.gate is not None:
            await self.gate.wait()
            self.gate.clear()
        if self.errors:
            raise self.errors.pop(0)
        await self.real(symbols)


def _notices(store, event: str) -> list[dict]:
    return [r.payload for r in store.pending(1000) if r.payload.get("event") == event]


def _starter(store, errors, sleep, *, stop=None, gate=None):
    settings = load_settings({"SYMBOLS": "BTC/USDT"}, dotenv_path=None)
    manager = components.position_manager(settings, store, PaperBroker(store))
    starts = Starts(manager.broker, errors, gate)
    came_up, changes = asyncio.Event(), []

    async def on_up() -> None:
        came_up.set()

    systemd = RecordingNotifier()
    starter = TradingStart(manager, lambda: ["BTC/USDT"], stop=stop or asyncio.Event(),
                           backoff=STARTUP_BACKOFF, sleep=sleep, systemd=systemd,
                           on_change=lambda: changes.append(starter.state), on_up=on_up)
    return starter, starts, came_up, changes, systemd


async def test_transient_failures_are_retried_with_the_startup_backoff_and_alerted_once_each_way(
        store):
    sleep = FakeSleep()
    errors = [DOWN, TransientExchangeError("timed out"), DOWN, DOWN, DOWN]
    starter, starts, came_up, changes, systemd = _starter(store, errors, sleep)
    with capture_logs() as logs:
        starter.begin()
        await asyncio.wait_for(came_up.wait(), 5)
    assert starter.up and starter.unavailable is None and starter.manager.unavailable is None
    assert starts.calls == 6 and sleep.delays == [1.0, 2.0, 4.0, 8.0, 16.0]
    assert systemd.sent.count("WATCHDOG=1") == 5  # fed before each wait, as at start-up
    retrying = [e for e in logs if e["event"] == "retrying"]
    assert {e["what"] for e in retrying} == {"trading_instance_start"} and len(retrying) == 5
    assert changes == [TradingState.DOWN, TradingState.UP]
    down, up = _notices(store, "trading_unavailable"), _notices(store, "trading_available")
    assert len(down) == 1 and len(up) == 1  # one each way, not one per retry
    assert down[0]["text"].startswith("Trading unavailable: TransientExchangeError: "
                                      "binanceusdm GET https://demo-fapi.binance.com")
    assert "retrying in background" in down[0]["text"]
    assert up[0]["text"] == "Trading available again: new signals are traded"


async def test_a_first_attempt_that_succeeds_announces_nothing(store):
    starter, starts, came_up, changes, _ = _starter(store, [], FakeSleep())
    starter.begin()
    await asyncio.wait_for(came_up.wait(), 5)
    assert starts.calls == 1 and changes == [TradingState.UP]
    assert store.pending(1000) == []


async def test_the_first_failure_settles_the_start_as_down_with_its_reason(store):
    gate = Gate()
    starter, _, _, _, _ = _starter(store, [DOWN], gate)
    assert starter.starting and starter.unavailable == "starting: connecting to the trading venue"
    starter.begin()
    await asyncio.wait_for(starter.settled(), 5)
    assert starter.state is TradingState.DOWN and not starter.up
    assert starter.unavailable.startswith("TransientExchangeError: binanceusdm GET")
    assert starter.unavailable.endswith("; retrying in background")
    assert gate.delays == [1.0]
    gate.open()  # the retry succeeds
    await asyncio.wait_for(_until(lambda: starter.up), 5)


async def test_a_rate_limit_waits_what_the_venue_asked(store):
    sleep = FakeSleep()
    starter, _, came_up, _, _ = _starter(store, [RateLimited("429", retry_after_s=7.0)], sleep)
    starter.begin()
    await asyncio.wait_for(came_up.wait(), 5)
    assert sleep.delays == [7.0]


async def test_a_stop_ends_the_retries(store):
    stop = asyncio.Event()
    sleep = FakeSleep(then={3: stop.set})
    starter, starts, came_up, _, _ = _starter(store, [DOWN] * 10, sleep, stop=stop)
    starter.begin()
    await asyncio.wait_for(starter._task, 5)
    assert starts.calls == 3 and sleep.delays == [1.0, 2.0, 4.0]
    assert starter.state is TradingState.DOWN and not came_up.is_set()
    assert len(_notices(store, "trading_unavailable")) == 1
    assert _notices(store, "trading_available") == []


async def test_close_cancels_an_attempt_still_waiting_for_its_answer(store):
    gate = asyncio.Event()  # never set: the request hangs
    starter, starts, _, _, _ = _starter(store, [], FakeSleep(), gate=gate)
    starter.begin()
    await _until(lambda: starts.calls == 1)
    await asyncio.wait_for(starter.close(), 5)
    assert starter._task.done() and starter.starting
    await asyncio.wait_for(starter.settled(), 1)  # nobody waits for it forever


@pytest.mark.parametrize("errors", [
    [AuthError('binanceusdm {"code":-2015,"msg":"Invalid API-key, IP, or permissions"}')],
    [PositionModeError("the Binance account is in Hedge Mode; switch to One-way")],
    [DOWN, DOWN, AuthError("invalid API key")],  # the venue back, the keys refused
    [ValueError("a setting the venue refuses")],
], ids=["auth", "hedge-mode", "auth-after-transient", "other"])
async def test_a_failure_retrying_cannot_fix_is_not_retried_and_stops_the_daemon(store, errors):
    stop, sleep = asyncio.Event(), FakeSleep()
    refusal = errors[-1]
    starter, starts, came_up, _, _ = _starter(store, errors, sleep, stop=stop)
    starter.begin()
    await asyncio.wait_for(starter._task, 5)
    assert starter.state is TradingState.FAILED and starter.failure is refusal
    assert stop.is_set() and not came_up.is_set()
    assert starts.calls == len(errors) and sleep.delays == [1.0, 2.0][:len(errors) - 1]
    assert starter.unavailable == f"start refused: {refusal}"


# -- in the daemon ---------------------------------------------------------------------------------

def _daemon(tmp_path, errors, sleep, gate=None) -> tuple[Daemon, Starts, RecordingNotifier]:
    env = {"SYMBOLS": "BTC/USDT", "TIMEFRAMES": "1m", "STATE_DB": str(tmp_path / "state.db"),
           "WARMUP_BARS": "60", "CHART": "0", "SLOT_RETRY_S": "0", "TRADE_ON": "CHOCH,BOS"}
    notify = RecordingNotifier()
    daemon = Daemon(load_settings(env, dotenv_path=None), fetcher=FlakyMarket(), notify=notify,
                    sleep=sleep)
    return daemon, Starts(daemon.broker, errors, gate), notify


async def _until(condition, timeout_s: float = 5.0) -> None:
    for _ in range(int(timeout_s / 0.01)):
        if condition():
            return
        await asyncio.sleep(0.01)
    raise AssertionError("timed out")


async def test_signals_are_alerted_and_skipped_while_trading_is_down_and_never_traded_late(
        tmp_path):
    gate = Gate()
    daemon, starts, _ = _daemon(tmp_path, [DOWN], gate)
    try:
        before = make_signal(daemon.store, "BTC/USDT", timeframe="1m")  # e.g. before a crash
        await asyncio.wait_for(daemon.startup(), 10)  # catch-up ends without the venue
        await daemon.trading.settled()
        assert daemon.trading.state is TradingState.DOWN and starts.calls == 1
        skipped = make_signal(daemon.store, "BTC/USDT", "bearish", 50000.0, 51000.0,
                              timeframe="1m")
        await daemon._trade(skipped)
        row = daemon.store.signal(skipped.id)
        assert row.trade_state == TradeState.SKIPPED
        assert row.trade_note.startswith("trading unavailable (TransientExchangeError: ")
        notice = _notices(daemon.store, "trade_skipped")
        assert len(notice) == 1 and "not traded, trading unavailable" in notice[0]["text"]
        # Pending from before: not decided while down, traded once trading is up.
        assert daemon.store.signal(before.id).trade_state == TradeState.PENDING

        gate.open()
        await _until(lambda: daemon.trading.up)
        await _until(lambda: daemon.store.signal(before.id).trade_state == TradeState.DONE)
        assert daemon.store.signal(skipped.id).trade_state == TradeState.SKIPPED
        assert [p.signal_id for p in daemon.store.open_positions()] == [before.id]
        assert len(_notices(daemon.store, "trading_unavailable")) == 1
        assert len(_notices(daemon.store, "trading_available")) == 1
    finally:
        await daemon.shutdown()


async def test_a_signal_during_the_first_attempt_waits_for_its_outcome(tmp_path):
    gate = asyncio.Event()
    daemon, starts, _ = _daemon(tmp_path, [], FakeSleep(), gate)
    try:
        await asyncio.wait_for(daemon.startup(), 10)
        assert daemon.trading.starting and starts.calls == 1
        row = make_signal(daemon.store, "BTC/USDT", timeframe="1m")
        await daemon._trade(row)
        assert daemon.store.signal(row.id).trade_state == TradeState.PENDING
        gate.set()  # the venue answers: trading is up, the signal is traded now
        await _until(lambda: daemon.store.signal(row.id).trade_state == TradeState.DONE)
        assert _notices(daemon.store, "trading_unavailable") == []
    finally:
        await daemon.shutdown()


async def test_reconciliation_status_and_commands_while_trading_is_not_up(tmp_path):
    gate = Gate()
    daemon, _, _ = _daemon(tmp_path, [DOWN], gate)
    calls = []

    async def reconcile():
        calls.append("reconcile")

    async def close_position(symbol):
        calls.append(f"close {symbol}")
        return CloseOutcome(CloseKind.CLOSED, symbol)

    daemon.manager.reconcile = reconcile
    daemon.manager.close_position = close_position
    try:
        await asyncio.wait_for(daemon.startup(), 10)
        await daemon.trading.settled()
        await daemon.reconcile()
        assert calls == []  # nothing to compare with until the start has reconciled
        controller = DaemonController(daemon)
        status = controller.status()
        assert status["trading_health"].startswith("unavailable: TransientExchangeError: ")
        assert status["trading_health"].endswith("; retrying in background")
        answer = await controller.close("BTCUSDT")
        assert answer.startswith("trading unavailable (TransientExchangeError: ")
        assert answer.endswith("): nothing closed")
        assert (await controller.close_all()).endswith("nothing closed") and calls == []
        controller.pause()  # recorded, applies once trading is up
        assert daemon.manager.paused
        health = daemon.trading.unavailable
        assert health is not None and health.endswith("retrying in background")
        gate.open()
        await _until(lambda: daemon.trading.up)
        await daemon.reconcile()
        assert calls[-1] == "reconcile" and controller.status()["trading_health"] == "ok"
    finally:
        await daemon.shutdown()


async def test_the_daemon_is_ready_while_trading_is_down_and_its_status_says_so(tmp_path):
    gate = Gate()
    daemon, starts, notify = _daemon(tmp_path, [DOWN], gate)
    serving = asyncio.create_task(daemon.serve())
    try:
        await _until(lambda: "READY=1" in notify.sent)
        assert daemon.trading.state is TradingState.DOWN and starts.calls == 1
        assert daemon.scheduler is not None and daemon.scheduler.running
        status = [s for s in notify.sent if s.startswith("STATUS=")][-1]
        assert status.startswith("STATUS=watching 1 symbols x 1 timeframes; trading "
                                 "unavailable (TransientExchangeError: ")
        gate.open()
        await _until(lambda: daemon.trading.up)
        status = [s for s in notify.sent if s.startswith("STATUS=")][-1]
        assert status == "STATUS=watching 1 symbols x 1 timeframes"
        daemon.stop.set()
        assert await asyncio.wait_for(serving, 30) == 0
    finally:
        if not serving.done():
            serving.cancel()


@pytest.mark.parametrize("ready_first", [False, True], ids=["at-start", "after-ready"])
async def test_a_refused_trading_start_stops_the_daemon_with_status_2_and_its_message(
        tmp_path, capsys, ready_first):
    gate = asyncio.Event()
    refusal = AuthError('binanceusdm {"code":-2015,"msg":"Invalid API-key, IP, or '
                        'permissions for action."}')
    errors = [DOWN, refusal] if ready_first else [refusal]
    daemon, starts, notify = _daemon(tmp_path, errors, FakeSleep(), gate)
    if not ready_first:
        gate.set()
    with capture_logs() as logs:
        serving = asyncio.create_task(daemon.serve())
        if ready_first:
            gate.set()  # the first attempt fails: down, retried in the background
            await _until(lambda: "READY=1" in notify.sent)
            gate.set()  # the retry is refused
        status = await asyncio.wait_for(serving, 30)
    assert status == 2 and starts.calls == len(errors)
    stopped = [e for e in logs if e["event"] == "daemon_stopped"]
    assert stopped[0]["exit_status"] == 2
    assert capsys.readouterr().err.strip().splitlines() == [f"start-up failed: {refusal}"]
