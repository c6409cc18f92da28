"""A stream feeds its detector and records each event once, atomically, with the right freshness."""
from __future__ import annotations

import pytest

import choch
from app.pipeline import Freshness, Stream
from store import Store

from ..choch.candles import random_candles

TF_MS = 60_000


def _payload(symbol, timeframe, event, candles):
    return {"symbol": symbol, "pivot_time": event.pivot_time, "chart_rows": len(candles),
            "chart_last": int(candles["timestamp"].iloc[-1])}


def _stream(store, **fresh) -> Stream:
    f = Freshness(TF_MS, fresh.get("alert", 2 * TF_MS), fresh.get("late", 30_000))
    return Stream(store, "BTC/USDT", "1m", 2, 2, "close", f, _payload, venue="binance")


@pytest.fixture
def candles():
    df = random_candles(11, 600)
    df["volume"] = 1.0
    return df


def _live_feed(stream, df, start):
    """Feed bar by bar as the daemon does in its slots, each just after the candle closed."""
    out = []
    for i in range(start, len(df)):
        now = int(df["timestamp"].iloc[i]) + TF_MS + 2_000
        out += stream.feed(df.iloc[i:i + 1], now)
    return out


def test_warm_up_records_nothing_then_live_bars_record_exactly_the_scan_events(store, candles):
    stream = _stream(store)
    assert stream.feed(candles.iloc[:300], now_ms=0) == [] and store.recent_signals() == []
    recorded = _live_feed(stream, candles, 300)
    cutoff = candles["timestamp"].iloc[300]
    expected = [e for e in choch.scan(candles, 2, 2, timeframe_ms=TF_MS) if e.break_time >= cutoff]
    assert [r.event for r in recorded] == expected and len(expected) > 10
    assert all(r.trade_state == "pending" and not r.catch_up for r in recorded)
    assert len(store.pending()) == len(expected)  # one outbox row per signal


def test_feeding_the_same_candles_again_records_nothing(store, candles):
    stream = _stream(store)
    stream.feed(candles.iloc[:300], 0)
    first = _live_feed(stream, candles.iloc[:400], 300)
    assert stream.feed(candles.iloc[:400], 10**13) == []
    assert len(store.recent_signals(1000)) == len(first)


@pytest.mark.slow  # over a second: left out of make test-fast
def test_a_failed_commit_leaves_the_detector_as_it_was_and_loses_nothing(store, candles,
                                                                         monkeypatch):
    reference = _stream(Store(":memory:"))
    reference.feed(candles.iloc[:300], 0)
    expected = _live_feed(reference, candles, 300)

    stream = _stream(store)
    stream.feed(candles.iloc[:300], 0)
    real = store.commit_candles
    calls = {"n": 0}

    def flaky(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] % 3 == 0:
            raise OSError("disk I/O error")  # as if killed before COMMIT
        return real(*args, **kwargs)

    monkeypatch.setattr(store, "commit_candles", flaky)
    got = []
    for i in range(300, len(candles)):
        now = int(candles["timestamp"].iloc[i]) + TF_MS + 2_000
        try:
            got += stream.feed(candles.iloc[:i + 1], now)  # the fetch repeats what was not fed
        except OSError:
            continue
    assert [r.event for r in got] == [r.event for r in expected]


@pytest.mark.slow  # over a second: left out of make test-fast
def test_restarting_from_the_store_continues_exactly(store, candles):
    stream = _stream(store)
    stream.feed(candles.iloc[:300], 0)
    first = _live_feed(stream, candles.iloc[:450], 300)
    restarted = _stream(store)  # a new process: state comes from SQLite
    assert restarted.last_ts == stream.last_ts
    assert restarted.fetch_since_ms() < stream.last_ts  # re-fetch history for the chart
    second = _live_feed(restarted, candles, 450)
    everything = _live_feed(_warm(candles), candles, 300)
    assert [r.event for r in first + second] == [r.event for r in everything]


def _warm(candles):
    s = _stream(Store(":memory:"))
    s.feed(candles.iloc[:300], 0)
    return s


def test_catch_up_alerts_only_young_signals_marked_late_and_trades_none_older_than_a_candle(
        store, candles):
    stream = _stream(store)
    stream.feed(candles.iloc[:300], 0)
    now = int(candles["timestamp"].iloc[-1]) + TF_MS + 2_000  # daemon was down for 300 bars
    recorded = stream.feed(candles, now)
    assert len(recorded) > 10
    for r in recorded:
        age = now - r.event.confirmed_at
        assert r.catch_up == (age > 30_000)
        assert r.trade_state == ("pending" if age <= TF_MS else "not_traded")
    alerted = {row.signal_id for row in store.pending(1000)}
    assert alerted == {r.id for r in recorded if now - r.event.confirmed_at <= 2 * TF_MS}
    assert len(alerted) < len(recorded)


def test_the_alert_chart_ends_at_the_break_candle(store, candles):
    stream = _stream(store)
    stream.feed(candles.iloc[:300], 0)
    _live_feed(stream, candles, 300)
    for row in store.pending(1000):
        signal = store.signal(row.signal_id)
        assert row.payload["chart_last"] == signal.event.break_time
        assert row.payload["chart_rows"] == 150
