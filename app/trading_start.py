"""The trading instance's start, in the background: market data, signals and alerts never wait
for the trading venue.

The first attempt runs while the daemon catches up; a signal recorded meanwhile waits for its
outcome. A transient failure (network, 5xx, rate limit) is announced once ("trading
unavailable") and retried with the start-up backoff until it succeeds ("trading available
again") or the daemon stops; meanwhile each new signal is alerted and its trade skipped with a
notice, for good. Any other failure stops the daemon as it would have stopped the start: one of
REFUSED with exit status 2 and its message, anything else raised (see Daemon.serve).

Authentication failures (AuthError: keys refused, permission missing, IP not allowed) are not
transient: an operator must act, so the daemon stops with exit status 2 and the venue's words,
at start or on a later attempt, rather than send refused keys every minute behind alerts that
look healthy.
"""
from __future__ import annotations

import asyncio
import enum
import re
from collections.abc import Awaitable, Callable

import structlog

from domain.backoff import Backoff, Failure, Sleep, Stopped, retry
from exchanges.errors import ExchangeUnavailable, PermanentExchangeError
from exchanges.reasons import network_reason
from trading import LiveTradingRefused, PositionManager, PositionModeError

from .sdnotify import SystemdNotifier

log = structlog.get_logger(__name__)
# What stops a start with exit status 2: bad keys, hedge mode, live trading not confirmed.
REFUSED = (PermanentExchangeError, LiveTradingRefused, PositionModeError)
REASON_CHARS = 200
_QUERY = re.compile(r"(https?://[^\s?]+)\?\S*")


def transient(error: Exception) -> bool:
    """Start-up retries exchange failures that pass by themselves: not the permanent ones (bad
    keys, refused requests)."""
    return isinstance(error, ExchangeUnavailable) and not isinstance(error, PermanentExchangeError)


def reason(error: BaseException) -> str:
    """Why the venue could not be started, for a notice: a URL without its query (a signed
    request's timestamp and signature tell a trader nothing), at most REASON_CHARS."""
    return _QUERY.sub(r"\1", network_reason(error))[:REASON_CHARS]


class TradingState(enum.Enum):
    """Where the trading instance's start stands."""

    STARTING = "starting"  # the first attempt is under way
    DOWN = "down"          # an attempt failed transiently: retried in the background
    UP = "up"
    FAILED = "failed"      # not transient: the daemon stops (`failure`)


class TradingStart:
    """Starts the position manager for the watched symbols in a background task, retrying
    transient failures with the start-up backoff until it is up or the daemon stops."""

    def __init__(self, manager: PositionManager, symbols: Callable[[], list[str]], *,
                 stop: asyncio.Event, backoff: Backoff, sleep: Sleep,
                 systemd: SystemdNotifier, on_change: Callable[[], None],
                 on_up: Callable[[], Awaitable[None]]) -> None:
        self.manager, self.symbols, self.stop = manager, symbols, stop
        self.backoff, self.sleep, self.systemd = backoff, sleep, systemd
        self.on_change = on_change  # after going down or up: wake the alerts, systemd's status
        self.on_up = on_up          # the signals left pending meanwhile are traded now
        self.state = TradingState.STARTING
        self.failure: Exception | None = None
        self._settled = asyncio.Event()  # the first attempt has ended, one way or another
        self._task: asyncio.Task | None = None

    @property
    def up(self) -> bool:
        """True once the manager has started: signals are traded."""
        return self.state is TradingState.UP

    @property
    def starting(self) -> bool:
        """True while the first attempt is under way: new signals wait for its outcome."""
        return self.state is TradingState.STARTING

    @property
    def unavailable(self) -> str | None:
        """Why trading cannot act now, for /status and the API; None when it is up."""
        if self.state is TradingState.STARTING:
            return "starting: connecting to the trading venue"
        if self.state is TradingState.DOWN:
            return f"{self.manager.unavailable}; retrying in background"
        if self.state is TradingState.FAILED:
            return f"start refused: {self.failure}"
        return None

    def begin(self) -> None:
        """Start in the background (once)."""
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="trading-start")

    async def settled(self) -> None:
        """Wait until the first attempt has ended (up, down or failed)."""
        await self._settled.wait()

    async def close(self) -> None:
        """At shutdown: end the background start, whatever request it waits for."""
        if self._task is not None and not self._task.done():
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)

    async def _run(self) -> None:
        try:
            await retry(lambda: self.manager.start(self.symbols()), backoff=self.backoff,
                        retry_on=transient, stop=self.stop, on_failure=self._failed,
                        sleep=self.sleep)
            if not self.stop.is_set():  # up just as the daemon stops: nothing to trade any more
                self.state = TradingState.UP
        except Stopped:
            log.info("trading_start_stopped", state=self.state.value)
        except Exception as e:  # noqa: BLE001 - not transient: the daemon stops, as at start
            self.state, self.failure = TradingState.FAILED, e
            log.error("trading_start_refused", error=str(e), error_type=type(e).__name__)
            self.stop.set()
        finally:
            self._settled.set()
        if not self.up:
            return
        self.manager.set_unavailable(None)  # "available again" when it was announced down
        log.info("trading_started", symbols=len(self.manager.symbols))
        self.on_change()
        await self.on_up()

    def _failed(self, failure: Failure) -> None:
        """One transient failure: the first is announced, each one feeds the watchdog."""
        self.systemd.watchdog()  # a start-up waiting for hours is not a hung daemon
        why = reason(failure.error)
        log.warning("retrying", what="trading_instance_start", error=str(failure.error),
                    reason=why, in_s=failure.delay_s)
        if self.stop.is_set():  # the daemon stops: nothing to announce
            return
        first = self.state is TradingState.STARTING
        self.state = TradingState.DOWN
        self.manager.set_unavailable(why)  # its notice goes out on the first failure only
        self._settled.set()
        if first:
            log.error("trading_unavailable", reason=why, retry_in_s=failure.delay_s)
            self.on_change()
