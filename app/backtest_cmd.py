"""`main.py backtest`: replay candles through the detector and the trade rules, and report.

The candles come from a file (--csv) or from the history store `main.py download` fills
(--exchange, --symbols, --timeframes). A file backtest reads no configuration; a store backtest
reads DATA_DIR only. The flags are in app/backtest_args.py, the candles in
app/backtest_inputs.py, what is printed and written in app/backtest_output.py.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from app.backtest_args import add_parser, misused, unwritable
from app.backtest_inputs import MissingData, Series, series_of
from app.backtest_output import note, print_table, settings_of, write_outputs
from backtest import cluster
from backtest.ranking import LOWER

__all__ = ["add_parser", "rules_of", "run"]


def run(args: argparse.Namespace, dotenv_path: str = ".env") -> int:
    """Run the backtest (or the sweep) the flags describe; the exit status."""
    misuse = misused(args) or unwritable(args) or (args.scheduler and cluster.missing())
    if misuse:
        note(f"error: {misuse}")
        return 2
    try:
        series = series_of(args, dotenv_path)
    except MissingData as e:
        note(f"error: {e}")
        return 2
    except ValueError as e:
        note(f"error: {e}")
        return 2
    if args.grid:
        return _run_sweep(args, series)
    return _run_one(args, series)


def rules_of(args: argparse.Namespace):
    """The TradeRules the trade flags describe."""
    from trading.rules import TradeRules
    return TradeRules(frozenset(args.trade_on), args.risk_reward, args.on_opposite,
                      args.fee_rate, args.slippage_bps, args.position_size, args.leverage)


def _run_one(args: argparse.Namespace, series: Sequence[Series]) -> int:
    """One backtest over one or more series (one report)."""
    from backtest import metrics, stats
    from backtest.columnar import run_backtest

    rules = rules_of(args)
    results = []
    for s in series:
        started = time.perf_counter()
        events, result = run_backtest(s.candles, args.left, args.right, args.break_on, rules,
                                      s.tf_ms, s.symbol, s.timeframe, s.detail)
        where = f"{s.symbol} {s.timeframe}: " if args.exchange else ""
        note(f"{where}{len(events):,} events, {result.signals:,} tradable, {result.skipped:,} "
             f"skipped (stop not beyond entry), {len(result.trades):,} trades in "
             f"{time.perf_counter() - started:.3f} s")
        if s.detail is not None:
            x = result.extra
            note(f"{where}--timeframe-detail {args.timeframe_detail}: candles touching both "
                 f"stop and target: {x['detail_target_first']:,} target first, "
                 f"{x['detail_stop_first']:,} stop first, {x['detail_undecided']:,} without "
                 "detail (stop first)")
        results.append(result)
    summary = metrics.report(results)
    figures = stats.summary(results, args.starting_balance, args.leverage,
                            stats.buy_and_hold_pct([s.candles for s in series]))
    settings = settings_of(args, series)
    try:
        write_outputs(args, results, series, summary, settings)
    except OSError as e:
        note(f"error: cannot write: {e}")
        return 2
    if args.format == "json":
        print(json.dumps({**summary, "stats": figures, "settings": settings}))
    else:
        print_table(summary, sys.stdout, figures)
    return 0


def _warn_short_ratios(rank_by: str, series: Sequence[Series]) -> None:
    """Ranking by a daily ratio over fewer days than the report trusts is said, not refused."""
    from backtest.calendar import covered_days
    from backtest.stats import MIN_RATIO_DAYS
    if rank_by not in ("sharpe", "sortino"):
        return
    days = len(covered_days((int(s.candles["timestamp"].iloc[0]),
                             int(s.candles["timestamp"].iloc[-1]) + s.tf_ms)
                            for s in series if len(s.candles)))
    if days < MIN_RATIO_DAYS:
        note(f"warning: ranking by {rank_by} over {days} day(s) of data; the report shows "
             f"ratios from {MIN_RATIO_DAYS} days on")


def _run_sweep(args: argparse.Namespace, series: Sequence[Series]) -> int:
    """Every --grid combination over every series, ranked (table or JSON, and --sweep-out)."""
    from backtest import sweep
    try:
        grid = sweep.parse_grid(args.grid)
    except sweep.GridError as e:
        note(f"error: --grid {e}")
        return 2
    files = [sweep.SweepFile(s.candles, s.symbol, s.timeframe, s.tf_ms) for s in series]
    base = {k: getattr(args, k) for k in sweep.GRID_KEYS}
    base["trade_on"] = frozenset(args.trade_on)
    combos = sweep.combinations(grid, base)
    where = f"the Dask cluster at {args.scheduler}" if args.scheduler else (
        f"{args.jobs or 'all'} local process(es)")
    note(f"sweeping {len(combos):,} combination(s) x {len(files):,} file(s) = "
         f"{len(combos) * len(files):,} backtests on {where}")
    started = time.perf_counter()
    rank_by = args.rank_by or "net_pnl"
    _warn_short_ratios(rank_by, series)
    try:
        rows = sweep.run_sweep(files, combos, rules_of(args), jobs=args.jobs or -1,
                               scheduler=args.scheduler, rank_by=rank_by)
    except (OSError, TimeoutError) as e:  # the scheduler cannot be reached
        note(f"error: cannot reach the Dask scheduler {args.scheduler}: {e}")
        return 1
    order = "lower" if rank_by in LOWER else "higher"
    note(f"done in {time.perf_counter() - started:.2f} s; ranked by {rank_by} ({order} first), "
         "then net_pnl and profit_factor (higher first)")
    if args.sweep_out:
        try:
            with Path(args.sweep_out).open("w", newline="") as f:
                sweep.write_csv(rows, f)
        except OSError as e:
            note(f"error: cannot write: {e}")
            return 2
        note(f"sweep written to {args.sweep_out}")
    if args.report_out:
        from backtest.sweep_report import heatmap_keys, write_sweep_report
        try:
            page = write_sweep_report(args.report_out, rows, grid, rank_by,
                                      heatmap_keys(grid, args.heatmap), settings_of(args, series))
        except OSError as e:
            note(f"error: cannot write: {e}")
            return 2
        note(f"sweep report written to {page}")
    if args.format == "json":
        print(json.dumps([{k: sweep.shown(k, r[k]) if k == "trade_on" else r[k]
                           for k in sweep.COLUMNS} for r in rows]))
    else:
        sweep.print_table(rows, sys.stdout, args.top)
        if len(rows) > args.top:
            note(f"{len(rows) - args.top:,} more row(s) not shown (--top, --sweep-out)")
    return 0
