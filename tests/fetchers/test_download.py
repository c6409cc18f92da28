"""`main.py download` against the local fake Binance: closed candles, incremental, gaps, ALL."""
from __future__ import annotations

import asyncio
import io
import os
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from app import download_fetch, download_progress
from app.download_args import Request
from app.download_cmd import download
from app.download_progress import LineProgress
from config import load_settings
from exchanges.binance_client import BinanceMarketData as BINANCE_MARKET_DATA
from exchanges.errors import TransientExchangeError
from fetchers import store
from fetchers.aggregate import aggregate
from fetchers.timeframes import plan
from tests.fakes.binance_data import Listing, synthetic
from tests.shared_data import REPO

from .conftest import fast_retry

MIN = 60_000
T = 1_770_681_600_000  # 2026-02-10 00:00 UTC
MAIN = REPO / "main.py"


def one_minute(symbol: str, minutes: int, drop: range = range(0)) -> pd.DataFrame:
    """Sane 1m candles from T (the fake's synthetic wave), without the minutes in `drop`."""
    ts = np.array([T + i * MIN for i in range(minutes) if i not in drop], dtype=np.int64)
    return synthetic(symbol, ts, "1m")


def klines(fake) -> list[dict]:
    """The parameters of every klines request the fake answered."""
    return [r.params for r in fake.requests if r.path == "/fapi/v1/klines"]


async def run(fake, tmp_path, *, symbols=("BTC/USDT",), timeframes=("1m",), since=T,
              until=None, env=None) -> tuple[int, str, str]:
    """One download in-process; (exit status, stdout, progress lines)."""
    settings = load_settings({"BINANCE_DATA_URL": fake.url, "FETCH_TIMEOUT_S": "1",
                              **(env or {})}, dotenv_path=None)
    req = Request("binance", tuple(symbols), tuple(timeframes), since, until, str(tmp_path))
    out, lines = io.StringIO(), io.StringIO()
    code = await download(settings, req, LineProgress(lines), out, retry=fast_retry())
    return code, out.getvalue(), lines.getvalue()


def stored(tmp_path, symbol="BTC/USDT", timeframe="1m") -> pd.DataFrame:
    return store.read(store.path_of(tmp_path, "binance", symbol, timeframe))


@pytest.fixture
async def btc(fake_binance):
    """The fake serving 3 hours of BTCUSDT 1m candles, its clock 90.5 minutes after T."""
    candles = one_minute("BTCUSDT", 180)
    fake = await fake_binance(candles={("BTCUSDT", "1m"): candles}, now_ms=T + 90 * MIN + 30_000)
    return fake, candles


async def test_the_forming_candle_is_never_stored(btc, tmp_path):
    fake, candles = btc
    code, out, lines = await run(fake, tmp_path)
    assert code == 0
    got = stored(tmp_path)
    # 00:00 .. 01:29 closed; 01:30 is forming at 01:30:30 and the fake serves it: not stored.
    assert got["timestamp"].iloc[-1] == T + 89 * MIN and len(got) == 90
    pd.testing.assert_frame_equal(got, candles.iloc[:90].reset_index(drop=True),
                                  check_exact=False, rtol=1e-7)
    assert "BTC/USDT 1m: 90 new (0 before, 90 after); 90 stored" in out
    assert "download: binance BTC/USDT 1m: 90 of ~90 candles (100%)" in lines


async def test_a_second_run_requests_only_the_new_candles(btc, tmp_path):
    fake, _ = btc
    assert (await run(fake, tmp_path))[0] == 0
    fake.advance(30 * MIN)
    fake.requests.clear()
    code, out, _ = await run(fake, tmp_path)
    assert code == 0
    asked = klines(fake)
    assert len(asked) == 1 and int(asked[0]["startTime"]) == T + 90 * MIN
    assert int(asked[0]["limit"]) <= 31  # the 30 new closed candles (+ the forming one)
    assert len(stored(tmp_path)) == 120
    assert "30 new (0 before, 30 after); 120 stored" in out


async def test_nothing_new_sends_no_candle_request(btc, tmp_path):
    fake, _ = btc
    await run(fake, tmp_path)
    fake.requests.clear()
    code, out, _ = await run(fake, tmp_path)
    assert code == 0 and klines(fake) == [] and "0 new" in out


async def test_an_earlier_since_fetches_only_before_the_first_candle(btc, tmp_path):
    fake, candles = btc
    await run(fake, tmp_path, since=T + 60 * MIN)
    assert len(stored(tmp_path)) == 30
    fake.requests.clear()
    code, out, _ = await run(fake, tmp_path, since=T)
    assert code == 0
    assert [int(k["startTime"]) for k in klines(fake)] == [T]
    got = stored(tmp_path)
    assert len(got) == 90 and got["timestamp"].is_monotonic_increasing
    assert "60 new (60 before, 0 after)" in out


async def test_gaps_are_listed_and_never_invented(fake_binance, tmp_path):
    candles = one_minute("BTCUSDT", 60, drop=range(10, 15))
    fake = await fake_binance(candles={("BTCUSDT", "1m"): candles}, now_ms=T + 60 * MIN)
    code, out, _ = await run(fake, tmp_path)
    assert code == 0
    got = stored(tmp_path)
    assert len(got) == 55 and not set(range(T + 10 * MIN, T + 15 * MIN, MIN)) & set(
        got["timestamp"])
    assert "1 gap(s)" in out
    assert "  gap: after 2026-02-10 00:09 next 2026-02-10 00:15 UTC (5 missing)" in out


async def test_all_takes_the_venue_universe_by_quote_volume(fake_binance, tmp_path):
    listings = [Listing("BTCUSDT", 5e9), Listing("ETHUSDT", 3e9), Listing("SOLUSDT", 1e9),
                Listing("XRPUSDT", 1e6)]
    fake = await fake_binance(listings=listings, now_ms=T + 10 * MIN)
    code, out, _ = await run(fake, tmp_path, symbols=("ALL",), env={"MAX_PAIRS": "2"})
    assert code == 0
    assert store.stored_symbols(tmp_path, "binance") == ["BTC/USDT", "ETH/USDT"]
    assert len(stored(tmp_path, "ETH/USDT")) == 10
    code, _, _ = await run(fake, tmp_path, symbols=("ALL",), env={"MIN_VOLUME_24H": "2e9"})
    assert store.stored_symbols(tmp_path, "binance") == ["BTC/USDT", "ETH/USDT"]
    code, _, _ = await run(fake, tmp_path, symbols=("ALL",), env={"MIN_VOLUME_24H": "1e5"})
    assert store.stored_symbols(tmp_path, "binance") == ["BTC/USDT", "ETH/USDT", "SOL/USDT",
                                                         "XRP/USDT"]


async def test_a_timeframe_the_venue_lacks_is_stored_as_built(btc, tmp_path):
    fake, candles = btc
    fake.set_now(T + 180 * MIN)
    code, out, _ = await run(fake, tmp_path, timeframes=("25m",))
    assert code == 0
    expected = aggregate(candles, plan("25m", ("1m",)), T + 180 * MIN)
    got = stored(tmp_path, timeframe="25m")
    assert got["timestamp"].tolist() == expected["timestamp"].tolist() == [
        T + i * 25 * MIN for i in range(7)]  # 02:55 is not closed at 03:00 (it ends at 03:20)
    np.testing.assert_allclose(got[["open", "high", "low", "close", "volume"]].to_numpy(),
                               expected[["open", "high", "low", "close", "volume"]].to_numpy())
    # Built from 5m candles: a second run asks from the first native candle after the file.
    fake.set_now(T + 210 * MIN)
    fake.requests.clear()
    await run(fake, tmp_path, timeframes=("25m",))
    assert [(k["interval"], int(k["startTime"])) for k in klines(fake)] == [
        ("5m", T + 175 * MIN)]


async def test_an_exchange_failure_keeps_what_was_fetched_and_exits_1(btc, tmp_path, monkeypatch):
    fake, _ = btc
    monkeypatch.setattr(download_fetch, "chunk_size", lambda fetcher: 30)
    real = BINANCE_MARKET_DATA.closed_candles
    calls = []

    async def flaky(self, *args, **kwargs):
        calls.append(args)
        if len(calls) == 2:
            raise TransientExchangeError("HTTP 503 after retries")
        return await real(self, *args, **kwargs)

    monkeypatch.setattr(BINANCE_MARKET_DATA, "closed_candles", flaky)
    code, out, _ = await run(fake, tmp_path)
    assert code == 1
    assert len(stored(tmp_path)) == 30 and "30 new" in out
    code, out, _ = await run(fake, tmp_path)  # the same command goes on from there
    assert code == 0 and len(stored(tmp_path)) == 90 and "60 new (0 before, 60 after)" in out


async def test_an_interruption_stores_what_came_then_stops(btc, tmp_path, monkeypatch):
    fake, _ = btc
    monkeypatch.setattr(download_fetch, "chunk_size", lambda fetcher: 30)
    real = BINANCE_MARKET_DATA.closed_candles
    calls = []

    async def interrupted(self, *args, **kwargs):
        calls.append(args)
        if len(calls) == 3:
            raise asyncio.CancelledError  # what Ctrl-C does to the running task
        return await real(self, *args, **kwargs)

    monkeypatch.setattr(BINANCE_MARKET_DATA, "closed_candles", interrupted)
    with pytest.raises(asyncio.CancelledError):
        await run(fake, tmp_path)
    assert len(stored(tmp_path)) == 60


async def test_a_stored_file_failing_verification_is_left_alone(btc, tmp_path):
    fake, candles = btc
    path = store.path_of(tmp_path, "binance", "BTC/USDT", "1m")
    twice = pd.concat([candles.iloc[:3], candles.iloc[2:3]], ignore_index=True)
    store.write(path, twice)
    before = path.read_bytes()
    code, _, _ = await run(fake, tmp_path)
    assert code == 1 and path.read_bytes() == before


@pytest.mark.parametrize("req, error", [
    (dict(since=T, until=T), "--until must be after --since"),
    (dict(since=None), "give --since"),
])
async def test_bad_requests_exit_2_before_any_request(btc, tmp_path, capsys, req, error):
    fake, _ = btc
    code, _, _ = await run(fake, tmp_path, **req)
    assert code == 2 and fake.requests == []
    assert error in capsys.readouterr().err


async def test_an_unknown_symbol_exits_2(btc, tmp_path, capsys):
    fake, _ = btc
    code, _, _ = await run(fake, tmp_path, symbols=("NOPE/USDT",))
    assert code == 2 and "NOPE/USDT" in capsys.readouterr().err
    assert klines(fake) == []


def test_progress_is_a_bar_on_a_terminal_and_lines_otherwise():
    class Tty(io.StringIO):
        def isatty(self) -> bool:
            return True

    assert isinstance(download_progress.progress_for(Tty()), download_progress.BarProgress)
    assert isinstance(download_progress.progress_for(io.StringIO()), LineProgress)


# -- main.py as a process -------------------------------------------------------------------------
async def main(*args, env=None, cwd=None) -> subprocess.CompletedProcess:
    """main.py as a process without blocking this loop (the fake server lives on it)."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("BINANCE_", "DATA_"))}
    return await asyncio.to_thread(
        subprocess.run, [sys.executable, str(MAIN), *map(str, args)], capture_output=True,
        text=True, timeout=120, cwd=cwd, env={**clean, **(env or {})})


@pytest.mark.slow
async def test_cli_download_then_backtest_the_store(btc, tmp_path):
    fake, _ = btc
    fake.set_now(T + 180 * MIN)
    env = {"BINANCE_DATA_URL": fake.url, "DATA_DIR": str(tmp_path / "store")}
    done = await main("download", "--exchange", "binance", "--symbols", "BTCUSDT",
                      "--timeframes", "1m,5m", "--since", "2026-02-10", env=env, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "download: binance BTC/USDT 1m: 180 of ~180 candles (100%)" in done.stderr
    assert (tmp_path / "store" / "binance" / "BTCUSDT" / "1m.parquet").is_file()
    assert "BTC/USDT 5m: 36 new" in done.stdout
    done = await main("backtest", "--exchange", "binance", "--symbols", "BTC/USDT",
                      "--timeframes", "1m", "--format", "json", env=env, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "180 candles" in done.stderr


@pytest.mark.slow
async def test_cli_bad_flags_exit_2(tmp_path):
    done = await main("download", "--exchange", "nowhere", "--symbols", "BTCUSDT",
                      "--timeframes", "1m", "--since", "2026-02-10", cwd=tmp_path)
    assert done.returncode == 2 and "unknown exchange" in done.stderr
    done = await main("download", "--symbols", "BTCUSDT", "--timeframes", "7x",
                      "--since", "2026-02-10", cwd=tmp_path)
    assert done.returncode == 2
