"""fetch_history (main.py scan --symbol): the same candles as the daemon path, bounded by until."""
from __future__ import annotations

import numpy as np

from app.components import fetch_history
from config import load_settings
from tests.fetchers.conftest import fast_retry
from tests.fetchers.test_adapter import MIDNIGHT, MIN, day_aligned

FEB_28_END = 1_772_323_200_000  # 2026-03-01 00:00 UTC: the real data ends here


async def test_history_builds_25m_from_since_until(fake_binance, ltc_1m):
    fake = await fake_binance(candles={("LTCUSDT", "1m"): ltc_1m}, now_ms=FEB_28_END + MIN)
    settings = load_settings({"BINANCE_DATA_URL": fake.url}, dotenv_path=None)
    since, until = MIDNIGHT - 3 * 86_400_000, MIDNIGHT + 86_400_000
    got = await fetch_history(settings, "LTC/USDT", "25m", since, until, retry=fast_retry())
    window = ltc_1m.loc[(ltc_1m.timestamp >= since) & (ltc_1m.timestamp < until)]
    want = day_aligned(window, 25)
    assert list(got.columns) == ["timestamp", "open", "high", "low", "close", "volume"]
    assert got["timestamp"].tolist() == want["timestamp"].tolist()
    assert len(got) == 4 * 58
    np.testing.assert_allclose(got.drop(columns="timestamp").to_numpy(),
                               want.drop(columns="timestamp").to_numpy())
    # 4 days of 5m candles = 1152 rows: one request, not a walk up to "now".
    assert [r.params["interval"] for r in fake.requests if r.path == "/fapi/v1/klines"] == ["5m"]


async def test_history_without_until_runs_to_the_last_closed_candle(fake_binance, ltc_1m):
    now = FEB_28_END - 30 * MIN + 7
    fake = await fake_binance(candles={("LTCUSDT", "1m"): ltc_1m}, now_ms=now)
    settings = load_settings({"BINANCE_DATA_URL": fake.url}, dotenv_path=None)
    got = await fetch_history(settings, "LTCUSDT", "1h", FEB_28_END - 5 * 3600_000,
                              retry=fast_retry())
    assert got["timestamp"].tolist() == [FEB_28_END - k * 3600_000 for k in (5, 4, 3, 2)]
