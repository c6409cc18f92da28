"""fetchers.csv_files: the layouts it accepts, the rows it refuses (by line), gaps and timeframe."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from fetchers.csv_files import (
    CandleFileError,
    find_gaps,
    infer_timeframe,
    read_candles,
    timeframe_label,
    write_candles,
)
from tests.choch.candles import random_candles
from tests.shared_data import load_candles, shared_path

HEADER = "timestamp,open,high,low,close,volume"
BINANCE_HEADER = ("open_time,open,high,low,close,volume,close_time,quote_volume,count,"
                  "taker_buy_volume,taker_buy_quote_volume,ignore")
T0 = 1_700_000_040_000  # a minute boundary


def candles(n: int = 40, seed: int = 3) -> pd.DataFrame:
    """Seeded valid 1m candles with a volume column."""
    df = random_candles(seed, n)
    df["volume"] = np.arange(n, dtype=float) + 0.5
    return df


def binance_lines(df: pd.DataFrame, micro: bool = False, header: bool = False) -> list[str]:
    """The candles as Binance 12-column kline rows (close_time = open + step - 1)."""
    k = 1000 if micro else 1
    out = [BINANCE_HEADER] if header else []
    for r in df.itertuples(index=False):
        open_t = int(r.timestamp) * k
        close_t = (int(r.timestamp) + 60_000) * k - 1
        out.append(f"{open_t},{r.open!r},{r.high!r},{r.low!r},{r.close!r},{r.volume!r},"
                   f"{close_t},123.4,17,1.5,2.5,0")
    return out


def write(tmp_path, lines: list[str], name: str = "c.csv"):
    path = tmp_path / name
    path.write_text("\n".join(lines) + "\n")
    return path


def ours_lines(rows: list[tuple]) -> list[str]:
    return [HEADER] + [",".join(str(v) for v in r) for r in rows]


def good_rows(n: int = 6) -> list[tuple]:
    return [(T0 + i * 60_000, 10, 11, 9, 10.5, 1) for i in range(n)]


def test_our_format_round_trips_through_write_candles(tmp_path):
    df = candles()
    write_candles(tmp_path / "ours.csv", df)
    got = read_candles(tmp_path / "ours.csv")
    assert got.layout == "ours" and not got.microseconds
    pd.testing.assert_frame_equal(got.candles, df[list(got.candles.columns)], check_dtype=False)
    assert got.timeframe_ms == 60_000 and got.gaps == ()


@pytest.mark.parametrize("header", [True, False])
def test_binance_12_column_dump_with_or_without_header(tmp_path, header):
    df = candles()
    got = read_candles(write(tmp_path, binance_lines(df, header=header)))
    assert got.layout == ("binance" if header else "binance-no-header")
    assert got.candles["timestamp"].tolist() == df["timestamp"].tolist()
    assert got.candles[["open", "high", "low", "close", "volume"]].equals(
        df[["open", "high", "low", "close", "volume"]])


def test_microsecond_open_times_are_converted_to_ms(tmp_path):
    df = candles()
    got = read_candles(write(tmp_path, binance_lines(df, micro=True)))
    assert got.microseconds
    assert got.candles["timestamp"].tolist() == df["timestamp"].tolist()
    assert got.timeframe_ms == 60_000


def test_open_times_written_as_whole_decimals_are_accepted(tmp_path):
    rows = [f"{T0}.0,10,11,9,10.5,1", f"{T0 + 60_000}.00,10,11,9,10.5,1",
            "1.70000012e12,10,11,9,10,1"]
    got = read_candles(write(tmp_path, [HEADER] + rows))
    assert got.candles["timestamp"].tolist() == [T0, T0 + 60_000, 1_700_000_120_000]


def test_blank_trailing_lines_are_ignored(tmp_path):
    path = tmp_path / "c.csv"
    path.write_text("\n".join(ours_lines(good_rows(3))) + "\n\n\n")
    assert len(read_candles(path).candles) == 3


@pytest.mark.parametrize("rows, line, words", [
    ([HEADER, f"{T0},10,11,9,10.5,1", f"{T0 + 60_000},10,11,9,10.5"], 3, "5 columns"),
    ([HEADER, f"{T0},10,11,9,10.5,1", f"{T0 + 60_000},10,11,9,abc,1"], 3, "close 'abc'"),
    ([HEADER, f"{T0},10,11,9,10.5,1", f"{T0 + 60_000},10,NaN,9,10.5,1"], 3, "finite"),
    ([HEADER, f"{T0},10,11,9,10.5,1", f"{T0 + 60_000},10,inf,9,10.5,1"], 3, "finite"),
    ([HEADER, f"{T0},10,10.2,9,10.5,1"], 2, "high 10.2 is below"),
    ([HEADER, f"{T0},10,11,10.1,10.5,1"], 2, "low 10.1 is above"),
    ([HEADER, f"{T0},10,11,9,10.5,1", f"{T0},10,11,9,10.5,1"], 3, "repeats"),
    ([HEADER, f"{T0},10,11,9,10.5,1", f"{T0 + 120_000},10,11,9,10.5,1",
      f"{T0 + 60_000},10,11,9,10.5,1"], 4, "is before the open time of line 3"),
    ([HEADER, f"{T0}.5,10,11,9,10.5,1"], 2, "whole number"),
    ([HEADER, f"{T0},10,11,9,10.5,-1"], 2, "negative"),
    ([HEADER, f"{T0},0,11,0,10.5,1"], 2, "positive"),
    ([HEADER, "1700000040,10,11,9,10.5,1"], 2, "seconds"),
    ([HEADER, f"{T0 * 1000},10,11,9,10.5,1", f"{T0 + 60_000},10,11,9,10.5,1"], 3, "µs"),
    (["time,o,h,l,c", f"{T0},10,11,9,10.5"], 1, "lacks"),
    ([f"{T0},10,11,9,10.5,1,2,3"], 1, "8 columns"),
])
def test_malformed_row_is_refused_with_its_line_number(tmp_path, rows, line, words):
    with pytest.raises(CandleFileError) as err:
        read_candles(write(tmp_path, rows))
    assert err.value.line == line
    assert f"line {line}:" in str(err.value) and words in str(err.value)


def test_line_numbers_count_blank_lines_in_the_middle(tmp_path):
    path = tmp_path / "c.csv"
    path.write_text(f"{HEADER}\n{T0},10,11,9,10.5,1\n\n{T0 + 60_000},10,11,9,x,1\n")
    with pytest.raises(CandleFileError, match="line 4:"):
        read_candles(path)


def test_empty_file_and_header_only_file_are_refused(tmp_path):
    with pytest.raises(CandleFileError, match="empty"):
        read_candles(write(tmp_path, []))
    with pytest.raises(CandleFileError, match="no candle rows"):
        read_candles(write(tmp_path, [HEADER]))


def test_timeframe_is_the_most_common_step_not_the_smallest():
    ts = np.array([0, 30_000, 90_000, 150_000, 210_000, 510_000, 570_000]) + T0
    assert infer_timeframe(ts) == (60_000, 4)
    assert infer_timeframe(ts[:1]) == (None, 0)


def test_gaps_do_not_change_the_timeframe_and_are_counted(tmp_path):
    rows = good_rows(10)
    rows = rows[:3] + [(t + 5 * 60_000, *v) for t, *v in rows[3:]]  # 5 bars missing after row 3
    got = read_candles(write(tmp_path, ours_lines(rows)))
    assert got.timeframe_ms == 60_000
    assert got.gaps == tuple(find_gaps(got.candles["timestamp"].to_numpy(), 60_000))
    assert [(g.before_ms, g.after_ms, g.missing) for g in got.gaps] == [
        (T0 + 120_000, T0 + 480_000, 5)]


def test_timeframe_labels():
    assert [timeframe_label(ms) for ms in (60_000, 1_500_000, 3_600_000, 86_400_000,
                                           604_800_000, 1_500, None)] == [
        "1m", "25m", "1h", "1d", "1w", "1500ms", "unknown"]


def test_real_usdm_dump_reads_like_the_shared_loader():
    got = read_candles(shared_path("LTCUSDT-usdm-1m-2026-02.csv"))
    want = load_candles("LTCUSDT-usdm-1m-2026-02.csv")
    assert got.timeframe_ms == 60_000 and got.gaps == ()
    pd.testing.assert_frame_equal(got.candles, want, check_dtype=False)


def test_real_spot_1h_file_reports_its_five_known_gaps():
    got = read_candles(shared_path("BTCUSDT-spot-1h.csv"))
    assert got.timeframe_ms == 3_600_000
    assert [g.missing for g in got.gaps] == [2, 3, 4, 2, 1]


@pytest.mark.parametrize("micro, header", [(False, True), (False, False), (True, False)])
def test_fast_and_row_by_row_readers_agree_on_good_files(tmp_path, micro, header):
    from fetchers.csv_files import _fast, _first_row, _layout, _strict
    path = write(tmp_path, binance_lines(candles(300, seed=5), micro=micro, header=header))
    first, skip = _first_row(path)
    _, cols, width, has_header = _layout(first, path)
    fast = _fast(path, skip + has_header, cols, width)
    assert fast is not None
    pd.testing.assert_frame_equal(fast, _strict(path, has_header, cols, width))
    assert fast.attrs["micro"] is micro


def test_fast_reader_defers_every_doubtful_file_to_the_row_by_row_one(tmp_path):
    from fetchers.csv_files import _fast
    cols = {c: i for i, c in enumerate(("timestamp", "open", "high", "low", "close", "volume"))}
    for bad in ([f"{T0},10,11,9,10.5,1", f"{T0 + 60_000},10,11,9,10.5"],
                [f"{T0},10,11,9,10.5,1", f"{T0 + 60_000},10,11,9,10.5,1,7"],
                [f"{T0},10,11,9,10.5,1", f"{T0 + 60_000},10,11,9,x,1"],
                [f"{T0},10,11,9,10.5,1", f"{T0},10,11,9,10.5,1"],
                [f"{T0},10,10.2,9,10.5,1"],
                [f"{T0}.5,10,11,9,10.5,1"]):
        assert _fast(write(tmp_path, bad), 0, cols, 6) is None, bad


@pytest.mark.parametrize("header, twice", [
    ("timestamp,open,high,low,close,close,volume", "close"),
    ("open_time,open,high,low,close,volume,open_time", "open_time"),
    ("timestamp,open,high,high,low,low,close,volume", "high, low"),
])
def test_a_header_naming_a_column_twice_is_refused_naming_it(tmp_path, header, twice):
    width = header.count(",") + 1
    row = ",".join([str(T0)] + ["10"] * (width - 1))
    with pytest.raises(CandleFileError) as err:
        read_candles(write(tmp_path, [header, row]))
    assert err.value.line == 1 and f"header names {twice} more than once" in str(err.value)


def test_unread_columns_may_repeat_in_a_header(tmp_path):
    rows = [HEADER + ",note,note"] + [f"{T0 + i * 60_000},10,11,9,10.5,1,a,b" for i in range(3)]
    assert len(read_candles(write(tmp_path, rows)).candles) == 3


def test_a_device_is_refused_before_reading_it():
    with pytest.raises(CandleFileError, match="not a regular file"):
        read_candles("/dev/zero")


@pytest.mark.parametrize("where", [1, 4])
def test_a_line_too_long_for_a_candle_row_is_refused_naming_it(tmp_path, where):
    from fetchers.csv_files import MAX_LINE_CHARS
    rows = ours_lines(good_rows(5))
    rows.insert(where - 1, "9" * (MAX_LINE_CHARS * 3))
    with pytest.raises(CandleFileError) as err:
        read_candles(write(tmp_path, rows))
    assert err.value.line == where and "longer than" in str(err.value)


def test_a_bad_last_row_of_a_file_read_in_many_chunks_is_named(tmp_path, monkeypatch):
    monkeypatch.setattr("fetchers.csv_files.FAST_CHUNK_ROWS", 7)
    rows = ours_lines(good_rows(50)) + [f"{T0 + 50 * 60_000},10,11,9,x,1"]
    with pytest.raises(CandleFileError) as err:
        read_candles(write(tmp_path, rows))
    assert err.value.line == 52 and "close 'x' is not a number" in str(err.value)


def test_chunks_are_checked_against_each_other(tmp_path, monkeypatch):
    monkeypatch.setattr("fetchers.csv_files.FAST_CHUNK_ROWS", 5)
    rows = good_rows(12)
    rows[5] = rows[4]  # the first row of the second chunk repeats the last of the first
    with pytest.raises(CandleFileError) as err:
        read_candles(write(tmp_path, ours_lines(rows)))
    assert err.value.line == 7 and "repeats" in str(err.value)


def test_many_chunks_read_like_one(tmp_path, monkeypatch):
    from fetchers.csv_files import _fast, _first_row, _layout, _strict
    path = write(tmp_path, binance_lines(candles(300, seed=5), micro=True, header=True))
    first, skip = _first_row(path)
    _, cols, width, has_header = _layout(first, path)
    whole = _fast(path, skip + has_header, cols, width)
    monkeypatch.setattr("fetchers.csv_files.FAST_CHUNK_ROWS", 7)
    chunked = _fast(path, skip + has_header, cols, width)
    assert chunked is not None and chunked.attrs["micro"] is True
    pd.testing.assert_frame_equal(chunked, whole)
    pd.testing.assert_frame_equal(chunked, _strict(path, has_header, cols, width))
