"""One scheduled slot of one timeframe: fetch every symbol's closed candles and feed its stream."""
from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Protocol

import pandas as pd
import structlog

from config import Settings
from domain.candles import Candles
from domain.timeframe import timeframe_ms
from exchanges.errors import ExchangeUnavailable, PermanentExchangeError
from exchanges.reasons import network_reason
from store import SignalRow, Store

from .group_commit import GroupCommit
from .pipeline import Freshness, PayloadBuilder, Stream
from .slots import candle_open_before, knows_grid

log = structlog.get_logger(__name__)

# Called with (symbol, timeframe, new candles, signals just recorded) after each stream is fed.
Sink = Callable[[str, str, Candles, list[SignalRow]], Awaitable[None]]



@dataclass(frozen=True)
class SlotSummary:
    """What one slot of one timeframe did: which symbols lag or failed, and why, if nothing
    could be fetched at all."""

    timeframe: str
    close: int                  # the close (ms) the slot waited for
    symbols: int                # symbols polled
    behind: list[str]           # fetched, but the closed candle was not published in time
    failed: list[str]           # not fetched (the fetcher's retry budget spent)
    attempts: int
    fetched: int
    unreachable: str | None     # why the exchange could not be reached when nothing was fetched

    @property
    def lagging(self) -> int:
        """Symbols failed or behind: what /status and health count."""
        return len(self.failed) + len(self.behind)

class CandleSource(Protocol):
    """Closed candles of any timeframe (fetchers.adapter.TimeframeAdapter)."""

    async def closed_candles(self, symbol: str, timeframe: str, since_ms: int | None = None,
                             bars: int | None = None) -> pd.DataFrame:
        """Closed candles from since_ms (inclusive open), or the last `bars`."""


class Poller:
    """Owns one Stream per (symbol, timeframe) and runs the slots of each timeframe."""

    def __init__(self, settings: Settings, store: Store, adapter: CandleSource,
                 payload: PayloadBuilder, sink: Sink, *, sleep=asyncio.sleep,
                 monotonic=time.monotonic, concurrency: int = 32) -> None:
        self.settings = settings
        self.store = store
        self.adapter = adapter
        self.payload = payload
        self.sink = sink
        self.sleep = sleep
        self.monotonic = monotonic
        self.streams: dict[tuple[str, str], Stream] = {}
        self._gate = asyncio.Semaphore(concurrency)
        self._locks: dict[tuple[str, str], asyncio.Lock] = {}
        # The series fed in one turn of the loop (a close's burst) share one transaction.
        self.commits = GroupCommit(store.transaction)
        self._columns = getattr(adapter, "closed_columns", None)

    def stream(self, symbol: str, timeframe: str) -> Stream:
        """The stream of (symbol, timeframe), restored from the store on first use."""
        key = (symbol, timeframe)
        if key not in self.streams:
            s = self.settings
            tf_ms = timeframe_ms(timeframe)
            fresh = Freshness(
                timeframe_ms=tf_ms,
                alert_max_age_ms=int(s.alert_max_age * tf_ms),
                # In its own slot a signal is found FETCH_DELAY_S (+ SLOT_RETRY_S) after close.
                late_after_ms=int((s.fetch_delay_s + s.slot_retry_s + 30) * 1000))
            self.streams[key] = Stream(self.store, symbol, timeframe, s.pivot_left,
                                       s.pivot_right, s.break_on, fresh, self.payload,
                                       venue=s.data_exchange)
            self._locks[key] = asyncio.Lock()
        return self.streams[key]

    async def poll(self, symbol: str, timeframe: str, now_ms: int) -> list[SignalRow]:
        """Fetch and feed the closed candles of one stream that it has not seen yet."""
        stream = self.stream(symbol, timeframe)
        async with self._locks[(symbol, timeframe)]:
            since = stream.fetch_since_ms()
            bars = None if since is not None else self.settings.warmup_bars
            async with self._gate:  # the venue's requests, not the commit, are what it bounds
                candles = await self._read(symbol, timeframe, since, bars)
            before = stream.last_ts
            step = stream.prepare(candles, now_ms)
            recorded = [] if step is None else stream.apply(step,
                                                            await self.commits.run(step.commit))
            new = candles if before is None else candles.between(before + 1)
        if len(new):
            await self.sink(symbol, timeframe, new, recorded)
        return recorded

    async def _read(self, symbol: str, timeframe: str, since: int | None,
                    bars: int | None) -> Candles:
        """The closed candles, as columns (a source that only answers frames is converted)."""
        if self._columns is not None:
            return await self._columns(symbol, timeframe, since_ms=since, bars=bars)
        return Candles.of(await self.adapter.closed_candles(symbol, timeframe, since_ms=since,
                                                            bars=bars))

    async def _poll_safely(self, symbol: str, timeframe: str, now_ms: int,
                           unreachable: list[str] | None = None) -> bool | None:
        """poll(), with failures logged: True done, False retry later in the slot, None give up.

        Why the exchange could not be reached goes to `unreachable` (transient failures only).
        """
        try:
            await self.poll(symbol, timeframe, now_ms)
            return True
        except PermanentExchangeError as e:
            log.error("poll_failed_permanently", symbol=symbol, tf=timeframe, error=str(e))
            return None
        except ExchangeUnavailable as e:
            reason = network_reason(e)
            log.warning("poll_failed", symbol=symbol, tf=timeframe, error=str(e), reason=reason)
            if unreachable is not None:
                unreachable.append(reason)
            return None  # the fetcher already spent its retry budget: next slot catches up
        except Exception:  # one symbol's bug must not stop the others
            log.exception("poll_crashed", symbol=symbol, tf=timeframe)
            return None

    async def run_slot(self, timeframe: str, symbols: list[str], close_ms: int,
                       now_ms: Callable[[], Awaitable[int]], retry_s: float = 0.0
                       ) -> SlotSummary:
        """Poll every symbol for the candle that closed at close_ms, retrying briefly (within
        `retry_s`) those whose exchange has not published it yet. Returns a summary; its
        `unreachable` is why the exchange could not be reached when no fetch succeeded."""
        want = candle_open_before(timeframe, close_ms) if knows_grid(timeframe) else None
        deadline = self.monotonic() + retry_s
        todo, failed, attempts = list(symbols), [], 0
        reasons: list[str] = []
        while todo:
            attempts += 1
            now = await now_ms()
            results = await asyncio.gather(*(self._poll_safely(s, timeframe, now, reasons)
                                             for s in todo))
            failed += [s for s, ok in zip(todo, results, strict=True) if ok is None]
            todo = [s for s, ok in zip(todo, results, strict=True) if ok and want is not None
                    and (self.streams[(s, timeframe)].last_ts or 0) < want]
            if not todo or self.monotonic() >= deadline:
                break
            await self.sleep(1.0)
        if todo:
            log.warning("candle_not_published", tf=timeframe, symbols=len(todo), want=want)
        fetched = len(symbols) - len(set(failed))
        # The most frequent reason (first seen on a tie): one line for the operator, not N.
        unreachable = Counter(reasons).most_common(1)[0][0] if reasons and not fetched else None
        return SlotSummary(timeframe, close_ms, len(symbols), todo, failed, attempts, fetched,
                           unreachable)


def log_slot(timeframe: str, summary: SlotSummary) -> None:
    """One line per slot; an error line when the exchange could not be reached at all."""
    log.info("slot_done", tf=timeframe, symbols=summary.symbols, behind=len(summary.behind),
             failed=len(summary.failed))
    if summary.unreachable:
        log.error("market_data_unreachable", tf=timeframe, reason=summary.unreachable,
                  symbols=summary.symbols)
