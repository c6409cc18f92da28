"""Sweeps: grid parsing, one row per combination with the backtest's own figures, ranking, and the
same result on local processes (joblib) and on a Dask cluster."""
from __future__ import annotations

import csv
import io
import json
import math
import subprocess
import sys
from pathlib import Path

import pytest

import choch
from backtest import detect, metrics, sweep
from backtest.simulate import simulate
from fetchers.csv_files import read_candles
from trading.rules import TradeRules

REPO = Path(__file__).resolve().parents[2]
SAMPLES = [REPO / "samples" / "LTCUSDT-usdm-1m-2026-02-01_03.csv",
           REPO / "samples" / "BTCUSDT-spot-1m-2024-12-01_03.csv"]
TF = 60_000
BASE = {"left": 5, "right": 5, "break_on": "close", "trade_on": frozenset({"CHOCH"}),
        "risk_reward": 2.0, "on_opposite": "reverse", "fee_rate": 0.0005, "slippage_bps": 0.0}


def files() -> list[sweep.SweepFile]:
    return [sweep.SweepFile(read_candles(p).candles, p.name.split("-")[0], "1m", TF)
            for p in SAMPLES]


def main(*args) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(REPO / "main.py"), *args], cwd=REPO,
                          capture_output=True, text=True, timeout=120)


class Counting:
    """An in-process executor that counts what it ships."""

    def __init__(self) -> None:
        self.puts, self.tasks = 0, 0

    def put(self, candles):
        self.puts += 1
        return candles

    def run(self, tasks):
        self.tasks += len(tasks)
        return [sweep.run_file(*t) for t in tasks]


def test_grid_parses_every_key_and_joins_kinds_with_plus():
    grid = sweep.parse_grid(["left=3,5 right=4", "break_on=wick trade_on=CHOCH,CHOCH+BOS",
                             "risk_reward=1.5,2 on_opposite=close fee_rate=0 slippage_bps=2.5"])
    assert grid == {"left": (3, 5), "right": (4,), "break_on": ("wick",),
                    "trade_on": (frozenset({"CHOCH"}), frozenset({"CHOCH", "BOS"})),
                    "risk_reward": (1.5, 2.0), "on_opposite": ("close",), "fee_rate": (0.0,),
                    "slippage_bps": (2.5,)}


@pytest.mark.parametrize("text,key", [
    ("lft=3,5", "lft"), ("left=0", "left"), ("left=3,3", "left"), ("right=", "right"),
    ("risk_reward=0", "risk_reward"), ("risk_reward=nan", "risk_reward"),
    ("on_opposite=flip", "on_opposite"), ("trade_on=FVG", "trade_on"),
    ("fee_rate=0.5", "fee_rate"), ("slippage_bps=-1", "slippage_bps"),
    ("break_on=open", "break_on"), ("left=3 left=5", "left"),
])
def test_a_bad_grid_key_or_value_is_named(text, key):
    with pytest.raises(sweep.GridError) as e:
        sweep.parse_grid([text])
    assert e.value.key == key


def test_combinations_cover_the_grid_in_order_and_keep_the_rest():
    combos = sweep.combinations({"left": (3, 8), "risk_reward": (1.5, 3.0)}, BASE)
    assert [(c["left"], c["risk_reward"]) for c in combos] == [(3, 1.5), (3, 3.0), (8, 1.5),
                                                               (8, 3.0)]
    assert all(c["right"] == 5 and c["on_opposite"] == "reverse" for c in combos)


def test_each_row_has_the_figures_of_a_backtest_over_all_files():
    fs = files()
    combos = sweep.combinations({"left": (3, 5), "risk_reward": (1.5, 3.0)}, BASE)
    rows = sweep.sweep(fs, combos, TradeRules(), Counting())
    assert len(rows) == 4
    for row in rows:
        rules = TradeRules(row["trade_on"], row["risk_reward"], row["on_opposite"],
                           row["fee_rate"], row["slippage_bps"])
        runs = [simulate(f.candles, choch.scan(f.candles, row["left"], row["right"],
                                               row["break_on"], TF), rules, TF, f.symbol, "1m")
                for f in fs]
        expected = metrics.report(runs)
        assert {k: row[k] for k in sweep.METRIC_KEYS} == {k: expected[k]
                                                          for k in sweep.METRIC_KEYS}
        assert (row["symbols"], row["candles"]) == (2, expected["candles"])


def test_rows_are_ranked_by_net_pnl_then_profit_factor():
    rows = sweep.sweep(files(), sweep.combinations(
        {"left": (3, 5), "right": (3, 5), "risk_reward": (1.5, 3.0)}, BASE), TradeRules(),
        Counting())
    assert [r["rank"] for r in rows] == list(range(1, 9))
    keys = [(-r["net_pnl"], -(r["profit_factor"] or math.inf)) for r in rows]
    assert keys == sorted(keys)
    tie = [{"net_pnl": 1.0, "profit_factor": 1.5, "gross_profit": 3.0, "order": 0},
           {"net_pnl": 1.0, "profit_factor": None, "gross_profit": 1.0, "order": 1},
           {"net_pnl": 0.0, "profit_factor": None, "gross_profit": 0.0, "order": 2},
           {"net_pnl": 0.0, "profit_factor": 0.5, "gross_profit": 1.0, "order": 3}]
    assert [r["order"] for r in sorted(tie, key=sweep.rank_key)] == [1, 0, 3, 2]


def test_candles_are_shipped_once_per_file_and_detected_once_per_setting(monkeypatch):
    ex = Counting()
    scans = []
    real = detect.scan_bars
    monkeypatch.setattr(detect, "scan_bars", lambda *a: scans.append(a[1:]) or real(*a))
    sweep.sweep(files(), sweep.combinations(
        {"left": (3, 5, 8), "right": (3, 5), "risk_reward": (1.5, 2.0, 3.0)}, BASE),
        TradeRules(), ex)
    assert (ex.puts, ex.tasks) == (2, 2)  # one task per file
    assert len(scans) == 2 * 6 and len(set(scans)) == 6  # per file, once per detector setting


def test_fewer_files_than_workers_split_the_settings_and_give_the_same_rows():
    combos = sweep.combinations({"left": (3, 5, 8), "right": (3, 5), "risk_reward": (1.5, 3.0)},
                                BASE)
    whole, split = Counting(), Counting()
    rows = sweep.sweep(files(), combos, TradeRules(), whole)
    assert sweep.sweep(files(), combos, TradeRules(), split, parts=4) == rows
    assert (whole.tasks, split.tasks) == (2, 2 * 3)  # 6 settings in chunks of 2


def test_pooling_on_threads_and_sweeps_at_once_give_the_same_rows():
    from concurrent.futures import ThreadPoolExecutor
    combos = sweep.combinations({"left": (3, 5), "right": (3, 5), "risk_reward": (1.5, 3.0)},
                                BASE)
    fs = files()
    rows = sweep.sweep(fs, combos, TradeRules(), Counting())
    assert sweep.sweep(fs, combos, TradeRules(), Counting(), threads=3) == rows
    # Two sweeps at once share the kept join buffer in turn; a smaller one fits in it.
    small = sweep.combinations({"left": (3,)}, BASE)
    with ThreadPoolExecutor(2) as pool:
        again = pool.submit(sweep.sweep, fs, combos, TradeRules(), Counting(), threads=2)
        one = pool.submit(sweep.sweep, fs[:1], small, TradeRules(), Counting())
        assert again.result() == rows
        assert one.result() == sweep.sweep(fs[:1], small, TradeRules(), Counting())


def test_a_small_sweep_runs_in_this_process(monkeypatch):
    def no_pool(*args):
        raise AssertionError("workers started for a small sweep")
    monkeypatch.setattr(sweep, "LocalExecutor", no_pool)
    combos = sweep.combinations({"left": (3, 5)}, BASE)
    assert len(sweep.run_sweep(files(), combos, TradeRules(), jobs=2)) == 2


@pytest.mark.slow
def test_joblib_and_a_dask_cluster_give_identical_rows():
    from dask.distributed import LocalCluster
    fs = files()
    combos = sweep.combinations({"left": (3, 5, 8), "right": (3, 5),
                                 "on_opposite": ("reverse", "close")}, BASE)
    local = sweep.run_sweep(fs, combos, TradeRules(), jobs=2, small=0)
    # Over loopback TCP, through the address, as `--scheduler tcp://HOST:8786` connects.
    with LocalCluster(n_workers=2, processes=False, protocol="tcp", host="127.0.0.1",
                      dashboard_address=None) as cluster:
        dask = sweep.run_sweep(fs, combos, TradeRules(), scheduler=cluster.scheduler_address)
    assert len(local) == len(combos)
    assert local == dask  # same rows, same order, same figures (exact floats)
    out_local, out_dask = io.StringIO(), io.StringIO()
    sweep.write_csv(local, out_local)
    sweep.write_csv(dask, out_dask)
    assert out_local.getvalue() == out_dask.getvalue()


@pytest.mark.slow  # over a second: left out of make test-fast
def test_cli_sweep_writes_the_ranked_csv(tmp_path):
    out = tmp_path / "sweep.csv"
    done = main("backtest", "--csv", str(SAMPLES[0]), "--csv", str(SAMPLES[1]), "--grid",
                "left=3,5 risk_reward=1.5,2", "trade_on=CHOCH,CHOCH+BOS", "--jobs", "1",
                "--sweep-out", str(out), "--format", "json")
    assert done.returncode == 0, done.stderr
    shown = json.loads(done.stdout)
    rows = list(csv.DictReader(out.open()))
    assert len(rows) == len(shown) == 8
    assert list(rows[0]) == list(sweep.COLUMNS)
    assert [int(r["rank"]) for r in rows] == list(range(1, 9))
    assert [float(r["net_pnl"]) for r in rows] == [r["net_pnl"] for r in shown]
    assert {r["trade_on"] for r in rows} == {"CHOCH", "CHOCH+BOS"}
    assert all(r["symbols"] == "2" for r in rows)


@pytest.mark.parametrize("args,named", [
    (["--grid", "lft=3"], "lft"),
    (["--grid", "left=3", "risk_reward=abc"], "risk_reward"),
    (["--grid", "left=3", "--trades-out", "x.csv"], "--trades-out"),
    (["--csv", str(SAMPLES[1])], "--grid"),
    (["--jobs", "2"], "--grid"),
    (["--rank-by", "sharpe"], "--grid"),
    (["--grid", "left=3,5", "--rank-by", "colour"], "--rank-by"),
    (["--grid", "left=3,5", "--heatmap", "left,colour"], "--heatmap"),
])
@pytest.mark.slow  # over a second: left out of make test-fast
def test_cli_sweep_misuse_exits_2_naming_it(args, named):
    done = main("backtest", "--csv", str(SAMPLES[0]), *args)
    assert done.returncode == 2
    assert named in done.stderr


@pytest.mark.slow  # over a second: left out of make test-fast
def test_cli_sweep_ranks_by_the_chosen_metric_and_reports_a_heatmap(tmp_path):
    done = main("backtest", "--csv", str(SAMPLES[0]), "--csv", str(SAMPLES[1]), "--grid",
                "left=3,5 right=3,5 risk_reward=1.5,2", "--jobs", "1", "--rank-by",
                "max_drawdown", "--report-out", str(tmp_path / "sweep"), "--format", "json")
    assert done.returncode == 0, done.stderr
    rows = json.loads(done.stdout)
    assert [r["max_drawdown"] for r in rows] == sorted(r["max_drawdown"] for r in rows)
    assert "ranked by max_drawdown (lower first)" in done.stderr
    text = (tmp_path / "sweep" / "index.html").read_text()
    heatmap = text[text.index('<table id="heatmap">'):]
    assert heatmap[:heatmap.index("</table>")].count("<td") == 4  # left x right, 2 x 2
    assert len(list(csv.DictReader((tmp_path / "sweep" / "sweep.csv").open()))) == 8


@pytest.mark.parametrize("flags,named", [
    (["--grid", "left=3,5", "--sweep-out", "{missing}/sweep.csv"], "--sweep-out"),
    (["--trades-out", "{missing}/trades.csv"], "--trades-out"),
    (["--trades-out", "{folder}"], "--trades-out"),
    (["--report-out", "{a_file}/report"], "--report-out"),
    (["--report-out", "{a_file}"], "--report-out"),
])
def test_an_output_that_cannot_be_written_exits_2_before_any_backtest_runs(
        flags, named, tmp_path, monkeypatch, capsys):
    from app import backtest_inputs
    from app.cli import main as cli_main

    ran: list[str] = []
    monkeypatch.setattr(sweep, "run_sweep", lambda *a, **k: ran.append("sweep") or [])
    monkeypatch.setattr(backtest_inputs, "_load", lambda *a, **k: ran.append("load") or 1 / 0)
    (tmp_path / "a_file").write_text("x")
    places = {"missing": tmp_path / "missing", "folder": tmp_path, "a_file": tmp_path / "a_file"}
    args = [f.format(**places) for f in flags]
    assert cli_main(["backtest", "--csv", str(SAMPLES[0]), *args]) == 2
    err = capsys.readouterr().err
    assert ran == [] and f"error: {named} " in err
