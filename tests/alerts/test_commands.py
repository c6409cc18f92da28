"""The command channel: real python-telegram-bot long polling against the fake Bot API."""
from __future__ import annotations

import asyncio
import time

import pytest
from structlog.testing import capture_logs

from alerts import CommandChannel
from alerts.commands import OFFSET_KEY, parse_command
from store import NewSignal
from tests.alerts.conftest import CHAT, make_settings, stop_once_sent
from tests.alerts.signals import EVENTS

STRANGER = 777000111


class FakeController:
    """Records what the commands asked for."""

    def __init__(self, positions=None):
        self.calls: list[tuple] = []
        self._positions = positions if positions is not None else [
            {"symbol": "BTC/USDT", "direction": "long", "quantity": 0.01, "entry_price": 60000.5,
             "stop": 59000.0, "target": None, "pnl": 12.5, "mode": "demo"},
            {"symbol": "ETH/USDT", "direction": "short", "quantity": 0.5, "entry_price": 3000.0,
             "stop": 3100.0},
        ]

    def status(self) -> dict:
        self.calls.append(("status",))
        return {"uptime_s": 93784, "mode": "demo", "paused": False,
                "symbols": ["BTC/USDT", "ETH/USDT"], "timeframes": ["15m", "1h"],
                "last_candles": {("BTC/USDT", "15m"): 1_779_999_100_000,
                                 ("ETH/USDT", "1h"): None},
                "health": {"data": "ok", "trading": "degraded: 2 timeouts"}}

    async def positions(self) -> list[dict]:
        self.calls.append(("positions",))
        return list(self._positions)

    def pause(self) -> None:
        self.calls.append(("pause",))

    def resume(self) -> None:
        self.calls.append(("resume",))

    async def close(self, symbol: str) -> str:
        self.calls.append(("close", symbol))
        return f"{symbol} closed at market, PnL +3.2 USDT"

    async def close_all(self) -> str:
        self.calls.append(("close_all",))
        return "2 positions closed"


@pytest.fixture
def controller():
    return FakeController()


@pytest.fixture
def channel(notifier, fake, controller, store, clock):
    return CommandChannel(notifier, make_settings(fake.url), controller, store=store,
                          clock=clock.time, sleep=clock.sleep, poll_timeout_s=0)


async def say(fake, channel, text, chat=int(CHAT), **kw):
    """The operator (or someone else) sends `text`; one poll round handles it."""
    fake.push_message(chat, text, **kw)
    before = len(fake.sent)
    await channel.poll_once()
    return [s.text for s in fake.sent[before:]]


def test_parse_command_understands_bot_suffixes_and_arguments():
    assert parse_command("/close@choch_test_bot btcusdt", "choch_test_bot") == \
        ("close", ["btcusdt"])
    assert parse_command("/STATUS", None) == ("status", [])
    assert parse_command("/status@other_bot", "choch_test_bot") is None
    assert parse_command("hello", "choch_test_bot") is None


async def test_status_reports_mode_watchlist_candles_health_and_positions(fake, channel):
    [reply] = await say(fake, channel, "/status")
    for expected in ("1d 02h 03m", "<b>demo</b>", "BTC/USDT, ETH/USDT × 15m, 1h",
                     "BTC/USDT 15m: 2026-05-28", "ETH/USDT 1h: none yet",
                     "Health trading: degraded: 2 timeouts", "Open positions: 2"):
        assert expected in reply, expected
    assert fake.sent[-1].chat_id == CHAT and fake.sent[-1].parse_mode == "HTML"


async def test_positions_lists_each_open_position(fake, channel):
    [reply] = await say(fake, channel, "/positions")
    assert "Open positions (2)" in reply and "<b>BTC/USDT</b> long" in reply
    assert "entry <code>60000.5</code>" in reply and "stop <code>3100</code>" in reply


async def test_pause_resume_and_close_reach_the_controller(fake, channel, controller):
    await say(fake, channel, "/pause")
    await say(fake, channel, "/resume")
    [reply] = await say(fake, channel, "/close btcusdt")
    assert controller.calls == [("pause",), ("resume",), ("close", "BTC/USDT")]
    assert "BTC/USDT closed at market" in reply
    [usage] = await say(fake, channel, "/close")
    assert usage.startswith("Usage: /close") and len(controller.calls) == 3


async def test_closeall_runs_only_after_confirmation_within_the_window(fake, channel, controller,
                                                                       clock):
    [ask] = await say(fake, channel, "/closeall")
    assert "all 2" in ask and "/closeall confirm" in ask
    assert ("close_all",) not in controller.calls
    await clock.sleep(30)
    [done] = await say(fake, channel, "/closeall confirm")
    assert controller.calls.count(("close_all",)) == 1 and "2 positions closed" in done
    [again] = await say(fake, channel, "/closeall confirm")  # a confirmation is used once
    assert again.startswith("Nothing to confirm") and controller.calls.count(("close_all",)) == 1


async def test_closeall_confirmation_expires(fake, channel, controller, clock):
    await say(fake, channel, "/closeall")
    await clock.sleep(61)
    [late] = await say(fake, channel, "/closeall confirm")
    assert late.startswith("Nothing to confirm") and ("close_all",) not in controller.calls


async def test_commands_from_a_stranger_are_ignored_and_logged_without_their_text(
        fake, channel, controller):
    with capture_logs() as logs:
        replies = await say(fake, channel, "/closeall confirm secret-stuff", chat=STRANGER)
        replies += await say(fake, channel, "/close BTCUSDT", chat=-100999)
    assert replies == [] and controller.calls == []
    ignored = [e for e in logs if e["event"] == "command_ignored"]
    assert [e["from_chat"] for e in ignored] == [STRANGER, -100999]
    assert "secret-stuff" not in repr(logs) and CHAT not in repr(logs)


GROUP, ADMIN, MEMBER = "-1001234567890", 5550001, 5550002


def _group_channel(notifier, fake, controller, store, clock, **extra):
    return CommandChannel(notifier, make_settings(fake.url, chat=GROUP, **extra), controller,
                          store=store, clock=clock.time, sleep=clock.sleep, poll_timeout_s=0)


async def test_in_a_group_without_admins_nobody_may_trade_but_all_may_read(
        fake, notifier, controller, store, clock):
    channel = _group_channel(notifier, fake, controller, store, clock)
    with capture_logs() as logs:
        for text in ("/close btcusdt", "/closeall", "/pause", "/resume"):
            [refused] = await say(fake, channel, text, chat=int(GROUP), user_id=MEMBER)
            assert refused.startswith("⛔") and "TELEGRAM_ADMIN_IDS" in refused
    assert controller.calls == []
    assert [e["command"] for e in logs if e["event"] == "command_refused"] == [
        "close", "closeall", "pause", "resume"]
    [status] = await say(fake, channel, "/status", chat=int(GROUP), user_id=MEMBER)
    assert "BTC/USDT" in status and ("status",) in controller.calls


async def test_in_a_channel_without_admins_its_posters_may_trade(fake, notifier, controller,
                                                                 store, clock):
    channel = _group_channel(notifier, fake, controller, store, clock)
    await say(fake, channel, "/pause", chat=int(GROUP), chat_type="channel")
    assert controller.calls == [("pause",)]


async def test_in_a_group_only_the_listed_admins_may_trade(fake, notifier, controller, store,
                                                           clock):
    channel = _group_channel(notifier, fake, controller, store, clock,
                             TELEGRAM_ADMIN_IDS=f"{ADMIN}")
    [refused] = await say(fake, channel, "/pause", chat=int(GROUP), user_id=MEMBER)
    assert refused.startswith("⛔") and controller.calls == []
    await say(fake, channel, "/pause", chat=int(GROUP), user_id=ADMIN)
    [closed] = await say(fake, channel, "/close ethusdt", chat=int(GROUP), user_id=ADMIN)
    assert controller.calls == [("pause",), ("close", "ETH/USDT")] and "closed" in closed


async def test_with_admins_listed_a_private_chat_owner_not_listed_is_refused(
        fake, notifier, controller, store, clock):
    channel = CommandChannel(notifier, make_settings(fake.url, TELEGRAM_ADMIN_IDS=f"{ADMIN}"),
                             controller, store=store, clock=clock.time, sleep=clock.sleep,
                             poll_timeout_s=0)
    [refused] = await say(fake, channel, "/resume")
    assert refused.startswith("⛔") and controller.calls == []


async def test_a_command_sent_while_the_daemon_was_down_is_not_run(fake, channel, controller,
                                                                   clock):
    [reply] = await say(fake, channel, "/closeall", date=clock.time() - 3600)
    assert reply.startswith("Ignored /closeall") and "1h 00m" in reply
    assert controller.calls == []


async def test_signals_lists_the_newest_recorded_signals(fake, channel, store):
    fresh = [NewSignal(e, False, "not_traded", None) for e in EVENTS[:4]]
    store.commit_candles("BTC/USDT", "15m", "L5R5close", {}, 0, fresh, 0, venue="binance")
    [reply] = await say(fake, channel, "/signals 2")
    assert "Last 2 signals" in reply and reply.count("<b>BTC/USDT</b>") == 2
    assert f"<code>{EVENTS[3].level}</code>"[:20] in reply  # newest first
    [usage] = await say(fake, channel, "/signals x")
    assert usage.startswith("Usage: /signals")


@pytest.mark.parametrize("arg", ["²", "٣", "0", "-3", "1e2"])
async def test_signals_with_anything_but_ascii_digits_replies_with_usage(fake, channel, store,
                                                                         arg):
    store.commit_candles("BTC/USDT", "15m", "L5R5close", {}, 0,
                         [NewSignal(EVENTS[0], False, "not_traded", None)], 0, venue="binance")
    [reply] = await say(fake, channel, f"/signals {arg}")
    assert reply == "Usage: /signals [N], N from 1 to 50"


async def test_signals_with_a_huge_number_shows_the_most_allowed(fake, channel, store):
    fresh = [NewSignal(e, False, "not_traded", None) for e in EVENTS]
    store.commit_candles("BTC/USDT", "15m", "L5R5close", {}, 0, fresh, 0, venue="binance")
    [reply] = await say(fake, channel, "/signals " + "9" * 5000)
    assert reply.startswith(f"<b>Last {min(len(EVENTS), 50)} signals</b>")


async def test_positions_show_the_pnl_at_the_last_close_when_open(fake, channel, controller):
    controller._positions = [
        {"symbol": "BTC/USDT", "direction": "long", "quantity": 0.01, "entry_price": 60000.0,
         "pnl": None, "mode": "paper", "mark": 61000.0},
        {"symbol": "ETH/USDT", "direction": "short", "quantity": 0.5, "entry_price": 3000.0,
         "pnl": None, "mode": "paper", "mark": 3100.0}]
    [reply] = await say(fake, channel, "/positions")
    btc, eth = reply.split("\n")[1:]
    assert "PnL <code>+10.00</code> USDT at last close <code>61000</code>" in btc
    assert "PnL <code>-50.00</code> USDT at last close <code>3100</code>" in eth


async def test_help_and_unknown_commands(fake, channel):
    [help_text] = await say(fake, channel, "/help")
    assert "/closeall" in help_text and "/signals" in help_text
    [unknown] = await say(fake, channel, "/frobnicate <b>")
    assert "Unknown command /frobnicate" in unknown


async def test_a_failing_controller_is_reported_and_polling_goes_on(fake, channel, controller):
    async def boom(symbol):
        raise RuntimeError("exchange unreachable")

    controller.close = boom
    [reply] = await say(fake, channel, "/close ETHUSDT")
    assert "failed: RuntimeError: exchange unreachable" in reply
    [ok] = await say(fake, channel, "/pause")
    assert "paused" in ok


async def test_handled_updates_are_acknowledged_and_not_rerun_after_a_restart(
        fake, notifier, controller, store, clock):
    settings = make_settings(fake.url)
    first = CommandChannel(notifier, settings, controller, store=store, clock=clock.time,
                           sleep=clock.sleep, poll_timeout_s=0)
    update_id = fake.push_message(int(CHAT), "/pause")
    await first.poll_once()
    assert store.get(OFFSET_KEY) == update_id + 1
    restarted = CommandChannel(notifier, settings, controller, store=store, clock=clock.time,
                               sleep=clock.sleep, poll_timeout_s=0)
    await restarted.poll_once()
    assert controller.calls == [("pause",)]


async def test_run_long_polls_in_the_loop_and_stops_promptly(fake, notifier, controller, store):
    channel = CommandChannel(notifier, make_settings(fake.url), controller, store=store,
                             poll_timeout_s=5)  # real clock: a 5 s long poll, cut short by stop
    stop = asyncio.Event()
    task = asyncio.create_task(channel.run(stop))
    await asyncio.sleep(0.1)
    fake.push_message(int(CHAT), "/pause", date=time.time())
    await stop_once_sent(fake, stop, task, within_s=2.0, step_s=0.01, join_s=1.0)
    assert controller.calls == [("pause",)] and "paused" in fake.sent[0].text
    assert fake._updates == []  # acknowledged to Telegram on the way out: never served again


async def test_polling_survives_an_outage(fake, channel, controller, clock):
    fake.outage(until=clock.time() + 10)
    assert await channel.poll_once() == 1.0
    assert await channel.poll_once() == 2.0  # backing off
    await clock.sleep(10)
    fake.push_message(int(CHAT), "/resume")
    assert await channel.poll_once() == 0.0
    assert controller.calls == [("resume",)]


async def test_no_token_means_no_command_channel(controller):
    from alerts import ConsoleNotifier
    from config import load_settings
    channel = CommandChannel(ConsoleNotifier(), load_settings({}, dotenv_path=None), controller)
    stop = asyncio.Event()  # never set: only a disabled channel can return
    with capture_logs() as logs:
        await asyncio.wait_for(channel.run(stop), 1.0)
    assert channel.bot is None and not stop.is_set()
    assert [(e["event"], e.get("reason")) for e in logs] == \
        [("commands_disabled", "no Telegram bot configured")]
    assert controller.calls == []


async def test_status_shows_health_reported_as_separate_keys(fake, channel, controller):
    controller.status = lambda: {"mode": "paper", "data_health": "ok",
                                 "trading_health": "unknown",
                                 "last_candles": {"BTC/USDT 15m": 1_779_999_100_000}}
    [reply] = await say(fake, channel, "/status")
    assert "Health data: ok" in reply and "Health trading: unknown" in reply
    assert "BTC/USDT 15m: 2026-05-28" in reply


async def test_check_reports_bot_and_chat_without_secrets(fake, notifier):
    lines = await notifier.check()
    assert lines == [("telegram bot", True, "@choch_test_bot"),
                     ("telegram chat", True, "reachable (private)")]
    fake.known_chats = set()
    _, (label, ok, detail) = await notifier.check()
    assert not ok and "Chat not found" in detail and CHAT not in detail
    assert fake.sent == []  # a check never posts to the chat


async def test_a_command_for_another_bot_is_ignored_and_ours_runs(fake, channel, controller):
    assert await say(fake, channel, "/pause@other_bot") == []
    assert controller.calls == []
    [reply] = await say(fake, channel, "/pause@choch_test_bot")
    assert "paused" in reply and controller.calls == [("pause",)]


async def test_polling_learns_the_bot_username_with_one_getme(fake, channel):
    await say(fake, channel, "/help")
    await say(fake, channel, "/help")
    assert fake.count("getMe") == 1 and fake.count("getUpdates") == 2


async def test_a_stop_during_the_backoff_ends_the_channel_at_once(fake, notifier, controller,
                                                                  store):
    fake.outage(until=time.time() + 3600)
    channel = CommandChannel(notifier, make_settings(fake.url), controller, store=store,
                             poll_timeout_s=0, retry_base_s=3600)  # real sleep: one hour
    stop = asyncio.Event()
    task = asyncio.create_task(channel.run(stop))
    while fake.count("getMe") + fake.count("getUpdates") == 0:
        await asyncio.sleep(0.005)
    await asyncio.sleep(0.05)
    stop.set()
    await asyncio.wait_for(task, 2.0)
