"""Candle CSV files: read ours and Binance's kline dumps strictly, write ours.

Accepted layouts (the first row decides):
- our header `timestamp,open,high,low,close,volume` (any header naming timestamp or open_time,
  open, high, low and close; other columns are ignored);
- Binance's 12-column kline dump (`open_time,open,high,low,close,volume,close_time,...,ignore`),
  with that header (USD-M dumps) or without a header (spot dumps);
- a headerless 6-column file in our column order.
Open times are ms, or µs (Binance spot dumps since 2025): a file whose first open time has 16
digits is read as µs and converted to ms. Any malformed row stops the read with a CandleFileError
naming its line; gaps in time do not (see `find_gaps`). A header naming a column we read twice,
a line longer than MAX_LINE_CHARS and anything but a regular file are refused too.
The file is read in bounded pieces (chunks of rows, lines of bounded length), so memory grows
with the candles kept, not with the text: a bad last row costs no more than a good file.
"""
from __future__ import annotations

import array
import csv
import math
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import IO

import numpy as np
import pandas as pd

from domain.timeframe import DAY_MS, HOUR_MS, MINUTE_MS, WEEK_MS

from .columns import COLUMNS

BINANCE_COLUMNS = ("open_time", "open", "high", "low", "close", "volume", "close_time",
                   "quote_volume", "count", "taker_buy_volume", "taker_buy_quote_volume", "ignore")
# Open times at or above this are µs: as ms it would be the year 5138.
MICROS_FROM = 10**14
# Below this an open time in ms would be before 1973: it is most likely in seconds.
MILLIS_FROM = 10**11
EXACT_INT = 2**53  # every integer up to here is exact as a double
MAX_OPEN_TIME = 10**17  # µs in the year 5138: anything above is not a time we can represent
# A kline row is about 100 characters; a longer line is not a candle row (e.g. /dev/zero or a
# binary file), and reading it whole could exhaust memory.
MAX_LINE_CHARS = 4096
FAST_CHUNK_ROWS = 100_000  # rows per pandas chunk: bounds the parser's working memory


class CandleFileError(ValueError):
    """A candle file that cannot be trusted: the message names the file and the line."""

    def __init__(self, path: str | Path, line: int | None, message: str) -> None:
        self.path, self.line, self.reason = str(path), line, message
        where = f"{path}, line {line}" if line is not None else str(path)
        super().__init__(f"{where}: {message}")


@dataclass(frozen=True)
class Gap:
    """Missing candles between two consecutive rows (open times in ms)."""

    before_ms: int  # open time of the last row before the gap
    after_ms: int  # open time of the first row after it
    missing: int  # whole candles missing at the inferred step


@dataclass(frozen=True)
class CandleFile:
    """A validated candle file: the candles (ms open times) and what was inferred about them."""

    candles: pd.DataFrame  # COLUMNS, oldest first, timestamp int64 ms
    layout: str  # "ours", "binance" or "binance-no-header"
    microseconds: bool  # True when the file's open times were µs
    timeframe_ms: int | None  # the most common step; None with fewer than two rows
    step_count: int  # how many steps have exactly timeframe_ms
    gaps: tuple[Gap, ...]
    short_steps: int  # steps shorter than timeframe_ms (irregular data, e.g. 1M candles)


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _layout(first: list[str], path: Path) -> tuple[str, dict[str, int], int, bool]:
    """(layout, column -> index, expected column count, header present) from the first row."""
    names = [c.strip().lower() for c in first]
    if names and all(_is_number(c) for c in names):
        if len(names) == len(BINANCE_COLUMNS):
            return "binance-no-header", {c: i for i, c in enumerate(COLUMNS)}, len(names), False
        if len(names) == len(COLUMNS):
            return "ours", {c: i for i, c in enumerate(COLUMNS)}, len(names), False
        raise CandleFileError(path, 1, f"{len(names)} columns without a header; expected 6 "
                              f"({','.join(COLUMNS)}) or Binance's 12-column kline format")
    read = set(COLUMNS) | {"open_time"}
    twice = sorted(c for c, n in Counter(names).items() if n > 1 and c in read)
    if twice:
        raise CandleFileError(path, 1, f"header names {', '.join(twice)} more than once; "
                              "which column holds the prices would be a guess")
    index = {c: i for i, c in enumerate(names)}
    if "timestamp" not in index and "open_time" in index:
        index["timestamp"] = index["open_time"]
    missing = [c for c in COLUMNS[:5] if c not in index]
    if missing:
        raise CandleFileError(path, 1, f"header {','.join(first)!r} lacks {', '.join(missing)}; "
                              f"expected {','.join(COLUMNS)} or Binance's kline header")
    layout = "binance" if "open_time" in index else "ours"
    return layout, index, len(names), True


def _capped_lines(f: IO[str], path: Path) -> Iterator[str]:
    """The file's lines; CandleFileError at the first one longer than MAX_LINE_CHARS."""
    number = 0
    while line := f.readline(MAX_LINE_CHARS + 2):  # + 2: room for a \r\n ending
        number += 1
        if len(line.rstrip("\r\n")) > MAX_LINE_CHARS:
            raise CandleFileError(path, number, f"line longer than {MAX_LINE_CHARS:,} "
                                  "characters: not a candle CSV")
        yield line


def _rows(path: Path) -> Iterator[tuple[list[str], int]]:
    """Non-blank CSV rows, one at a time, with the file line number of each."""
    with path.open(newline="", encoding="utf-8-sig") as f:  # -sig: Excel writes a BOM
        reader = csv.reader(_capped_lines(f, path))
        for row in reader:
            if not row or all(not c.strip() for c in row):
                continue  # a blank line (e.g. the trailing newline of an editor) carries nothing
            yield row, reader.line_num


def _parse_row(row: list[str], cols: dict[str, int], line: int, path: Path
               ) -> tuple[int, float, float, float, float, float]:
    """(open time, o, h, l, c, volume) of one row, or CandleFileError saying what is wrong."""
    text = row[cols["timestamp"]].strip()
    try:
        exact = Decimal(text)  # exact: '1700000000000.0' and '1.7e12' are whole numbers too
    except InvalidOperation:
        exact = Decimal("NaN")
    if not exact.is_finite() or exact != exact.to_integral_value():
        raise CandleFileError(path, line, f"open time {text!r} is not a whole number")
    ts = int(exact)
    values = []
    for name in COLUMNS[1:]:
        if name not in cols:
            values.append(0.0)  # volume is optional in a header file
            continue
        raw = row[cols[name]].strip()
        try:
            value = float(raw)
        except ValueError:
            raise CandleFileError(path, line, f"{name} {raw!r} is not a number") from None
        if not math.isfinite(value):
            raise CandleFileError(path, line, f"{name} is {raw!r}, not a finite number")
        values.append(value)
    o, h, l, c, v = values
    return ts, o, h, l, c, v


def _check_row(ts: int, o: float, h: float, l: float, c: float, v: float, micro: bool,
               line: int, path: Path) -> None:
    """The candle rules every row must satisfy on its own."""
    if (ts >= MICROS_FROM) != micro:
        unit = "µs" if micro else "ms"
        raise CandleFileError(path, line, f"open time {ts} is not in {unit} like the first row")
    if ts >= MAX_OPEN_TIME:
        raise CandleFileError(path, line, f"open time {ts} is too large for ms or µs")
    if ts < MILLIS_FROM:
        raise CandleFileError(path, line, f"open time {ts} is not a ms (or µs) Unix time "
                              "after 1973; seconds are not accepted")
    if min(o, h, l, c) <= 0:
        raise CandleFileError(path, line, "prices must be positive")
    if v < 0:
        raise CandleFileError(path, line, f"volume {v!r} is negative")
    if h < max(o, c):
        raise CandleFileError(path, line, f"high {h!r} is below max(open {o!r}, close {c!r})")
    if l > min(o, c):
        raise CandleFileError(path, line, f"low {l!r} is above min(open {o!r}, close {c!r})")


def infer_timeframe(ts_ms: np.ndarray) -> tuple[int | None, int]:
    """(most common step between open times, how many steps have it); the smaller one on a tie.

    The mode rather than the minimum: one odd short step or any number of gaps cannot change it.
    """
    if len(ts_ms) < 2:
        return None, 0
    steps = Counter(np.diff(np.asarray(ts_ms, dtype=np.int64)).tolist())
    step, count = min(steps.items(), key=lambda kv: (-kv[1], kv[0]))
    return int(step), int(count)


def find_gaps(ts_ms: np.ndarray, step_ms: int | None) -> list[Gap]:
    """Every step longer than `step_ms`, with the number of whole candles missing in it."""
    if step_ms is None or len(ts_ms) < 2:
        return []
    ts = np.asarray(ts_ms, dtype=np.int64)
    diff = np.diff(ts)
    at = np.flatnonzero(diff > step_ms)
    return [Gap(int(ts[i]), int(ts[i + 1]), max(int(diff[i] // step_ms) - 1, 1)) for i in at]


def timeframe_label(ms: int | None) -> str:
    """'1m', '25m', '1h', '4h', '1d', '1w' for a step in ms, or the ms itself when irregular."""
    if ms is None:
        return "unknown"
    for unit, size in (("w", WEEK_MS), ("d", DAY_MS), ("h", HOUR_MS), ("m", MINUTE_MS)):
        if ms % size == 0:
            return f"{ms // size}{unit}"
    return f"{ms}ms"


def _first_row(path: Path) -> tuple[list[str], int] | None:
    """The first non-blank CSV row and how many raw lines precede it (None for an empty file)."""
    for row, line in _rows(path):
        return row, line - 1
    return None


def _fast(path: Path, skip: int, cols: dict[str, int], width: int) -> pd.DataFrame | None:
    """The candles via pandas' C parser when every row is clean, else None (use `_strict`).

    Only a yes is trusted: any doubt (ragged rows, text, NaN, a broken rule) returns None and the
    row-by-row reader decides and names the line. Both paths give the same numbers (pandas' C
    float parser agrees with float(); tests compare the two on the same files).
    """
    dtypes: dict[int, type[np.generic]] = {i: np.float64 for i in range(width)}
    dtypes[cols["timestamp"]] = np.int64  # like the strict path: whole numbers, '1e3' too
    parts: list[tuple[np.ndarray, ...]] = []
    try:
        with pd.read_csv(path, header=None, skiprows=skip, encoding="utf-8-sig", dtype=dtypes,
                         keep_default_na=False, na_values=[""],
                         chunksize=FAST_CHUNK_ROWS) as chunks:
            for raw in chunks:
                micro = bool(parts[0][0][0] >= MICROS_FROM) if parts else None
                last = int(parts[-1][0][-1]) if parts else None
                part = _fast_chunk(raw, cols, width, micro, last)
                if part is None:
                    return None
                parts.append(part)
    except (ValueError, TypeError, OverflowError, pd.errors.ParserError):
        return None
    if not parts:
        return None
    ts, o, h, l, c, v = (np.concatenate(col) for col in zip(*parts, strict=True))
    parts.clear()  # the chunks are copied into the columns: let them go before the frame
    micro = bool(ts[0] >= MICROS_FROM)
    df = pd.DataFrame({"timestamp": ts // 1000 if micro else ts, "open": o, "high": h,
                       "low": l, "close": c, "volume": v}, copy=False)
    df.attrs["micro"] = micro
    return df


def _fast_chunk(raw: pd.DataFrame, cols: dict[str, int], width: int, micro: bool | None,
                prev_ts: int | None) -> tuple[np.ndarray, ...] | None:
    """(ts, o, h, l, c, v) of one chunk when every row is clean (and follows `prev_ts`)."""
    if raw.shape[1] != width or len(raw) == 0 or raw.isna().any(axis=None):
        return None
    ts = raw[cols["timestamp"]].to_numpy()
    if ts.dtype != np.int64 or (ts > EXACT_INT).any():
        return None  # beyond 2**53 a decimal text may have gone through a double
    o, h, l, c = (raw[cols[k]].to_numpy() for k in COLUMNS[1:5])
    v = raw[cols["volume"]].to_numpy() if "volume" in cols else np.zeros(len(raw))
    micro = bool(ts[0] >= MICROS_FROM) if micro is None else micro
    ok = (((ts >= MICROS_FROM) == micro).all() and (ts >= MILLIS_FROM).all()
          and (ts < MAX_OPEN_TIME).all()
          and np.isfinite(v).all() and (v >= 0).all()
          and np.isfinite(h).all() and np.isfinite(l).all()  # o, c are bounded by h, l
          and (np.minimum(o, c) > 0).all() and (l > 0).all()
          and (h >= np.maximum(o, c)).all() and (l <= np.minimum(o, c)).all()
          and (np.diff(ts) > 0).all() and (prev_ts is None or ts[0] > prev_ts))
    return (ts, o, h, l, c, v) if ok else None


def _strict(path: Path, header: bool, cols: dict[str, int], width: int) -> pd.DataFrame:
    """The candles read row by row; the first row breaking a rule raises with its line."""
    rows = _rows(path)
    if header:
        next(rows, None)
    # Compact typed columns, not a list of tuples: a million rows stay tens of MB.
    times, values = array.array("q"), [array.array("d") for _ in COLUMNS[1:]]
    micro = None
    prev_ts = prev_line = None
    for row, line in rows:
        if len(row) != width:
            raise CandleFileError(path, line, f"{len(row)} columns, expected {width}")
        ts, o, h, l, c, v = _parse_row(row, cols, line, path)
        if micro is None:
            micro = ts >= MICROS_FROM
        _check_row(ts, o, h, l, c, v, micro, line, path)
        if prev_ts is not None and ts <= prev_ts:
            what = "repeats" if ts == prev_ts else "is before"
            raise CandleFileError(path, line, f"open time {ts} {what} the open time of line "
                                  f"{prev_line} ({prev_ts}); rows must be strictly increasing")
        prev_ts, prev_line = ts, line
        times.append(ts)
        for column, value in zip(values, (o, h, l, c, v), strict=True):
            column.append(value)
    if not times:
        raise CandleFileError(path, None, "no candle rows after the header")
    df = pd.DataFrame({"timestamp": np.frombuffer(times, dtype=np.int64).copy(),
                       **{name: np.frombuffer(column, dtype=np.float64).copy()
                          for name, column in zip(COLUMNS[1:], values, strict=True)}})
    if micro:
        df["timestamp"] //= 1000
    df.attrs["micro"] = bool(micro)
    return df


def read_candles(path: str | Path) -> CandleFile:
    """Read and validate a candle CSV (see the module docstring); CandleFileError on a bad row."""
    path = Path(path)
    if path.exists() and not path.is_file():
        # A device or pipe would be read without end (/dev/zero), or only once of the two passes.
        raise CandleFileError(path, None, "not a regular file; give a CSV file")
    try:
        first = _first_row(path)
        if first is None:
            raise CandleFileError(path, None, "the file is empty")
        layout, cols, width, header = _layout(first[0], path)
        df = _fast(path, first[1] + header, cols, width)
        if df is None:
            df = _strict(path, header, cols, width)
    except (OSError, UnicodeDecodeError, csv.Error) as e:
        raise CandleFileError(path, None, f"cannot read: {e}") from e
    micro = bool(df.attrs.get("micro", False))
    ts = df["timestamp"].to_numpy()
    step, count = infer_timeframe(ts)
    short = int((np.diff(ts) < step).sum()) if step is not None else 0
    return CandleFile(df, layout, micro, step, count, tuple(find_gaps(ts, step)), short)


def write_candles(path: str | Path, candles: pd.DataFrame) -> None:
    """Write candles in our format (header timestamp,open,high,low,close,volume; ms open times)."""
    missing = [c for c in COLUMNS if c not in candles.columns]
    if missing:
        raise ValueError(f"candles lack column(s): {', '.join(missing)}")
    out = candles[list(COLUMNS)].copy()
    out["timestamp"] = out["timestamp"].astype(np.int64)
    # repr-exact floats: what is read back is what was fetched.
    out.to_csv(path, index=False, float_format=None, lineterminator="\n")
