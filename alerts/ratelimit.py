"""Telegram's per-chat limits: about one message a second, and twenty a minute in a group."""
from __future__ import annotations

from collections import deque
from collections.abc import Awaitable, Callable

PER_CHAT_INTERVAL_S = 1.0
GROUP_PER_MINUTE = 20


class ChatRateLimiter:
    """Waits (with the injected sleep) until one more message to a chat stays within the limits."""

    def __init__(self, clock: Callable[[], float], sleep: Callable[[float], Awaitable[None]], *,
                 interval_s: float = PER_CHAT_INTERVAL_S,
                 group_per_minute: int = GROUP_PER_MINUTE) -> None:
        self.clock = clock
        self.sleep = sleep
        self.interval_s = interval_s
        self.group_per_minute = group_per_minute
        self._sent: dict[str, deque[float]] = {}

    def delay(self, chat: str, group: bool) -> float:
        """Seconds to wait before the next message to `chat` (0 when it may go now)."""
        sent = self._sent.get(chat)
        if not sent:
            return 0.0
        now = self.clock()
        wait = sent[-1] + self.interval_s - now
        if group and len(sent) >= self.group_per_minute:
            wait = max(wait, sent[-self.group_per_minute] + 60.0 - now)
        return max(0.0, wait)

    async def acquire(self, chat: str, group: bool) -> float:
        """Sleep as long as needed, then count the message as sent now; returns the wait."""
        wait = self.delay(chat, group)
        if wait > 0:
            await self.sleep(wait)
        sent = self._sent.setdefault(chat, deque(maxlen=max(self.group_per_minute, 1)))
        sent.append(self.clock())
        return wait
