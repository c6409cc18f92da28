"""The daemon's life in one process: one per state DB, ready only once data flows, and a
state DB deleted under it stops it."""
from __future__ import annotations

import asyncio
import socket

import pytest
from structlog.testing import capture_logs

import app.daemon
from app.daemon import Daemon
from config import load_settings
from store import StateDbBusy
from tests.app.notifier import RecordingNotifier


def _settings(tmp_path, url: str, **extra):
    env = {"BINANCE_DATA_URL": url, "SYMBOLS": "BTC/USDT", "TIMEFRAMES": "1m",
           "STATE_DB": str(tmp_path / "state.db"), "WARMUP_BARS": "60", "CHART": "0",
           "FETCH_TIMEOUT_S": "1", "FETCH_CYCLE_BUDGET_S": "1"}
    env.update(extra)
    return load_settings(env, dotenv_path=None)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def _until(condition, within_s: float, what: str) -> None:
    try:
        async with asyncio.timeout(within_s):
            while not condition():
                await asyncio.sleep(0.05)
    except TimeoutError:
        raise AssertionError(f"timed out waiting for {what}") from None


async def _forward(port: int, target_port: int) -> asyncio.AbstractServer:
    """A TCP relay on `port` to `target_port`: the exchange 'comes up' at the daemon's URL."""

    async def pipe(reader, writer):
        try:
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        except ConnectionError:
            pass
        finally:
            writer.close()

    async def handle(reader, writer):
        up_reader, up_writer = await asyncio.open_connection("127.0.0.1", target_port)
        await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))

    return await asyncio.start_server(handle, "127.0.0.1", port)


async def test_a_second_daemon_on_the_same_state_db_refuses_to_start(fake, tmp_path):
    settings = _settings(tmp_path, fake.url)
    first = Daemon(settings, notify=RecordingNotifier())
    with pytest.raises(StateDbBusy, match=str(tmp_path / "state.db")):
        Daemon(settings, notify=RecordingNotifier())
    await first.shutdown()
    again = Daemon(settings, notify=RecordingNotifier())  # the lock went with the first one
    await again.shutdown()
    assert fake.requests == []  # nobody sent anything: the lock comes before any request


@pytest.mark.slow
async def test_an_unreachable_exchange_is_named_and_ready_waits_for_data(fake, tmp_path):
    port = _free_port()  # nothing listens here yet
    notify = RecordingNotifier()
    daemon = Daemon(_settings(tmp_path, f"http://127.0.0.1:{port}"), notify=notify)
    with capture_logs() as logs:
        serving = asyncio.create_task(daemon.serve())
        waiting = lambda: [e for e in logs  # noqa: E731
                           if e["event"] == "startup_waiting_for_market_data"]
        await _until(lambda: len(waiting()) >= 2, 60, "two failed start-up rounds")
        assert "connection refused" in waiting()[0]["reason"]
        assert f"127.0.0.1:{port}" in waiting()[0]["reason"]
        assert "READY=1" not in notify.sent
        assert not any(e["event"] == "daemon_ready" for e in logs)
        assert any(s.startswith("STATUS=not ready: market data unreachable (connection refused")
                   for s in notify.sent)

        relay = await _forward(port, int(fake.url.rsplit(":", 1)[1]))
        try:
            await _until(lambda: "READY=1" in notify.sent, 90, "READY=1 once data flows")
            assert any(e["event"] == "daemon_ready" for e in logs)
            assert daemon.poller.streams[("BTC/USDT", "1m")].last_ts is not None
            daemon.stop.set()
            assert await asyncio.wait_for(serving, 30) == 0
        finally:
            relay.close()
            if not serving.done():
                serving.cancel()


@pytest.mark.slow
async def test_the_daemon_stops_with_status_1_when_its_state_db_is_deleted(
        fake, tmp_path, monkeypatch):
    monkeypatch.setattr(app.daemon, "STATE_CHECK_S", 0.1)
    notify = RecordingNotifier()
    daemon = Daemon(_settings(tmp_path, fake.url), notify=notify)
    with capture_logs() as logs:
        serving = asyncio.create_task(daemon.serve())
        try:
            await _until(lambda: "READY=1" in notify.sent, 60, "READY=1")
            (tmp_path / "state.db").unlink()
            assert await asyncio.wait_for(serving, 30) == 1
        finally:
            if not serving.done():
                serving.cancel()
    vanished = [e for e in logs if e["event"] == "state_db_vanished"]
    assert len(vanished) == 1 and "deleted" in vanished[0]["problem"]
    assert vanished[0]["log_level"] == "error"
    assert logs[-1]["event"] == "daemon_stopped" and logs[-1]["exit_status"] == 1
