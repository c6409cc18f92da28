"""Drains the outbox to the notifier: in order, each row once, retrying what is worth retrying.

Head-of-line: only the oldest pending row is ever tried; while it waits for a retry, later rows
wait too, so alerts arrive in the order they were recorded. A row leaves 'pending' only when
Telegram accepted it (mark_sent) or refused it for good (mark_failed).
"""
from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Protocol

import structlog

from domain.backoff import Backoff, sleep_unless
from store import OutboxRow

from .chart import render_chart
from .messages import CAPTION_LIMIT, notice_text, signal_text
from .notifiers import Notifier, Permanent, RateLimited, Transient
from .ratelimit import ChatRateLimiter

log = structlog.get_logger(__name__)
AMBIGUOUS = "ambiguous: "  # error prefix kept in the row: the next try says it may be a repeat
UNEXPECTED_TRIES = 3       # a bug (bad payload) fails the row after this many tries, not never


class Outbox(Protocol):
    """The outbox as delivery works through it (store.Store)."""

    def pending(self, limit: int = 50) -> list[OutboxRow]:
        """Undelivered rows, oldest first."""

    def mark_sent(self, row_id: int, now_ms: int) -> None:
        """Accepted by the receiver: never sent again."""

    def mark_failed(self, row_id: int, error: str, now_ms: int) -> None:
        """Refused for good: not retried."""

    def retry_later(self, row_id: int, at_ms: int, error: str) -> None:
        """Try again at `at_ms`."""

    def outbox_counts(self) -> dict[str, int]:
        """How many rows are in each status."""


@dataclass(frozen=True)
class AlertSettings:
    """What delivery is told: when an alert is late, and whether signal alerts carry a chart."""

    alert_late_after_s: float = 120.0  # an alert sent later than this says LATE
    chart: bool = True                # signal alerts carry a chart


class OutboxDelivery:
    """Sends pending outbox rows through a notifier; runs as its own task in the daemon's loop."""

    def __init__(self, store: Outbox, notifier: Notifier, settings: AlertSettings, *,
                 clock: Callable[[], float] = time.time,
                 sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
                 market_clock: Callable[[], float] | None = None,
                 backoff_base_s: float = 2.0, backoff_cap_s: float = 60.0, idle_s: float = 2.0,
                 render: Callable[[dict], bytes] = render_chart,
                 limiter: ChatRateLimiter | None = None) -> None:
        self.store = store
        self.notifier = notifier
        self.clock = clock  # paces retries and the chat's rate limit: the host's
        # How late an alert is, and when it went out, on the market's clock: the host's, or a
        # replay venue's faster one.
        self.market_clock = market_clock or clock
        self.sleep = sleep
        self.late_after_s = settings.alert_late_after_s
        self.chart = settings.chart and notifier.supports_photos
        self.backoff_base_s = backoff_base_s
        self.backoff_cap_s = backoff_cap_s
        # No jitter: one chat, one sender; the attempts count lives in the outbox row.
        self.backoff = Backoff(base_s=backoff_base_s, factor=2.0, cap_s=backoff_cap_s)
        self.idle_s = idle_s
        self.render = render
        self.limiter = limiter or ChatRateLimiter(clock, sleep)
        self._wake = asyncio.Event()
        self._lock = asyncio.Lock()  # run() and flush() must never send the same row twice
        self._charts: dict[int, bytes | None] = {}  # row id -> PNG (None: rendering failed)
        self._photo_done: set[int] = set()  # split alerts whose photo already went out
        self.sent = 0
        self.failed = 0
        self.last_error: str | None = None
        self.on_sent: Callable[[Any, int], None] = lambda row, now_ms: None  # metrics hook

    def _now_ms(self) -> int:
        return int(self.clock() * 1000)

    def _market_ms(self) -> int:
        return int(self.market_clock() * 1000)

    def wake(self) -> None:
        """Deliver now: the daemon calls this after committing a signal."""
        self._wake.set()

    def health(self) -> dict:
        """Counters for /status: sent, failed, pending, last error."""
        counts = self.store.outbox_counts()
        return {"sent": self.sent, "failed": self.failed, "pending": counts.get("pending", 0),
                "last_error": self.last_error}

    def _backoff(self, attempts: int) -> float:
        """Capped exponential backoff; `attempts` failed tries before this one."""
        return self.backoff.delay(attempts + 1)

    async def drain_once(self, stop_event: asyncio.Event | None = None) -> float | None:
        """Send due rows in order until the head must wait: seconds to wait, None when empty.

        With `stop_event` set it returns 0.0 between two rows, so shutdown never has to cancel
        a send in flight (a cancelled send may have reached Telegram without being marked sent).
        """
        async with self._lock:
            while True:
                if stop_event is not None and stop_event.is_set():
                    return 0.0
                rows = self.store.pending(1)
                if not rows:
                    return None
                row = rows[0]
                due_in_ms = row.next_attempt_at - self._now_ms()
                if due_in_ms > 0:
                    return due_in_ms / 1000
                wait = await self._attempt(row)
                if wait is not None:
                    return wait

    async def _attempt(self, row: OutboxRow) -> float | None:
        """Try one row; None when it is settled (sent or failed), else seconds until its retry."""
        try:
            await self._send(row)
        except RateLimited as e:
            # Exactly what Telegram asked for: earlier is refused again, later only delays.
            self.store.retry_later(row.id, self._now_ms() + int(e.retry_after * 1000), str(e))
            self.last_error = str(e)
            log.warning("alert_rate_limited", outbox_id=row.id, retry_after_s=e.retry_after)
            return e.retry_after
        except Transient as e:
            delay = self._backoff(row.attempts)
            error = (AMBIGUOUS if e.ambiguous else "") + str(e)
            self.store.retry_later(row.id, self._now_ms() + int(delay * 1000), error)
            self.last_error = str(e)
            log.warning("alert_retry", outbox_id=row.id, attempts=row.attempts + 1,
                        retry_in_s=delay, error=str(e))
            return delay
        except Permanent as e:
            self._settle(row, failed=str(e))
            log.error("alert_failed", outbox_id=row.id, topic=row.topic, error=str(e))
            return None
        except Exception as e:  # a bug, e.g. a malformed payload: do not block the queue forever
            if row.attempts + 1 >= UNEXPECTED_TRIES:
                self._settle(row, failed=f"{type(e).__name__}: {e}")
                log.exception("alert_failed_unexpected", outbox_id=row.id, topic=row.topic)
                return None
            delay = self._backoff(row.attempts)
            self.store.retry_later(row.id, self._now_ms() + int(delay * 1000),
                                   f"{type(e).__name__}: {e}")
            log.exception("alert_error", outbox_id=row.id, retry_in_s=delay)
            return delay
        self._settle(row)
        return None

    def _settle(self, row: OutboxRow, failed: str | None = None) -> None:
        """Record the row's final state and forget what was cached for it."""
        if failed is None:
            self.store.mark_sent(row.id, self._market_ms())
            self.sent += 1
            self.on_sent(row, self._market_ms())
            log.info("alert_sent", outbox_id=row.id, topic=row.topic, attempts=row.attempts + 1,
                     symbol=row.payload.get("symbol"))
        else:
            self.store.mark_failed(row.id, failed, self._market_ms())
            self.failed += 1
            self.last_error = failed
        self._charts.pop(row.id, None)
        self._photo_done.discard(row.id)

    async def _chart_for(self, row: OutboxRow) -> bytes | None:
        """The row's chart, rendered once off the event loop; None if disabled or it failed."""
        if not self.chart or row.topic != "signal" or not row.payload.get("candles"):
            return None
        if row.id not in self._charts:
            try:
                self._charts[row.id] = await asyncio.to_thread(self.render, row.payload)
            except Exception as e:  # noqa: BLE001 - the text matters more than the picture
                log.warning("chart_failed", outbox_id=row.id, error=f"{type(e).__name__}: {e}")
                self._charts[row.id] = None
        return self._charts[row.id]

    def _text(self, row: OutboxRow) -> str:
        """The message for a row, rendered at send time so LATE reflects the real delay."""
        resent = bool(row.error and row.error.startswith(AMBIGUOUS))
        now_ms = self._market_ms()
        if row.topic == "signal":
            return signal_text(row.payload, now_ms, self.late_after_s, resent)
        return notice_text(row.topic, row.payload, now_ms, row.created_at, self.late_after_s,
                           resent)

    async def _one(self, send: Callable[..., Awaitable[None]], *args: Any) -> None:
        """One message, within the chat's rate limit (the console has none)."""
        if self.notifier.rate_limited:
            await self.limiter.acquire(self.notifier.chat_key, self.notifier.is_group)
        await send(*args)

    async def _send(self, row: OutboxRow) -> None:
        """Deliver a row: photo with caption, photo then text (long caption), or text only."""
        png = await self._chart_for(row)
        text = self._text(row)
        if png is None:
            await self._one(self.notifier.send_text, text)
            return
        if len(text) <= CAPTION_LIMIT:
            try:
                await self._one(self.notifier.send_photo, png, text)
                return
            except Permanent as e:  # e.g. the picture was refused: the alert still goes out
                log.warning("chart_refused", outbox_id=row.id, error=str(e))
                self._charts[row.id] = None
            await self._one(self.notifier.send_text, text)
            return
        if row.id not in self._photo_done:
            try:
                await self._one(self.notifier.send_photo, png, None)
            except Permanent as e:
                log.warning("chart_refused", outbox_id=row.id, error=str(e))
            self._photo_done.add(row.id)
        await self._one(self.notifier.send_text, text)

    async def _pause(self, delay: float, stop_event: asyncio.Event) -> None:
        """Wait `delay` seconds, or less if woken or stopped."""
        await sleep_unless(delay, self._wake, stop_event, sleep=self.sleep)
        self._wake.clear()

    async def run(self, stop_event: asyncio.Event) -> None:
        """Deliver until `stop_event` is set (then return; call flush() to send what is left)."""
        log.info("alert_delivery_started", chart=self.chart)
        while not stop_event.is_set():
            try:
                wait = await self.drain_once(stop_event)
            except Exception:  # e.g. the database is briefly locked: keep the task alive
                log.exception("alert_delivery_error")
                wait = self.backoff_base_s
            await self._pause(self.idle_s if wait is None else wait, stop_event)
        log.info("alert_delivery_stopped")

    async def flush(self, timeout_s: float) -> bool:
        """At shutdown: send what can go within `timeout_s`; True when the outbox is empty."""
        deadline = self.clock() + timeout_s

        async def go() -> bool:
            while True:
                wait = await self.drain_once()
                if wait is None:
                    return True
                if self.clock() + wait > deadline:
                    return False
                await self.sleep(wait)

        try:
            return await asyncio.wait_for(go(), timeout_s)
        except TimeoutError:
            log.warning("alert_flush_timeout", timeout_s=timeout_s)
            return False
