"""`main.py backtest`: replay candles through the detector and the trade rules, and report.

The candles come from a file (--csv) or from the history store `main.py download` fills
(--exchange, --symbols, --timeframes). A file backtest reads no configuration; a store backtest
reads DATA_DIR only. Every trade flag defaults to the built-in default of its env key
(config.Settings()), never to the environment or an env file.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TYPE_CHECKING, Optional, Sequence

from app.argtypes import positive_int, utc_date

if TYPE_CHECKING:
    import pandas as pd

DESCRIPTION = """\
Backtest the CHoCH/BOS signals of a candle file (--csv, any format `scan --csv` reads), or of
the history store (--exchange NAME --symbols A,B|ALL --timeframes 15m,1h [--since] [--until]:
the files `main.py download` writes under DATA_DIR; ALL = every symbol stored for the venue),
with the same trade rules as paper trading: entry at the break candle's close (plus
slippage), stop at the event's extreme, target at --risk-reward x risk, stop checked before
target on every later candle, fees on both legs. Prints a summary (table or JSON) on stdout;
notes go to stderr. Reads no configuration but DATA_DIR (store only): the trade flags default
to the env keys' built-in defaults.

--timeframe-detail 1m: when one candle touches both the stop and the target, the first 1m
candle inside it touching either decides which exit happened (stop first when that one touches
both, or when none inside it does); without it, stop first. The 1m candles come from
--detail-csv PATH with --csv, or from the store's 1m file of the same symbol.

Sweep: --grid "left=3,5,8 right=3,5 risk_reward=1.5,2,3" backtests every combination over every
--csv file (repeat --csv), or every stored symbol x timeframe, in parallel and ranks them:
net_pnl, higher first, then profit_factor, higher first (none: infinite with a profit, 0
without), then grid order. Grid keys: left, right, break_on, trade_on (kinds joined by '+':
CHOCH,BOS,CHOCH+BOS), risk_reward, on_opposite, fee_rate, slippage_bps; keys not in the grid
take their flag's value. Local processes by default (--jobs); --scheduler runs the same sweep
on a Dask cluster.

exit status:
  0    done
  1    the Dask scheduler could not be reached
  2    bad flags, a bad grid key or value, a malformed candle file, or a store file missing
       (named, with the `download` command that fetches it)"""


def _fraction(text: str) -> float:
    value = _number(text)
    if value < 0 or value >= 1:
        raise argparse.ArgumentTypeError(f"must be >= 0 and < 1, got {text}")
    return value


def _number(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if value != value or value in (float("inf"), float("-inf")):
        raise argparse.ArgumentTypeError(f"{text!r} is not a finite number")
    return value


def _positive(text: str) -> float:
    value = _number(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be > 0, got {text}")
    return value


def _non_negative(text: str) -> float:
    value = _number(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be >= 0, got {text}")
    return value


def _trade_on(text: str) -> frozenset[str]:
    from domain.parsing import parse_trade_on
    try:
        return frozenset(parse_trade_on(text))
    except ValueError as e:
        raise argparse.ArgumentTypeError(f"--trade-on takes {e}, got {text!r}") from None


def _timeframe(text: str) -> str:
    from fetchers.timeframes import parse_timeframe
    try:
        parse_timeframe(text)
    except ValueError as e:
        raise argparse.ArgumentTypeError(str(e)) from None
    return text


def _exchange(text: str) -> str:
    from exchanges import registry
    try:
        return registry.get_venue(text).name
    except registry.UnknownVenue as e:
        raise argparse.ArgumentTypeError(str(e)) from None


def _symbols(text: str) -> tuple[str, ...]:
    from config_values import parse_symbols
    try:
        return parse_symbols(text)
    except ValueError as e:
        raise argparse.ArgumentTypeError(str(e)) from None


def _timeframes(text: str) -> tuple[str, ...]:
    from config_values import parse_timeframes
    try:
        return parse_timeframes(text)
    except ValueError as e:
        raise argparse.ArgumentTypeError(str(e)) from None


def add_parser(subparsers, parents=()) -> argparse.ArgumentParser:
    """Add the `backtest` subcommand and its flags."""
    from config import Settings
    d = Settings()
    p = subparsers.add_parser("backtest", parents=list(parents),
                              help="replay a candle file through the detector and trade rules",
                              description=DESCRIPTION,
                              formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--csv", metavar="PATH", action="append",
                   help="candle file: our CSV or a Binance kline dump (as scan --csv); "
                        "repeat it for a sweep over several files")
    p.add_argument("--exchange", type=_exchange, metavar="NAME",
                   help="backtest the history store of this venue instead of a file")
    p.add_argument("--symbols", type=_symbols, metavar="BTC/USDT,ETH/USDT|ALL",
                   help="with --exchange: stored symbols, or ALL of them")
    p.add_argument("--timeframes", type=_timeframes, metavar="15m,1h",
                   help="with --exchange: stored timeframes")
    p.add_argument("--since", type=utc_date, metavar="DATE",
                   help="with --exchange: first open time, YYYY-MM-DD or ISO datetime, UTC "
                        "(default: the file's first candle)")
    p.add_argument("--until", type=utc_date, metavar="DATE",
                   help="with --exchange: candles opening before this (default: all stored)")
    p.add_argument("--data-dir", metavar="DIR",
                   help="with --exchange: the store (default: DATA_DIR, data/)")
    p.add_argument("--timeframe-detail", type=_timeframe, metavar="TF",
                   help="order a stop and target touched by one candle with these shorter "
                        "candles, e.g. 1m (see above)")
    p.add_argument("--detail-csv", metavar="PATH",
                   help="with --csv and --timeframe-detail: the shorter candles' file")
    p.add_argument("--symbol", help="name written in the trades (default: the file name up to "
                                    "its first '-', '_' or '.')")
    p.add_argument("--timeframe", type=_timeframe,
                   help="candle length, e.g. 1m (default: inferred from the spacing, as scan)")
    p.add_argument("--left", type=positive_int, default=5, help="pivot left bars (5)")
    p.add_argument("--right", type=positive_int, default=5, help="pivot right bars (5)")
    p.add_argument("--break-on", choices=("close", "wick"), default="close",
                   help="what must pass the level (close)")
    p.add_argument("--trade-on", type=_trade_on, default=frozenset(d.trade_on),
                   metavar="CHOCH,BOS", help=f"kinds traded ({','.join(d.trade_on)})")
    p.add_argument("--risk-reward", type=_positive, default=d.risk_reward,
                   help=f"target = risk-reward x risk ({d.risk_reward:g})")
    p.add_argument("--on-opposite", choices=("reverse", "close", "ignore"),
                   default=d.on_opposite, help=f"an opposite signal with a position open "
                                               f"({d.on_opposite})")
    p.add_argument("--fee-rate", type=_fraction, default=d.paper_fee_rate,
                   help=f"fee per leg, a fraction of the notional ({d.paper_fee_rate:g})")
    p.add_argument("--slippage-bps", type=_non_negative, default=d.paper_slippage_bps,
                   help=f"entry and stop exits worsened by this many basis points "
                        f"({d.paper_slippage_bps:g})")
    p.add_argument("--position-size", type=_positive, default=d.position_size,
                   help=f"margin per trade in USDT ({d.position_size:g})")
    p.add_argument("--leverage", type=_positive, default=d.leverage,
                   help=f"quantity = position size x leverage / entry ({d.leverage})")
    p.add_argument("--trades-out", metavar="PATH", help="write every trade to this CSV")
    p.add_argument("--format", choices=("table", "json"), default="table",
                   help="summary on stdout (table)")
    p.add_argument("--report-out", metavar="DIR",
                   help="write an HTML report (index.html, PNGs, trades.csv, summary.json)")
    p.add_argument("--grid", nargs="+", metavar="KEY=V1,V2",
                   help="sweep every combination of these values (see above)")
    p.add_argument("--scheduler", metavar="ADDRESS",
                   help="run the sweep on this Dask scheduler, e.g. tcp://10.0.0.5:8786")
    p.add_argument("--jobs", type=positive_int,
                   help="local worker processes for a sweep (default: every core)")
    p.add_argument("--sweep-out", metavar="FILE.csv",
                   help="write the ranked sweep, one row per combination, to this CSV")
    p.add_argument("--top", type=positive_int, default=20,
                   help="sweep rows shown on stdout (20; the CSV has them all)")
    return p


def symbol_from(path: str) -> str:
    """'samples/LTCUSDT-usdm-1m.csv' -> 'LTCUSDT'."""
    stem = Path(path).name
    return re.split(r"[-_.]", stem, maxsplit=1)[0] or stem


def _note(message: str) -> None:
    print(f"backtest: {message}", file=sys.stderr)


@dataclass
class Series:
    """One candle series to backtest, with the names written for it."""

    candles: pd.DataFrame
    symbol: str
    timeframe: str
    tf_ms: int
    detail: Optional[pd.DataFrame] = None  # --timeframe-detail candles of the same market


class MissingData(Exception):
    """Store files a backtest needs that are not there (exit 2); the message says how to fetch."""


def _iso(ms: Optional[int]) -> Optional[str]:
    from backtest.tradesio import iso_utc
    return None if ms is None else iso_utc(ms)


def settings_of(args: argparse.Namespace, series: Sequence[Series]) -> dict:
    """The flags that shaped the result (printed in the JSON and the report)."""
    if args.csv:
        source: dict = {"csv": args.csv[0], "symbol": series[0].symbol,
                        "timeframe": series[0].timeframe}
    else:
        source = {"exchange": args.exchange,
                  "symbols": list(dict.fromkeys(s.symbol for s in series)),
                  "timeframes": list(dict.fromkeys(s.timeframe for s in series)),
                  "since": _iso(args.since), "until": _iso(args.until)}
    out = {**source, "left": args.left,
           "right": args.right, "break_on": args.break_on, "trade_on": sorted(args.trade_on),
           "risk_reward": args.risk_reward, "on_opposite": args.on_opposite,
           "fee_rate": args.fee_rate, "slippage_bps": args.slippage_bps,
           "position_size": args.position_size, "leverage": args.leverage}
    if args.timeframe_detail:
        out["timeframe_detail"] = args.timeframe_detail
    return out


def print_table(summary: dict, out: IO[str]) -> None:
    """The summary as aligned 'name  value' lines, then one line per symbol/timeframe."""
    def shown(v) -> str:
        if v is None:
            return "-"
        return f"{v:,.4f}" if isinstance(v, float) else f"{v:,}"
    keys = ("trades", "wins", "losses", "win_rate", "net_pnl", "fees", "profit_factor",
            "max_drawdown", "expectancy", "sharpe", "sortino", "exposure")
    for k in keys:
        print(f"{k:<14}{shown(summary[k]):>16}", file=out)
    for r in summary["by_symbol"]:
        print(f"{r['symbol']} {r['timeframe']}: {r['trades']:,} trades, net_pnl "
              f"{shown(r['net_pnl'])}, win_rate {shown(r['win_rate'])}, max_drawdown "
              f"{shown(r['max_drawdown'])}", file=out)


def _write_outputs(args: argparse.Namespace, results: list, series: Sequence[Series],
                   summary: dict, settings: dict) -> None:
    """--trades-out and --report-out, when given."""
    from backtest import tradesio
    if args.trades_out:
        with open(args.trades_out, "w", newline="") as f:
            tradesio.write_trades(results, f)
        _note(f"trades written to {args.trades_out}")
    if args.report_out:
        from backtest.report import write_report
        page = write_report(args.report_out, results, [s.candles for s in series], summary,
                            settings, args.left, args.right, [s.tf_ms for s in series])
        _note(f"report written to {page}")


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
        _note(f"warning: --timeframe {timeframe} but the candles of {path} are spaced "
              f"{timeframe_label(spacing)} apart; close times follow --timeframe")
    _note(f"{path}: {len(data.candles):,} candles, timeframe {label}"
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
    _note(f"{path}: {len(data.candles):,} {timeframe} detail candles, {len(data.gaps):,} gap(s)")
    return data.candles


def _misused(args: argparse.Namespace) -> str | None:
    """A flag combination that cannot work, in words, or None."""
    source = _source_misuse(args) or _detail_misuse(args)
    if source:
        return source
    if args.grid:
        if args.trades_out or args.report_out:
            return "--trades-out and --report-out describe one backtest, not a --grid sweep"
        if args.timeframe_detail:
            return "--timeframe-detail refines one backtest, not a --grid sweep"
        if args.csv and args.symbol and len(args.csv) > 1:
            return "--symbol names one file; a sweep over several files takes names from them"
        return None
    if args.csv and len(args.csv) > 1:
        return "several --csv files are swept with --grid"
    for flag in ("scheduler", "jobs", "sweep_out"):
        if getattr(args, flag) is not None:
            return f"--{flag.replace('_', '-')} needs --grid"
    return None


def _file_problem(path: str) -> str | None:
    """Why a file cannot be written at `path` (its directory must exist), or None."""
    target = Path(path)
    if target.is_dir():
        return "is a directory; give a file name"
    if not target.parent.is_dir():
        return f"directory {target.parent} does not exist"
    if not os.access(target.parent, os.W_OK) or (target.exists()
                                                  and not os.access(target, os.W_OK)):
        return "not writable"
    return None


def _folder_problem(path: str) -> str | None:
    """Why a report directory cannot be made or written at `path`, or None."""
    target = Path(path)
    existing = next(p for p in (target, *target.parents) if p.exists())
    if not existing.is_dir():
        return f"{existing} is a file, not a directory"
    return None if os.access(existing, os.W_OK) else "not writable"


def _unwritable(args: argparse.Namespace) -> str | None:
    """The first output flag whose path cannot be written, in words, or None; checked before
    the work so a long sweep does not end in an error."""
    checks = (("--trades-out", args.trades_out, _file_problem),
              ("--sweep-out", args.sweep_out, _file_problem),
              ("--report-out", args.report_out, _folder_problem))
    for flag, path, problem_of in checks:
        problem = problem_of(path) if path else None
        if problem:
            return f"{flag} {path}: {problem}"
    return None


STORE_FLAGS = ("symbols", "timeframes", "since", "until", "data_dir")


def _source_misuse(args: argparse.Namespace) -> str | None:
    """Exactly one source: a file (--csv) or the store (--exchange with its flags)."""
    if args.exchange is None:
        if not args.csv:
            return ("give a candle file (--csv PATH) or the history store (--exchange NAME "
                    "--symbols A,B --timeframes 15m)")
        given = [f"--{f.replace('_', '-')}" for f in STORE_FLAGS if getattr(args, f) is not None]
        return f"{', '.join(given)} only go with --exchange" if given else None
    if args.csv:
        return "--csv and --exchange are two sources: give one"
    if args.symbol or args.timeframe:
        return ("--symbol and --timeframe name a --csv file; the store takes --symbols and "
                "--timeframes")
    if args.symbols is None or args.timeframes is None:
        return "--exchange needs --symbols and --timeframes"
    if args.since is not None and args.until is not None and args.until <= args.since:
        return "--until must be after --since"
    return None


def _detail_misuse(args: argparse.Namespace) -> str | None:
    """--timeframe-detail takes its candles from --detail-csv (a file) or the store."""
    if args.detail_csv and not args.timeframe_detail:
        return "--detail-csv needs --timeframe-detail (the detail candles' timeframe)"
    if args.detail_csv and not args.csv:
        return "--detail-csv goes with --csv; the store's detail is its own file"
    if args.timeframe_detail and args.csv and not args.detail_csv:
        return "--timeframe-detail with --csv needs --detail-csv PATH (the shorter candles)"
    return None


def run(args: argparse.Namespace, dotenv_path: str = ".env") -> int:
    """Run the backtest (or the sweep) the flags describe; the exit status."""
    misuse = _misused(args) or _unwritable(args)
    if misuse:
        _note(f"error: {misuse}")
        return 2
    try:
        if args.exchange:
            _check_detail(args, [(tf, _tf_ms(tf)) for tf in args.timeframes])
            series = _store_series(args, dotenv_path)
        else:
            series = _csv_series(args)
            _check_detail(args, [(s.timeframe, s.tf_ms) for s in series])
        _drop_same_detail(args, series)
    except MissingData as e:
        _note(f"error: {e}")
        return 2
    except ValueError as e:
        _note(f"error: {e}")
        return 2
    if args.grid:
        return _run_sweep(args, series)
    return _run_one(args, series)


def rules_of(args: argparse.Namespace):
    """The TradeRules the trade flags describe."""
    from trading.rules import TradeRules
    return TradeRules(frozenset(args.trade_on), args.risk_reward, args.on_opposite,
                      args.fee_rate, args.slippage_bps, args.position_size, args.leverage)


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
            _note(f"{s.symbol} {s.timeframe}: --timeframe-detail {args.timeframe_detail} is "
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
    since = _iso(args.since) or "YYYY-MM-DD"
    until = f" --until {_iso(args.until)}" if args.until is not None else ""
    data_dir = f" --data-dir {args.data_dir}" if args.data_dir else ""
    return (f"python main.py download --exchange {args.exchange} --symbols "
            f"{','.join(symbols)} --timeframes {','.join(timeframes)} --since {since}{until}"
            f"{data_dir}")


def _stored(args: argparse.Namespace, data_dir: str, symbol: str, timeframe: str
            ) -> pd.DataFrame:
    """One stored file, verified and cut to [--since, --until) (ValueError when unsound)."""
    from exchanges.candles import since_slice
    from exchanges.registry import get_venue
    from fetchers import store
    from app.scan import utc_text
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
            _note(f"{path}: starts at {utc_text(first)} UTC, after --since")
        if args.until is not None and args.until > store.next_open(p, last):
            _note(f"{path}: ends at {utc_text(last)} UTC, before --until")
    cut = since_slice(candles, args.since, args.until)
    gaps = store.gaps(cut, p)
    _note(f"{path}: {len(cut):,} candles, {len(gaps):,} gap(s)")
    return cut


def _run_one(args: argparse.Namespace, series: Sequence[Series]) -> int:
    """One backtest over one or more series (one report)."""
    import choch
    from backtest import metrics
    from backtest.simulate import simulate

    rules = rules_of(args)
    results = []
    for s in series:
        started = time.perf_counter()
        events = choch.scan(s.candles, args.left, args.right, args.break_on, s.tf_ms)
        result = simulate(s.candles, events, rules, s.tf_ms, s.symbol, s.timeframe, s.detail)
        where = f"{s.symbol} {s.timeframe}: " if args.exchange else ""
        _note(f"{where}{len(events):,} events, {result.signals:,} tradable, {result.skipped:,} "
              f"skipped (stop not beyond entry), {len(result.trades):,} trades in "
              f"{time.perf_counter() - started:.3f} s")
        if s.detail is not None:
            x = result.extra
            _note(f"{where}--timeframe-detail {args.timeframe_detail}: candles touching both "
                  f"stop and target: {x['detail_target_first']:,} target first, "
                  f"{x['detail_stop_first']:,} stop first, {x['detail_undecided']:,} without "
                  "detail (stop first)")
        results.append(result)
    summary = metrics.report(results)
    settings = settings_of(args, series)
    try:
        _write_outputs(args, results, series, summary, settings)
    except OSError as e:
        _note(f"error: cannot write: {e}")
        return 2
    if args.format == "json":
        print(json.dumps({**summary, "settings": settings}))
    else:
        print_table(summary, sys.stdout)
    return 0


def _run_sweep(args: argparse.Namespace, series: Sequence[Series]) -> int:
    """Every --grid combination over every series, ranked (table or JSON, and --sweep-out)."""
    from backtest import sweep
    try:
        grid = sweep.parse_grid(args.grid)
    except sweep.GridError as e:
        _note(f"error: --grid {e}")
        return 2
    files = [sweep.SweepFile(s.candles, s.symbol, s.timeframe, s.tf_ms) for s in series]
    base = {k: getattr(args, k) for k in sweep.GRID_KEYS}
    base["trade_on"] = frozenset(args.trade_on)
    combos = sweep.combinations(grid, base)
    where = f"the Dask cluster at {args.scheduler}" if args.scheduler else (
        f"{args.jobs or 'all'} local process(es)")
    _note(f"sweeping {len(combos):,} combination(s) x {len(files):,} file(s) = "
          f"{len(combos) * len(files):,} backtests on {where}")
    started = time.perf_counter()
    try:
        rows = sweep.run_sweep(files, combos, rules_of(args), jobs=args.jobs or -1,
                               scheduler=args.scheduler)
    except (OSError, TimeoutError) as e:  # the scheduler cannot be reached
        _note(f"error: cannot reach the Dask scheduler {args.scheduler}: {e}")
        return 1
    _note(f"done in {time.perf_counter() - started:.2f} s; ranked by net_pnl, then "
          "profit_factor (both higher first)")
    if args.sweep_out:
        try:
            with open(args.sweep_out, "w", newline="") as f:
                sweep.write_csv(rows, f)
        except OSError as e:
            _note(f"error: cannot write: {e}")
            return 2
        _note(f"sweep written to {args.sweep_out}")
    if args.format == "json":
        print(json.dumps([{k: sweep.shown(k, r[k]) if k == "trade_on" else r[k]
                           for k in sweep.COLUMNS} for r in rows]))
    else:
        sweep.print_table(rows, sys.stdout, args.top)
        if len(rows) > args.top:
            _note(f"{len(rows) - args.top:,} more row(s) not shown (--top, --sweep-out)")
    return 0
