"""`python main.py scan`: run as a real process over good and malformed candle files."""
from __future__ import annotations

import contextlib
import csv
import io
import json
import subprocess
import sys
from datetime import UTC

import pytest

import choch
from tests.shared_data import REPO, load_candles, shared_path
from tests.test_csv_files import HEADER, T0, binance_lines, candles

MAIN = REPO / "main.py"


def run_main(*args, cwd=None, env=None, process=False) -> subprocess.CompletedProcess:
    """main.py's main(): in this process (quick), or in a fresh interpreter when asked or when
    the working directory or the environment must differ; text stdout/stderr, exit status."""
    if process or cwd is not None or env is not None:
        return subprocess.run([sys.executable, str(MAIN), *map(str, args)], capture_output=True,
                              text=True, timeout=60, cwd=cwd, env=env)
    from app.cli import main
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = main([str(a) for a in args])
        except SystemExit as e:
            code = e.code
    return subprocess.CompletedProcess(args, code, out.getvalue(), err.getvalue())


def jsonl(out: str) -> list[dict]:
    return [json.loads(line) for line in out.splitlines()]


def expected(df, **params) -> list[dict]:
    return [e.to_dict() for e in choch.scan(df, timeframe_ms=60_000, **params)]


@pytest.fixture(scope="module")
def data():
    """500 seeded 1m candles with enough structure for dozens of events."""
    return candles(500, seed=11)


@pytest.fixture
def ours_file(tmp_path, data):
    path = tmp_path / "ours.csv"
    data.to_csv(path, index=False)
    return path


def test_jsonl_on_our_format_equals_choch_scan(ours_file, data):
    res = run_main("scan", "--csv", ours_file, process=True)
    assert res.returncode == 0, res.stderr
    events = jsonl(res.stdout)
    assert len(events) > 10
    assert events == expected(data)
    assert all(list(e) == list(choch.Event.__dataclass_fields__) for e in events)
    assert "timeframe 1m" in res.stderr and "most common step" in res.stderr


@pytest.mark.parametrize("micro, header", [(False, True), (False, False), (True, False)])
def test_binance_dumps_give_the_same_events(tmp_path, data, micro, header):
    path = tmp_path / "dump.csv"
    path.write_text("\n".join(binance_lines(data, micro=micro, header=header)) + "\n")
    res = run_main("scan", "--csv", path)
    assert res.returncode == 0, res.stderr
    assert jsonl(res.stdout) == expected(data)
    assert ("µs converted to ms" in res.stderr) == micro


def test_parameters_reach_the_detector(ours_file, data):
    res = run_main("scan", "--csv", ours_file, "--left", 3, "--right", 2, "--break-on", "wick")
    assert res.returncode == 0, res.stderr
    assert jsonl(res.stdout) == expected(data, left=3, right=2, break_on="wick")


def test_kinds_filter_keeps_only_the_requested_kind(ours_file, data):
    res = run_main("scan", "--csv", ours_file, "--kinds", "choch")
    assert res.returncode == 0, res.stderr
    want = [e for e in expected(data) if e["kind"] == "CHOCH"]
    assert want and jsonl(res.stdout) == want


def test_csv_format_has_a_header_and_the_same_values(ours_file, data):
    res = run_main("scan", "--csv", ours_file, "--format", "csv")
    assert res.returncode == 0, res.stderr
    rows = list(csv.DictReader(io.StringIO(res.stdout)))
    want = expected(data)
    assert list(rows[0]) == list(want[0])
    assert [{k: type(want[0][k])(v) for k, v in r.items()} for r in rows] == want


def test_table_format_is_aligned_with_utc_times(ours_file, data):
    res = run_main("scan", "--csv", ours_file, "--format", "table")
    assert res.returncode == 0, res.stderr
    lines = res.stdout.splitlines()
    first = choch.scan(data, timeframe_ms=60_000)[0]
    assert lines[0].split()[:3] == ["kind", "direction", "level"]
    assert len(lines) == 1 + len(expected(data))
    from datetime import datetime
    when = datetime.fromtimestamp(first.break_time / 1000, tz=UTC)
    assert when.strftime("%Y-%m-%d %H:%M") in lines[1]
    # Aligned: the direction column starts at the same offset on every line.
    assert len({line.index("bullish" if "bullish" in line else "bearish")
                for line in lines[1:]}) == 1


@pytest.mark.parametrize("rows, line", [
    ([HEADER, f"{T0},10,11,9,10.5,1", f"{T0 + 60_000},10,11,9,10.5"], 3),
    ([HEADER, f"{T0},10,11,9,10.5,1", f"{T0 + 60_000},10,11,9,oops,1"], 3),
    ([HEADER, f"{T0},10,11,9,10.5,1", f"{T0 + 60_000},10,nan,9,10.5,1"], 3),
    ([HEADER, f"{T0},10,11,9,10.5,1", f"{T0 + 60_000},10,10.2,9,10.5,1"], 3),
    ([HEADER, f"{T0},10,11,9,10.5,1", f"{T0 + 60_000},10,11,9,10.5,1",
      f"{T0 + 60_000},10,11,9,10.5,1"], 4),
    ([HEADER, f"{T0},10,11,9,10.5,1", f"{T0 - 60_000},10,11,9,10.5,1"], 3),
])
def test_malformed_row_stops_the_scan_naming_the_line(tmp_path, rows, line):
    path = tmp_path / "bad.csv"
    path.write_text("\n".join(rows) + "\n")
    res = run_main("scan", "--csv", path)
    assert res.returncode == 2
    assert f"line {line}:" in res.stderr and res.stdout == ""


def test_missing_file_is_a_usage_error(tmp_path):
    res = run_main("scan", "--csv", tmp_path / "absent.csv")
    assert res.returncode == 2 and "cannot read" in res.stderr


@pytest.mark.parametrize("args", [
    ["--kinds", "CHOCH,FVG"], ["--left", "0"], ["--break-on", "body"], ["--format", "xml"],
    ["--since", "2024-01-01"],
])
def test_bad_flags_exit_2(ours_file, args, capsys):
    from app.cli import main
    with pytest.raises(SystemExit) as exit_:  # argparse refuses them before anything runs
        main(["scan", "--csv", str(ours_file), *args])
    assert exit_.value.code == 2 and capsys.readouterr().out == ""


def test_a_file_scan_never_imports_ccxt(ours_file, data):
    # ccxt takes about a second to import: the offline command must not load it.
    probe = ("import io, sys, contextlib\n"
             "from app.cli import main\n"
             "out = io.StringIO()\n"
             "with contextlib.redirect_stdout(out):\n"
             f"    code = main(['scan', '--csv', {str(ours_file)!r}])\n"
             "assert code == 0, code\n"
             "assert out.getvalue().count('\\n') > 10\n"
             "loaded = sorted(m for m in sys.modules if m.split('.')[0] in ('ccxt', 'exchange'))\n"
             "assert not loaded, loaded\n")
    res = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                         timeout=60, cwd=REPO)
    assert res.returncode == 0, res.stderr


def test_scan_needs_no_configuration(tmp_path, ours_file):
    # A broken .env and environment would stop `run`; a file scan never reads them.
    (tmp_path / ".env").write_text("LEVERAGE=abc\n")
    env = {"PATH": "/usr/bin:/bin", "ENABLE_TRADING": "maybe"}
    res = run_main("scan", "--csv", ours_file, cwd=tmp_path, env=env)
    assert res.returncode == 0, res.stderr


def test_real_usdm_month_scans_like_choch_scan():
    path = shared_path("LTCUSDT-usdm-1m-2026-02.csv")
    res = run_main("scan", "--csv", path)
    assert res.returncode == 0, res.stderr
    assert jsonl(res.stdout) == expected(load_candles(path.name))


def test_real_file_with_gaps_reports_them_and_still_scans():
    path = shared_path("BTCUSDT-spot-1h.csv")
    res = run_main("scan", "--csv", path)
    assert res.returncode == 0, res.stderr
    assert "5 gap(s) in time, 12 missing candle(s)" in res.stderr
    assert "after 2021-04-20 01:00 next 2021-04-20 04:00 UTC (2 missing)" in res.stderr
    assert "timeframe 1h" in res.stderr
    events = jsonl(res.stdout)
    want = [e.to_dict() for e in choch.scan(load_candles(path.name), timeframe_ms=3_600_000)]
    assert events == want and all(e["confirmed_at"] == e["break_time"] + 3_600_000
                                  for e in events)


# -- history mode: the CLI wiring, against a stand-in for fetchers.history ---------------------

class Calls(list):
    """The fetch_history calls (symbol, timeframe, since, until) and the venue of each."""

    def __init__(self) -> None:
        super().__init__()
        self.exchanges: list[str] = []


@pytest.fixture
def fake_history(monkeypatch, tmp_path, data):
    """Replace fetchers.history.fetch_history with an async stand-in recording its arguments."""

    from config import KEYS
    calls = Calls()

    async def fetch_history(settings, symbol, timeframe, since_ms, until_ms, *, exchange):
        calls.append((symbol, timeframe, since_ms, until_ms))
        calls.exchanges.append(exchange)
        if symbol == "ERR/USDT":
            from exchanges.errors import TransientExchangeError
            raise TransientExchangeError("timed out")
        return data.copy()

    from app import online
    monkeypatch.setattr(online, "fetch_history", fetch_history)
    for key in KEYS:
        monkeypatch.delenv(key, raising=False)
    monkeypatch.chdir(tmp_path)  # no stray .env
    # main() configures logging for the process: give the rest of the session its own back.
    import logging

    import structlog
    root = logging.getLogger()
    saved = root.handlers[:], root.level, structlog.get_config()
    yield calls
    root.handlers[:], level, config = saved
    root.setLevel(level)
    structlog.configure(**config)


def test_history_mode_passes_parsed_flags_and_saves_the_candles(fake_history, capsys, data,
                                                                  tmp_path):
    from app.cli import main
    from fetchers.csv_files import read_candles
    saved = tmp_path / "saved.csv"
    code = main(["scan", "--symbol", "btcusdt", "--timeframe", "1m", "--since", "2024-01-01",
                 "--until", "2024-01-02T12:30:00+02:00", "--save-csv", str(saved)])
    out = capsys.readouterr()
    assert code == 0, out.err
    assert fake_history == [("BTC/USDT", "1m", 1_704_067_200_000, 1_704_191_400_000)]
    assert jsonl(out.out) == expected(data)
    back = read_candles(saved).candles
    assert back["timestamp"].tolist() == data["timestamp"].tolist()
    assert back[["open", "high", "low", "close", "volume"]].equals(
        data[["open", "high", "low", "close", "volume"]])


def test_history_mode_naive_datetime_is_utc_and_until_is_optional(fake_history, capsys):
    from app.cli import main
    assert main(["scan", "--symbol", "ETH/USDT", "--timeframe", "25m",
                 "--since", "2024-01-01T06:00"]) == 0
    assert fake_history == [("ETH/USDT", "25m", 1_704_088_800_000, None)]
    assert fake_history.exchanges == ["binance"]  # the default venue


def test_history_mode_fetches_from_the_named_exchange(fake_history, capsys):
    from app.cli import main
    assert main(["scan", "--exchange", "BINANCE", "--symbol", "ETH/USDT", "--timeframe", "25m",
                 "--since", "2024-01-01T06:00"]) == 0
    assert fake_history.exchanges == ["binance"]


def test_an_unknown_exchange_exits_2_listing_the_supported_ones(fake_history, capsys):
    from app.cli import main
    with pytest.raises(SystemExit) as caught:
        main(["scan", "--exchange", "kraken", "--symbol", "ETH/USDT", "--timeframe", "25m",
              "--since", "2024-01-01"])
    assert caught.value.code == 2 and fake_history == []
    assert "supported: binance" in capsys.readouterr().err


@pytest.mark.parametrize("args", [
    ["--symbol", "BTC/USDT", "--timeframe", "1m"],  # no --since
    ["--symbol", "BTC/USDT", "--since", "2024-01-01"],  # no --timeframe
    ["--symbol", "BTC/USDT", "--timeframe", "1m", "--since", "01/02/2024"],
    ["--symbol", "BTC/USDT", "--timeframe", "7x", "--since", "2024-01-01"],
    ["--symbol", "BTC/EUR", "--timeframe", "1m", "--since", "2024-01-01"],
    ["--symbol", "BTC/USDT", "--timeframe", "1m", "--since", "2024-01-02",
     "--until", "2024-01-01"],
])
def test_history_mode_bad_flags_exit_2_before_fetching(fake_history, capsys, args):
    from app.cli import main
    try:
        code = main(["scan", *args])
    except SystemExit as e:  # argparse's own usage errors
        code = e.code
    assert code == 2 and fake_history == []


def test_history_mode_fetch_failure_exits_1(fake_history, capsys):
    from app.cli import main
    code = main(["scan", "--symbol", "ERR/USDT", "--timeframe", "1m", "--since", "2024-01-01"])
    assert code == 1 and "fetching history failed: timed out" in capsys.readouterr().err


# -- history mode end to end: main.py as a process against the fake Binance data server ----------

FEB_7, FEB_11 = 1_770_422_400_000, 1_770_768_000_000  # 2026-02-07 / 2026-02-11 00:00 UTC
FEB_28_END = 1_772_323_200_000


async def run_main_async(*args, env: dict, cwd) -> tuple[int, str, str]:
    """main.py as a process without blocking this loop (the fake server lives on it)."""
    import asyncio
    proc = await asyncio.create_subprocess_exec(
        sys.executable, str(MAIN), *map(str, args), cwd=cwd, env={"PATH": "/usr/bin:/bin", **env},
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    out, err = await asyncio.wait_for(proc.communicate(), timeout=60)
    return proc.returncode, out.decode(), err.decode()


@pytest.fixture
async def ltc_fake():
    """The fake USD-M data server serving the real LTCUSDT February 2026 1m candles."""
    from tests.fakes.binance_data import FakeBinance
    ltc = load_candles("LTCUSDT-usdm-1m-2026-02.csv")
    fake = FakeBinance(candles={("LTCUSDT", "1m"): ltc}, now_ms=FEB_28_END + 60_000)
    await fake.start()
    yield fake, ltc
    await fake.close()


@pytest.mark.slow
async def test_history_scan_against_the_fake_exchange_builds_25m_and_saves_it(ltc_fake, tmp_path):
    from fetchers.csv_files import read_candles
    from tests.fetchers.test_adapter import day_aligned
    fake, ltc = ltc_fake
    saved = tmp_path / "ltc-25m.csv"
    code, out, err = await run_main_async(
        "scan", "--symbol", "LTCUSDT", "--timeframe", "25m", "--since", "2026-02-07",
        "--until", "2026-02-11T00:00:00Z", "--save-csv", saved,
        env={"BINANCE_DATA_URL": fake.url}, cwd=tmp_path)
    assert code == 0, err
    want = day_aligned(ltc.loc[(ltc.timestamp >= FEB_7) & (ltc.timestamp < FEB_11)], 25)
    got = read_candles(saved)
    assert got.candles["timestamp"].tolist() == want["timestamp"].tolist()
    assert got.timeframe_ms == 1_500_000  # the day's last bucket is 40 min; the mode is 25
    assert jsonl(out) == [e.to_dict() for e in choch.scan(got.candles, timeframe_ms=1_500_000)]
    assert jsonl(out) and "LTC/USDT 25m: 232 closed candles fetched" in err


@pytest.mark.slow
async def test_history_scan_exchange_error_exits_1(ltc_fake, tmp_path):
    fake, _ = ltc_fake
    fake.fail("/fapi/v1/klines", 400, times=10)
    code, out, err = await run_main_async(
        "scan", "--symbol", "LTCUSDT", "--timeframe", "1h", "--since", "2026-02-07",
        env={"BINANCE_DATA_URL": fake.url}, cwd=tmp_path)
    assert code == 1 and out == "" and "fetching history failed" in err


def test_a_device_as_csv_is_refused_with_a_message(tmp_path):
    res = run_main("scan", "--csv", "/dev/zero", process=True)
    assert res.returncode == 2 and "not a regular file" in res.stderr
    assert "Traceback" not in res.stderr and res.stdout == ""


@pytest.mark.parametrize("where, words", [
    ("missing/dir/out.csv", "does not exist"),
    (".", "is a directory"),
])
def test_save_csv_somewhere_unwritable_exits_2_before_fetching(fake_history, capsys, where,
                                                              words):
    from app.cli import main
    code = main(["scan", "--symbol", "BTC/USDT", "--timeframe", "1m", "--since", "2024-01-01",
                 "--save-csv", where])
    err = capsys.readouterr().err
    assert code == 2 and fake_history == []
    assert f"--save-csv {where}: " in err and words in err and "Traceback" not in err
