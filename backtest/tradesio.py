"""The trades CSV: a fixed header, ISO 8601 UTC times with Z, floats at full (repr) precision."""
from __future__ import annotations

import csv
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import IO

from trading.rules import Trade

from .simulate import Run

HEADER = ("symbol", "timeframe", "side", "signal_time", "entry_time", "entry_price", "stop_price",
          "target_price", "exit_time", "exit_price", "exit_reason", "quantity", "fees", "pnl")


def iso_utc(ms: int) -> str:
    """ms since the epoch -> '2026-02-01T00:05:00Z' (milliseconds shown only when not zero)."""
    when = datetime.fromtimestamp(ms / 1000, tz=UTC)
    if ms % 1000:
        return when.strftime("%Y-%m-%dT%H:%M:%S.") + f"{ms % 1000:03d}Z"
    return when.strftime("%Y-%m-%dT%H:%M:%SZ")


def trade_row(symbol: str, timeframe: str, t: Trade) -> list[str]:
    """One CSV row for a trade."""
    return [symbol, timeframe, t.side, iso_utc(t.signal_time), iso_utc(t.entry_time),
            repr(t.entry_price), repr(t.stop_price), repr(t.target_price), iso_utc(t.exit_time),
            repr(t.exit_price), t.exit_reason, repr(t.quantity), repr(t.fees), repr(t.pnl)]


def write_trades(runs: Sequence[Run], out: IO[str]) -> int:
    """Write the header and every run's trades in the order they were opened; returns the rows."""
    w = csv.writer(out, lineterminator="\n")
    w.writerow(HEADER)
    rows = sorted(((t.entry_time, k, i, r.symbol, r.timeframe, t)
                   for k, r in enumerate(runs) for i, t in enumerate(r.trades)),
                  key=lambda x: x[:3])
    for *_, symbol, timeframe, t in rows:
        w.writerow(trade_row(symbol, timeframe, t))
    return len(rows)
