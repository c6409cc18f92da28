"""One (symbol, timeframe) stream: closed candles in, detector fed, signals recorded atomically."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pandas as pd
import structlog

from alerts import signal_payload
from choch import Event, StructureDetector
from config import Settings
from domain.candles import Candles, joined
from domain.timeframe import timeframe_ms
from domain.trade import TradeState
from store import NewSignal, SignalRow, Store

from . import banner

log = structlog.get_logger(__name__)

# Builds the outbox payload of a signal:
# (symbol, timeframe, event, candles up to the break) -> dict.
PayloadBuilder = Callable[[str, str, Event, pd.DataFrame], dict]


def params_key(left: int, right: int, break_on: str) -> str:
    """The detector parameters as they appear in an event's identity, e.g. 'L5R5close'."""
    return f"L{left}R{right}{break_on}"


def alert_payload(s: Settings, symbol: str, timeframe: str, event: Event,
                  candles: pd.DataFrame) -> dict:
    """The outbox payload of a signal: the alert's text fields and its chart candles."""
    venue = s.data_venue
    return signal_payload(symbol, timeframe, event, banner.alert_mode(s),
                          params_key(s.pivot_left, s.pivot_right, s.break_on), candles,
                          s.pivot_left, s.pivot_right, shown=venue.shown(symbol),
                          chart=venue.chart_symbol(symbol))


@dataclass(frozen=True)
class Fed:
    """Candles fed to a copy of a stream's detector, and the commit that records them."""

    detector: StructureDetector
    last_ts: int
    window: Candles  # chart history with the new candles
    warming: bool
    bars: int
    found: int
    commit: Callable[[], list[SignalRow]]


@dataclass(frozen=True)
class Freshness:
    """What may still be done with an event of a given age (ms since its candle closed)."""

    timeframe_ms: int
    alert_max_age_ms: int
    late_after_ms: int

    def alertable(self, age_ms: int) -> bool:
        """Younger than ALERT_MAX_AGE candles: still worth an alert."""
        return age_ms <= self.alert_max_age_ms

    def tradeable(self, age_ms: int) -> bool:
        """Younger than one candle: still worth a trade."""
        return age_ms <= self.timeframe_ms

    def late(self, age_ms: int) -> bool:
        """Found after its own slot (catching up after downtime or an outage)."""
        return age_ms > self.late_after_ms


class Stream:
    """The detector of one symbol x timeframe, restored from and saved to the store."""

    def __init__(self, store: Store, symbol: str, timeframe: str, left: int, right: int,
                 break_on: str, freshness: Freshness, payload: PayloadBuilder,
                 history_bars: int = 150, *, venue: str) -> None:
        self.store = store
        self.venue = venue  # the data venue: signals and detector states are keyed by it
        self.symbol = symbol
        self.timeframe = timeframe
        self.timeframe_ms = timeframe_ms(timeframe)
        self.params = params_key(left, right, break_on)
        self.freshness = freshness
        self.payload = payload
        self.history_bars = history_bars  # candles kept for the alert's chart
        saved = store.load_detector(symbol, timeframe, self.params, venue=venue)
        if saved is None:
            self.detector = StructureDetector(left, right, break_on, self.timeframe_ms)
            self.last_ts: int | None = None
        else:
            self.detector = StructureDetector.from_state(saved[0])
            self.last_ts = saved[1]
        self.recent = Candles.empty()  # the last candles fed, for charts

    @property
    def warmed_up(self) -> bool:
        """True once the detector has a saved state (alerts are allowed)."""
        return self.last_ts is not None

    def fetch_since_ms(self) -> int | None:
        """Open time to fetch from: None to warm up; else the next candle, or earlier after a
        restart so that the alert chart has its history (older candles are not fed again)."""
        if self.last_ts is None:
            return None
        if len(self.recent):
            return self.last_ts + 1
        return max(0, self.last_ts + 1 - self.history_bars * self.timeframe_ms)

    def feed(self, candles: Candles | pd.DataFrame, now_ms: int) -> list[SignalRow]:
        """Feed closed candles (oldest first) and record what they cause in one transaction.

        Candles at or before the last one fed only extend the chart history, so a repeated
        fetch is harmless. During warm-up (no saved state) events are neither recorded nor
        alerted: the detector only learns the structure.
        """
        step = self.prepare(candles, now_ms)
        return [] if step is None else self.apply(step, step.commit())

    def prepare(self, candles: Candles | pd.DataFrame, now_ms: int) -> Fed | None:
        """What feeding these candles causes, computed on a copy of the detector; nothing is
        written or changed until `apply` (so a failed commit leaves the stream as it was)."""
        candles = self._unseen(Candles.of(candles))
        if not len(candles):
            return None
        warming = self.last_ts is None
        window = joined(self.recent, candles, self.history_bars + len(candles))
        detector, found = self._detect(candles)
        new = [] if warming else [self._decide(e, window, now_ms) for e in found]
        last_ts = int(candles.ts[-1])
        state = detector.to_state()

        def commit() -> list[SignalRow]:
            return self.store.commit_candles(self.symbol, self.timeframe, self.params, state,
                                             last_ts, new, now_ms, venue=self.venue)

        return Fed(detector, last_ts, window, warming, len(candles), len(found), commit)

    def apply(self, step: Fed, recorded: list[SignalRow]) -> list[SignalRow]:
        """The stream after its commit: the new detector, last candle and chart history."""
        self.detector, self.last_ts = step.detector, step.last_ts
        self.recent = step.window.tail(self.history_bars)
        self._log_fed(step.warming, step.bars, step.found, recorded)
        return recorded

    def _unseen(self, candles: Candles) -> Candles:
        """The candles after the last one fed; the older ones go to the chart history only."""
        if self.last_ts is None:
            return candles
        old = candles.between(until_ms=self.last_ts + 1)
        if len(old):
            self.recent = joined(self.recent, old, self.history_bars)
        return candles.between(self.last_ts + 1)

    def _detect(self, candles: Candles) -> tuple[StructureDetector, list[Event]]:
        """The events the candles cause, found on a copy of the detector: if the commit fails,
        the live detector is left as it was."""
        detector = StructureDetector.from_state(self.detector.to_state())
        return detector, [event for bar in candles.tuples()
                          for event in detector.update(bar[:5])]

    def _log_fed(self, warming: bool, bars: int, found: int, recorded: list[SignalRow]) -> None:
        """The warm-up line, or one line per recorded signal."""
        if warming:
            log.info("detector_warmed_up", symbol=self.symbol, tf=self.timeframe,
                     bars=bars, events_not_alerted=found)
        for s in recorded:
            log.info("signal_recorded", symbol=self.symbol, tf=self.timeframe,
                     kind=s.event.kind, direction=s.event.direction, price_level=s.event.level,
                     break_time=s.event.break_time, late=s.catch_up, trade=s.trade_state)

    def _decide(self, event: Event, window: Candles, now_ms: int) -> NewSignal:
        """Record always; alert while young enough; trade only while younger than one candle."""
        age = now_ms - event.confirmed_at
        f = self.freshness
        alert: dict | None = None
        if f.alertable(age):
            chart = window.between(until_ms=event.break_time + 1).tail(self.history_bars)
            alert = self.payload(self.symbol, self.timeframe, event, chart.frame())
        trade = TradeState.PENDING if f.tradeable(age) else TradeState.NOT_TRADED
        return NewSignal(event, f.late(age), trade, alert)

