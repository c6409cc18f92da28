"""The long-running service: wiring, start-up catch-up, one scheduled job per timeframe and one
for reconciliation, shutdown."""
from __future__ import annotations

import asyncio
import contextlib
import signal
import sys
import time
from collections.abc import AsyncIterator, Callable
from functools import partial

import structlog
from apscheduler.schedulers.asyncio import AsyncIOScheduler

from alerts import CommandChannel, Notifier, OutboxDelivery
from api import Metrics
from app import components
from config import Settings
from domain.backoff import Failure, Sleep
from domain.candles import Candles
from domain.timeframe import timeframe_ms
from exchanges.port import MarketData
from fetchers.adapter import TimeframeAdapter
from store import SignalRow, open_exclusive
from trading import Broker

from . import api_view, banner
from .controller import DaemonController
from .cycle import CandleSource, Poller, SlotSummary, log_slot
from .feed import NoStream, build_feed
from .memory import freeze_startup_objects, pin_mmap_threshold
from .pipeline import alert_payload
from .schedule import RECONCILE_EVERY_S, VenueClock, start_scheduler
from .sdnotify import SystemdNotifier
from .sessions import close_all
from .slots import last_close
from .startup_waits import (
    STARTUP_BACKOFF,
    NoMarketData,
    StartupWaits,
    feed_watchdog,
    guard_state_db,
)
from .trading_start import REFUSED, TradingStart

log = structlog.get_logger(__name__)
EXIT_OK, EXIT_FAILED, EXIT_CONFIG, EXIT_INTERRUPTED = 0, 1, 2, 130
SHUTDOWN_JOB_WAIT_S = 5.0
SHUTDOWN_FLUSH_S = 2.0
STATE_CHECK_S = 60.0  # how often the daemon checks that its state DB file is still there
# Reconciliation (positions, stops and targets vs the exchange) is its own job, once a minute
# (RECONCILE_EVERY_S): a stop or target hit is noticed within a minute whatever the timeframes.
__all__ = ["RECONCILE_EVERY_S", "Daemon"]
# SIGTERM (systemd stop) and SIGHUP (the terminal closed) stop cleanly with 0; SIGINT (Ctrl-C)
# too, with the shell's 130.
STOP_SIGNALS = {signal.SIGTERM: EXIT_OK, signal.SIGHUP: EXIT_OK, signal.SIGINT: EXIT_INTERRUPTED}


class Daemon:
    """Everything the `run` command starts, built from Settings; parts can be injected in tests.

    Building one checks the state DB and takes its lock (StateDbError, StateDbBusy), then builds
    every part without a request: nothing has been sent yet, a second daemon on the same DB
    stops here, and so does live trading without its confirmation (LiveTradingRefused).
    """

    def __init__(self, settings: Settings, *, fetcher: MarketData | None = None,
                 adapter: CandleSource | None = None, notifier: Notifier | None = None,
                 broker: Broker | None = None, clock: Callable[[], float] = time.time,
                 notify: SystemdNotifier | None = None, sleep: Sleep = asyncio.sleep) -> None:
        self.settings = settings
        self.clock = clock  # the market's time: the venue's clock when it has its own (a replay)
        self.host_clock = clock  # uptime, retries and rate limits
        self.sleep = sleep  # every wait of the daemon's own (start-up retries, guards)
        self.started_at = clock()
        self.systemd = notify or SystemdNotifier()
        self.state_lock, self.store = open_exclusive(settings.state_db)
        self.exit_status = EXIT_OK
        self.stop = asyncio.Event()
        self.scheduler: AsyncIOScheduler | None = None
        self.inflight: set[asyncio.Task] = set()
        self.tasks: list[asyncio.Task] = []
        self.symbols: list[str] = []
        self.last_slot: dict[str, SlotSummary] = {}
        self.trading_error: str | None = None  # the last reconciliation's failure, for /status
        self.smallest_tf = min(settings.timeframes, key=timeframe_ms)
        self.metrics = Metrics()  # exposed at /metrics when API_LISTEN is set
        try:
            self._build(fetcher, adapter, notifier, broker)
        except BaseException:
            self.store.close()  # e.g. live trading not confirmed: the next start may use the DB
            self.state_lock.release()
            raise

    # -- wiring ----------------------------------------------------------------------------------

    def _build(self, fetcher: MarketData | None, adapter: CandleSource | None,
               notifier: Notifier | None, broker: Broker | None) -> None:
        """Every part of the daemon, in one place; none sends a request yet."""
        s = self.settings
        self.fetcher: MarketData = fetcher or components.market_data(s)  # DATA_EXCHANGE
        # A replay venue runs history's clock faster than the host's: the daemon's time (which
        # candles closed, how old a signal is, the trading day) is then the venue's, while
        # retries and rate limits keep the host's (app/schedule.py).
        self.venue_clock: VenueClock | None = getattr(self.fetcher, "venue_clock", None)
        if self.venue_clock is not None:
            self.clock = self.venue_clock.now_s
        self.watched = components.watched_symbols(s, self.fetcher)  # SYMBOLS, or ALL ranked
        self.live = build_feed(s, self.fetcher) if adapter is None else NoStream(self.fetcher)
        self.adapter: CandleSource = adapter or TimeframeAdapter(self.live.market_data)
        self.notifier: Notifier = notifier or components.make_notifier(s)
        alerting = components.alert_settings(s)
        self.delivery = OutboxDelivery(self.store, self.notifier, alerting,
                                       clock=self.host_clock, market_clock=self.clock)
        # Live trading needs its confirmation: LiveTradingRefused otherwise.
        self.broker: Broker = broker or components.make_broker(s, self.store)
        self.manager = components.position_manager(s, self.store, self.broker, clock=self.clock)
        self.poller = Poller(s, self.store, self.adapter, partial(alert_payload, s),
                             self._after_feed)
        # In the background: market data, signals and alerts never wait for the trading venue.
        self.trading = TradingStart(self.manager, lambda: self.symbols, stop=self.stop,
                                    backoff=STARTUP_BACKOFF, sleep=self.sleep,
                                    systemd=self.systemd, on_change=self._trading_changed,
                                    on_up=self._trade_pending)

    @property
    def waits(self) -> StartupWaits:
        """The start-up retries, with the daemon's current sleep (tests replace it)."""
        return StartupWaits(self.systemd, self.stop, self.sleep)

    async def startup(self) -> None:
        """Connect the data instance, restore state, catch up; ready to schedule after. The
        trading instance starts meanwhile in the background (`self.trading`)."""
        # Months of charts and candle frames must not leave the C heap full of holes.
        log.debug("malloc_mmap_threshold", pinned=pin_mmap_threshold())
        await self.waits.retry_forever("data_instance_start", self.fetcher.start)
        api_view.instrument(self)  # metrics hooks: both instances, delivery, manager
        self.symbols = await self.waits.retry_forever("universe", self.watched)
        self.trading.begin()
        await self._catch_up_until_data_flows()
        await self.live.watch(self.symbols, self.poll_now)
        freeze_startup_objects()

    async def _trade_pending(self) -> None:
        """Once trading is up: the signals without a decision (recorded before a crash or during
        the first start attempt) are traded, or skipped when stale."""
        async with self._in_flight():  # a shutdown lets this finish (bounded)
            for pending in self.store.signals_to_trade():
                await self._trade(pending)

    def _trading_changed(self) -> None:
        """Trading went down or up (its notice is queued); once ready, systemd's status says so."""
        self.delivery.wake()
        if self.scheduler is not None:
            down = self.trading.unavailable
            self.systemd.status(f"watching {len(self.symbols)} symbols x "
                                f"{len(self.settings.timeframes)} timeframes"
                                + (f"; trading unavailable ({down})" if down else ""))

    async def _catch_up_until_data_flows(self) -> None:
        """Catch up every timeframe; while no candle at all could be fetched because the exchange
        is unreachable, say why and try again: `ready` means market data flows."""

        def on_failure(failure: Failure) -> None:
            log.error("startup_waiting_for_market_data", reason=str(failure.error),
                      url=banner.data_host(self.settings), venue=self.settings.data_exchange,
                      retry_in_s=failure.delay_s)
            self.systemd.status(f"not ready: market data unreachable ({failure.error}); retrying")

        await self.waits.until_stopped("market data", self._catch_up_once,
                                       lambda e: isinstance(e, NoMarketData), on_failure)

    async def _catch_up_once(self) -> None:
        """One catch-up round of every timeframe; NoMarketData when nothing was fetched because
        the exchange was unreachable."""
        summaries = [await self.run_timeframe(tf, retry_s=0.0) for tf in self.settings.timeframes]
        reasons = [x.unreachable for x in summaries if x.unreachable]
        if reasons and not any(x.fetched for x in summaries):
            raise NoMarketData(reasons[0])

    async def now_ms(self) -> int:
        """Exchange time (the clock that decides which candles are closed), host clock if down."""
        try:
            return int(await self.fetcher.server_time_ms())
        except Exception:  # noqa: BLE001 - a clock read must never fail a job
            return int(self.clock() * 1000)

    # -- the pipeline ----------------------------------------------------------------------------

    async def run_timeframe(self, timeframe: str, retry_s: float | None = None) -> SlotSummary:
        """One slot of one timeframe: every symbol fetched, fed, recorded, alerted, traded."""
        async with self._in_flight():
            await self._refresh_universe()
            summary = await self._run_slot(timeframe, retry_s)
            self.last_slot[timeframe] = summary
            log_slot(timeframe, summary)
            return summary

    @contextlib.asynccontextmanager
    async def _in_flight(self) -> AsyncIterator[None]:
        """Mark the running job, so that a shutdown lets it finish (bounded) before closing."""
        task = asyncio.current_task()
        if task is not None:
            self.inflight.add(task)
        try:
            yield
        finally:
            if task is not None:
                self.inflight.discard(task)

    async def _refresh_universe(self) -> None:
        """The symbols to watch: cached, refreshed hourly."""
        self.symbols = await self.watched()
        await self.live.watch(self.symbols)

    async def _run_slot(self, timeframe: str, retry_s: float | None) -> SlotSummary:
        """Poll every symbol for the candle that closed last; the slot's summary."""
        close = last_close(timeframe, await self.now_ms())
        return await self.poller.run_slot(
            timeframe, self.symbols, close, self.now_ms,
            self.settings.slot_retry_s if retry_s is None else retry_s)

    async def poll_now(self, symbol: str, timeframe: str) -> None:
        """One series read and fed at once: its close came in on the stream."""
        async with self._in_flight():
            await self.poller._poll_safely(symbol, timeframe, await self.now_ms())

    async def _job(self, timeframe: str) -> None:
        """The scheduled job: never lets an exception reach the scheduler."""
        try:
            await self.run_timeframe(timeframe)
        except Exception:  # the next slot must run whatever happened here
            log.exception("job_failed", tf=timeframe)

    async def _after_feed(self, symbol: str, timeframe: str, candles: Candles,
                          recorded: list[SignalRow]) -> None:
        """After a stream was fed: wake the alerts, trade the fresh signals, move paper fills."""
        if recorded:
            self.delivery.wake()
            api_view.signals_recorded(self, recorded)  # metrics: candle close -> signal
        if timeframe == self.smallest_tf and self.trading.up:
            try:
                await self.manager.on_candles(symbol, candles)
            except Exception:
                log.exception("paper_candles_failed", symbol=symbol)
        for row in recorded:
            if row.trade_state == "pending":
                await self._trade(row)

    async def _trade(self, row: SignalRow) -> None:
        if self.trading.starting:  # decided once the first start attempt has ended
            log.info("trade_waits_for_trading_start", symbol=row.symbol, signal=row.id)
            return
        try:
            await self.manager.on_signal(row, timeframe_ms(row.timeframe))
        except Exception:  # the manager records its own failures; never crash
            log.exception("trade_failed", symbol=row.symbol, tf=row.timeframe, signal=row.id)
        self.delivery.wake()  # trade notices

    async def reconcile(self) -> None:
        """The reconciliation job: positions, stops and targets checked against the exchange."""
        if not self.trading.up:  # nothing to compare with yet: the start reconciles first
            log.info("reconcile_skipped", trading=self.trading.unavailable)
            return
        async with self._in_flight():
            try:
                await self.manager.reconcile()
                self.trading_error = None
            except Exception as e:  # the next run must happen whatever failed
                self.trading_error = f"{type(e).__name__}: {e}"[:200]
                log.exception("reconcile_failed")

    # -- service lifecycle -----------------------------------------------------------------------

    def schedule(self) -> AsyncIOScheduler:
        """The scheduler (app/schedule.py), on the venue's clock when it has its own; with a
        stream, the slot jobs wait past its publication delay."""
        self.scheduler = start_scheduler(self.settings, self._job, self.reconcile,
                                         self.venue_clock,
                                         self.live.fallback_delay_s(self.settings.fetch_delay_s))
        return self.scheduler

    async def _state_guard(self, interval_s: float) -> None:
        """Stop (exit 1, so systemd restarts) if the state DB file is deleted or replaced."""
        if await guard_state_db(self.store, interval_s, self.stop, self.sleep):
            self.exit_status = EXIT_FAILED
            self.stop.set()

    async def _watchdog(self) -> None:
        """Feed systemd's watchdog until the daemon stops."""
        await feed_watchdog(self.systemd, self.stop, self.sleep)

    def start_background(self) -> None:
        """Alert delivery, the Telegram command channel (when configured) and the watchdog."""
        self.tasks.append(asyncio.create_task(self.delivery.run(self.stop), name="delivery"))
        self.tasks.append(asyncio.create_task(self._watchdog(), name="watchdog"))
        if self.settings.telegram_bot_token:  # commands: the notifier is then Telegram's
            channel = CommandChannel(self.notifier, components.command_settings(self.settings),
                                     DaemonController(self), store=self.store)
            self.tasks.append(asyncio.create_task(channel.run(self.stop), name="commands"))

    async def shutdown(self) -> None:
        """Stop scheduling, finish the jobs in flight (bounded), flush alerts, close sessions."""
        self.systemd.stopping()
        self.stop.set()
        await api_view.stop_api(self)  # before the store closes
        if self.scheduler is not None and self.scheduler.running:
            self.scheduler.shutdown(wait=False)
        await self.live.stop()  # no close starts a job now
        await self._finish_jobs()
        await self.trading.close()  # before its session closes
        try:
            await self.delivery.flush(SHUTDOWN_FLUSH_S)
        except Exception:
            log.exception("flush_failed")
        for t in self.tasks:
            t.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)
        await close_all((("manager", self.manager.close_session), ("fetcher", self.fetcher.close),
                         ("notifier", self.notifier.close)))
        self.store.close()
        self.state_lock.release()
        log.info("daemon_stopped", exit_status=self.exit_status)

    async def _finish_jobs(self) -> None:
        """Let the jobs in flight finish; cancel the late ones and wait until they have stopped,
        so none of them touches the store or a session after it is closed."""
        jobs = [t for t in self.inflight if t is not asyncio.current_task()]
        if not jobs:
            return
        _, late = await asyncio.wait(jobs, timeout=SHUTDOWN_JOB_WAIT_S)
        for t in late:
            t.cancel()
        await asyncio.gather(*late, return_exceptions=True)

    def _on_signal(self, sig: signal.Signals) -> None:
        """A stop signal: shut down cleanly; the exit status says which signal it was."""
        if not self.stop.is_set():
            log.info("stop_signal", signal=sig.name)
            self.exit_status = STOP_SIGNALS[sig]
        self.stop.set()

    async def _stop_at_startup(self, status: int, why: str) -> int:
        """Shut down a start that cannot go on; the log's exit status is the process's."""
        print(f"start-up failed: {why}", file=sys.stderr)
        self.exit_status = status
        await self.shutdown()
        return status

    async def serve(self) -> int:
        """Run until SIGTERM, SIGHUP or SIGINT; returns the exit status."""
        loop = asyncio.get_running_loop()
        for sig in STOP_SIGNALS:
            loop.add_signal_handler(sig, self._on_signal, sig)
        self.systemd.status("starting: catching up")
        problem = await api_view.start_api(self)
        if problem is not None:  # API_LISTEN set, its address unusable (maybe only for now)
            return await self._stop_at_startup(
                EXIT_FAILED, f"API_LISTEN={self.settings.api_listen}: {problem}")
        # From the start: a start-up waiting for an unreachable exchange may last for hours.
        self.tasks.append(asyncio.create_task(self._state_guard(STATE_CHECK_S),
                                              name="state-guard"))
        # Start-up (a warm-up of many symbols can take minutes) stops at once on SIGTERM: it is
        # cancelled at an await, never inside a SQLite transaction, so nothing half-done stays.
        starting = asyncio.create_task(self.startup())
        stopping = asyncio.create_task(self.stop.wait())
        await asyncio.wait({starting, stopping}, return_when=asyncio.FIRST_COMPLETED)
        stopping.cancel()
        if not starting.done():
            starting.cancel()
        try:
            await starting
        except REFUSED as e:  # bad keys, hedge mode: a restart would not fix them
            return await self._refused(e)
        except asyncio.CancelledError:
            return await self._stopped()
        self.schedule()
        self.start_background()
        self.systemd.ready()
        self._trading_changed()  # the status line
        log.info("daemon_ready", symbols=len(self.symbols), timeframes=self.settings.timeframes)
        await self.stop.wait()
        log.info("daemon_stopping")
        return await self._stopped()

    async def _refused(self, e: Exception) -> int:
        log.error("startup_failed", error=str(e))
        return await self._stop_at_startup(EXIT_CONFIG, str(e))

    async def _stopped(self) -> int:
        """Shut down after a stop; a trading start that failed beyond retrying (in the
        background) ends the daemon as it would have at start."""
        failure = self.trading.failure
        if isinstance(failure, REFUSED):
            return await self._refused(failure)
        await self.shutdown()
        if failure is not None:
            raise failure
        return self.exit_status
