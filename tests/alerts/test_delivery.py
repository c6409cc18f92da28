"""Outbox delivery with the real python-telegram-bot against the fake Bot API on 127.0.0.1."""
from __future__ import annotations

import asyncio
import logging

import pytest

import alerts.delivery
from alerts import ConsoleNotifier, OutboxDelivery, TelegramNotifier
from app import components
from config import load_settings
from tests.alerts.conftest import CHAT, GROUP, make_settings, stop_once_sent
from tests.alerts.signals import payload
from tests.fakes.telegram_api import TOKEN


def enqueue_signals(store, clock, n, *, symbol_prefix="S"):
    """n signal rows whose candles closed now; returns their symbols in enqueue order."""
    symbols = []
    for i in range(n):
        now_ms = int(clock.time() * 1000)
        symbol = f"{symbol_prefix}{i}/USDT"
        store.enqueue("signal", payload(symbol=symbol, confirmed_at_ms=now_ms), now_ms,
                      dedupe_key=f"signal:{symbol}")
        symbols.append(symbol)
    return symbols


def delivery(store, notifier, fake, clock, **kw):
    settings = make_settings(fake.url, **kw.pop("env", {}))
    return OutboxDelivery(store, notifier, settings, clock=clock.time, sleep=clock.sleep, **kw)


def order_of(fake, symbols):
    """Which symbol each accepted message was about, in arrival order."""
    return [next(s for s in symbols if f"<b>{s}</b>" in text) for text in fake.texts()]


async def test_every_row_is_delivered_once_in_order_with_its_chart(store, notifier, fake, clock):
    symbols = enqueue_signals(store, clock, 3)
    store.enqueue("trade", {"event": "order filled", "symbol": "S0/USDT", "text": "long 0.01"},
                  int(clock.time() * 1000))
    d = delivery(store, notifier, fake, clock)
    assert await d.drain_once() is None
    assert [s.method for s in fake.sent] == ["sendPhoto"] * 3 + ["sendMessage"]
    assert order_of(fake, symbols)[:3] == symbols
    assert all(s.parse_mode == "HTML" and s.chat_id == CHAT for s in fake.sent)
    assert all(s.photo_bytes > 5_000 for s in fake.sent[:3])
    assert store.outbox_counts() == {"sent": 4}
    assert await d.drain_once() is None and len(fake.sent) == 4  # nothing is sent twice


async def test_chart_off_sends_text_only(store, notifier, fake, clock):
    enqueue_signals(store, clock, 2)
    d = delivery(store, notifier, fake, clock, env={"CHART": "0"})
    await d.drain_once()
    assert [s.method for s in fake.sent] == ["sendMessage", "sendMessage"]


async def test_a_chart_that_fails_to_render_does_not_stop_the_alert(store, notifier, fake, clock):
    enqueue_signals(store, clock, 1)

    def broken(_payload):
        raise RuntimeError("no fonts")

    d = delivery(store, notifier, fake, clock, render=broken)
    await d.drain_once()
    assert [s.method for s in fake.sent] == ["sendMessage"]
    assert "S0/USDT" in fake.sent[0].text and store.outbox_counts() == {"sent": 1}


async def test_a_caption_too_long_goes_as_photo_then_text(store, notifier, fake, clock,
                                                          monkeypatch):
    monkeypatch.setattr(alerts.delivery, "CAPTION_LIMIT", 50)
    enqueue_signals(store, clock, 1)
    fake.fail("sendMessage", "502")  # the photo went out; the text must retry alone
    d = delivery(store, notifier, fake, clock)
    wait = await d.drain_once()
    assert wait == 2.0 and [s.method for s in fake.sent] == ["sendPhoto"]
    await clock.sleep(wait)
    await d.drain_once()
    assert [(s.method, s.text is None) for s in fake.sent] == [("sendPhoto", True),
                                                               ("sendMessage", False)]
    assert fake.count("sendPhoto") == 1


@pytest.mark.slow  # over a second: left out of make test-fast
async def test_telegram_down_for_an_hour_then_every_alert_arrives_once_in_order_marked_late(
        store, notifier, fake, clock):
    start = clock.time()
    fake.outage(until=start + 3600)
    d = delivery(store, notifier, fake, clock, backoff_cap_s=60.0, idle_s=1.0)
    stop = asyncio.Event()
    task = asyncio.create_task(d.run(stop))
    symbols = enqueue_signals(store, clock, 3, symbol_prefix="A")
    d.wake()
    while clock.time() < start + 1800:  # more signals arrive in the middle of the outage
        await asyncio.sleep(0.001)
    symbols += enqueue_signals(store, clock, 3, symbol_prefix="B")
    d.wake()
    await stop_once_sent(fake, stop, task, count=6, within_s=10.0, step_s=0.002, join_s=5)

    assert order_of(fake, symbols) == symbols  # each exactly once, in the recorded order
    assert all(t.startswith("⚠️ <b>LATE</b>") for t in fake.texts())
    assert fake.sent[0].at >= start + 3600
    assert store.outbox_counts() == {"sent": 6}
    # Backoff is capped at 60 s: about one try a minute during the outage, not a flood.
    tries = sum(1 for c in fake.calls if c.at < start + 3600)
    assert 60 <= tries <= 75, tries
    assert max(clock.sleeps) <= 60.0


async def test_retry_after_is_waited_exactly(store, notifier, fake, clock):
    enqueue_signals(store, clock, 2)
    fake.fail("sendPhoto", "429", retry_after=7)
    d = delivery(store, notifier, fake, clock)
    t0 = clock.time()
    assert await d.drain_once() == 7
    row = store.pending(1)[0]
    assert row.next_attempt_at == int(t0 * 1000) + 7000
    await clock.sleep(6.9)
    assert await d.drain_once() == pytest.approx(0.1)
    assert fake.count("sendPhoto") == 1  # not tried early
    await clock.sleep(0.1)
    assert await d.drain_once() is None
    first_ok = fake.sent[0]
    assert first_ok.at == pytest.approx(t0 + 7)
    assert [c.at for c in fake.calls if c.method == "sendPhoto"][:2] == [t0, first_ok.at]
    assert len(fake.sent) == 2 and store.outbox_counts() == {"sent": 2}


async def test_run_loop_sleeps_exactly_retry_after(store, notifier, fake, clock):
    enqueue_signals(store, clock, 1)
    fake.fail("sendPhoto", "429", retry_after=13)
    d = delivery(store, notifier, fake, clock, idle_s=1.0)
    stop = asyncio.Event()
    task = asyncio.create_task(d.run(stop))
    await stop_once_sent(fake, stop, task, within_s=4.0, step_s=0.002, join_s=5)
    assert clock.sleeps[0] == 13 and len(fake.sent) == 1


async def test_transient_errors_back_off_and_deliver_once(store, notifier, fake, clock):
    enqueue_signals(store, clock, 1)
    fake.fail("sendPhoto", "502", times=3)
    d = delivery(store, notifier, fake, clock, backoff_base_s=2.0, backoff_cap_s=5.0)
    waits = []
    while (wait := await d.drain_once()) is not None:
        waits.append(wait)
        await clock.sleep(wait)
    assert waits == [2.0, 4.0, 5.0]  # doubling, capped
    assert len(fake.sent) == 1 and fake.count("sendPhoto") == 4
    assert store.outbox_counts() == {"sent": 1}


@pytest.mark.parametrize("kind, error", [("chat_not_found", "Chat not found"),
                                         ("blocked", "bot was blocked")])
async def test_a_permanent_failure_is_marked_failed_and_not_retried(store, notifier, fake, clock,
                                                                    kind, error):
    enqueue_signals(store, clock, 2)
    fake.fail("sendPhoto", kind)
    fake.fail("sendMessage", kind)  # the text fallback meets the same answer
    d = delivery(store, notifier, fake, clock)
    assert await d.drain_once() is None
    first, second = store.outbox_row(1), store.outbox_row(2)
    assert first.status == "failed" and error in first.error and first.attempts == 1
    assert second.status == "sent"  # the queue is not blocked by a dead row
    await clock.sleep(3600)
    await d.drain_once()
    assert fake.count("sendPhoto") == 2 and fake.count("sendMessage") == 1
    assert len(fake.sent) == 1


async def test_a_refused_picture_falls_back_to_text(store, notifier, fake, clock):
    enqueue_signals(store, clock, 1)
    fake.fail("sendPhoto", "bad_request")
    d = delivery(store, notifier, fake, clock)
    await d.drain_once()
    assert [s.method for s in fake.sent] == ["sendMessage"]
    assert store.outbox_counts() == {"sent": 1}


async def test_a_lost_reply_is_resent_and_flagged_as_a_possible_repeat(store, notifier, fake,
                                                                       clock):
    enqueue_signals(store, clock, 1)
    fake.fail("sendPhoto", "lost_reply")  # Telegram accepted it but the answer never came
    d = delivery(store, notifier, fake, clock)
    wait = await d.drain_once()
    assert wait == 2.0 and store.pending(1)[0].error.startswith("ambiguous: ")
    await clock.sleep(wait)
    await d.drain_once()
    assert len(fake.sent) == 2
    assert "may be a repeat" not in fake.sent[0].text and "may be a repeat" in fake.sent[1].text


async def test_messages_to_a_private_chat_are_spaced_a_second_apart(store, notifier, fake, clock):
    enqueue_signals(store, clock, 5)
    d = delivery(store, notifier, fake, clock, env={"CHART": "0"})
    await d.drain_once()
    times = [s.at for s in fake.sent]
    assert len(times) == 5 and all(b - a >= 1.0 for a, b in zip(times, times[1:]))


async def test_a_group_gets_at_most_twenty_messages_a_minute(store, fake, clock):
    group = TelegramNotifier(TOKEN, GROUP, fake.url, timeout_s=2.0)
    try:
        enqueue_signals(store, clock, 45)
        d = delivery(store, group, fake, clock, env={"CHART": "0", "TELEGRAM_CHAT_ID": GROUP})
        await d.drain_once()
    finally:
        await group.close()
    times = [s.at for s in fake.sent]
    assert len(times) == 45 and {s.chat_id for s in fake.sent} == {GROUP}
    assert max(sum(1 for t in times if start <= t < start + 60) for start in times) == 20


async def test_flush_sends_what_it_can_before_the_deadline(store, notifier, fake, clock):
    enqueue_signals(store, clock, 2)
    d = delivery(store, notifier, fake, clock)
    assert await d.flush(5) is True and len(fake.sent) == 2
    enqueue_signals(store, clock, 1, symbol_prefix="Z")
    fake.fail("sendPhoto", "429", retry_after=30)
    assert await d.flush(5) is False  # Telegram asks for 30 s: not within a 5 s shutdown
    assert store.outbox_counts()["pending"] == 1


async def test_wake_delivers_a_new_signal_without_waiting_for_the_idle_poll(store, notifier, fake):
    settings = make_settings(fake.url, CHART="0")
    d = OutboxDelivery(store, notifier, settings, idle_s=30.0)  # real clock and sleep
    stop = asyncio.Event()
    task = asyncio.create_task(d.run(stop))
    await asyncio.sleep(0.05)
    store.enqueue("notice", {"event": "started", "symbol": None, "text": "hello"},
                  int(asyncio.get_running_loop().time()))
    d.wake()
    await stop_once_sent(fake, stop, task, within_s=2.0, step_s=0.01, join_s=2)
    assert len(fake.sent) == 1 and "hello" in fake.sent[0].text


async def test_with_no_token_alerts_print_to_the_console(store, clock, capsys):
    settings = load_settings({}, dotenv_path=None)
    notifier = components.make_notifier(settings)
    assert isinstance(notifier, ConsoleNotifier)
    enqueue_signals(store, clock, 3)
    d = OutboxDelivery(store, notifier, settings, clock=clock.time, sleep=clock.sleep)
    assert await d.drain_once() is None
    out = capsys.readouterr().out
    assert "S0/USDT" in out and "Broken level:" in out and "<b>" not in out
    assert out.index("S0/USDT") < out.index("S1/USDT") < out.index("S2/USDT")
    assert store.outbox_counts() == {"sent": 3}
    assert clock.sleeps == []  # no Telegram rate limit on a console


def test_make_notifier_points_ptb_at_telegram_api_url():
    n = components.make_notifier(make_settings("http://127.0.0.1:9"))
    assert isinstance(n, TelegramNotifier)
    assert n.bot.base_url == f"http://127.0.0.1:9/bot{TOKEN}"
    assert n.bot.base_file_url == f"http://127.0.0.1:9/file/bot{TOKEN}"
    default = components.make_notifier(make_settings())
    assert default.bot.base_url == f"https://api.telegram.org/bot{TOKEN}"


async def test_neither_the_token_nor_the_chat_id_reaches_the_logs(store, notifier, fake, clock,
                                                                  caplog, capsys):
    caplog.set_level(logging.DEBUG)
    enqueue_signals(store, clock, 1)
    fake.fail("sendPhoto", "chat_not_found")
    await delivery(store, notifier, fake, clock).drain_once()
    logged = caplog.text + capsys.readouterr().out
    # Whatever earlier tests left of the logging set-up, the refusal itself is logged.
    assert any(word in logged for word in ("sendPhoto", "alert_failed", "chart_refused"))
    assert TOKEN not in logged and CHAT not in logged


async def test_shutdown_stops_between_rows_instead_of_cancelling_a_send(store, notifier, fake,
                                                                        clock):
    enqueue_signals(store, clock, 3)
    d = delivery(store, notifier, fake, clock, env={"CHART": "0"})
    stop = asyncio.Event()
    stop.set()
    assert await d.drain_once(stop) == 0.0 and fake.sent == []
    assert await d.flush(10) is True and len(fake.sent) == 3


async def test_a_group_upgraded_to_a_supergroup_is_followed(store, fake, clock):
    from tests.fakes.telegram_api import MIGRATED_TO
    group = TelegramNotifier(TOKEN, "-4001234", fake.url, timeout_s=2.0)
    try:
        enqueue_signals(store, clock, 1)
        fake.fail("sendMessage", "migrated")
        d = delivery(store, group, fake, clock, env={"CHART": "0"})
        wait = await d.drain_once()
        await clock.sleep(wait)
        await d.drain_once()
    finally:
        await group.close()
    assert [s.chat_id for s in fake.sent] == [str(MIGRATED_TO)]
