"""`main.py backtest`: replay a candle file through the detector and the trade rules, and report.

A file backtest reads no configuration: every trade flag defaults to the built-in default of its
env key (config.Settings()), never to the environment or an env file.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import sys
import time
from pathlib import Path
from typing import IO

DESCRIPTION = """\
Backtest the CHoCH/BOS signals of a candle file (--csv, any format `scan --csv` reads) with the
same trade rules as paper trading: entry at the break candle's close (plus slippage), stop at the
event's extreme, target at --risk-reward x risk, stop checked before target on every later
candle, fees on both legs. Prints a summary (table or JSON) on stdout; notes go to stderr. Reads
no configuration: the trade flags default to the env keys' built-in defaults.

Sweep: --grid "left=3,5,8 right=3,5 risk_reward=1.5,2,3" backtests every combination over every
--csv file (repeat --csv) in parallel and ranks them: net_pnl, higher first, then
profit_factor, higher first (none: infinite with a profit, 0 without), then grid order. Grid
keys: left, right, break_on, trade_on (kinds joined by '+': CHOCH,BOS,CHOCH+BOS), risk_reward,
on_opposite, fee_rate, slippage_bps; keys not in the grid take their flag's value. Local
processes by default (--jobs); --scheduler runs the same sweep on a Dask cluster.

exit status:
  0    done
  1    the Dask scheduler could not be reached
  2    bad flags, a bad grid key or value, or a malformed candle file"""


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


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be >= 1, got {value}")
    return value


def _trade_on(text: str) -> frozenset[str]:
    from config_values import parse_trade_on
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


def add_parser(subparsers, parents=()) -> argparse.ArgumentParser:
    """Add the `backtest` subcommand and its flags."""
    from config import Settings
    d = Settings()
    p = subparsers.add_parser("backtest", parents=list(parents),
                              help="replay a candle file through the detector and trade rules",
                              description=DESCRIPTION,
                              formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--csv", metavar="PATH", required=True, action="append",
                   help="candle file: our CSV or a Binance kline dump (as scan --csv); "
                        "repeat it for a sweep over several files")
    p.add_argument("--symbol", help="name written in the trades (default: the file name up to "
                                    "its first '-', '_' or '.')")
    p.add_argument("--timeframe", type=_timeframe,
                   help="candle length, e.g. 1m (default: inferred from the spacing, as scan)")
    p.add_argument("--left", type=_positive_int, default=5, help="pivot left bars (5)")
    p.add_argument("--right", type=_positive_int, default=5, help="pivot right bars (5)")
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
    p.add_argument("--jobs", type=_positive_int,
                   help="local worker processes for a sweep (default: every core)")
    p.add_argument("--sweep-out", metavar="FILE.csv",
                   help="write the ranked sweep, one row per combination, to this CSV")
    p.add_argument("--top", type=_positive_int, default=20,
                   help="sweep rows shown on stdout (20; the CSV has them all)")
    return p


def symbol_from(path: str) -> str:
    """'samples/LTCUSDT-usdm-1m.csv' -> 'LTCUSDT'."""
    stem = Path(path).name
    return re.split(r"[-_.]", stem, maxsplit=1)[0] or stem


def _note(message: str) -> None:
    print(f"backtest: {message}", file=sys.stderr)


def settings_of(args: argparse.Namespace, symbol: str, timeframe: str) -> dict:
    """The flags that shaped the result (printed in the JSON and the report)."""
    return {"csv": args.csv[0], "symbol": symbol, "timeframe": timeframe, "left": args.left,
            "right": args.right, "break_on": args.break_on, "trade_on": sorted(args.trade_on),
            "risk_reward": args.risk_reward, "on_opposite": args.on_opposite,
            "fee_rate": args.fee_rate, "slippage_bps": args.slippage_bps,
            "position_size": args.position_size, "leverage": args.leverage}


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


def _write_outputs(args: argparse.Namespace, result, candles, summary: dict, settings: dict,
                   tf_ms: int) -> None:
    """--trades-out and --report-out, when given."""
    from backtest import tradesio
    if args.trades_out:
        with open(args.trades_out, "w", newline="") as f:
            tradesio.write_trades([result], f)
        _note(f"trades written to {args.trades_out}")
    if args.report_out:
        from backtest.report import write_report
        page = write_report(args.report_out, [result], [candles], summary, settings,
                            args.left, args.right, [tf_ms])
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
    _note(f"{path}: {len(data.candles):,} candles, timeframe {label}"
          f"{'' if timeframe else ' (inferred)'}, {len(data.gaps):,} gap(s)")
    return data.candles, tf_ms, label


def _misused(args: argparse.Namespace) -> str | None:
    """A flag combination that cannot work, in words, or None."""
    if args.grid:
        if args.trades_out or args.report_out:
            return "--trades-out and --report-out describe one backtest, not a --grid sweep"
        if args.symbol and len(args.csv) > 1:
            return "--symbol names one file; a sweep over several files takes names from them"
        return None
    if len(args.csv) > 1:
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


def run(args: argparse.Namespace) -> int:
    """Run the backtest (or the sweep) the flags describe; the exit status."""
    misuse = _misused(args) or _unwritable(args)
    if misuse:
        _note(f"error: {misuse}")
        return 2
    if args.grid:
        return _run_sweep(args)
    return _run_one(args, args.csv[0])


def rules_of(args: argparse.Namespace):
    """The TradeRules the trade flags describe."""
    from trading.rules import TradeRules
    return TradeRules(frozenset(args.trade_on), args.risk_reward, args.on_opposite,
                      args.fee_rate, args.slippage_bps, args.position_size, args.leverage)


def _run_one(args: argparse.Namespace, path: str) -> int:
    """One backtest over one file."""
    import choch
    from backtest import metrics
    from backtest.simulate import simulate

    try:
        candles, tf_ms, timeframe = _load(path, args.timeframe)
    except ValueError as e:
        _note(f"error: {e}")
        return 2
    symbol = args.symbol or symbol_from(path)
    rules = rules_of(args)
    started = time.perf_counter()
    events = choch.scan(candles, args.left, args.right, args.break_on, tf_ms)
    result = simulate(candles, events, rules, tf_ms, symbol, timeframe)
    summary = metrics.report([result])
    _note(f"{len(events):,} events, {result.signals:,} tradable, {result.skipped:,} skipped "
          f"(stop not beyond entry), {len(result.trades):,} trades in "
          f"{time.perf_counter() - started:.3f} s")
    settings = settings_of(args, symbol, timeframe)
    try:
        _write_outputs(args, result, candles, summary, settings, tf_ms)
    except OSError as e:
        _note(f"error: cannot write: {e}")
        return 2
    if args.format == "json":
        print(json.dumps({**summary, "settings": settings}))
    else:
        print_table(summary, sys.stdout)
    return 0



def _sweep_files(args: argparse.Namespace) -> list:
    """Every --csv file as a SweepFile (ValueError names a bad one)."""
    from backtest.sweep import SweepFile
    files = []
    for path in args.csv:
        candles, tf_ms, timeframe = _load(path, args.timeframe)
        files.append(SweepFile(candles, args.symbol or symbol_from(path), timeframe, tf_ms))
    return files


def _run_sweep(args: argparse.Namespace) -> int:
    """Every --grid combination over every --csv file, ranked (table or JSON, and --sweep-out)."""
    from backtest import sweep
    try:
        grid = sweep.parse_grid(args.grid)
    except sweep.GridError as e:
        _note(f"error: --grid {e}")
        return 2
    try:
        files = _sweep_files(args)
    except ValueError as e:
        _note(f"error: {e}")
        return 2
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
