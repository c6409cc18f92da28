"""Batch, streaming, restored-from-snapshot and the literal spec reading agree; no repainting."""
from __future__ import annotations

import json

import pytest

from choch import StructureDetector, scan, scan_streaming

from ..shared_data import load_candles
from .candles import random_candles
from .reference import reference_events

PARAMS = [(1, 1, "close"), (2, 3, "wick"), (5, 5, "close"), (5, 5, "wick"), (3, 1, "close"),
          (1, 4, "wick")]
REAL_FILES = ["BTCUSDT-spot-1m.csv", "BTCUSDT-spot-15m.csv", "BTCUSDT-spot-1h.csv",
              "ETHUSDT-spot-1h.csv", "LTCUSDT-usdm-1m-2026-02.csv"]


def _columns(df):
    return [df[k].tolist() for k in ("timestamp", "open", "high", "low", "close")]


@pytest.mark.parametrize("seed", range(40))
def test_batch_and_streaming_match_the_literal_spec_on_random_candles(seed):
    left, right, break_on = PARAMS[seed % len(PARAMS)]
    df = random_candles(seed, 400, tick=0.5 if seed % 2 else 1.0, gaps=seed % 3 == 0)
    expected = reference_events(*_columns(df), left, right, break_on)
    assert [e.to_dict() for e in scan(df, left, right, break_on)] == expected
    assert [e.to_dict() for e in scan_streaming(df, left, right, break_on)] == expected
    assert len(expected) > 5  # the data really exercises the rules


@pytest.mark.parametrize("seed", range(12))
def test_prefix_gives_exactly_the_full_runs_earlier_events_for_every_k(seed):
    left, right, break_on = PARAMS[seed % len(PARAMS)]
    df = random_candles(100 + seed, 250, gaps=seed % 2 == 0)
    full = scan(df, left, right, break_on)
    times = df["timestamp"].tolist()
    for k in range(len(df) + 1):
        cutoff = times[k] if k < len(df) else float("inf")
        assert scan(df.iloc[:k], left, right, break_on) == [
            e for e in full if e.break_time < cutoff], k


def test_prefix_invariance_on_real_candles_for_every_k():
    df = load_candles("BTCUSDT-spot-1h.csv").iloc[:1500]  # holds the 2021-04-20 gap
    full = scan(df)
    times = df["timestamp"].tolist()
    for k in range(len(df) + 1):
        cutoff = times[k] if k < len(df) else float("inf")
        assert scan(df.iloc[:k]) == [e for e in full if e.break_time < cutoff], k
    assert len(full) > 40


@pytest.mark.parametrize("cut", [0, 1, 7, 10, 11, 12, 57, 199, 300])
def test_snapshot_restore_mid_stream_continues_exactly(cut):
    df = random_candles(7, 300, tick=0.5)
    rows = list(zip(*_columns(df)))
    whole = StructureDetector(2, 3, "wick").update_many(rows)
    first = StructureDetector(2, 3, "wick")
    before = first.update_many(rows[:cut])
    state = json.loads(json.dumps(first.to_state()))  # as the daemon stores it
    after = StructureDetector.from_state(state).update_many(rows[cut:])
    assert before + after == whole and len(whole) > 10


def test_restored_detector_state_round_trips_unchanged():
    df = random_candles(3, 120)
    det = StructureDetector(5, 5)
    det.update_many(zip(*_columns(df)))
    state = det.to_state()
    assert StructureDetector.from_state(json.loads(json.dumps(state))).to_state() == state


def test_state_of_another_version_is_refused():
    state = StructureDetector().to_state()
    state["version"] = 99
    with pytest.raises(ValueError, match="version"):
        StructureDetector.from_state(state)


def test_streaming_refuses_a_repeated_bar_after_restore():
    det = StructureDetector(1, 1)
    det.update((60_000, 1, 2, 0.5, 1.5))
    restored = StructureDetector.from_state(det.to_state())
    with pytest.raises(ValueError, match="not after"):
        restored.update((60_000, 1, 2, 0.5, 1.5))


@pytest.mark.parametrize("name", REAL_FILES)
@pytest.mark.parametrize("break_on", ["close", "wick"])
def test_batch_equals_streaming_on_every_real_file(name, break_on):
    df = load_candles(name)
    batch = scan(df, 5, 5, break_on)
    assert batch == scan_streaming(df, 5, 5, break_on)
    assert len(batch) > 100
    assert all(e.break_time > e.pivot_time for e in batch)


def test_real_candles_match_the_literal_spec():
    df = load_candles("ETHUSDT-spot-1h.csv").iloc[:4000]
    expected = reference_events(*_columns(df), 5, 5, "close")
    assert [e.to_dict() for e in scan(df)] == expected


def test_every_break_is_after_its_pivots_confirmation_bar():
    df = load_candles("BTCUSDT-spot-15m.csv")
    index = {t: i for i, t in enumerate(df["timestamp"].tolist())}
    for e in scan(df, 3, 4):
        assert index[e.break_time] > index[e.pivot_time] + 4
