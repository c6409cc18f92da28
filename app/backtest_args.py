"""The flags of `main.py backtest`: the parser, and the combinations that cannot work.

Every trade flag defaults to the built-in default of its env key (config.Settings()), never to
the environment or an env file.
"""
from __future__ import annotations

import argparse
import os
from pathlib import Path

from app.argtypes import positive_int, utc_date
from backtest.ranking import RANK_BY

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
  2    bad flags, a bad grid key or value, a malformed candle file, a store file missing
       (named, with the `download` command that fetches it), or --scheduler without the
       optional 'cluster' extra (pip install .[cluster])"""


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


def _two_keys(text: str) -> tuple[str, str]:
    from backtest.sweep import GRID_KEYS
    keys = tuple(k.strip() for k in text.split(","))
    if len(keys) != 2 or keys[0] == keys[1] or not set(keys) <= set(GRID_KEYS):
        raise argparse.ArgumentTypeError(f"two different grid keys ({', '.join(GRID_KEYS)}), "
                                         f"got {text!r}")
    return keys[0], keys[1]


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
    from config.values import parse_symbols
    try:
        return parse_symbols(text)
    except ValueError as e:
        raise argparse.ArgumentTypeError(str(e)) from None


def _timeframes(text: str) -> tuple[str, ...]:
    from config.values import parse_timeframes
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
    p.add_argument("--starting-balance", type=_positive, default=1000.0, metavar="USDT",
                   help="the report's equity before the first trade, for its returns, "
                        "drawdown % and ratios (1000)")
    p.add_argument("--trades-out", metavar="PATH", help="write every trade to this CSV")
    p.add_argument("--format", choices=("table", "json"), default="table",
                   help="summary on stdout (table)")
    p.add_argument("--report-out", metavar="DIR",
                   help="write an HTML report (index.html, PNGs, trades.csv, summary.json); "
                        "with --grid, the ranked sweep and its heatmap")
    p.add_argument("--grid", nargs="+", metavar="KEY=V1,V2",
                   help="sweep every combination of these values (see above)")
    p.add_argument("--scheduler", metavar="ADDRESS",
                   help="run the sweep on this Dask scheduler, e.g. tcp://10.0.0.5:8786 (needs "
                        "the optional cluster extra: pip install .[cluster])")
    p.add_argument("--jobs", type=positive_int,
                   help="local worker processes for a sweep (default: every core)")
    p.add_argument("--sweep-out", metavar="FILE.csv",
                   help="write the ranked sweep, one row per combination, to this CSV")
    p.add_argument("--rank-by", choices=RANK_BY, metavar="METRIC",
                   help="rank the sweep by this metric, best first (net_pnl); one of "
                        + ", ".join(RANK_BY) + "; max_drawdown, fees and losses lower first")
    p.add_argument("--heatmap", type=_two_keys, metavar="KEY,KEY",
                   help="the two grid keys of the sweep report's heatmap (default: the first "
                        "two with several values)")
    p.add_argument("--top", type=positive_int, default=20,
                   help="sweep rows shown on stdout (20; the CSV has them all)")
    return p


def misused(args: argparse.Namespace) -> str | None:
    """A flag combination that cannot work, in words, or None."""
    source = _source_misuse(args) or _detail_misuse(args)
    if source:
        return source
    if args.grid:
        if args.trades_out:
            return "--trades-out describes one backtest, not a --grid sweep"
        if args.timeframe_detail:
            return "--timeframe-detail refines one backtest, not a --grid sweep"
        if args.csv and args.symbol and len(args.csv) > 1:
            return "--symbol names one file; a sweep over several files takes names from them"
        return None
    if args.csv and len(args.csv) > 1:
        return "several --csv files are swept with --grid"
    for flag in ("scheduler", "jobs", "sweep_out", "rank_by", "heatmap"):
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


def unwritable(args: argparse.Namespace) -> str | None:
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
