"""Command line: `run` (the default), `scan` and `check`; parsing and dispatch only.

Exit status: 0 done, 1 failed at run time (or not implemented yet), 2 bad configuration,
bad flags or bad input data, 130 interrupted.
"""
from __future__ import annotations

import argparse
import asyncio
import importlib
import inspect
import os
import sys
from typing import Sequence

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2
COMMANDS = ("run", "scan", "check")


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be >= 1, got {value}")
    return value


def _kinds(text: str) -> frozenset[str]:
    from app.scan import parse_kinds
    try:
        return parse_kinds(text)
    except ValueError as e:
        raise argparse.ArgumentTypeError(str(e)) from None


def _utc(text: str) -> int:
    from app.scan import parse_utc
    try:
        return parse_utc(text)
    except ValueError as e:
        raise argparse.ArgumentTypeError(str(e)) from None


def build_parser() -> argparse.ArgumentParser:
    """The argument parser for every subcommand."""
    parser = argparse.ArgumentParser(
        prog="main.py", description="CHoCH/BOS signal daemon. Without a command: run.")
    sub = parser.add_subparsers(dest="command", metavar="{run,scan,check}")
    sub.add_parser("run", help="run the daemon (the default)")
    sub.add_parser("check", help="validate the configuration and probe each component")
    scan = sub.add_parser(
        "scan", help="print the CHoCH/BOS events of a candle history",
        description="Run the detector over a candle CSV (--csv) or over history fetched from "
                    "Binance (--symbol/--timeframe/--since). Events go to stdout, one per line; "
                    "notes (timeframe, gaps, counts) go to stderr.")
    source = scan.add_mutually_exclusive_group(required=True)
    source.add_argument("--csv", metavar="PATH",
                        help="our CSV (timestamp,open,high,low,close,volume) or a Binance "
                             "12-column kline dump, with or without header, ms or µs times")
    source.add_argument("--symbol", help="fetch history for this USDT pair, e.g. BTC/USDT")
    scan.add_argument("--timeframe", help="with --symbol: any supported timeframe, e.g. 25m")
    scan.add_argument("--since", type=_utc, metavar="DATE",
                      help="with --symbol: first open time, YYYY-MM-DD or ISO datetime, UTC")
    scan.add_argument("--until", type=_utc, metavar="DATE",
                      help="with --symbol: candles opening before this (default: now), same format")
    scan.add_argument("--save-csv", metavar="PATH",
                      help="with --symbol: also write the fetched candles in our CSV format")
    scan.add_argument("--left", type=_positive_int, default=5, help="pivot left bars (5)")
    scan.add_argument("--right", type=_positive_int, default=5, help="pivot right bars (5)")
    scan.add_argument("--break-on", choices=("close", "wick"), default="close",
                      help="what must pass the level (close)")
    scan.add_argument("--kinds", type=_kinds, default=frozenset(("CHOCH", "BOS")),
                      metavar="CHOCH,BOS", help="event kinds to print (both)")
    scan.add_argument("--format", choices=("jsonl", "csv", "table"), default="jsonl",
                      help="output format (jsonl)")
    return parser


def _check_scan_flags(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    """Flags that only make sense together (argparse exits 2 through parser.error)."""
    history_only = [f for f, v in (("--timeframe", args.timeframe), ("--since", args.since),
                                   ("--until", args.until), ("--save-csv", args.save_csv)) if v]
    if args.csv and history_only:
        parser.error(f"{', '.join(history_only)} only go with --symbol, not with --csv")
    if args.symbol and (not args.timeframe or args.since is None):
        parser.error("--symbol needs --timeframe and --since")


def load_settings_or_exit():
    """Settings from env/.env, or print every problem (secrets redacted) and exit 2."""
    from config import ConfigError, load_settings
    try:
        return load_settings()
    except ConfigError as e:
        print(f"configuration error ({len(e.problems)} problem(s)); nothing was started:",
              file=sys.stderr)
        for problem in e.problems:
            print(f"  {problem}", file=sys.stderr)  # Problem.__str__ redacts secret values
        raise SystemExit(EXIT_USAGE) from None


def _call_component(module: str, func: str) -> int:
    """Load settings, then call `module.func(settings)`; 'not implemented yet' if it is absent."""
    settings = load_settings_or_exit()
    try:
        target = getattr(importlib.import_module(module), func)
    except ModuleNotFoundError as e:
        if e.name != module:
            raise  # a missing dependency inside the module is a real error, not a placeholder
        print(f"{module}.{func}: not implemented yet", file=sys.stderr)
        return EXIT_FAILED
    result = target(settings)
    if inspect.isawaitable(result):
        result = asyncio.run(result)
    return result if isinstance(result, int) else EXIT_OK


def _scan(args: argparse.Namespace) -> int:
    from app import scan
    try:
        if args.csv:
            return scan.scan_csv(args.csv, args.left, args.right, args.break_on, args.kinds,
                                 args.format, sys.stdout)
        settings = load_settings_or_exit()
        from app.logs import configure, settings_secrets
        from exchange.errors import ExchangeUnavailable  # lazily: ccxt is slow to import
        # stdout carries only events: logs (retries, warnings) go to stderr, scrubbed.
        configure("DEBUG" if settings.log_level == "DEBUG" else "WARNING",
                  settings_secrets(settings), stream=sys.stderr)
        try:
            return scan.scan_history(settings, args.symbol, args.timeframe, args.since,
                                     args.until, args.left, args.right, args.break_on,
                                     args.kinds, args.format, sys.stdout,
                                     save_csv=args.save_csv)
        except ExchangeUnavailable as e:
            print(f"scan: error: fetching history failed: {e}", file=sys.stderr)
            return EXIT_FAILED
    except scan.ScanError as e:
        print(f"scan: error: {e}", file=sys.stderr)
        return EXIT_USAGE


def main(argv: Sequence[str] | None = None) -> int:
    """Parse the command line and run the command; returns the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command == "scan":
        _check_scan_flags(parser, args)
    try:
        if args.command == "scan":
            return _scan(args)
        if args.command == "check":
            return _call_component("app.preflight", "check")
        return _call_component("app.daemon", "run")
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130  # the shell's convention for SIGINT
    except BrokenPipeError:
        # The reader (e.g. `| head`) went away: stop quietly, without a traceback at exit.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_FAILED
