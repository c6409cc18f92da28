"""CandleBook: closed candles only, once each, and no answer past a hole."""
from __future__ import annotations

import pandas as pd

from exchanges.stream import KlineUpdate
from fetchers.candle_book import CandleBook, Outcome

M = 60_000


def upd(open_ms: int, closed: bool = True, close: float = 10.0) -> KlineUpdate:
    return KlineUpdate("BTC/USDT", "1m", open_ms, 10.0, max(11.0, close), 9.0, close, 5.0,
                       closed)


def frame(opens) -> pd.DataFrame:
    return pd.DataFrame({"timestamp": list(opens), "open": 10.0, "high": 11.0, "low": 9.0,
                         "close": 10.0, "volume": 5.0})


def seeded(until: int = 4 * M) -> CandleBook:
    book = CandleBook()
    book.record("BTC/USDT", "1m", M, frame(range(0, until + 1, M)), 0)
    return book


def test_the_next_closed_candle_extends_the_series_and_is_answered():
    book = seeded()
    assert book.accept(upd(5 * M), M) is Outcome.CLOSED
    got = book.columns("BTC/USDT", "1m", 4 * M + 1, None, 5 * M).frame()
    assert got["timestamp"].tolist() == [5 * M]


def test_forming_updates_are_never_stored_or_answered():
    book = seeded()
    assert book.accept(upd(5 * M, closed=False), M) is Outcome.IGNORED
    assert book.columns("BTC/USDT", "1m", 0, None, 5 * M) is None
    assert book.last("BTC/USDT", "1m") == 4 * M


def test_duplicates_and_late_forming_updates_change_nothing():
    book = seeded()
    assert book.accept(upd(5 * M, close=12.0), M) is Outcome.CLOSED
    assert book.accept(upd(5 * M, close=99.0), M) is Outcome.IGNORED
    assert book.accept(upd(5 * M, closed=False, close=50.0), M) is Outcome.IGNORED
    assert book.accept(upd(3 * M, close=77.0), M) is Outcome.IGNORED
    got = book.columns("BTC/USDT", "1m", 0, None, 5 * M).frame()
    assert got["close"].tolist() == [10.0] * 5 + [12.0]


def test_a_candle_after_a_hole_is_held_but_not_answered_until_rest_fills_the_hole():
    book = seeded()
    assert book.accept(upd(6 * M), M) is Outcome.AHEAD
    assert book.columns("BTC/USDT", "1m", 4 * M + 1, None, 6 * M) is None
    book.record("BTC/USDT", "1m", M, frame([5 * M]), 5 * M)
    got = book.columns("BTC/USDT", "1m", 4 * M + 1, None, 6 * M).frame()
    assert got["timestamp"].tolist() == [5 * M, 6 * M]


def test_reordered_closes_fill_in_either_order():
    book = seeded()
    assert book.accept(upd(6 * M), M) is Outcome.AHEAD
    assert book.accept(upd(5 * M), M) is Outcome.CLOSED
    assert book.last("BTC/USDT", "1m") == 6 * M


def test_a_newer_open_proves_a_close_once_when_the_flag_never_came():
    book = seeded()
    assert book.accept(upd(6 * M, closed=False), M) is Outcome.PROVEN
    assert book.accept(upd(6 * M, closed=False), M) is Outcome.IGNORED  # reported once
    book.record("BTC/USDT", "1m", M, frame([5 * M]), 5 * M)
    assert book.accept(upd(6 * M, closed=False), M) is Outcome.IGNORED


def test_an_insane_closed_candle_is_left_to_rest():
    book = seeded()
    bad = KlineUpdate("BTC/USDT", "1m", 5 * M, 10.0, 9.0, 11.0, 10.0, 5.0, True)
    assert book.accept(bad, M) is Outcome.IGNORED
    assert book.last("BTC/USDT", "1m") == 4 * M


def test_last_n_needs_that_many_held_candles():
    book = seeded()
    assert book.columns("BTC/USDT", "1m", None, 5, 4 * M).ts.tolist() == \
        [0, M, 2 * M, 3 * M, 4 * M]
    assert book.columns("BTC/USDT", "1m", None, 6, 4 * M) is None


def test_the_book_keeps_a_bounded_tail():
    book = CandleBook(keep=3)
    book.record("BTC/USDT", "1m", M, frame(range(0, 10 * M, M)), 0)
    assert book.columns("BTC/USDT", "1m", 0, None, 9 * M) is None
    assert book.columns("BTC/USDT", "1m", 7 * M, None, 9 * M).ts.tolist() == \
        [7 * M, 8 * M, 9 * M]


def test_an_ask_from_just_after_the_last_candle_fed_is_answered_on_the_grid():
    """The daemon asks from last fed + 1 ms: the book answers the next candles on the grid,
    and skips a candle the venue itself never had (absent from its REST answer)."""
    book = CandleBook()
    book.record("BTC/USDT", "1m", M, frame([0, M, 3 * M, 4 * M]), 0)  # 2m never existed
    got = book.columns("BTC/USDT", "1m", M + 1, None, 4 * M)
    assert got is not None and got.ts.tolist() == [3 * M, 4 * M]
    assert book.columns("BTC/USDT", "1m", 0, 2, 4 * M).ts.tolist() == [0, M]
    assert book.columns("BTC/USDT", "1m", 1, None, 4 * M).ts.tolist() == [M, 3 * M, 4 * M]
