"""The history store download writes: atomic files, verification, gaps on every grid."""
from __future__ import annotations

import errno

import numpy as np
import pandas as pd
import pytest

from fetchers import store
from fetchers.timeframes import plan
from tests.fakes.binance_data import synthetic

MIN = 60_000
DAY = 1440 * MIN
T = 1_770_681_600_000  # 2026-02-10 00:00 UTC
BINANCE = ("1m", "3m", "5m", "15m", "30m", "1h", "2h", "4h", "6h", "8h", "12h", "1d", "3d",
           "1w", "1M")


def candles(times) -> pd.DataFrame:
    return synthetic("BTCUSDT", np.asarray(times, dtype=np.int64), "1m")


def test_layout_is_venue_symbol_timeframe(tmp_path):
    assert store.path_of(tmp_path, "binance", "BTC/USDT", "1m") == \
        tmp_path / "binance" / "BTCUSDT" / "1m.parquet"
    # '1M' and '1m' are one name on case-insensitive file systems.
    assert store.path_of(tmp_path, "binance", "BTC/USDT", "1M").name == "1month.parquet"


def test_a_round_trip_keeps_values_and_types(tmp_path):
    path = tmp_path / "x" / "1m.parquet"
    data = candles([T + i * MIN for i in range(50)])
    store.write(path, data, {"venue": "binance"})
    back = store.read(path)
    pd.testing.assert_frame_equal(back, data)
    assert back["timestamp"].dtype == np.int64


def test_a_failing_write_leaves_the_old_file_intact(tmp_path, monkeypatch):
    import pyarrow.parquet as pq
    path = tmp_path / "binance" / "BTCUSDT" / "1m.parquet"
    old = candles([T + i * MIN for i in range(10)])
    store.write(path, old)
    before = path.read_bytes()

    def disk_full(table, where, **kwargs):
        where.write(b"PAR1 half a file")
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(pq, "write_table", disk_full)
    with pytest.raises(OSError):
        store.write(path, candles([T + i * MIN for i in range(20)]))
    assert path.read_bytes() == before
    pd.testing.assert_frame_equal(store.read(path), old)
    assert sorted(p.name for p in path.parent.iterdir()) == ["1m.parquet"]  # no temp left


def test_verify_names_unsorted_duplicate_off_grid_and_insane_rows():
    p = plan("5m", BINANCE)
    good = candles([T + i * 5 * MIN for i in range(6)])
    assert store.verify(good, p) == []
    dup = pd.concat([good.iloc[:3], good.iloc[2:]], ignore_index=True)
    assert "not after" in store.verify(dup, p)[0]
    off = good.assign(timestamp=good["timestamp"] + np.array([0, 0, MIN, 0, 0, 0]))
    assert any("not on the 5m grid" in e for e in store.verify(off, p))
    bad = good.copy()
    bad.loc[4, "high"] = bad.loc[4, "low"] * 0.5
    assert any("row 4" in e and "OHLC" in e for e in store.verify(bad, p))


def test_gaps_count_missing_candles_on_the_timeframe_grid():
    p = plan("1m", BINANCE)
    ts = [T + i * MIN for i in range(20) if not 5 <= i < 9]
    assert store.gaps(candles(ts), p) == [store.Gap(T + 4 * MIN, T + 9 * MIN, 4)]


def test_gaps_on_a_grid_cut_at_midnight():
    # 25m: ..., 23:20, 23:45 (cut at midnight), 00:00 -> no gap between 23:45 and 00:00.
    p = plan("25m", BINANCE)
    day_end = T + DAY
    assert store.gaps(candles([day_end - 40 * MIN, day_end - 15 * MIN, day_end]), p) == []
    gap = store.gaps(candles([day_end - 40 * MIN, day_end + 25 * MIN]), p)
    assert gap == [store.Gap(day_end - 40 * MIN, day_end + 25 * MIN, 2)]  # 23:45 and 00:00


def test_next_open_follows_the_grid():
    assert store.next_open(plan("25m", BINANCE), T + DAY - 15 * MIN) == T + DAY
    assert store.next_open(plan("1M", BINANCE), 1_769_904_000_000) == 1_772_323_200_000


def test_stored_symbols_lists_the_venue_directories(tmp_path):
    for s in ("ETH/USDT", "BTC/USDT"):
        store.write(store.path_of(tmp_path, "binance", s, "1m"), candles([T]))
    assert store.stored_symbols(tmp_path, "binance") == ["BTC/USDT", "ETH/USDT"]
    assert store.stored_symbols(tmp_path, "bybit") == []
