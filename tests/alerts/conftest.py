"""Fixtures for the alerts tests: a test clock with an instant sleep, the fake Bot API, a store."""
from __future__ import annotations

import asyncio

import pytest

from alerts import TelegramNotifier
from config import load_settings
from tests.fakes.telegram_api import TOKEN, FakeTelegram

CHAT = "424242"          # a private chat
GROUP = "-1001234567890"  # a supergroup
START = 1_780_000_000.0   # test clock origin (s)


class FakeClock:
    """Time that moves only when the code sleeps: an hour passes in microseconds."""

    def __init__(self, start: float = START) -> None:
        self.now = start
        self.sleeps: list[float] = []

    def time(self) -> float:
        """The current test time (s)."""
        return self.now

    async def sleep(self, seconds: float) -> None:
        """Advance the clock instead of waiting; still yields to the loop."""
        self.sleeps.append(seconds)
        self.now += max(0.0, seconds)
        await asyncio.sleep(0)


async def stop_once_sent(fake, stop: asyncio.Event, task: asyncio.Task, *, within_s: float,
                         step_s: float, join_s: float, count: int = 1) -> None:
    """Wait (at most `within_s`) until the fake Telegram accepted `count` messages, then stop
    `task` and wait for it to end."""
    for _ in range(round(within_s / step_s)):
        if len(fake.sent) >= count:
            break
        await asyncio.sleep(step_s)
    stop.set()
    await asyncio.wait_for(task, join_s)


def make_settings(api_url: str = "", chat: str = CHAT, **extra: str):
    """Settings as the daemon would load them, pointed at the fake API."""
    env = {"TELEGRAM_BOT_TOKEN": TOKEN, "TELEGRAM_CHAT_ID": chat, **extra}
    if api_url:
        env["TELEGRAM_API_URL"] = api_url
    return load_settings(env, dotenv_path=None)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
async def fake(clock):
    server = FakeTelegram(clock=clock.time)
    await server.start()
    yield server
    await server.stop()


@pytest.fixture
async def notifier(fake):
    n = TelegramNotifier(TOKEN, CHAT, fake.url, timeout_s=2.0)
    yield n
    await n.close()
