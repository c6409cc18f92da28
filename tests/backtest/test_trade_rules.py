"""The backtest's trade rules, one hand-computed case each, on tiny candle frames."""
from __future__ import annotations

import pytest

from backtest.metrics import max_drawdown, summarize
from trading import rules as R
from trading.rules import Trade, TradeRules

from .frames import T0, TF, close_time, event, frame, run

FLAT = (100.0, 100.5, 99.5, 100.0)  # touches neither a stop at 98/102 nor a target at 104/96


# 3.1 kinds and sides
def test_only_trade_on_kinds_are_traded():
    candles = frame(FLAT, FLAT, FLAT)
    bos = event(0, "bullish", 100.0, 98.0, kind="BOS")
    assert run(candles, [bos]).trades == []
    assert len(run(candles, [bos], trade_on=frozenset({"BOS"})).trades) == 1


def test_bullish_opens_a_long_and_bearish_a_short():
    candles = frame(FLAT, FLAT)
    assert run(candles, [event(0, "bullish", 100.0, 98.0)]).trades[0].side == "long"
    assert run(candles, [event(0, "bearish", 100.0, 102.0)]).trades[0].side == "short"


# 3.2 entry price and times
def test_entry_is_the_break_close_worsened_by_slippage_at_its_close_time():
    candles = frame(FLAT, FLAT, FLAT)
    long = run(candles, [event(1, "bullish", 100.0, 98.0)], slippage_bps=10).trades[0]
    short = run(candles, [event(1, "bearish", 100.0, 102.0)], slippage_bps=10).trades[0]
    assert long.entry_price == 100.0 * (1 + 10 / 1e4)
    assert short.entry_price == 100.0 * (1 - 10 / 1e4)
    assert long.signal_time == long.entry_time == close_time(1) == T0 + 2 * TF


# 3.3 stop validity
def test_a_stop_not_beyond_the_entry_skips_the_signal():
    candles = frame(FLAT, FLAT)
    assert run(candles, [event(0, "bullish", 100.0, 100.0)]).trades == []
    assert run(candles, [event(0, "bearish", 100.0, 100.0)]).trades == []
    assert run(candles, [event(0, "bullish", 100.0, 100.5)]).skipped == 1


def test_stop_validity_uses_the_slipped_entry():
    candles = frame(FLAT, FLAT)
    at_close = event(0, "bullish", 100.0, 100.0)  # stop == close: invalid before slippage
    assert run(candles, [at_close]).trades == []
    trade = run(candles, [at_close], slippage_bps=10).trades[0]
    assert trade.stop_price == 100.0 and trade.entry_price == pytest.approx(100.1)


# 3.4 target and quantity
def test_target_is_entry_plus_risk_reward_times_risk():
    candles = frame(FLAT, FLAT)
    long = run(candles, [event(0, "bullish", 100.0, 98.0)], risk_reward=1.5).trades[0]
    short = run(candles, [event(0, "bearish", 100.0, 102.0)], risk_reward=1.5).trades[0]
    assert (long.stop_price, long.target_price) == (98.0, 103.0)
    assert (short.stop_price, short.target_price) == (102.0, 97.0)


def test_quantity_is_size_times_leverage_over_entry_floored_only_with_a_step():
    assert R.quantity(100.0, 20, 30.0) == 100.0 * 20 / 30.0
    assert R.quantity(100.0, 20, 30.0, step=0.1) == 66.6
    assert R.quantity(100.0, 20, 30.0, step=1) == 66.0
    trade = run(frame(FLAT, FLAT), [event(0, "bullish", 100.0, 98.0)],
                position_size=50.0, leverage=4).trades[0]
    assert trade.quantity == 2.0


# 3.5 exits
def test_the_break_candle_itself_cannot_exit():
    candles = frame((100.0, 105.0, 90.0, 100.0), FLAT)  # breaks the stop and target on bar 0
    trade = run(candles, [event(0, "bullish", 100.0, 98.0)]).trades[0]
    assert trade.exit_reason == "end"


def test_long_stop_exits_at_the_stop_at_that_candles_close_time():
    candles = frame(FLAT, FLAT, (99.0, 99.5, 97.0, 97.5), FLAT)
    trade = run(candles, [event(0, "bullish", 100.0, 98.0)]).trades[0]
    assert (trade.exit_reason, trade.exit_price, trade.exit_time) == ("stop", 98.0, close_time(2))


def test_long_target_exits_exactly_at_the_target_without_slippage():
    candles = frame(FLAT, (100.0, 110.0, 99.9, 109.0))
    trade = run(candles, [event(0, "bullish", 100.0, 98.0)], slippage_bps=0).trades[0]
    assert (trade.exit_reason, trade.exit_price) == ("target", 104.0)
    slipped = run(candles, [event(0, "bullish", 100.0, 99.0)], slippage_bps=10).trades[0]
    assert slipped.exit_price == slipped.target_price  # no slippage on a target


def test_a_candle_touching_both_stop_and_target_exits_at_the_stop():
    candles = frame(FLAT, (100.0, 105.0, 97.0, 100.0))
    trade = run(candles, [event(0, "bullish", 100.0, 98.0)]).trades[0]
    assert (trade.exit_reason, trade.exit_price) == ("stop", 98.0)


def test_a_gap_through_the_stop_exits_at_the_open_worsened_by_slippage():
    candles = frame(FLAT, (96.0, 96.5, 95.0, 96.0))
    trade = run(candles, [event(0, "bullish", 100.0, 98.0)]).trades[0]
    assert (trade.exit_reason, trade.exit_price) == ("stop", 96.0)
    slipped = run(candles, [event(0, "bullish", 100.0, 98.0)], slippage_bps=10).trades[0]
    assert slipped.exit_price == 96.0 * (1 - 10 / 1e4)


def test_short_exits_mirror_the_long_ones():
    gap_up = frame(FLAT, (103.0, 104.0, 102.5, 103.5))
    trade = run(gap_up, [event(0, "bearish", 100.0, 102.0)], slippage_bps=10).trades[0]
    assert (trade.exit_reason, trade.exit_price) == ("stop", 103.0 * (1 + 10 / 1e4))
    both = frame(FLAT, (100.0, 102.0, 96.0, 100.0))
    assert run(both, [event(0, "bearish", 100.0, 102.0)]).trades[0].exit_reason == "stop"
    down = frame(FLAT, (100.0, 100.5, 95.0, 95.5))
    trade = run(down, [event(0, "bearish", 100.0, 102.0)]).trades[0]
    assert (trade.exit_reason, trade.exit_price) == ("target", 96.0)


# 3.6 one position at a time; exits before entries
def test_an_exit_on_a_candle_comes_before_a_signal_breaking_on_it():
    candles = frame(FLAT, FLAT, (99.0, 99.5, 97.0, 99.0), FLAT)
    trades = run(candles, [event(0, "bullish", 100.0, 98.0),
                           event(2, "bearish", 99.0, 101.0)]).trades
    assert [(t.side, t.exit_reason) for t in trades] == [("long", "stop"), ("short", "end")]
    assert trades[0].exit_time == trades[1].entry_time == close_time(2)


@pytest.mark.parametrize("on_opposite,expected", [
    ("reverse", [("long", "reverse", 100.5), ("short", "end", 100.0)]),
    ("close", [("long", "close", 100.5)]),
    ("ignore", [("long", "end", 100.0)]),
])
def test_an_opposite_signal_reverses_closes_or_is_ignored(on_opposite, expected):
    candles = frame(FLAT, (100.0, 100.8, 99.5, 100.5), FLAT)
    trades = run(candles, [event(0, "bullish", 100.0, 98.0), event(1, "bearish", 100.5, 101.5)],
                 on_opposite=on_opposite).trades
    assert [(t.side, t.exit_reason, t.exit_price) for t in trades] == expected
    if on_opposite == "reverse":
        assert trades[1].entry_price == 100.5 and trades[1].entry_time == close_time(1)


def test_a_same_direction_signal_with_a_position_open_is_ignored():
    candles = frame(FLAT, FLAT, FLAT)
    trades = run(candles, [event(0, "bullish", 100.0, 98.0),
                           event(1, "bullish", 100.0, 99.0)]).trades
    assert len(trades) == 1 and trades[0].stop_price == 98.0


def test_two_events_on_one_candle_open_then_reverse_in_detector_order():
    candles = frame(FLAT, FLAT, FLAT)
    trades = run(candles, [event(1, "bullish", 100.0, 98.0),
                           event(1, "bearish", 100.0, 102.0)]).trades
    assert [(t.side, t.exit_reason) for t in trades] == [("long", "reverse"), ("short", "end")]
    assert trades[0].entry_time == trades[0].exit_time == close_time(1)
    assert trades[0].exit_price == trades[0].entry_price == 100.0


# 3.7 fees and pnl
def test_fees_and_pnl_arithmetic():
    candles = frame(FLAT, (100.0, 110.0, 99.9, 109.0))
    trade = run(candles, [event(0, "bullish", 100.0, 98.0)], fee_rate=0.001,
                position_size=100.0, leverage=10).trades[0]
    assert trade.quantity == 10.0
    assert trade.fees == pytest.approx(0.001 * (100.0 * 10 + 104.0 * 10))  # 2.04
    assert trade.pnl == pytest.approx((104.0 - 100.0) * 10 - 2.04)
    short = R.close_position(R.Position("short", 0, 0, 50.0, 51.0, 48.0, 2.0), 1, 51.0, "stop",
                             0.0005)
    assert short.fees == pytest.approx(0.0005 * (100.0 + 102.0))
    assert short.pnl == pytest.approx(-2.0 - 0.101)


# 3.8 end of data
def test_an_open_position_exits_at_the_last_close_without_slippage():
    candles = frame(FLAT, FLAT, (100.0, 100.5, 99.5, 100.25))
    trade = run(candles, [event(0, "bullish", 100.0, 98.0)], slippage_bps=50).trades[0]
    assert (trade.exit_reason, trade.exit_price, trade.exit_time) == ("end", 100.25,
                                                                      close_time(2))


# 3.9 max drawdown and profit factor
def _trade(pnl: float) -> Trade:
    return Trade("long", 0, 0, 1.0, 0.5, 2.0, 0, 1.0, "end", 1.0, 0.0, pnl)


def test_max_drawdown_starts_from_zero_before_the_first_trade():
    assert max_drawdown([-5.0, 3.0]) == 5.0
    assert max_drawdown([10.0, -4.0, -3.0, 5.0, -9.0]) == 11.0
    assert max_drawdown([1.0, 2.0]) == 0.0 and max_drawdown([]) == 0.0


def test_profit_factor_is_gross_profit_over_gross_loss():
    m = summarize([_trade(6.0), _trade(-2.0), _trade(-1.0), _trade(0.0)], 0, 1)
    assert m["profit_factor"] == 2.0
    assert (m["wins"], m["losses"], m["trades"]) == (1, 2, 4)
    assert m["win_rate"] == 0.25 and m["net_pnl"] == 3.0 and m["expectancy"] == 0.75
    assert summarize([_trade(1.0)], 0, 1)["profit_factor"] is None


# 3.10 edge cases
def test_stop_and_target_comparisons_are_inclusive():
    touch_stop = frame(FLAT, (99.0, 99.5, 98.0, 99.0))
    assert run(touch_stop, [event(0, "bullish", 100.0, 98.0)]).trades[0].exit_reason == "stop"
    touch_target = frame(FLAT, (100.0, 104.0, 99.0, 103.0))
    assert run(touch_target, [event(0, "bullish", 100.0, 98.0)]).trades[0].exit_reason == \
        "target"
    short_stop = frame(FLAT, (101.0, 102.0, 100.5, 101.0))
    assert run(short_stop, [event(0, "bearish", 100.0, 102.0)]).trades[0].exit_reason == "stop"


@pytest.mark.parametrize("on_opposite", ["reverse", "close"])
def test_a_skipped_signal_neither_reverses_nor_closes(on_opposite):
    candles = frame(FLAT, FLAT, FLAT)
    invalid = event(1, "bearish", 100.0, 99.0)  # a short whose stop is below the entry
    trades = run(candles, [event(0, "bullish", 100.0, 98.0), invalid],
                 on_opposite=on_opposite).trades
    assert [(t.side, t.exit_reason) for t in trades] == [("long", "end")]


def test_close_exits_at_the_signals_slipped_entry_price():
    candles = frame(FLAT, FLAT, FLAT)
    trade = run(candles, [event(0, "bullish", 100.0, 98.0), event(1, "bearish", 100.0, 101.0)],
                on_opposite="close", slippage_bps=20).trades[0]
    assert (trade.exit_reason, trade.exit_price) == ("close", 100.0 * (1 - 20 / 1e4))


def test_a_close_time_is_open_time_plus_timeframe_also_before_a_gap():
    times = [T0, T0 + TF, T0 + 10 * TF]  # a 9-minute gap after bar 1
    candles = frame(FLAT, FLAT, (99.0, 99.5, 97.0, 99.0), times=times)
    trade = run(candles, [event(1, "bullish", 100.0, 98.0, times=times)]).trades[0]
    assert trade.entry_time == T0 + 2 * TF  # not the next row's open time
    assert trade.exit_time == T0 + 11 * TF


def test_an_event_on_the_first_bar_is_tradable():
    trade = run(frame(FLAT, FLAT), [event(0, "bullish", 100.0, 98.0)]).trades[0]
    assert trade.entry_time == close_time(0)


def test_rules_reject_bad_settings():
    with pytest.raises(ValueError):
        TradeRules(on_opposite="flip")
    with pytest.raises(ValueError):
        TradeRules(risk_reward=0)


def test_exit_on_candle_is_usable_candle_by_candle():
    pos = R.open_position("bullish", 100.0, 98.0, 0, TradeRules())
    assert R.exit_on_candle(pos, 100.0, 101.0, 99.0, 0.0) is None
    assert R.exit_on_candle(pos, 100.0, 104.0, 99.0, 0.0) == ("target", 104.0)
    assert R.signal_action(None, "long", "close") == "open"
    assert R.signal_action("long", "long", "reverse") == "ignore"
    assert R.signal_action("long", "short", "close") == "close"
