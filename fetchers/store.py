"""The local history store: one Parquet file of closed candles per venue/symbol/timeframe.

Layout: DATA_DIR/<venue>/<BASEQUOTE>/<timeframe>.parquet, e.g. data/binance/BTCUSDT/1m.parquet
(1M, the calendar month, is stored as 1month.parquet: '1M' and '1m' are one name on
case-insensitive file systems). Columns: timestamp (int64 open time, ms UTC), open, high, low,
close, volume (float64), oldest first. A file is one contiguous span of the venue's candles:
the gaps in it are the venue's own (listed, never filled).

Every write goes to a temporary file in the same directory, is flushed to disk, then renamed
over the old file: a crash or a full disk leaves the old file as it was.
"""
from __future__ import annotations

import os
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from domain.timeframe import DAY_MS
from exchanges.candles import COLUMNS, empty_frame, insane

from .aggregate import bucket_end, bucket_starts
from .timeframes import Plan

SUFFIX = ".parquet"
SHOWN_PROBLEMS = 5


class StoreError(Exception):
    """A stored file that cannot be read or does not pass verification (the message says)."""


@dataclass(frozen=True)
class Gap:
    """Candles the venue did not serve between two stored ones (open times in ms)."""

    before_ms: int  # open time of the last candle before the gap
    after_ms: int  # open time of the first candle after it
    missing: int  # candles missing on the timeframe's grid


def file_name(timeframe: str) -> str:
    """'1m' -> '1m.parquet'; the month '1M' -> '1month.parquet'."""
    return ("1month" if timeframe == "1M" else timeframe) + SUFFIX


def symbol_dir(symbol: str) -> str:
    """'BTC/USDT' -> 'BTCUSDT'."""
    return symbol.replace("/", "")


def path_of(data_dir: str | os.PathLike[str], venue: str, symbol: str, timeframe: str) -> Path:
    """Where the candles of one venue/symbol/timeframe are stored."""
    return Path(data_dir) / venue / symbol_dir(symbol) / file_name(timeframe)


def stored_symbols(data_dir: str | os.PathLike[str], venue: str) -> list[str]:
    """Every symbol with a directory under the venue ('BTC/USDT', ...), sorted."""
    folder = Path(data_dir) / venue
    if not folder.is_dir():
        return []
    return sorted(f"{p.name[:-4]}/USDT" for p in folder.iterdir()
                  if p.is_dir() and p.name.endswith("USDT") and len(p.name) > 4)


def _pyarrow() -> tuple[Any, Any]:
    """(pyarrow, pyarrow.parquet), imported on first use: a CSV backtest never loads them."""
    import pyarrow as pa  # type: ignore[import-untyped]
    import pyarrow.parquet as pq  # type: ignore[import-untyped]
    return pa, pq


def read(path: str | os.PathLike[str]) -> pd.DataFrame:
    """The stored candles of one file (StoreError when it cannot be read as one)."""
    _, pq = _pyarrow()
    try:
        table = pq.read_table(path, columns=list(COLUMNS))
    except (OSError, ValueError) as e:  # pyarrow's errors derive from these
        raise StoreError(f"{path}: cannot be read as a candle file: {e}") from None
    frame = table.to_pandas()
    return frame.astype({"timestamp": "int64", **{c: "float64" for c in COLUMNS[1:]}})


def read_or_empty(path: str | os.PathLike[str]) -> pd.DataFrame:
    """The stored candles, or an empty frame when the file does not exist yet."""
    return read(path) if Path(path).is_file() else empty_frame()


def write(path: str | os.PathLike[str], candles: pd.DataFrame,
          metadata: Mapping[str, str] | None = None) -> None:
    """Write the candles atomically: a temporary file beside `path`, fsync, then rename."""
    pa, pq = _pyarrow()
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    table = pa.Table.from_pandas(candles.loc[:, list(COLUMNS)].reset_index(drop=True),
                                 preserve_index=False)
    if metadata:
        table = table.replace_schema_metadata({**(table.schema.metadata or {}),
                                               **{k.encode(): v.encode()
                                                  for k, v in metadata.items()}})
    fd, name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    temp = Path(name)
    try:
        with os.fdopen(fd, "wb") as f:
            pq.write_table(table, f, compression="zstd")
            f.flush()
            os.fsync(f.fileno())
        temp.replace(target)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
    _sync_dir(target.parent)


def _sync_dir(folder: Path) -> None:
    """Make the rename itself durable (POSIX; a no-op where directories cannot be opened)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


# -- the timeframe's grid -------------------------------------------------------------------------
def next_open(p: Plan, open_ms: int) -> int:
    """Open time of the candle after the one opening at open_ms, on the plan's grid."""
    if p.nominal:  # calendar months
        month = np.datetime64(open_ms, "ms").astype("datetime64[M]") + 1
        return int(month.astype("datetime64[ms]").astype(np.int64))
    if p.bucket_ms <= DAY_MS:
        return bucket_end(open_ms, p.bucket_ms)
    return open_ms + p.bucket_ms


def _next_opens(p: Plan, ts: np.ndarray) -> np.ndarray:
    """next_open over an array of open times."""
    if p.nominal:
        months = ts.astype("datetime64[ms]").astype("datetime64[M]") + 1
        return months.astype("datetime64[ms]").astype(np.int64)
    if p.bucket_ms <= DAY_MS:
        return np.minimum(ts + p.bucket_ms, ts - ts % DAY_MS + DAY_MS)
    return ts + p.bucket_ms


def _missing(p: Plan, after: int, before: int) -> int:
    """Grid candles opening in [after, before): the ones a gap lacks."""
    if p.nominal or (p.bucket_ms < DAY_MS and DAY_MS % p.bucket_ms):
        n, t = 0, after
        while t < before:  # uneven grids (months, day-cut buckets); gaps are few
            n, t = n + 1, next_open(p, t)
        return n
    return -(-(before - after) // p.bucket_ms)


def gaps(candles: pd.DataFrame, p: Plan) -> list[Gap]:
    """Every place where the next stored candle is not the next one on the grid."""
    ts = candles["timestamp"].to_numpy(dtype=np.int64)
    if ts.size < 2:
        return []
    expected = _next_opens(p, ts[:-1])
    at = np.flatnonzero(ts[1:] > expected)
    return [Gap(int(ts[i]), int(ts[i + 1]), _missing(p, int(expected[i]), int(ts[i + 1])))
            for i in at.tolist()]


def verify(candles: pd.DataFrame, p: Plan) -> list[str]:
    """What is wrong with a candle series, in words (empty when it is sound).

    Open times strictly increasing (sorted, no duplicate), on the timeframe's grid, and every
    candle sane: finite, low > 0, high >= max(open, close), low <= min(open, close), volume >= 0.
    """
    ts = candles["timestamp"].to_numpy(dtype=np.int64)
    problems: list[str] = []
    back = np.flatnonzero(np.diff(ts) <= 0)
    for i in back[:SHOWN_PROBLEMS].tolist():
        problems.append(f"row {i + 1}: open time {ts[i + 1]} is not after {ts[i]} "
                        "(unsorted or duplicate)")
    if not p.nominal and not p.straight and ts.size:
        off = np.flatnonzero(bucket_starts(ts, p.bucket_ms, p.origin_ms) != ts)
        for i in off[:SHOWN_PROBLEMS].tolist():
            problems.append(f"row {i}: open time {ts[i]} is not on the {p.timeframe} grid")
    values = candles[list(COLUMNS[1:])].to_numpy(dtype=np.float64)
    bad = np.flatnonzero(insane(values)) if len(values) else np.empty(0, np.int64)
    for i in bad[:SHOWN_PROBLEMS].tolist():
        o, h, lo, c, v = values[i].tolist()
        problems.append(f"row {i}: open time {ts[i]} breaks the OHLC relations (open {o}, "
                        f"high {h}, low {lo}, close {c}, volume {v})")
    hidden = len(back) + len(bad) - min(len(back), SHOWN_PROBLEMS) - min(len(bad),
                                                                         SHOWN_PROBLEMS)
    if hidden > 0:
        problems.append(f"... and {hidden} more")
    return problems
