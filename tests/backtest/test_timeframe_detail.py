"""--timeframe-detail: a candle touching both stop and target is ordered by its 1m candles."""
from __future__ import annotations

import pandas as pd
import pytest

from trading.rules import TradeRules

from .frames import T0, both, event, frame

M1 = 60_000
M5 = 5 * M1
FLAT = (100.0, 100.5, 99.5, 100.0)
BOTH = (100.0, 105.0, 97.0, 100.0)  # long 100/98/104 and short 100/102/96: reaches both
SHORT_BOTH = (100.0, 103.0, 95.0, 100.0)


def main(*rows) -> pd.DataFrame:
    """5m candles from T0."""
    return frame(*rows, times=[T0 + i * M5 for i in range(len(rows))])


def detail(bar: int, *rows) -> pd.DataFrame:
    """1m candles inside 5m candle `bar`, one per minute from its open."""
    return frame(*rows, times=[T0 + bar * M5 + i * M1 for i in range(len(rows))])


def backtest(candles: pd.DataFrame, events, fine: pd.DataFrame | None):
    return both(candles, events, TradeRules(fee_rate=0.0), M5, "TESTUSDT", "5m", detail=fine)


def long_at_0():
    return [event(0, "bullish", 100.0, 98.0, times=[T0 + i * M5 for i in range(4)])]


def short_at_0():
    return [event(0, "bearish", 100.0, 102.0, times=[T0 + i * M5 for i in range(4)])]


def test_without_detail_a_candle_touching_both_exits_at_the_stop():
    trade = backtest(main(FLAT, BOTH, FLAT), long_at_0(), None).trades[0]
    assert (trade.exit_reason, trade.exit_price) == ("stop", 98.0)


def test_the_first_1m_candle_touching_the_target_decides_target():
    fine = detail(1, (100.0, 100.5, 99.5, 100.0), (100.0, 104.5, 99.0, 104.0),
                  (104.0, 104.0, 97.0, 97.5), (97.5, 105.0, 97.5, 100.0), FLAT)
    run = backtest(main(FLAT, BOTH, FLAT), long_at_0(), fine)
    trade = run.trades[0]
    assert (trade.exit_reason, trade.exit_price) == ("target", 104.0)
    assert trade.exit_time == T0 + 2 * M5  # the 5m candle's close time, as without detail
    assert run.extra["detail_target_first"] == 1


def test_the_first_1m_candle_touching_the_stop_decides_stop():
    fine = detail(1, FLAT, (100.0, 100.0, 97.0, 97.5), (97.5, 105.0, 97.5, 104.5), FLAT, FLAT)
    trade = backtest(main(FLAT, BOTH, FLAT), long_at_0(), fine).trades[0]
    assert (trade.exit_reason, trade.exit_price) == ("stop", 98.0)


def test_a_1m_candle_touching_both_is_stop_first():
    fine = detail(1, FLAT, (100.0, 105.0, 97.0, 100.0), (100.0, 104.5, 99.0, 104.0), FLAT, FLAT)
    run = backtest(main(FLAT, BOTH, FLAT), long_at_0(), fine)
    assert run.trades[0].exit_reason == "stop"
    assert run.extra["detail_stop_first"] == 1


def test_no_1m_candle_inside_the_bar_falls_back_to_stop_first():
    fine = detail(2, (100.0, 104.5, 99.0, 104.0))  # after the bar that touched both
    run = backtest(main(FLAT, BOTH, FLAT), long_at_0(), fine)
    assert run.trades[0].exit_reason == "stop"
    assert run.extra["detail_undecided"] == 1


def test_a_short_is_mirrored():
    target_first = detail(1, (100.0, 100.5, 95.5, 96.0), (96.0, 103.0, 96.0, 102.5), FLAT)
    trade = backtest(main(FLAT, SHORT_BOTH, FLAT), short_at_0(), target_first).trades[0]
    assert (trade.exit_reason, trade.exit_price) == ("target", 96.0)
    stop_first = detail(1, (100.0, 102.5, 99.5, 102.0), (102.0, 102.0, 95.0, 95.5), FLAT)
    trade = backtest(main(FLAT, SHORT_BOTH, FLAT), short_at_0(), stop_first).trades[0]
    assert (trade.exit_reason, trade.exit_price) == ("stop", 102.0)


@pytest.mark.parametrize("bar", [(100.0, 100.5, 97.0, 98.0), (100.0, 105.0, 99.5, 104.0)])
def test_a_candle_touching_one_side_is_not_reordered(bar):
    # The 1m candles claim the other side first: only a candle touching both is ever reordered.
    fine = detail(1, (100.0, 105.0, 99.5, 104.0) if bar[2] < 98 else (100.0, 100.0, 97.0, 98.0))
    without = backtest(main(FLAT, bar, FLAT), long_at_0(), None).trades
    assert backtest(main(FLAT, bar, FLAT), long_at_0(), fine).trades == without


def test_a_target_decided_by_detail_frees_the_next_signal_the_same_way():
    # The exit is found at the next signal, as without detail: the reversal still happens.
    times = [T0 + i * M5 for i in range(5)]
    events = [event(0, "bullish", 100.0, 98.0, times=times),
              event(3, "bearish", 100.0, 102.0, times=times)]
    fine = detail(1, (100.0, 104.5, 99.0, 104.0))
    trades = backtest(main(FLAT, BOTH, FLAT, FLAT, FLAT), events, fine).trades
    assert [(t.side, t.exit_reason) for t in trades] == [("long", "target"), ("short", "end")]
