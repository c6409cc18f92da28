"""The flags of `main.py download`, and the Request they describe."""
from __future__ import annotations

import argparse
from dataclasses import dataclass
from typing import TYPE_CHECKING

from app.argtypes import utc_date
from exchanges import registry

if TYPE_CHECKING:
    from config import Settings

DESCRIPTION = """\
Download closed candles (never the forming one) from a venue into the local history store:
one Parquet file per venue/symbol/timeframe under DATA_DIR (default data/), e.g.
data/binance/BTCUSDT/1m.parquet. Incremental: a second run fetches only the candles after the
last stored one, and those before the first one when --since is earlier; without --since an
existing file is brought up to date. Every file is verified (open times increasing, no
duplicate, on the timeframe's grid, OHLC relations) and written atomically (a temporary file
renamed over the old one). The venue's gaps are listed, never filled. Timeframes the venue does
not serve (25m, 2h on some venues, ...) are built from its native candles as the daemon builds
them, and stored as built. --symbols ALL: the venue's USDT perpetuals by 24h quote volume
(MIN_VOLUME_24H, MAX_PAIRS, EXCLUDE_SYMBOLS), as SYMBOLS=ALL in the daemon. Reads the
configuration for the venue's URL and keys, those three keys and DATA_DIR only. Results go to
stdout; progress (a bar on a terminal, plain lines otherwise) to stderr.

exit status:
  0    done
  1    the exchange failed after retries (the candles fetched until then are stored), or a
       stored file fails verification (named; it is left as it was)
  2    bad flags"""


def _arg(parse):
    """An argparse type from a parser raising ValueError."""
    def convert(text: str):
        try:
            return parse(text)
        except ValueError as e:
            raise argparse.ArgumentTypeError(str(e)) from None
    convert.__name__ = parse.__name__
    return convert


def _exchange(text: str) -> str:
    return registry.get_remote_venue(text).name


def add_parser(subparsers, parents=()) -> argparse.ArgumentParser:
    """Add the `download` subcommand and its flags."""
    from config.values import parse_symbols, parse_timeframes
    p = subparsers.add_parser("download", parents=list(parents),
                              help="download closed candles into the local history store",
                              description=DESCRIPTION,
                              formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--exchange", type=_arg(_exchange), default=registry.DEFAULT, metavar="NAME",
                   help=f"the venue: {', '.join(registry.remote_names())} ({registry.DEFAULT})")
    p.add_argument("--symbols", type=_arg(parse_symbols), required=True,
                   metavar="BTC/USDT,ETH/USDT|ALL", help="USDT perpetuals, or ALL (see above)")
    p.add_argument("--timeframes", type=_arg(parse_timeframes), required=True,
                   metavar="1m,15m", help="timeframes to store, e.g. 1m,15m,25m")
    p.add_argument("--since", type=utc_date, metavar="DATE",
                   help="first open time, YYYY-MM-DD or ISO datetime, UTC (required for a file "
                        "not stored yet)")
    p.add_argument("--until", type=utc_date, metavar="DATE",
                   help="candles opening before this (default: now), same format")
    p.add_argument("--data-dir", metavar="DIR", help="the store (default: DATA_DIR, data/)")
    return p


@dataclass(frozen=True)
class Request:
    """What to download: venue name, symbols (or ('ALL',)), timeframes and the span."""

    exchange: str
    symbols: tuple[str, ...]
    timeframes: tuple[str, ...]
    since: int | None
    until: int | None
    data_dir: str



def request_of(args: argparse.Namespace, settings: Settings) -> Request:
    """The Request the flags describe (DATA_DIR unless --data-dir)."""
    return Request(args.exchange, tuple(args.symbols), tuple(args.timeframes), args.since,
                   args.until, args.data_dir or settings.data_dir)
