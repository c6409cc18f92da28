"""`main.py demo`: the real daemon over the replay venue and the shipped samples, offline.

Everything `run` starts (detector, state DB, alerts, paper broker, dashboard and API), with
market data from the replay venue serving samples/LTCUSDT-usdm-1m-2026-02-01_03.csv on an
accelerated clock. Nothing is read from the configuration but the Telegram keys (alerts go to
the chat when they are set, else to the console); the state DB lives in a fresh temporary
directory (or --state-dir), never the user's; the dashboard's password is made for this run,
printed once on the terminal and kept out of every log line.
"""
from __future__ import annotations

import argparse
import asyncio
import os
import secrets
import shutil
import socket
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path

from config import ConfigError, Settings, load_settings, read_environment

SAMPLE = Path(__file__).resolve().parent.parent / "samples" / "LTCUSDT-usdm-1m-2026-02-01_03.csv"
SYMBOL, TIMEFRAMES = "LTC/USDT", "5m,15m"
# The replay starts 4h40 into the sample: the detectors warm up on those hours (history:
# no alert, no trade), and the first signal of the live part comes 25 minutes later.
START = "2026-02-01T04:40"
# History seconds per host second: a 5m candle every 2.5 s, the first paper trade opened and
# closed within two minutes, the whole sample in about half an hour.
SPEED = 120.0
USER = "demo"
TELEGRAM_KEYS = ("TELEGRAM_BOT_TOKEN", "TELEGRAM_CHAT_ID", "TELEGRAM_API_URL",
                 "TELEGRAM_ADMIN_IDS")

HELP = f"""\
Run the daemon offline on the shipped sample candles: the replay venue serves
{SAMPLE.name} ({SYMBOL}, Binance USD-M 1m)
from {START.replace("T", " ")} UTC on a clock --speed times faster than real time; signals
on {TIMEFRAMES} are recorded, alerted (on the console, or on Telegram when
TELEGRAM_BOT_TOKEN and TELEGRAM_CHAT_ID are set) and traded on the paper broker; the
dashboard runs on 127.0.0.1 with a password made for this run. The state DB is temporary
(--state-dir keeps it). Stop it with Ctrl-C.

The replay venue is a data venue like the others: DATA_EXCHANGE=replay with REPLAY_SOURCE
and REPLAY_SPEED rehearses any configuration on downloaded history."""


def _speed(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not 0 < value <= 1e6:
        raise argparse.ArgumentTypeError(f"must be above 0 and at most 1000000, got {text}")
    return value


def _port(text: str) -> int:
    if not text.isdigit() or int(text) > 65535:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port 0..65535 (0: any free one)")
    return int(text)


def add_parser(sub: argparse._SubParsersAction) -> None:
    """The `demo` subcommand and its flags."""
    demo = sub.add_parser("demo", help="run the daemon offline on the sample candles",
                          description=HELP, formatter_class=argparse.RawDescriptionHelpFormatter)
    demo.add_argument("--speed", type=_speed, default=SPEED,
                      help=f"history seconds per real second ({SPEED:g}); far above 1000 a "
                           "slot may still run when the next candle closes: that one is "
                           "skipped (with a warning) and caught up by the next")
    demo.add_argument("--port", type=_port, default=8080,
                      help="dashboard port on 127.0.0.1 (8080; a free one when taken; 0: any)")
    demo.add_argument("--state-dir", metavar="DIR",
                      help="keep the state DB here (default: a temporary directory, removed "
                           "at exit)")


def free_port(wanted: int) -> int:
    """`wanted` when it can be bound on 127.0.0.1, else a free port the system picks."""
    for port in (wanted, 0) if wanted else (0,):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return int(s.getsockname()[1])
    raise OSError("no free port on 127.0.0.1")


def settings(args: argparse.Namespace, state_dir: Path, port: int, password: str,
             dotenv_path: str) -> Settings:
    """The demo's settings: fixed, but for the Telegram keys of the environment or .env."""
    raw = read_environment(None, dotenv_path)
    env = {key: raw[key] for key in TELEGRAM_KEYS if raw.get(key, "").strip()}
    env.update({
        "DATA_EXCHANGE": "replay", "REPLAY_SOURCE": str(SAMPLE), "REPLAY_START": START,
        "REPLAY_SPEED": repr(args.speed), "SYMBOLS": SYMBOL, "TIMEFRAMES": TIMEFRAMES,
        "ENABLE_TRADING": "0", "STATE_DB": str(state_dir / "choch.db"),
        "API_LISTEN": f"127.0.0.1:{port}", "API_USERNAME": USER, "API_PASSWORD": password,
        "LOG_LEVEL": "WARNING",  # the console shows the alerts; slot lines would bury them
    })
    return load_settings(env, dotenv_path=None)


def _intro(s: Settings, password: str, state_dir: Path, kept: bool) -> list[str]:
    start = datetime.fromtimestamp((s.replay_start or 0) / 1000, UTC).strftime("%Y-%m-%d %H:%M")
    return [
        "CHoCH demo: the daemon on the replay venue, offline (Ctrl-C stops it)",
        f"  market data: {SAMPLE.name}, {SYMBOL} from {start} UTC at {s.replay_speed:g}x",
        f"  alerts:      {'Telegram' if s.telegram_bot_token else 'this console'}; "
        "trades on the paper broker",
        f"  dashboard:   http://{s.api_listen}/  user {USER}  password {password}",
        f"  state DB:    {s.state_db}" + ("" if kept else " (temporary: removed at exit)"),
        "",
    ]


def run(args: argparse.Namespace, dotenv_path: str) -> int:
    """`main.py demo`: the daemon until Ctrl-C; its exit status."""
    if not SAMPLE.is_file():
        print(f"demo: error: {SAMPLE} is missing (the samples/ directory of the repository)",
              file=sys.stderr)
        return 2
    kept = args.state_dir is not None
    state_dir = Path(args.state_dir) if kept else Path(tempfile.mkdtemp(prefix="choch-demo-"))
    state_dir.mkdir(parents=True, exist_ok=True)
    password = secrets.token_urlsafe(12)  # this run's only: printed here, never logged
    try:
        s = settings(args, state_dir, free_port(args.port), password, dotenv_path)
    except ConfigError as e:  # only the Telegram keys come from the user
        print("demo: configuration error:", *e.problems, sep="\n  ", file=sys.stderr)
        return 2
    try:
        print("\n".join(_intro(s, password, state_dir, kept)), file=sys.stderr, flush=True)
        # ccxt's lean import keeps the exchange classes of the venues the environment names
        # (exchanges/ccxt_lean.py): the demo's venue is served without ccxt, so none of them.
        os.environ["DATA_EXCHANGE"] = os.environ["TRADING_EXCHANGE"] = "replay"
        from app import online  # loads ccxt's base: after the flags are checked

        return asyncio.run(online.serve(s))
    finally:
        if not kept:
            shutil.rmtree(state_dir, ignore_errors=True)
