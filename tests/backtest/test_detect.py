"""The backtest's compiled detector (backtest.detect) gives exactly choch's events."""
from __future__ import annotations

import numpy as np
import pytest

import choch
from backtest.detect import scan_bars
from tests.choch.candles import random_candles
from tests.shared_data import load_candles


def assert_same_events(candles, left: int, right: int, break_on: str, tf: int | None) -> int:
    """Every column equal to choch.scan_columns; the number of events."""
    want = choch.scan_columns(candles, left, right, break_on, tf)
    got = scan_bars(choch.candle_arrays(candles), left, right, break_on, tf)
    for name in want.__dataclass_fields__:
        a, b = getattr(got, name), getattr(want, name)
        assert a.dtype == b.dtype and np.array_equal(a, b), name
    assert got.to_events() == choch.scan(candles, left, right, break_on, tf)
    return len(want)


@pytest.mark.parametrize("seed", range(12))
def test_random_candles_give_choch_events(seed):
    candles = random_candles(seed, 3000, tick=0.5 + seed % 3, gaps=seed % 2 == 0)
    found = 0
    for left, right in ((1, 1), (2, 5), (5, 2), (5, 5), (8, 3)):
        for break_on in ("close", "wick"):
            found += assert_same_events(candles, left, right, break_on,
                                        None if seed % 3 == 0 else 60_000)
    assert found > 1000


@pytest.mark.parametrize("n", [0, 1, 2, 5, 11, 12])
def test_short_series_give_choch_events(n):
    assert_same_events(random_candles(3, n), 5, 5, "wick", None)


def test_bad_parameters_are_refused():
    bars = choch.candle_arrays(random_candles(1, 50))
    for args in ((0, 5, "close", None), (5, 5, "open", None), (5, 5, "close", 0)):
        with pytest.raises(ValueError):
            scan_bars(bars, *args)


@pytest.mark.slow  # the real files, every setting
@pytest.mark.parametrize("name", ["LTCUSDT-usdm-1m-2026-02.csv", "BTCUSDT-spot-1m.csv",
                                  "BTCUSDT-spot-15m.csv", "BTCUSDT-spot-1h.csv",
                                  "ETHUSDT-spot-1h.csv"])
def test_real_candles_give_choch_events(name):
    candles = load_candles(name)
    for left, right in ((3, 3), (5, 5), (8, 3)):
        for break_on in ("close", "wick"):
            assert assert_same_events(candles, left, right, break_on, None) > 100
