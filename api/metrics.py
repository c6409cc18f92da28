"""Prometheus metrics of one daemon: a registry it owns, the latencies the pipeline reports and
gauges read from its state at scrape time."""
from __future__ import annotations

from collections.abc import Callable, Iterator

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    ProcessCollector,
    generate_latest,
)
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

# Candle close -> signal recorded: FETCH_DELAY_S (2 s) plus the fetch; minutes when catching up.
CLOSE_BUCKETS = (0.5, 1, 2, 3, 4, 5, 7.5, 10, 15, 20, 30, 45, 60, 120, 300, 900, 3600)
# Signal recorded -> alert accepted by Telegram, or -> entry order sent.
ALERT_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1, 2, 3, 5, 10, 20, 30, 60, 120, 300)
ORDER_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60)

# What the gauges are computed from, read when Prometheus scrapes:
# {"open_positions": int, "outbox_pending": int, "candle_age_s": {timeframe: seconds},
#  "feed": {"exchange": str, "messages": {feed: int}, "fallbacks": {reason: int}}}
Snapshot = Callable[[], dict]


class _StateGauges(Collector):
    """Gauges computed from the daemon's state on each scrape (never stale, nothing to update)."""

    def __init__(self) -> None:
        self.read: Snapshot | None = None

    def describe(self) -> list[Metric]:
        """The families without values, so registering never calls into the daemon."""
        return list(self._families({}))

    def collect(self) -> Iterator[Metric]:
        """Read the daemon's state once and yield the gauges."""
        yield from self._families(self.read() if self.read is not None else {})

    @staticmethod
    def _families(snap: dict) -> Iterator[Metric]:
        positions = GaugeMetricFamily("choch_open_positions", "Positions the daemon holds open")
        pending = GaugeMetricFamily("choch_outbox_pending", "Alerts waiting in the outbox")
        age = GaugeMetricFamily("choch_last_closed_candle_age_seconds",
                                "Seconds since the newest candle fed (per timeframe) closed",
                                labels=["timeframe"])
        if "open_positions" in snap:
            positions.add_metric([], snap["open_positions"])
        if "outbox_pending" in snap:
            pending.add_metric([], snap["outbox_pending"])
        for timeframe, seconds in sorted((snap.get("candle_age_s") or {}).items()):
            age.add_metric([timeframe], seconds)
        messages = CounterMetricFamily("choch_feed_messages", "Candle messages received, by feed "
                                       "(ws: stream frames; rest: candle reads)",
                                       labels=["exchange", "feed"])
        fallbacks = CounterMetricFamily("choch_feed_fallbacks", "Times the candle stream failed "
                                        "and REST read what it missed, by reason",
                                        labels=["exchange", "reason"])
        feed = snap.get("feed") or {}
        for name, n in sorted((feed.get("messages") or {}).items()):
            messages.add_metric([feed["exchange"], name], n)
        for reason, n in sorted((feed.get("fallbacks") or {}).items()):
            fallbacks.add_metric([feed["exchange"], reason], n)
        yield from (positions, pending, age, messages, fallbacks)


class Metrics:
    """The daemon's registry: histograms and counters it observes, gauges it exposes."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.close_to_signal = Histogram(
            "choch_candle_close_to_signal_seconds",
            "From a candle's close to the signal it confirmed being recorded",
            ["exchange", "timeframe", "feed"], buckets=CLOSE_BUCKETS, registry=self.registry)
        self.signal_to_alert = Histogram(
            "choch_signal_to_alert_seconds",
            "From a signal being recorded to its alert being accepted by the receiver",
            ["exchange", "timeframe"], buckets=ALERT_BUCKETS, registry=self.registry)
        self.signal_to_order = Histogram(
            "choch_signal_to_order_seconds",
            "From a signal being recorded to its entry order being sent",
            ["exchange", "timeframe"], buckets=ORDER_BUCKETS, registry=self.registry)
        self.requests = Counter(
            "choch_exchange_requests", "HTTP requests to the exchange instances, by outcome",
            ["instance", "exchange", "outcome"], registry=self.registry)
        self._gauges = _StateGauges()
        self.registry.register(self._gauges)
        # process_resident_memory_bytes, CPU seconds, open fds (Linux /proc).
        ProcessCollector(registry=self.registry)

    def watch(self, read: Snapshot) -> None:
        """Compute the state gauges from `read()` at each scrape."""
        self._gauges.read = read

    def signal_recorded(self, exchange: str, timeframe: str, seconds: float,
                        feed: str = "rest") -> None:
        """A signal was recorded `seconds` after its candle closed (brought by `feed`)."""
        self.close_to_signal.labels(exchange, timeframe, feed).observe(max(0.0, seconds))

    def alert_sent(self, exchange: str, timeframe: str, seconds: float) -> None:
        """A signal's alert was delivered `seconds` after the signal was recorded."""
        self.signal_to_alert.labels(exchange, timeframe).observe(max(0.0, seconds))

    def order_sent(self, exchange: str, timeframe: str, seconds: float) -> None:
        """A signal's entry order was sent `seconds` after the signal was recorded."""
        self.signal_to_order.labels(exchange, timeframe).observe(max(0.0, seconds))

    def exchange_request(self, instance: str, exchange: str, outcome: str) -> None:
        """One HTTP request of the data or trading instance ended with `outcome`."""
        self.requests.labels(instance, exchange, outcome).inc()

    def exposition(self) -> tuple[bytes, str]:
        """The Prometheus text format of everything, and its content type."""
        return generate_latest(self.registry), CONTENT_TYPE_LATEST
