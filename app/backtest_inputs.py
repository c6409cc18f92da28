"""The candles a backtest runs on: --csv files, or the history store's files cut to
--since/--until, each with its --timeframe-detail candles."""
from __future__ import annotations

import argparse
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from app.backtest_output import iso_or_none, note

if TYPE_CHECKING:
    import pandas as pd


def symbol_from(path: str) -> str:
    """'samples/LTCUSDT-usdm-1m.csv' -> 'LTCUSDT'."""
    stem = Path(path).name
    return re.split(r"[-_.]", stem, maxsplit=1)[0] or stem


@dataclass
class Series:
    """One candle series to backtest, with the names written for it."""

    candles: pd.DataFrame
    symbol: str
    timeframe: str
    tf_ms: int
    detail: pd.DataFrame | None = None  # --timeframe-detail candles of the same market


class MissingData(Exception):
    """Store files a backtest needs that are not there (exit 2); the message says how to fetch."""


def series_of(args: argparse.Namespace, dotenv_path: str) -> list[Series]:
    """The series the flags name, with their detail candles (MissingData, ValueError)."""
    if args.exchange:
        _check_detail(args, [(tf, _tf_ms(tf)) for tf in args.timeframes])
        series = _store_series(args, dotenv_path)
    else:
        series = _csv_series(args)
        _check_detail(args, [(s.timeframe, s.tf_ms) for s in series])
    _drop_same_detail(args, series)
    return series


def _load(path: str, timeframe: str | None):
    """(candles, timeframe_ms, timeframe label) of a candle file; ValueError says what is wrong."""
    from fetchers.csv_files import read_candles, timeframe_label
    from fetchers.timeframes import parse_timeframe

    data = read_candles(path)
    tf_ms = parse_timeframe(timeframe) if timeframe else data.timeframe_ms
    if tf_ms is None:
        raise ValueError(f"{path}: the timeframe cannot be inferred from fewer than two "
                         "candles; give --timeframe")
    label = timeframe or timeframe_label(tf_ms)
    spacing = data.timeframe_ms
    if timeframe and spacing is not None and spacing != tf_ms:
        # Not an error: month candles have uneven spacing. But close times (and so every
        # signal and exit time) follow --timeframe, so say when the file disagrees.
        note(f"warning: --timeframe {timeframe} but the candles of {path} are spaced "
             f"{timeframe_label(spacing)} apart; close times follow --timeframe")
    note(f"{path}: {len(data.candles):,} candles, timeframe {label}"
         f"{'' if timeframe else ' (inferred)'}, {len(data.gaps):,} gap(s)")
    return data.candles, tf_ms, label


def _load_detail(path: str, timeframe: str) -> pd.DataFrame:
    """The --detail-csv candles; ValueError when their spacing is not --timeframe-detail."""
    from fetchers.csv_files import read_candles, timeframe_label
    from fetchers.timeframes import parse_timeframe

    data = read_candles(path)
    if data.timeframe_ms is not None and data.timeframe_ms != parse_timeframe(timeframe):
        raise ValueError(f"--detail-csv {path}: its candles are "
                         f"{timeframe_label(data.timeframe_ms)} apart, not {timeframe} "
                         "(--timeframe-detail)")
    note(f"{path}: {len(data.candles):,} {timeframe} detail candles, {len(data.gaps):,} gap(s)")
    return data.candles


def _csv_series(args: argparse.Namespace) -> list[Series]:
    """Every --csv file as a Series (ValueError names a bad one)."""
    out = []
    for path in args.csv:
        candles, tf_ms, timeframe = _load(path, args.timeframe)
        out.append(Series(candles, args.symbol or symbol_from(path), timeframe, tf_ms))
    if args.timeframe_detail:
        out[0].detail = _load_detail(args.detail_csv, args.timeframe_detail)
    return out


def _check_detail(args: argparse.Namespace, timeframes: Sequence[tuple[str, int]]) -> None:
    """ValueError when the detail timeframe is longer than a backtested one."""
    if not args.timeframe_detail:
        return
    detail_ms = _tf_ms(args.timeframe_detail)
    for timeframe, tf_ms in timeframes:
        if detail_ms > tf_ms:
            raise ValueError(f"--timeframe-detail {args.timeframe_detail} is longer than the "
                             f"{timeframe} candles it should refine")


def _drop_same_detail(args: argparse.Namespace, series: Sequence[Series]) -> None:
    """A detail as long as the candles themselves orders nothing: said, and not used."""
    for s in series:
        if s.detail is not None and _tf_ms(args.timeframe_detail) == s.tf_ms:
            note(f"{s.symbol} {s.timeframe}: --timeframe-detail {args.timeframe_detail} is "
                 "the timeframe itself: no effect")
            s.detail = None


def _store_series(args: argparse.Namespace, dotenv_path: str) -> list[Series]:
    """The stored series the flags name, cut to --since/--until (MissingData, ValueError)."""
    from config import ConfigError, read_data_dir
    from fetchers import store

    try:
        data_dir = args.data_dir or read_data_dir(dotenv_path=dotenv_path)
    except ConfigError as e:
        raise ValueError("cannot read DATA_DIR: " + "; ".join(map(str, e.problems))) from None
    symbols = (store.stored_symbols(data_dir, args.exchange) if args.symbols == ("ALL",)
               else list(args.symbols))
    if not symbols:
        raise MissingData(f"no symbol is stored for {args.exchange} under {data_dir}; fetch "
                          "some first: " + _download_hint(args, ["BTC/USDT"],
                                                          list(args.timeframes)))
    detail = (args.timeframe_detail,) if args.timeframe_detail else ()
    needed = list(dict.fromkeys((s, tf) for s in symbols
                                for tf in tuple(args.timeframes) + detail))
    missing = [(s, tf) for s, tf in needed
               if not store.path_of(data_dir, args.exchange, s, tf).is_file()]
    if missing:
        files = ", ".join(str(store.path_of(data_dir, args.exchange, s, tf)) for s, tf in missing)
        raise MissingData(f"not in the store: {files}; fetch with: " + _download_hint(
            args, list(dict.fromkeys(s for s, _ in missing)),
            list(dict.fromkeys(tf for _, tf in missing))))
    loaded = {key: _stored(args, data_dir, *key) for key in needed}
    # Named as a file backtest names them (LTCUSDT): the same candles give the same output.
    return [Series(loaded[(s, tf)], store.symbol_dir(s), tf, _tf_ms(tf),
                   loaded[(s, args.timeframe_detail)] if args.timeframe_detail else None)
            for s in symbols for tf in args.timeframes]


def _tf_ms(timeframe: str) -> int:
    from fetchers.timeframes import parse_timeframe
    return parse_timeframe(timeframe)


def _download_hint(args: argparse.Namespace, symbols: list[str], timeframes: list[str]) -> str:
    """The `download` command that fetches these symbols and timeframes for the asked span."""
    since = iso_or_none(args.since) or "YYYY-MM-DD"
    until = f" --until {iso_or_none(args.until)}" if args.until is not None else ""
    data_dir = f" --data-dir {args.data_dir}" if args.data_dir else ""
    return (f"python main.py download --exchange {args.exchange} --symbols "
            f"{','.join(symbols)} --timeframes {','.join(timeframes)} --since {since}{until}"
            f"{data_dir}")


def _stored(args: argparse.Namespace, data_dir: str, symbol: str, timeframe: str
            ) -> pd.DataFrame:
    """One stored file, verified and cut to [--since, --until) (ValueError when unsound)."""
    from app.scan import utc_text
    from exchanges.candles import since_slice
    from exchanges.registry import get_venue
    from fetchers import store
    from fetchers.timeframes import plan

    path = store.path_of(data_dir, args.exchange, symbol, timeframe)
    try:
        candles = store.read(path)
    except store.StoreError as e:
        raise ValueError(str(e)) from None
    p = plan(timeframe, get_venue(args.exchange).native_timeframes)
    problems = store.verify(candles, p)
    if problems:
        raise ValueError(f"{path}: " + "; ".join(problems))
    if len(candles):
        first, last = int(candles["timestamp"].iloc[0]), int(candles["timestamp"].iloc[-1])
        if args.since is not None and args.since < first:
            note(f"{path}: starts at {utc_text(first)} UTC, after --since")
        if args.until is not None and args.until > store.next_open(p, last):
            note(f"{path}: ends at {utc_text(last)} UTC, before --until")
    cut = since_slice(candles, args.since, args.until)
    gaps = store.gaps(cut, p)
    note(f"{path}: {len(cut):,} candles, {len(gaps):,} gap(s)")
    return cut
