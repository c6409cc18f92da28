"""REPLAY_SOURCE read into a ReplayBook: candle files, directories and the history store."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from fetchers import store
from fetchers.csv_files import write_candles
from fetchers.replay_book import ReplaySourceError, load_book, symbol_of

REPO = Path(__file__).resolve().parents[2]
T0 = 1_769_904_000_000


def candles(n: int, step: int = 60_000) -> pd.DataFrame:
    close = 50.0 + np.arange(n, dtype=np.float64)
    return pd.DataFrame({"timestamp": T0 + step * np.arange(n, dtype=np.int64), "open": close,
                         "high": close + 1, "low": close - 1, "close": close,
                         "volume": np.ones(n)})


@pytest.mark.parametrize("name, symbol", [("LTCUSDT-usdm-1m-2026-02-01_03.csv", "LTC/USDT"),
                                          ("btcusdt.csv", "BTC/USDT"),
                                          ("1000PEPE-USDT_1m.csv", "1000PEPE/USDT")])
def test_the_symbol_is_the_start_of_the_file_name(name, symbol):
    assert symbol_of(Path(name)) == symbol


def test_a_file_name_without_a_pair_is_refused():
    with pytest.raises(ReplaySourceError, match="must start with the pair"):
        symbol_of(Path("candles.csv"))


def test_the_shipped_samples_directory_is_one_book_of_1m_candles():
    book = load_book(str(REPO / "samples"), "data")
    assert book.timeframe == "1m" and sorted(book.candles) == ["BTC/USDT", "LTC/USDT"]
    assert len(book.candles["LTC/USDT"]) == 4320


def test_files_of_different_timeframes_are_refused(tmp_path):
    write_candles(tmp_path / "BTCUSDT-1m.csv", candles(10))
    write_candles(tmp_path / "ETHUSDT-5m.csv", candles(10, 300_000))
    with pytest.raises(ReplaySourceError, match="different timeframes"):
        load_book(str(tmp_path), "data")


def test_a_missing_file_and_a_bad_row_are_named(tmp_path):
    with pytest.raises(ReplaySourceError, match="nope.csv: no such file"):
        load_book(str(tmp_path / "nope.csv"), "data")
    bad = tmp_path / "BTCUSDT-1m.csv"
    bad.write_text("timestamp,open,high,low,close,volume\n1769904000000,1,2,0.5,x,1\n")
    with pytest.raises(ReplaySourceError, match="line 2"):
        load_book(str(bad), "data")


def test_the_history_store_of_a_venue_is_a_book(tmp_path):
    store.write(store.path_of(tmp_path, "binance", "BTC/USDT", "1m"), candles(30))
    store.write(store.path_of(tmp_path, "binance", "ETH/USDT", "5m"), candles(30, 300_000))
    book = load_book("store:binance", str(tmp_path))
    assert book.timeframe == "1m" and list(book.candles) == ["BTC/USDT"]
    assert list(load_book("store:binance:5m", str(tmp_path)).candles) == ["ETH/USDT"]
    with pytest.raises(ReplaySourceError, match="no 1m candles of 'bybit'"):
        load_book("store:bybit", str(tmp_path))
