"""`main.py scan`: run the detector over a candle file or fetched history and print the events."""
from __future__ import annotations

import csv
import json
import os
import sys
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import IO

import pandas as pd

import choch
from choch import Event
from domain.symbols import normalize_symbol
from domain.timeframe import Timeframe
from fetchers.columns import empty_frame
from fetchers.csv_files import CandleFile, read_candles, timeframe_label, write_candles

FORMATS = ("jsonl", "csv", "table")
KINDS = (choch.CHOCH, choch.BOS)
FIELDS = ("kind", "direction", "level", "pivot_time", "break_time", "confirmed_at", "extreme",
          "close")
SHOWN_GAPS = 5  # the first few gaps are listed; the count covers them all


class ScanError(Exception):
    """A scan that cannot run (bad input data or flags): the message is for the user; exit 2."""


def parse_kinds(text: str) -> frozenset[str]:
    """'CHOCH,BOS' (any case) -> the set of kinds to print; ValueError for anything else."""
    kinds = {k.strip().upper() for k in text.split(",") if k.strip()}
    unknown = sorted(kinds - set(KINDS))
    if unknown or not kinds:
        raise ValueError(f"--kinds takes a comma-separated list of {','.join(KINDS)}, "
                         f"got {text!r}")
    return frozenset(kinds)


def parse_utc(text: str) -> int:
    """'YYYY-MM-DD' or an ISO datetime (UTC unless it carries an offset) -> ms since the epoch."""
    try:
        when = datetime.fromisoformat(text.strip())
    except ValueError:
        raise ValueError(f"{text!r} is not a date (YYYY-MM-DD) or an ISO datetime "
                         "(YYYY-MM-DDTHH:MM[:SS][+HH:MM]); times are UTC") from None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return int(when.timestamp() * 1000)


def utc_text(ms: int) -> str:
    """An open/close time in ms as 'YYYY-MM-DD HH:MM' UTC (seconds shown only when not zero)."""
    when = datetime.fromtimestamp(ms / 1000, tz=UTC)
    return when.strftime("%Y-%m-%d %H:%M:%S" if ms % 60_000 else "%Y-%m-%d %H:%M")


def _note(message: str) -> None:
    print(message, file=sys.stderr)


def describe_file(path: str, data: CandleFile) -> None:
    """Tell on stderr what was read: layout, units, inferred timeframe, and any gaps."""
    layout = {"ours": "timestamp,open,high,low,close,volume",
              "binance": "Binance 12-column klines with header",
              "binance-no-header": "Binance 12-column klines without header"}[data.layout]
    unit = ", open times in µs converted to ms" if data.microseconds else ""
    _note(f"scan: {path}: {len(data.candles):,} candles ({layout}{unit})")
    if data.timeframe_ms is None:
        _note("scan: timeframe unknown (fewer than two candles)")
        return
    steps = len(data.candles) - 1
    _note(f"scan: timeframe {timeframe_label(data.timeframe_ms)} inferred from the candle "
          f"spacing: the most common step ({data.step_count:,} of {steps:,} steps); "
          f"confirmed_at = break_time + {timeframe_label(data.timeframe_ms)}")
    if data.short_steps:
        _note(f"scan: warning: {data.short_steps:,} step(s) shorter than "
              f"{timeframe_label(data.timeframe_ms)}: the spacing is irregular")
    describe_gaps(data)


def describe_gaps(data: CandleFile) -> None:
    """The gap count and the first few gaps, in UTC, on stderr (gaps never stop a scan)."""
    if not data.gaps:
        return
    missing = sum(g.missing for g in data.gaps)
    _note(f"scan: {len(data.gaps):,} gap(s) in time, {missing:,} missing candle(s); scanned "
          "anyway (bars are counted by position, a gap creates no bars):")
    for g in data.gaps[:SHOWN_GAPS]:
        _note(f"scan:   after {utc_text(g.before_ms)} next {utc_text(g.after_ms)} UTC "
              f"({g.missing} missing)")
    if len(data.gaps) > SHOWN_GAPS:
        _note(f"scan:   ... and {len(data.gaps) - SHOWN_GAPS:,} more")


def detect(candles: pd.DataFrame, left: int, right: int, break_on: str,
           kinds: Iterable[str], timeframe_ms: int | None) -> list[Event]:
    """choch.scan over the candles, keeping only the requested kinds."""
    try:
        events = choch.scan(candles, left=left, right=right, break_on=break_on,
                            timeframe_ms=timeframe_ms)
    except ValueError as e:
        raise ScanError(str(e)) from e
    wanted = frozenset(kinds)
    kept = [e for e in events if e.kind in wanted]
    if len(kept) < len(events):
        _note(f"scan: --kinds {','.join(sorted(wanted))}: {len(kept):,} of {len(events):,} "
              "events kept")
    return kept


def _table(events: list[Event], out: IO[str]) -> None:
    """Aligned columns, times as UTC text, prices as exact shortest decimals."""
    head = ["kind", "direction", "level", "pivot (UTC)", "break (UTC)", "confirmed (UTC)",
            "extreme", "close"]
    rows = [[e.kind, e.direction, repr(e.level), utc_text(e.pivot_time), utc_text(e.break_time),
             utc_text(e.confirmed_at), repr(e.extreme), repr(e.close)] for e in events]
    widths = [max(len(r[i]) for r in [head] + rows) for i in range(len(head))]
    numeric = {2, 6, 7}
    for r in [head] + rows:
        cells = [c.rjust(w) if i in numeric else c.ljust(w)
                 for i, (c, w) in enumerate(zip(r, widths, strict=True))]
        print("  ".join(cells).rstrip(), file=out)


def write_events(events: list[Event], fmt: str, out: IO[str]) -> None:
    """Print events one per line: jsonl (spec fields), csv with a header, or an aligned table."""
    if fmt == "jsonl":
        for e in events:
            out.write(json.dumps(e.to_dict()) + "\n")
    elif fmt == "csv":
        w = csv.writer(out, lineterminator="\n")
        w.writerow(FIELDS)
        for e in events:
            w.writerow([repr(v) if isinstance(v, float) else v for v in
                        (getattr(e, f) for f in FIELDS)])
    elif fmt == "table":
        _table(events, out)
    else:
        raise ValueError(f"format must be one of {FORMATS}, got {fmt!r}")


def _summary(events: list[Event]) -> None:
    counts = {k: sum(e.kind == k for e in events) for k in KINDS}
    _note(f"scan: {len(events):,} event(s): " + ", ".join(f"{v:,} {k}" for k, v in counts.items()))


def scan_csv(path: str, left: int, right: int, break_on: str, kinds: Iterable[str], fmt: str,
             out: IO[str]) -> int:
    """Scan a candle file and print its events; ScanError (with the line) for a malformed file."""
    try:
        data = read_candles(path)
    except ValueError as e:
        raise ScanError(str(e)) from e
    describe_file(path, data)
    events = detect(data.candles, left, right, break_on, kinds, data.timeframe_ms)
    write_events(events, fmt, out)
    _summary(events)
    return 0


def check_writable(path: str) -> None:
    """ScanError unless a file can be written at `path` (its directory exists and is writable)."""
    target = Path(path)
    folder = target.parent
    if target.is_dir():
        raise ScanError(f"--save-csv {path}: is a directory; give a file name")
    if not folder.is_dir():
        raise ScanError(f"--save-csv {path}: directory {folder} does not exist")
    if not os.access(folder, os.W_OK) or (target.exists() and not os.access(target, os.W_OK)):
        raise ScanError(f"--save-csv {path}: not writable")


# (symbol, timeframe, since_ms, until_ms) -> the closed candles; raises exchange errors.
Fetch = Callable[[str, str, int, "int | None"], pd.DataFrame]


def scan_history(fetch: Fetch, symbol: str, timeframe: str, since_ms: int, until_ms: int | None,
                 left: int, right: int, break_on: str, kinds: Iterable[str], fmt: str,
                 out: IO[str], save_csv: str | None = None) -> int:
    """Fetch closed candles, optionally save them, and print the events."""
    try:
        symbol = normalize_symbol(symbol)
        timeframe_ms = Timeframe.parse(timeframe).ms
    except ValueError as e:
        raise ScanError(str(e)) from e
    if until_ms is not None and until_ms <= since_ms:
        raise ScanError(f"--until ({utc_text(until_ms)}) must be after --since "
                        f"({utc_text(since_ms)})")
    if save_csv:
        check_writable(save_csv)  # before the fetch: a long download must not end in an error
    candles = fetch(symbol, timeframe, since_ms, until_ms)
    _note(f"scan: {symbol} {timeframe}: {len(candles):,} closed candles fetched")
    if candles.empty:
        candles = empty_frame()
    if save_csv:
        try:
            write_candles(save_csv, candles)
        except OSError as e:
            raise ScanError(f"--save-csv {save_csv}: cannot write: {e}") from e
        _note(f"scan: candles saved to {save_csv}")
    events = detect(candles, left, right, break_on, kinds, timeframe_ms)
    write_events(events, fmt, out)
    _summary(events)
    return 0
