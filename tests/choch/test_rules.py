"""The detector rules of docs/choch-spec.md, one behaviour per test, on both paths."""
from __future__ import annotations

import pytest

from choch import BOS, CHOCH, Event, StructureDetector, scan, scan_streaming

from .candles import frame

BOTH = pytest.mark.parametrize("run", [scan, scan_streaming], ids=["batch", "streaming"])

# The spec's worked example (L=1, R=1, close); open = close is irrelevant in close mode.
WORKED = [(9.5, 10, 9, 9.5), (10.5, 11, 9.5, 10.5), (9.4, 10.5, 9.2, 9.4), (8.8, 10, 8.5, 8.8),
          (9.5, 9.6, 8.8, 9.5), (11.4, 11.6, 9.4, 11.4), (8.2, 11.5, 8.0, 8.2)]


@BOTH
def test_worked_example_gives_the_specs_bos_then_choch(run):
    events = run(frame(WORKED), left=1, right=1)
    assert events == [
        Event(BOS, "bullish", 11.0, 60_000, 300_000, 360_000, 8.5, 11.4),
        Event(CHOCH, "bearish", 8.5, 180_000, 360_000, 420_000, 11.6, 8.2),
    ]


def test_event_has_exactly_the_spec_fields():
    event = scan(frame(WORKED), left=1, right=1)[0]
    assert list(event.to_dict()) == ["kind", "direction", "level", "pivot_time", "break_time",
                                     "confirmed_at", "extreme", "close"]


@BOTH
def test_of_equal_highs_the_earliest_is_the_pivot(run):
    # Bars 1 and 2 both reach 12: bar 1 is the pivot (>= on the right), bar 2 is not (needs >).
    rows = [(10, 10, 9, 10), (11, 12, 10, 11), (11, 12, 10, 11), (10, 11, 9.5, 10),
            (10, 10.5, 9.6, 10), (12.5, 13, 10, 12.5)]
    events = run(frame(rows), left=1, right=2)
    bullish = [e for e in events if e.direction == "bullish"]
    assert [(e.level, e.pivot_time) for e in bullish] == [(12.0, 60_000)]


@BOTH
def test_of_equal_lows_the_earliest_is_the_pivot(run):
    rows = [(10, 11, 10, 10), (9, 10, 8, 9), (9, 10, 8, 9), (10, 10.5, 8.5, 10),
            (10, 10.4, 9, 10), (7.5, 10, 7, 7.5)]
    events = run(frame(rows), left=1, right=2)
    bearish = [e for e in events if e.direction == "bearish"]
    assert [(e.level, e.pivot_time) for e in bearish] == [(8.0, 60_000)]


@BOTH
def test_a_high_equal_to_one_on_its_left_is_not_a_pivot(run):
    rows = [(10, 12, 9, 10), (11, 12, 10, 11), (10, 11, 9.5, 10), (13, 13.5, 10, 13)]
    assert [e for e in run(frame(rows), left=1, right=1) if e.direction == "bullish"] == []


@BOTH
def test_a_bar_can_be_both_pivot_high_and_pivot_low(run):
    # Bar 1 is an outside bar: highest high and lowest low of its neighbourhood.
    rows = [(10, 10.5, 9.5, 10), (10, 12, 8, 10), (10, 10.5, 9.5, 10), (10, 11, 9.6, 10),
            (12.5, 12.6, 10, 12.5), (7.5, 12.6, 7, 7.5)]
    events = run(frame(rows), left=1, right=1)
    assert [(e.direction, e.level, e.pivot_time) for e in events] == [
        ("bullish", 12.0, 60_000), ("bearish", 8.0, 60_000)]
    assert [e.kind for e in events] == [BOS, CHOCH]


def _double_break_rows(open_, close):
    # Pivot high 12 and pivot low 8 at bar 1 (outside bar); bar 4 wicks through both levels.
    return [(10, 10.5, 9.5, 10), (10, 12, 8, 10), (10, 10.5, 9.5, 10), (10, 10.6, 9.4, 10),
            (open_, 13, 7, close)]


@BOTH
def test_wick_double_break_on_an_up_bar_emits_bearish_first(run):
    events = run(frame(_double_break_rows(9, 11)), left=1, right=1, break_on="wick")
    assert [(e.kind, e.direction) for e in events] == [(BOS, "bearish"), (CHOCH, "bullish")]
    assert all(e.break_time == 240_000 for e in events)


@BOTH
def test_wick_double_break_on_a_down_bar_emits_bullish_first(run):
    events = run(frame(_double_break_rows(11, 9)), left=1, right=1, break_on="wick")
    assert [(e.kind, e.direction) for e in events] == [(BOS, "bullish"), (CHOCH, "bearish")]


@BOTH
def test_wick_double_break_on_a_doji_counts_as_up_bar(run):
    events = run(frame(_double_break_rows(10, 10)), left=1, right=1, break_on="wick")
    assert [e.direction for e in events] == ["bearish", "bullish"]


@BOTH
def test_close_mode_ignores_a_wick_through_the_level(run):
    assert run(frame(_double_break_rows(9, 11)), left=1, right=1, break_on="close") == []


@BOTH
def test_a_broken_level_is_disarmed_and_never_breaks_twice(run):
    rows = WORKED[:6] + [(11.5, 11.8, 11.2, 11.6), (11.7, 11.9, 11.3, 11.8)]
    bullish = [e for e in run(frame(rows), left=1, right=1) if e.direction == "bullish"]
    assert len(bullish) == 1


@BOTH
def test_same_direction_breaks_are_bos_and_a_reversal_is_choch(run):
    # Staircase up: two bullish breaks (BOS, BOS), then a close below the latest pivot low.
    rows = [(10, 10.5, 9.5, 10), (11, 11, 10, 10.5), (10.4, 10.6, 9.8, 10.2),
            (11.2, 11.5, 10.1, 11.2), (11.4, 12, 11, 11.8), (11.5, 11.6, 10.9, 11.2),
            (12.4, 12.5, 11.1, 12.4), (10.5, 12.4, 10.4, 10.5)]
    events = run(frame(rows), left=1, right=1)
    assert [(e.kind, e.direction) for e in events] == [
        (BOS, "bullish"), (BOS, "bullish"), (CHOCH, "bearish")]


@BOTH
def test_breaks_are_checked_before_the_bar_confirms_a_new_pivot(run):
    # Pivot high 11 (bar 1) is armed. Bar 4 closes at 12 (> 11) and also confirms a new pivot
    # high 13 (bar 3). Breaks come first, so 11 breaks on bar 4; confirming first would lose it.
    rows = [(10, 10, 9, 9.5), (10.5, 11, 9.5, 10.5), (10, 10.5, 9.6, 10),
            (10.2, 13, 10, 10.8), (11, 12.5, 10.5, 12)]
    events = run(frame(rows), left=1, right=1)
    assert [(e.level, e.pivot_time, e.break_time) for e in events] == [(11.0, 60_000, 240_000)]


@BOTH
def test_a_break_comes_only_after_the_confirmation_bar(run):
    # Pivot high 11 (bar 1) is confirmed by bar 2; the first close above it is on bar 3.
    rows = [(10, 10, 9, 9.5), (10.5, 11, 9.5, 10.5), (10, 10.9, 9.8, 10.8), (11.5, 11.6, 10, 11.5)]
    assert [e.break_time for e in run(frame(rows), left=1, right=1)] == [180_000]


@BOTH
def test_bars_before_left_are_never_pivots(run):
    # Bar 0 has the highest high, but with L=2 it has no left bars to beat.
    rows = [(10, 20, 9, 10), (10, 11, 9, 10), (10, 11, 9, 10), (21, 22, 10, 21)]
    assert [e for e in run(frame(rows), left=2, right=1) if e.direction == "bullish"] == []


@BOTH
def test_a_newer_lower_pivot_high_replaces_the_armed_one(run):
    # Pivot high 12 (bar 1), then a lower pivot high 11 (bar 3) replaces it: 11.5 breaks 11.
    rows = [(10, 10, 9, 9.5), (11, 12, 10, 11), (10, 10.5, 9.5, 10), (10.5, 11, 10, 10.5),
            (10, 10.4, 9.8, 10), (11.5, 11.6, 10, 11.5)]
    events = run(frame(rows), left=1, right=1)
    assert [(e.level, e.pivot_time) for e in events if e.direction == "bullish"] == [
        (11.0, 180_000)]


@BOTH
def test_confirmed_at_is_break_time_plus_the_timeframe(run):
    events = run(frame(WORKED, step=900_000), left=1, right=1)
    assert [e.confirmed_at - e.break_time for e in events] == [900_000, 900_000]
    fixed = run(frame(WORKED, step=900_000), left=1, right=1, timeframe_ms=3_600_000)
    assert [e.confirmed_at - e.break_time for e in fixed] == [3_600_000, 3_600_000]


@BOTH
def test_a_gap_does_not_create_bars_or_stretch_the_timeframe(run):
    df = frame(WORKED)
    df.loc[3:, "timestamp"] += 10 * 60_000  # ten missing minutes before bar 3
    events = run(df, left=1, right=1)
    assert [e.break_time for e in events] == [900_000, 960_000]
    assert [e.confirmed_at - e.break_time for e in events] == [60_000, 60_000]


@BOTH
def test_timestamps_must_increase(run):
    df = frame(WORKED)
    df.loc[4, "timestamp"] = df.loc[3, "timestamp"]
    with pytest.raises(ValueError, match="not after"):
        run(df, left=1, right=1)


def test_scan_rejects_a_missing_column_and_a_nan_price():
    with pytest.raises(ValueError, match="close"):
        scan(frame(WORKED).drop(columns="close"))
    df = frame(WORKED)
    df.loc[2, "high"] = float("nan")
    with pytest.raises(ValueError, match="row 2"):
        scan(df)


@pytest.mark.parametrize("kwargs", [dict(left=0), dict(right=0), dict(left=1.5),
                                    dict(break_on="body"), dict(left=True)])
def test_invalid_parameters_are_refused(kwargs):
    with pytest.raises(ValueError):
        StructureDetector(**kwargs)
    with pytest.raises(ValueError):
        scan(frame(WORKED), **kwargs)


def test_empty_and_short_inputs_give_no_events():
    assert scan(frame(WORKED)[:0]) == []
    assert scan(frame(WORKED[:3])) == []


def test_update_accepts_tuples_and_mappings_alike():
    a, b = StructureDetector(1, 1), StructureDetector(1, 1)
    out_a, out_b = [], []
    for i, (o, h, l, c) in enumerate(WORKED):
        out_a += a.update((i * 60_000, o, h, l, c))
        out_b += b.update({"timestamp": i * 60_000, "open": o, "high": h, "low": l, "close": c})
    assert out_a == out_b and len(out_a) == 2


def test_the_documented_example_is_the_one_tested():
    from tests.shared_data import REPO
    doc = (REPO / "docs" / "choch-spec.md").read_text(encoding="utf-8")
    table = doc.split("## An example", 1)[1]
    rows = [[c.strip() for c in line.strip("|").split("|")] for line in table.splitlines()
            if line.startswith("| ") and line[2].isdigit()]
    assert [(float(h), float(lo), float(c)) for _, h, lo, c, _ in rows] == \
        [(high, low, close) for _, high, low, close in WORKED]
    said = {int(r[0]): r[4] for r in rows}
    assert "bullish **BOS**" in said[5] and "level 11, extreme 8.5" in said[5]
    assert "bearish **CHoCH**" in said[6] and "level 8.5, extreme 11.6" in said[6]
