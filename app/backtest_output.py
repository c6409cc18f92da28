"""What `main.py backtest` says and writes: notes on stderr, the summary, --trades-out and
--report-out."""
from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import IO, TYPE_CHECKING

if TYPE_CHECKING:
    from app.backtest_inputs import Series


def note(message: str) -> None:
    """One line on stderr, named after the command."""
    print(f"backtest: {message}", file=sys.stderr)


def iso_or_none(ms: int | None) -> str | None:
    """ISO UTC text of an open time in ms, or None."""
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
                  "since": iso_or_none(args.since), "until": iso_or_none(args.until)}
    out = {**source, "left": args.left,
           "right": args.right, "break_on": args.break_on, "trade_on": sorted(args.trade_on),
           "risk_reward": args.risk_reward, "on_opposite": args.on_opposite,
           "fee_rate": args.fee_rate, "slippage_bps": args.slippage_bps,
           "position_size": args.position_size, "leverage": args.leverage,
           "starting_balance": args.starting_balance}
    if args.timeframe_detail:
        out["timeframe_detail"] = args.timeframe_detail
    return out


def print_table(summary: dict, out: IO[str], stats: dict | None = None) -> None:
    """The summary as aligned 'name  value' lines, then one line per symbol/timeframe, then
    `stats` (backtest.stats) as backtesting.py prints them."""
    def shown(v) -> str:
        if v is None:
            return "-"
        return f"{v:,.4f}" if isinstance(v, float) else f"{v:,}"
    keys: tuple[str, ...] = ("trades", "wins", "losses", "win_rate", "net_pnl", "fees",
                             "profit_factor", "max_drawdown", "expectancy", "exposure")
    if stats is None:
        keys += ("sharpe", "sortino")  # else the ratios are stats', with their minimum days
    for k in keys:
        print(f"{k:<14}{shown(summary[k]):>16}", file=out)
    for r in summary["by_symbol"]:
        print(f"{r['symbol']} {r['timeframe']}: {r['trades']:,} trades, net_pnl "
              f"{shown(r['net_pnl'])}, win_rate {shown(r['win_rate'])}, max_drawdown "
              f"{shown(r['max_drawdown'])}", file=out)
    if stats is not None:
        from backtest.report_html import SUMMARY_ROWS, shown_value
        print(file=out)
        for key, label, kind in SUMMARY_ROWS:
            value = summary["fees"] if key == "fees" else stats[key]
            print(f"{label:<26}{shown_value(value, kind).replace('—', '-'):>22}", file=out)
        if stats["ratios_note"]:
            print(stats["ratios_note"], file=out)


def write_outputs(args: argparse.Namespace, results: list, series: Sequence[Series],
                  summary: dict, settings: dict) -> None:
    """--trades-out and --report-out, when given."""
    from backtest import tradesio
    if args.trades_out:
        with Path(args.trades_out).open("w", newline="") as f:
            tradesio.write_trades(results, f)
        note(f"trades written to {args.trades_out}")
    if args.report_out:
        from backtest.report import write_report
        page = write_report(args.report_out, results, [s.candles for s in series], summary,
                            settings, args.left, args.right, [s.tf_ms for s in series],
                            starting_balance=args.starting_balance, leverage=args.leverage)
        note(f"report written to {page}")
