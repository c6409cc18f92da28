"""Candles (domain.candles): the live path's columns agree with the frames they stand for."""
from __future__ import annotations

import numpy as np
import pandas as pd

from domain.candles import Candles, joined


def _frame(opens, close=1.0) -> pd.DataFrame:
    return pd.DataFrame({"timestamp": list(opens), "open": 1.0, "high": 2.0, "low": 0.5,
                         "close": close, "volume": 3.0})


def test_a_frame_and_its_columns_round_trip():
    f = _frame([0, 60, 120])
    f["bars"], f["expected_bars"] = [1, 2, 3], [3, 3, 3]
    back = Candles.of(f).frame()
    pd.testing.assert_frame_equal(back, f, check_dtype=False)
    assert back["timestamp"].dtype == np.int64


def test_between_and_tail_cut_by_open_time():
    c = Candles.of(_frame(range(0, 600, 60)))
    assert c.between(61, 300).ts.tolist() == [120, 180, 240]
    assert c.between(until_ms=60).ts.tolist() == [0]
    assert c.tail(2).ts.tolist() == [480, 540] and len(c.tail(50)) == 10


def test_joined_keeps_the_newer_copy_of_a_repeated_candle_in_order():
    before = Candles.of(_frame([0, 60, 120], close=1.0))
    after = Candles.of(_frame([60, 180], close=9.0))
    both = joined(before, after, 10)
    assert both.ts.tolist() == [0, 60, 120, 180]
    assert both.ohlcv[:, 3].tolist() == [1.0, 9.0, 1.0, 9.0]
    assert joined(before, after, 2).ts.tolist() == [120, 180]
    assert joined(Candles.empty(), after, 1).ts.tolist() == [180]
