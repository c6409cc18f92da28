"""CoinDCX as a venue of the whole program: `scan --exchange coindcx` over the CoinDCX fake
builds 15m/25m/45m from 5m and never sees the forming candle; `download --exchange coindcx`
stores what it fetched."""
from __future__ import annotations

import pandas as pd
import pytest

import choch
from fetchers.csv_files import read_candles
from tests.app.test_bybit_venue import (
    FEB_7,
    MIN,
    NOW,
    closed_buckets,
    with_adversarial_forming_bar,
)
from tests.fakes.coindcx import CANDLES, FakeCoindcx
from tests.shared_data import load_candles
from tests.test_cli_scan import jsonl, run_main_async

# Real processes over a week of candles: left out of `make test-fast`.
pytestmark = pytest.mark.slow


@pytest.mark.parametrize("timeframe, minutes", [("15m", 15), ("25m", 25), ("45m", 45)])
async def test_scan_on_coindcx_builds_from_5m_and_never_includes_the_forming_candle(
        tmp_path, timeframe, minutes):
    ltc = load_candles("LTCUSDT-usdm-1m-2026-02.csv")
    served = with_adversarial_forming_bar(ltc, NOW)
    fake = FakeCoindcx({("B-LTC_USDT", "1m"): served}, now_ms=NOW)
    await fake.start()
    saved = tmp_path / f"ltc-{timeframe}.csv"
    try:
        code, out, err = await run_main_async(
            "scan", "--exchange", "coindcx", "--symbol", "LTC/USDT", "--timeframe", timeframe,
            "--since", "2026-02-07", "--break-on", "wick", "--save-csv", saved,
            env={"COINDCX_DATA_URL": fake.url}, cwd=tmp_path)
    finally:
        await fake.stop()
    assert code == 0, err
    asked = fake.calls("GET", CANDLES)
    assert {p["resolution"] for p in asked if p["pair"] == "B-LTC_USDT"} == {"5"}
    assert all(p["pcode"] == "f" for p in asked)
    tf_ms = minutes * MIN
    want = closed_buckets(ltc.loc[ltc["timestamp"] >= FEB_7], minutes, NOW)
    got = read_candles(saved).candles
    assert got["timestamp"].tolist() == want["timestamp"].tolist()
    assert int(got["timestamp"].iloc[-1]) + tf_ms <= NOW
    assert jsonl(out) == [e.to_dict() for e in choch.scan(want, timeframe_ms=tf_ms,
                                                             break_on="wick")]


async def test_download_from_coindcx_stores_closed_candles(tmp_path):
    ltc = load_candles("LTCUSDT-usdm-1m-2026-02.csv")
    fake = FakeCoindcx({("B-LTC_USDT", "1m"): ltc.loc[ltc["timestamp"] <= NOW]}, now_ms=NOW)
    await fake.start()
    try:
        code, out, err = await run_main_async(
            "download", "--exchange", "coindcx", "--symbols", "LTC/USDT", "--timeframes",
            "1m,25m", "--since", "2026-02-09", "--data-dir", tmp_path / "data",
            env={"COINDCX_DATA_URL": fake.url}, cwd=tmp_path)
    finally:
        await fake.stop()
    assert code == 0, err
    stored = pd.read_parquet(tmp_path / "data" / "coindcx" / "LTCUSDT" / "1m.parquet")
    want = ltc.loc[(ltc["timestamp"] >= NOW - NOW % 86_400_000 - 86_400_000)
                   & (ltc["timestamp"] + MIN <= NOW)]
    assert stored["timestamp"].astype("int64").tolist()[-1] == int(want["timestamp"].iloc[-1])
    assert len(stored) == len(want)
    assert (tmp_path / "data" / "coindcx" / "LTCUSDT" / "25m.parquet").is_file()
