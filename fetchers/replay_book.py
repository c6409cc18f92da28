"""What the replay venue serves, read before the daemon starts: candle files or the store.

REPLAY_SOURCE is either candle files (comma-separated; a directory stands for every *.csv in
it), each read strictly by fetchers/csv_files.py, the symbol being the start of the file name
(`LTCUSDT-usdm-1m-2026-02-01_03.csv` -> LTC/USDT); or `store:<venue>` (`store:<venue>:<tf>`
for a timeframe other than 1m): every symbol of that venue in the history store under DATA_DIR.
All candles of one replay share one timeframe.
"""
from __future__ import annotations

import re
from pathlib import Path

import pandas as pd

from domain.timeframe import Timeframe
from exchanges.replay_client import ReplayBook

from . import store
from .csv_files import CandleFileError, read_candles, timeframe_label

SYMBOL_IN_NAME = re.compile(r"([A-Z0-9]{2,20}?)-?USDT(?![A-Z])", re.IGNORECASE)


class ReplaySourceError(ValueError):
    """REPLAY_SOURCE names nothing the replay can serve (the message says what and why)."""


def symbol_of(path: Path) -> str:
    """'LTCUSDT-usdm-1m.csv' -> 'LTC/USDT'; ReplaySourceError when the name holds no pair."""
    found = SYMBOL_IN_NAME.match(path.name)
    if found is None:
        raise ReplaySourceError(f"{path}: the file name must start with the pair, like "
                                "LTCUSDT-1m.csv, to say which symbol it holds")
    return f"{found.group(1).upper()}/USDT"


def _files(source: str) -> list[Path]:
    """The CSV files a comma-separated list of files and directories names."""
    out: list[Path] = []
    for part in (p.strip() for p in source.split(",") if p.strip()):
        path = Path(part)
        if path.is_dir():
            found = sorted(path.glob("*.csv"))
            if not found:
                raise ReplaySourceError(f"{path}: a directory without candle files (*.csv)")
            out += found
        elif path.is_file():
            out.append(path)
        else:
            raise ReplaySourceError(f"{path}: no such file or directory")
    if not out:
        raise ReplaySourceError("no candle file named")
    return out


def from_files(source: str) -> ReplayBook:
    """The candles of the files (and directories) `source` names, one symbol per file."""
    candles: dict[str, pd.DataFrame] = {}
    timeframes: dict[str, Path] = {}
    for path in _files(source):
        symbol = symbol_of(path)
        if symbol in candles:
            raise ReplaySourceError(f"{path}: a second file for {symbol}")
        try:
            read = read_candles(path)
        except CandleFileError as e:
            raise ReplaySourceError(str(e)) from None
        timeframes.setdefault(timeframe_label(read.timeframe_ms), path)
        candles[symbol] = read.candles
    if len(timeframes) > 1:
        shown = ", ".join(f"{tf} ({p.name})" for tf, p in timeframes.items())
        raise ReplaySourceError(f"the files hold different timeframes: {shown}; a replay "
                                "serves one")
    timeframe = next(iter(timeframes))
    try:
        Timeframe.parse(timeframe)
    except ValueError:
        raise ReplaySourceError(f"{source}: candles {timeframe} apart are not a timeframe "
                                "the daemon can build on") from None
    return ReplayBook(timeframe, candles, source)


def from_store(source: str, data_dir: str) -> ReplayBook:
    """`store:<venue>[:<timeframe>]`: every stored symbol of the venue at that timeframe."""
    _, venue, *rest = source.split(":")
    timeframe = rest[0] if rest else "1m"
    symbols = store.stored_symbols(data_dir, venue)
    paths = {s: store.path_of(data_dir, venue, s, timeframe) for s in symbols}
    candles = {}
    for symbol, path in paths.items():
        if path.is_file():
            try:
                frame = store.read(path)
            except store.StoreError as e:
                raise ReplaySourceError(str(e)) from None
            if len(frame):
                candles[symbol] = frame
    if not candles:
        raise ReplaySourceError(f"{source}: no {timeframe} candles of {venue!r} under "
                                f"{data_dir} (`main.py download` stores them)")
    return ReplayBook(timeframe, candles, f"{source} under {data_dir}")


def load_book(source: str, data_dir: str) -> ReplayBook:
    """The candles REPLAY_SOURCE names (ReplaySourceError saying why it cannot be served)."""
    if source.startswith("store:"):
        return from_store(source, data_dir)
    return from_files(source)
