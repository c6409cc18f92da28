"""`main.py backtest` over the history store, and --timeframe-detail through both sources."""
from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

import choch
from app.cli import main
from backtest.simulate import simulate
from fetchers import store
from fetchers.csv_files import write_candles
from trading.rules import TradeRules

T = 1_770_681_600_000  # 2026-02-10 00:00 UTC
M = 60_000
TRADE = ["--trade-on", "CHOCH,BOS", "--left", "2", "--right", "2", "--risk-reward", "0.5"]


def wide(seed: int = 3, n: int = 400) -> tuple[pd.DataFrame, pd.DataFrame]:
    """15m candles, some with very wide ranges, and the 1m candles inside each (each 15m
    candle visits its high first or its low first, at random): candles touching both a stop
    and a target happen, and their 1m candles say which came first."""
    rng = np.random.default_rng(seed)
    mid = 1000 + np.cumsum(rng.normal(0, 2, n))
    o, c = mid + rng.normal(0, 1, n), mid + rng.normal(0, 1, n)
    spike = np.where(rng.random(n) < 0.15, 40.0, 0.0)
    h = np.maximum(o, c) + np.abs(rng.normal(0, 2, n)) + spike
    lo = np.minimum(o, c) - np.abs(rng.normal(0, 2, n)) - spike
    main15 = pd.DataFrame({"timestamp": T + np.arange(n) * 15 * M, "open": o, "high": h,
                           "low": lo, "close": c, "volume": 1.0})
    rows = []
    for i in range(n):
        a, b = (h[i], lo[i]) if rng.random() < 0.5 else (lo[i], h[i])
        path = np.interp(np.arange(16), [0, 4, 10, 15], [o[i], a, b, c[i]])
        for k in range(15):
            rows.append((T + i * 15 * M + k * M, path[k], max(path[k], path[k + 1]),
                         min(path[k], path[k + 1]), path[k + 1], 1.0))
    fine = pd.DataFrame(rows, columns=["timestamp", "open", "high", "low", "close", "volume"])
    return main15, fine


@pytest.fixture(scope="module")
def candles():
    return wide()


@pytest.fixture
def data(tmp_path, candles, monkeypatch):
    """A store with LTC/USDT 15m and 1m, and the same candles as two CSV files."""
    main15, fine = candles
    root = tmp_path / "data"
    store.write(store.path_of(root, "binance", "LTC/USDT", "15m"), main15)
    store.write(store.path_of(root, "binance", "LTC/USDT", "1m"), fine)
    write_candles(str(tmp_path / "LTCUSDT-15m.csv"), main15)
    write_candles(str(tmp_path / "LTCUSDT-1m.csv"), fine)
    monkeypatch.chdir(tmp_path)  # no stray .env
    monkeypatch.delenv("DATA_DIR", raising=False)
    return tmp_path


def backtest(capsys, *args) -> tuple[int, str, str]:
    code = main(["backtest", *map(str, args)])
    out = capsys.readouterr()
    return code, out.out, out.err


def store_args(*extra) -> list:
    return ["--exchange", "binance", "--symbols", "LTC/USDT", "--timeframes", "15m", *TRADE,
            *extra]


def test_a_store_backtest_equals_the_csv_backtest_of_the_same_candles(data, capsys):
    code, out, err = backtest(capsys, *store_args("--format", "json", "--trades-out",
                                                  data / "store.csv"))
    assert code == 0, err
    from_store = json.loads(out)
    code, out, err = backtest(capsys, "--csv", data / "LTCUSDT-15m.csv", *TRADE, "--format",
                              "json", "--trades-out", data / "file.csv")
    assert code == 0, err
    from_file = json.loads(out)
    assert from_store.pop("settings")["exchange"] == "binance"
    from_file.pop("settings")
    assert from_store == from_file and from_store["trades"] > 0
    assert (data / "store.csv").read_text() == (data / "file.csv").read_text()


def test_data_dir_comes_from_the_environment(data, capsys, monkeypatch):
    (data / "data").rename(data / "elsewhere")
    monkeypatch.setenv("DATA_DIR", str(data / "elsewhere"))
    code, _, err = backtest(capsys, *store_args())
    assert code == 0, err


def test_since_and_until_cut_the_stored_candles(data, capsys):
    code, out, err = backtest(capsys, *store_args("--since", "2026-02-10T12:00",
                                                  "--until", "2026-02-11", "--format", "json"))
    assert code == 0, err
    assert "48 candles" in err  # 12:00 .. 23:45: 48 quarter hours
    assert json.loads(out)["settings"]["since"] == "2026-02-10T12:00:00Z"


def test_a_missing_file_exits_2_naming_it_and_the_download_command(data, capsys):
    code, _, err = backtest(capsys, "--exchange", "binance", "--symbols", "LTC/USDT,BTC/USDT",
                            "--timeframes", "15m,1h", "--since", "2026-02-10")
    assert code == 2
    assert str(store.path_of("data", "binance", "BTC/USDT", "1h")) in err
    assert str(store.path_of("data", "binance", "LTC/USDT", "1h")) in err
    assert ("python main.py download --exchange binance --symbols LTC/USDT,BTC/USDT "
            "--timeframes 1h,15m --since 2026-02-10T00:00:00Z") in err


def test_all_is_every_symbol_stored_for_the_venue(data, capsys, candles):
    store.write(store.path_of(data / "data", "binance", "ETH/USDT", "15m"), candles[0])
    code, out, err = backtest(capsys, "--exchange", "binance", "--symbols", "ALL",
                              "--timeframes", "15m", *TRADE, "--format", "json")
    assert code == 0, err
    assert sorted(r["symbol"] for r in json.loads(out)["by_symbol"]) == ["ETHUSDT", "LTCUSDT"]


def test_a_grid_sweeps_the_store(data, capsys):
    code, out, err = backtest(capsys, *store_args("--grid", "risk_reward=0.5,1", "--jobs", "1",
                                                  "--format", "json"))
    assert code == 0, err
    assert len(json.loads(out)) == 2


def trades(path) -> list[list[str]]:
    return [line.split(",") for line in path.read_text().splitlines()[1:]]


def test_timeframe_detail_reorders_through_the_store_and_through_a_detail_csv(data, capsys,
                                                                              candles):
    code, _, err = backtest(capsys, *store_args("--trades-out", data / "plain.csv"))
    assert code == 0, err
    code, _, err = backtest(capsys, *store_args("--timeframe-detail", "1m", "--trades-out",
                                                data / "store.csv"))
    assert code == 0, err
    assert "1 target first, 1 stop first" in err
    code, _, err = backtest(capsys, "--csv", data / "LTCUSDT-15m.csv", *TRADE,
                            "--timeframe-detail", "1m", "--detail-csv", data / "LTCUSDT-1m.csv",
                            "--trades-out", data / "file.csv")
    assert code == 0, err
    assert (data / "store.csv").read_text() == (data / "file.csv").read_text()
    # The same as the simulation given the 1m candles; different from stop-first.
    main15, fine = candles
    rules = TradeRules(frozenset({"CHOCH", "BOS"}), 0.5)
    events = choch.scan(main15, 2, 2, "close", 15 * M)
    expected = simulate(main15, events, rules, 15 * M, detail=fine).trades
    assert [row[10] for row in trades(data / "store.csv")] == [t.exit_reason for t in expected]
    plain, refined = trades(data / "plain.csv"), trades(data / "store.csv")
    changed = [(a[10], b[10]) for a, b in zip(plain, refined) if a != b]
    assert ("stop", "target") in changed


@pytest.mark.parametrize("args, error", [
    (["--exchange", "binance", "--symbols", "LTC/USDT"], "needs --symbols and --timeframes"),
    (["--csv", "LTCUSDT-15m.csv", "--symbols", "LTC/USDT"], "only go with --exchange"),
    (["--csv", "LTCUSDT-15m.csv", "--exchange", "binance"], "two sources"),
    ([], "give a candle file"),
    (["--csv", "LTCUSDT-15m.csv", "--timeframe-detail", "1m"], "needs --detail-csv"),
    (["--csv", "LTCUSDT-15m.csv", "--detail-csv", "LTCUSDT-1m.csv"], "needs --timeframe-detail"),
    (store_args("--timeframe-detail", "1m", "--grid", "left=2,3"), "not a --grid sweep"),
    (store_args("--timeframe-detail", "1h"), "longer than the 15m candles"),
    (["--csv", "LTCUSDT-15m.csv", "--timeframe-detail", "5m", "--detail-csv", "LTCUSDT-1m.csv"],
     "not 5m"),
    (store_args("--since", "2026-02-11", "--until", "2026-02-10"), "--until must be after"),
])
def test_flags_that_cannot_work_exit_2(data, capsys, args, error):
    code, _, err = backtest(capsys, *args)
    assert code == 2 and error in err
