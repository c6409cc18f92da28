"""What the backtest writes: the trades CSV, the JSON summary, the HTML report, the CLI."""
from __future__ import annotations

import csv
import io
import json
import re
import subprocess
import sys

import pytest

from backtest.report import write_report
from backtest.simulate import Run
from backtest.tradesio import HEADER, iso_utc, write_trades
from tests.shared_data import REPO, SHARED_DATA
from trading.rules import Trade

from .frames import T0, TF, event, frame, run

pytestmark = pytest.mark.slow  # command-line runs and backtests over the shared real data

MAIN = REPO / "main.py"
SAMPLE = REPO / "samples" / "LTCUSDT-usdm-1m-2026-02-01_03.csv"
EXACT_HEADER = ("symbol,timeframe,side,signal_time,entry_time,entry_price,stop_price,"
                "target_price,exit_time,exit_price,exit_reason,quantity,fees,pnl")
JSON_KEYS = {"trades", "wins", "losses", "win_rate", "net_pnl", "fees", "profit_factor",
             "max_drawdown", "expectancy", "sharpe", "sortino", "exposure", "by_symbol"}


def main(*args) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(MAIN), *map(str, args)], capture_output=True,
                          text=True, timeout=120, cwd=REPO)


def test_trades_csv_has_the_exact_header_iso_times_and_repr_floats():
    trade = Trade("long", T0 + TF, T0 + TF, 0.1 + 0.2, 0.25, 1 / 3, T0 + 5 * TF + 500, 0.4,
                  "target", 2 / 3, 1e-5, -0.1)
    buf = io.StringIO()
    write_trades([Run("LTCUSDT", "1m", [trade], [], 1, T0, T0 + TF)], buf)
    lines = buf.getvalue().splitlines()
    assert lines[0] == EXACT_HEADER == ",".join(HEADER)
    assert lines[1] == ("LTCUSDT,1m,long,2026-02-01T00:01:00Z,2026-02-01T00:01:00Z,"
                        "0.30000000000000004,0.25,0.3333333333333333,2026-02-01T00:05:00.500Z,"
                        "0.4,target,0.6666666666666666,1e-05,-0.1")


def test_csv_rows_are_in_the_order_trades_were_opened():
    a = run(frame(*[(100.0, 100.5, 99.5, 100.0)] * 4), [event(2, "bullish", 100.0, 98.0)])
    b = run(frame(*[(100.0, 100.5, 99.5, 100.0)] * 4), [event(0, "bearish", 100.0, 102.0)])
    b.symbol = "OTHER"
    buf = io.StringIO()
    write_trades([a, b], buf)
    rows = list(csv.DictReader(io.StringIO(buf.getvalue())))
    assert [r["symbol"] for r in rows] == ["OTHER", "TESTUSDT"]
    assert iso_utc(T0) == "2026-02-01T00:00:00Z"


def test_report_is_self_contained(tmp_path):
    candles = frame(*[(100.0, 100.5, 99.5, 100.0)] * 30)
    result = run(candles, [event(12, "bullish", 100.0, 98.0), event(20, "bearish", 100.0, 101.0)])
    from backtest.metrics import report
    page = write_report(tmp_path, [result], [candles], report([result]), {}, 2, 2, [TF])
    text = page.read_text()
    assert not re.search(r"""(src|href)\s*=\s*["']?\s*(https?:)?//""", text, re.I)
    images = re.findall(r'<img [^>]*src="([^"]*)"', text)
    assert len(images) >= 2 and all(src.startswith("data:image/png;base64,") for src in images)
    assert (tmp_path / "equity.png").stat().st_size > 1000
    assert list(tmp_path.glob("trade-*.png"))


def test_cli_on_the_sample_writes_trades_json_and_report(tmp_path):
    trades, report = tmp_path / "trades.csv", tmp_path / "report"
    done = main("backtest", "--csv", SAMPLE, "--format", "json", "--trades-out", trades,
                "--report-out", report, "--starting-balance", "500")
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    assert set(summary) >= JSON_KEYS
    rows = list(csv.DictReader(trades.open()))
    assert trades.read_text().splitlines()[0] == EXACT_HEADER
    assert summary["trades"] == len(rows) > 0
    assert summary["by_symbol"][0]["symbol"] == "LTCUSDT"
    assert summary["by_symbol"][0]["timeframe"] == "1m"
    assert summary["net_pnl"] == pytest.approx(sum(float(r["pnl"]) for r in rows))
    assert summary["fees"] == pytest.approx(sum(float(r["fees"]) for r in rows))
    assert {r["exit_reason"] for r in rows} <= {"stop", "target", "reverse", "close", "end"}
    assert (report / "index.html").is_file()
    stats = summary["stats"]
    assert stats["trades"] == len(rows) and stats["starting_balance"] == 500.0
    assert stats["final_equity"] == pytest.approx(500.0 + summary["net_pnl"])
    assert summary["settings"]["starting_balance"] == 500.0
    assert json.loads((report / "summary.json").read_text())["stats"] == stats


def test_cli_table_prints_the_summary_traders_know():
    done = main("backtest", "--csv", SAMPLE)
    assert done.returncode == 0, done.stderr
    for label in ("Equity final [USDT]", "Buy & hold return [%]", "Max. drawdown duration",
                  "SQN", "Sharpe ratio"):
        assert label in done.stdout
    assert "need at least 30 days of data; this backtest has 3" in done.stdout


def test_cli_reads_no_configuration(tmp_path):
    # An env file and environment with other trade settings must not change a file backtest.
    (tmp_path / ".env").write_text("RISK_REWARD=5\nTRADE_ON=BOS\nPOSITION_SIZE=7\n")
    plain = main("backtest", "--csv", SAMPLE, "--format", "json")
    env = {**__import__("os").environ, "RISK_REWARD": "9", "LEVERAGE": "3"}
    other = subprocess.run([sys.executable, str(MAIN), "backtest", "--csv", str(SAMPLE),
                            "--format", "json"], capture_output=True, text=True, timeout=120,
                           cwd=tmp_path, env=env)
    assert plain.returncode == other.returncode == 0
    a, b = json.loads(plain.stdout), json.loads(other.stdout)
    assert a["settings"]["risk_reward"] == 2.0 and a["settings"]["trade_on"] == ["CHOCH"]
    a["settings"].pop("csv"), b["settings"].pop("csv")
    assert a == b


def test_cli_flags_change_the_trades():
    base = json.loads(main("backtest", "--csv", SAMPLE, "--format", "json").stdout)
    flagged = json.loads(main("backtest", "--csv", SAMPLE, "--format", "json", "--trade-on",
                              "CHOCH,BOS", "--on-opposite", "close", "--fee-rate", "0",
                              "--symbol", "LTC").stdout)
    assert flagged["fees"] == 0.0 and flagged["trades"] != base["trades"]
    assert flagged["by_symbol"][0]["symbol"] == "LTC"


def test_cli_bad_input_exits_2(tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("timestamp,open,high,low,close,volume\n1769904000000,1,0.5,2,1,1\n")
    done = main("backtest", "--csv", bad)
    assert done.returncode == 2 and "backtest: error" in done.stderr
    assert main("backtest", "--csv", SAMPLE, "--on-opposite", "flip").returncode == 2


@pytest.mark.parametrize("name", ["LTCUSDT-usdm-1m-2026-02.csv", "BTCUSDT-spot-1m.csv",
                                  "BTCUSDT-spot-15m.csv", "BTCUSDT-spot-1h.csv"])
def test_backtest_over_shared_real_data(name, tmp_path):
    path = SHARED_DATA / name
    if not path.is_file():
        pytest.skip(f"{path} not present")
    trades = tmp_path / "t.csv"
    done = main("backtest", "--csv", path, "--format", "json", "--trades-out", trades,
                "--trade-on", "CHOCH,BOS", "--slippage-bps", "2")
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    rows = list(csv.DictReader(trades.open()))
    assert summary["trades"] == len(rows) > 100
    for prev, row in zip(rows, rows[1:]):
        assert prev["exit_time"] <= row["entry_time"]  # one position at a time
    for r in rows:
        entry, stop = float(r["entry_price"]), float(r["stop_price"])
        assert (stop < entry) if r["side"] == "long" else (stop > entry)
        assert r["entry_time"] < r["exit_time"] or r["exit_reason"] in ("reverse", "close")
        if r["exit_reason"] == "target":
            assert r["exit_price"] == r["target_price"]


def test_the_alert_chart_draws_optional_stop_and_target_lines():
    from alerts.chart import render_chart
    candles = frame(*[(100.0, 100.5, 99.5, 100.0)] * 20)
    payload = {"symbol": "X", "timeframe": "1m", "candles": candles.to_numpy()[:, :5],
               "event": event(10, "bullish", 100.0, 99.0).to_dict()}
    plain = render_chart(payload)
    assert render_chart(payload, levels=None) == plain  # unchanged without levels
    assert render_chart(payload, levels={"stop": 99.0, "target": 102.0}) != plain


def test_report_charts_label_stop_and_target_without_float_noise(monkeypatch):
    import backtest.report as report

    seen: list[dict] = []
    monkeypatch.setattr(report, "render_chart", lambda payload, levels=None: seen.append(levels))
    candles = frame(*[(59.5, 59.6, 59.4, 59.5)] * 30)
    trade = Trade("long", T0 + 11 * TF, T0 + 11 * TF, 59.48, 59.31, 59.48 + 2 * (59.48 - 59.31),
                  T0 + 15 * TF, 59.31, "stop", 1.0, 0.1, -0.27)
    done = Run("LTCUSDT", "1m", [trade], [event(10, "bullish", 59.43, 59.31)], 1, 0, 30, T0,
               T0 + 30 * TF)
    assert trade.target_price == 59.819999999999986  # what the rules compute, kept in the CSV
    report.trade_png(done, candles, 0, 5, 5, TF)
    assert seen == [{"stop": 59.31, "target": 59.82}]
