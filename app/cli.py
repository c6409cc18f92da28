"""Command line: `run` (the default), `check`, `scan`, `download`, `backtest` and `demo`;
parsing and dispatch only.

Exit status: 0 done, 1 failed at run time, 2 bad configuration, bad flags or bad input data,
130 interrupted.
"""
from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from types import ModuleType

from app import __version__, backtest_cmd, demo, download_cmd, scan
from app.argtypes import positive_int, utc_date
from config import ConfigError, Settings, lint_environment, load_settings
from config.file_access import unreadable
from exchanges import registry  # pure data: no ccxt

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2
COMMANDS = ("run", "scan", "check", "backtest", "download", "demo")
DEFAULT_ENV_FILE = ".env"

RUN_HELP = """\
Run the daemon: check the state DB (STATE_DB) and take its lock, catch up the closed candles of
every symbol and timeframe, then fetch each timeframe's candles when they close, record the
CHoCH/BOS signals, alert (Telegram, or the console without a token) and trade when
ENABLE_TRADING=1. Settings come from the environment, then the env file (--env-file, default
.env); the environment wins. Stops cleanly on SIGTERM, SIGHUP or SIGINT (Ctrl-C).

exit status:
  0    stopped by SIGTERM or SIGHUP
  1    failed while running (e.g. the state DB file was deleted)
  2    bad configuration, an unusable state DB or one in use by another daemon, or a start-up
       refusal (bad API keys, hedge mode, live trading not confirmed): a restart would not help
  130  stopped by SIGINT (Ctrl-C)"""

CHECK_HELP = """\
Validate the configuration and probe each component without starting the daemon: print the
effective mode, then one line per check: the state DB (opened read-write and
integrity-checked, or whether it can be created), the market-data instance, the trading
instance (when ENABLE_TRADING=1) and Telegram (when a token is set). Settings come from the
environment, then the env file (--env-file, default .env). Safe while the daemon runs.

exit status:
  0    every check passed
  1    a check failed (the FAIL line says which and why)
  2    bad configuration (every problem is listed, naming its key)"""


def _kinds(text: str) -> frozenset[str]:
    try:
        return scan.parse_kinds(text)
    except ValueError as e:
        raise argparse.ArgumentTypeError(str(e)) from None


def _exchange(text: str) -> str:
    try:
        return registry.get_remote_venue(text).name
    except registry.UnknownVenue as e:
        raise argparse.ArgumentTypeError(str(e)) from None


def build_parser(prog: str = "main.py") -> argparse.ArgumentParser:
    """The argument parser for every subcommand; `prog` is the name in usage and --version."""
    # --env-file is accepted before or after the command; SUPPRESS tells "given" from the default.
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--env-file", metavar="PATH", default=argparse.SUPPRESS,
                        help=f"read settings from this file (default: {DEFAULT_ENV_FILE}, "
                             "skipped when absent); the environment still wins")
    parser = argparse.ArgumentParser(
        prog=prog, parents=[common],
        description="CHoCH/BOS signal daemon. Without a command: run.")
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command",
                                metavar="{run,scan,check,backtest,download,demo}")
    raw = argparse.RawDescriptionHelpFormatter
    sub.add_parser("run", parents=[common], help="run the daemon (the default)",
                   description=RUN_HELP, formatter_class=raw)
    sub.add_parser("check", parents=[common],
                   help="validate the configuration and probe each component",
                   description=CHECK_HELP, formatter_class=raw)
    scanner = sub.add_parser(
        "scan", parents=[common], help="print the CHoCH/BOS events of a candle history",
        description="Run the detector over a candle CSV (--csv) or over history fetched from "
                    "an exchange (--symbol/--timeframe/--since, --exchange). Events go to stdout, "
                    "one per line; "
                    "notes (timeframe, gaps, counts) go to stderr.")
    source = scanner.add_mutually_exclusive_group(required=True)
    source.add_argument("--csv", metavar="PATH",
                        help="our CSV (timestamp,open,high,low,close,volume) or a Binance "
                             "12-column kline dump, with or without header, ms or µs times")
    source.add_argument("--symbol", help="fetch history for this USDT pair, e.g. BTC/USDT")
    scanner.add_argument("--exchange", type=_exchange, default=None, metavar="NAME",
                         help="with --symbol: the venue to fetch from: "
                              f"{', '.join(registry.remote_names())} ({registry.DEFAULT})")
    scanner.add_argument("--timeframe", help="with --symbol: any supported timeframe, e.g. 25m")
    scanner.add_argument("--since", type=utc_date, metavar="DATE",
                      help="with --symbol: first open time, YYYY-MM-DD or ISO datetime, UTC")
    scanner.add_argument("--until", type=utc_date, metavar="DATE",
                      help="with --symbol: candles opening before this (default: now), same format")
    scanner.add_argument("--save-csv", metavar="PATH",
                      help="with --symbol: also write the fetched candles in our CSV format")
    scanner.add_argument("--left", type=positive_int, default=5, help="pivot left bars (5)")
    scanner.add_argument("--right", type=positive_int, default=5, help="pivot right bars (5)")
    scanner.add_argument("--break-on", choices=("close", "wick"), default="close",
                      help="what must pass the level (close)")
    scanner.add_argument("--kinds", type=_kinds, default=frozenset(("CHOCH", "BOS")),
                      metavar="CHOCH,BOS", help="event kinds to print (both)")
    scanner.add_argument("--format", choices=("jsonl", "csv", "table"), default="jsonl",
                      help="output format (jsonl)")
    backtest_cmd.add_parser(sub)
    download_cmd.add_parser(sub)
    demo.add_parser(sub)
    return parser


def _check_scan_flags(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    """Flags that only make sense together (argparse exits 2 through parser.error)."""
    history_only = [f for f, v in (("--exchange", args.exchange),
                                   ("--timeframe", args.timeframe), ("--since", args.since),
                                   ("--until", args.until), ("--save-csv", args.save_csv)) if v]
    if args.csv and history_only:
        parser.error(f"{', '.join(history_only)} only go with --symbol, not with --csv")
    if args.symbol and (not args.timeframe or args.since is None):
        parser.error("--symbol needs --timeframe and --since")


def env_file(parser: argparse.ArgumentParser, args: argparse.Namespace) -> str:
    """The env file to read: --env-file (which must exist) or the default (read if present)."""
    path = getattr(args, "env_file", None)
    if path is None:
        problem = unreadable(DEFAULT_ENV_FILE, missing_ok=True)
        if problem:
            parser.error(f"{DEFAULT_ENV_FILE}: {problem}")  # exits 2
        return DEFAULT_ENV_FILE
    problem = unreadable(path)
    if problem:
        parser.error(f"--env-file {path}: {problem}")  # exits 2
    return path


def load_settings_or_exit(dotenv_path: str = DEFAULT_ENV_FILE) -> Settings:
    """Settings from the environment and the env file, or print every problem and exit 2."""
    try:
        settings = load_settings(dotenv_path=dotenv_path)
    except ConfigError as e:
        print(f"configuration error ({len(e.problems)} problem(s)); nothing was started:",
              file=sys.stderr)
        for problem in e.problems:
            print(f"  {problem}", file=sys.stderr)  # Problem.__str__ redacts secret values
        raise SystemExit(EXIT_USAGE) from None
    for warning in lint_environment(None, dotenv_path):  # look-alike keys: ignored, but said
        print(warning, file=sys.stderr)
    return settings


def _online() -> ModuleType:
    """app.online: the commands that reach an exchange (run, check, scan --symbol)."""
    # The one deferred import of the application: app.online loads ccxt, which takes about a
    # second to import, and `scan --csv` is an offline command that must not pay for it
    # (pinned by tests/test_cli_scan.py::test_a_file_scan_never_imports_ccxt).
    from app import online
    return online


def _scan(args: argparse.Namespace, dotenv_path: str) -> int:
    try:
        if args.csv:
            return scan.scan_csv(args.csv, args.left, args.right, args.break_on, args.kinds,
                                 args.format, sys.stdout)
        settings = load_settings_or_exit(dotenv_path)
        return _online().scan_history(settings, args)
    except scan.ScanError as e:
        print(f"scan: error: {e}", file=sys.stderr)
        return EXIT_USAGE


def main(argv: Sequence[str] | None = None, prog: str = "main.py") -> int:
    """Parse the command line and run the command; returns the exit status."""
    parser = build_parser(prog)
    args = parser.parse_args(argv)
    if args.command == "scan":
        _check_scan_flags(parser, args)
    dotenv_path = env_file(parser, args)
    try:
        if args.command == "scan":
            return _scan(args, dotenv_path)
        if args.command == "backtest":
            return backtest_cmd.run(args, dotenv_path)
        if args.command == "demo":
            return demo.run(args, dotenv_path)
        settings = load_settings_or_exit(dotenv_path)
        if args.command == "download":
            return download_cmd.run(settings, args)
        if args.command == "check":
            return _online().check(settings)
        return _online().run(settings)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130  # the shell's convention for SIGINT
    except BrokenPipeError:
        # The reader (e.g. `| head`) went away: stop quietly, without a traceback at exit.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_FAILED


def entry() -> None:
    """The `choch` console script (pyproject.toml): `python main.py` under an installed name."""
    sys.exit(main(prog="choch"))
