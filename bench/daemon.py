"""Daemon latency and memory: 50 symbols x 2 timeframes against the local fake exchange.

Run from the repo root: .venv/bin/python bench/daemon.py [--cycles 1000] [--progress-every 50]

Targets (printed as PASS/FAIL next to each figure): p99 from candle close to signal recorded and to
alert accepted by the notifier <= FETCH_DELAY_S + 1 s (3 s); RSS growth from cycle 10 to the end
< 5% and RSS under 250 MB. Progress goes to stderr every --progress-every cycles.

The exchange clock is simulated (each cycle moves it one minute), so the wait between a candle's
close and the job is exactly FETCH_DELAY_S as the scheduler would fire it; everything after that
(HTTP to the fake on 127.0.0.1 through real ccxt, detection, the SQLite commit, the outbox and the
notifier hand-off) is measured in real time. Latency = FETCH_DELAY_S + measured real time.
Candles: the real LTCUSDT USD-M 1m month from ../shared/data, a different window per symbol.
The fake runs in a child process: neither its CPU time nor its memory is counted as the daemon's.
ccxt's per-minute weight limiter is switched off after start-up: simulated minutes pass much
faster than real ones here, and a steady cycle's weight is far below the cap in real operation.
Alerts go to the console notifier by default. --telegram sends them the production way instead
(python-telegram-bot over HTTP to a fake Telegram in the child, a chart rendered for each): the
memory soak of the full path; latency then includes the chart.
"""
from __future__ import annotations

import argparse
import asyncio
import contextlib
import io
import multiprocessing
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import pandas as pd  # noqa: E402

from alerts import ConsoleNotifier  # noqa: E402
from app import components  # noqa: E402
from app.daemon import Daemon  # noqa: E402
from app.logs import configure  # noqa: E402
from bench.targets import judged  # noqa: E402
from config import load_settings  # noqa: E402
from exchanges.binance import BINANCE  # noqa: E402
from exchanges.binance_client import BinanceMarketData  # noqa: E402
from tests.fakes.binance_data import FakeBinance, Listing, resample  # noqa: E402
from tests.fakes.telegram_api import TOKEN as TELEGRAM_TOKEN  # noqa: E402
from tests.fakes.telegram_api import FakeTelegram  # noqa: E402

DATA = ROOT.parent / "shared" / "data" / "LTCUSDT-usdm-1m-2026-02.csv"
SYMBOLS = 50
MINUTE = 60_000
DELAY_S = 2.0
WARMUP = 300
TARGET_P99_S = DELAY_S + 1.0
TARGET_RSS_GROWTH = 0.05
TARGET_RSS_MB = 250
CHILD_START_S = 180.0  # the child reads the month and builds 100 series before answering
CHILD_STEP_S = 60.0    # one clock move; the child answers in milliseconds


class BenchError(Exception):
    """The bench cannot go on (data missing, the fake's process died or stopped answering)."""


class Discard(io.TextIOBase):
    """A text stream that counts what it is given and keeps none of it, like stdout to journald.

    A StringIO here would hold every alert and log line ever written, and the RSS figure would
    measure the bench's buffer instead of the daemon.
    """

    def __init__(self) -> None:
        self.chars = 0

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        self.chars += len(text)
        return len(text)


def rss_mb() -> float:
    """Resident set size of this process, from /proc."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def series(cycles: int, data: Path = DATA) -> dict:
    """Per symbol: real 1m candles (a window of the month), re-timed onto one common clock."""
    month = pd.read_csv(data).rename(columns={"open_time": "timestamp"})
    month = month[["timestamp", "open", "high", "low", "close", "volume"]]
    need = WARMUP * 5 + cycles + 10
    start = int(month["timestamp"].iloc[0])
    out = {}
    for i in range(SYMBOLS):
        offset = (i * 613) % (len(month) - need)
        part = month.iloc[offset:offset + need].reset_index(drop=True).copy()
        part["timestamp"] = start + part.index.to_numpy() * MINUTE
        sym = f"X{i:02d}USDT"
        out[(sym, "1m")] = part
        out[(sym, "5m")] = resample(part, "5m")
    return out


def _serve(conn, cycles: int, telegram: bool, data: Path = DATA) -> None:
    """Child process: the fake exchange (and the fake Telegram), the clock moved through a pipe."""
    async def serve():
        candles = series(cycles, data)
        first = int(next(iter(candles.values()))["timestamp"].iloc[0])
        fake = FakeBinance(candles=candles,
                           listings=[Listing(s) for s, tf in candles if tf == "1m"],
                           now_ms=first + WARMUP * 5 * MINUTE + int(DELAY_S * 1000))
        await fake.start()
        bot = FakeTelegram() if telegram else None
        if bot is not None:
            await bot.start()
        conn.send((fake.url, bot.url if bot else "", fake.now_ms(),
                   [s for s, tf in candles if tf == "1m"]))
        loop = asyncio.get_running_loop()
        while (command := await loop.run_in_executor(None, conn.recv)) != "stop":
            fake.advance(command)
            fake.requests.clear()
            if bot is not None:
                bot.calls.clear()
                bot.sent.clear()
            conn.send(fake.now_ms())
        await fake.close()
        if bot is not None:
            await bot.stop()

    asyncio.run(serve())


class RemoteFake:
    """The fake exchange (and Telegram) in a child process, with a mirror of its frozen clock."""

    def __init__(self, cycles: int, telegram: bool, data: Path = DATA, *,
                 target=_serve, start_timeout_s: float = CHILD_START_S) -> None:
        self.conn, child = multiprocessing.Pipe()
        self.process = multiprocessing.Process(target=target,
                                               args=(child, cycles, telegram, data), daemon=True)
        self.process.start()
        child.close()  # only the child holds its end: its death ends our recv() with EOFError
        self.url, self.telegram_url, self.now, self.symbols = self.receive(
            start_timeout_s, "starting")

    def receive(self, timeout_s: float, doing: str):
        """The child's next answer; BenchError if it dies or says nothing within `timeout_s`."""
        deadline = time.monotonic() + timeout_s
        while not self.conn.poll(0.2):
            if not self.process.is_alive():
                break
            if time.monotonic() > deadline:
                self.process.kill()
                raise BenchError(f"the fake exchange process did not answer within "
                                 f"{timeout_s:.0f} s while {doing}")
        try:
            return self.conn.recv()
        except EOFError:
            self.process.join(5)
            raise BenchError(f"the fake exchange process exited (code {self.process.exitcode}) "
                             f"while {doing}; its traceback is above") from None

    def now_ms(self) -> int:
        """The exchange clock (as last set)."""
        return self.now

    def advance(self, ms: int) -> None:
        """Move the exchange clock forward (waits for the child to apply it)."""
        self.conn.send(ms)
        self.now = self.receive(CHILD_STEP_S, "moving its clock")

    def close(self) -> None:
        """Stop the child."""
        self.conn.send("stop")
        self.process.join(timeout=10)


def progress(text: str) -> None:
    """A progress line on stderr (the report itself goes to stdout)."""
    print(f"daemon bench: {text}", file=sys.stderr, flush=True)


def require_data(data: Path) -> None:
    """BenchError naming the file when the real candles are not there."""
    if not data.is_file():
        raise BenchError(f"real candle data not found: {data} (expected in ../shared/data "
                         "relative to the repo root; pass another file with --data)")


async def main(cycles: int, rss_every: int = 0, telegram: bool = False,
               progress_every: int = 50, data: Path = DATA) -> None:
    require_data(data)
    configure("WARNING", [], json=True, stream=Discard())
    started = time.perf_counter()
    progress(f"starting the fake exchange and reading {data.name} ({SYMBOLS} symbols)")
    fake = RemoteFake(cycles, telegram, data)
    tmp = tempfile.mkdtemp()
    env = {"BINANCE_DATA_URL": fake.url, "SYMBOLS": ",".join(fake.symbols),
           "TIMEFRAMES": "1m,5m", "STATE_DB": f"{tmp}/state.db", "WARMUP_BARS": str(WARMUP),
           "FETCH_DELAY_S": str(DELAY_S), "SLOT_RETRY_S": "0", "CHART": "0"}
    if telegram:  # the production alert path: python-telegram-bot over HTTP, with charts
        env.update({"TELEGRAM_BOT_TOKEN": TELEGRAM_TOKEN, "TELEGRAM_CHAT_ID": "1001",
                    "TELEGRAM_API_URL": fake.telegram_url, "CHART": "1"})
    settings = load_settings(env, dotenv_path=None)
    clock = lambda: fake.now_ms() / 1000  # noqa: E731
    # By default the console notifier: no Telegram rate limit, so the figure is the daemon's own
    # latency. It writes to a sink that keeps nothing, as stdout under journald does.
    console = Discard()
    notifier = None if telegram else ConsoleNotifier(console)
    daemon = Daemon(settings, fetcher=BinanceMarketData(components.market_data_config(settings,
                    BINANCE), BINANCE, clock=clock),
                    notifier=notifier,
                    clock=clock)
    progress(f"warming up the daemon: {SYMBOLS} symbols x 2 timeframes, {WARMUP} bars each")
    await daemon.startup()
    progress(f"running {cycles} cycles")
    if telegram:
        # Telegram's one message a second per chat would make each cycle wait for its ~3 alerts
        # and stretch a 1000-cycle soak past an hour; this mode is about memory, not throughput.
        daemon.notifier.rate_limited = False
    # Simulated minutes pass in well under a real second here, so ccxt's per-minute weight
    # limiter (DATA_WEIGHT_PER_MIN) would throttle this loop; in real operation a steady cycle
    # (about 100 weight) is far below the cap and never waits on it. Off for the measurement.
    daemon.fetcher.exchange.enableRateLimit = False
    daemon.start_background()
    recorded: list[float] = []
    handed: list[float] = []
    real_commit = daemon.store.commit_candles

    def timed_commit(*args, **kwargs):
        rows = real_commit(*args, **kwargs)
        recorded.extend([time.perf_counter()] * len(rows))
        return rows

    daemon.store.commit_candles = timed_commit
    signal_sent: list[float] = []  # when a signal's alert was accepted by the notifier
    sent_one = asyncio.Event()  # wakes the wait for a cycle's alerts at once, not on a poll tick
    real_sent = daemon.store.mark_sent

    def timed_sent(row_id, now_ms):
        real_sent(row_id, now_ms)
        if daemon.store.outbox_row(row_id).topic == "signal":
            signal_sent.append(time.perf_counter())
            sent_one.set()

    daemon.store.mark_sent = timed_sent
    rss10 = None
    for k in range(cycles):
        fake.advance(MINUTE)  # now = this minute's close + FETCH_DELAY_S
        close_now = fake.now_ms() - int(DELAY_S * 1000)
        t0 = time.perf_counter()  # the moment the scheduler fires: close + FETCH_DELAY_S
        rec0, hand0 = len(recorded), len(signal_sent)
        jobs = [daemon.run_timeframe("1m", retry_s=0)]
        if close_now % (5 * MINUTE) == 0:
            jobs.append(daemon.run_timeframe("5m", retry_s=0))
        await asyncio.gather(*jobs)
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(5.0):
                while len(signal_sent) - hand0 < len(recorded) - rec0:
                    sent_one.clear()
                    await sent_one.wait()  # delivery runs as its own task, woken by the daemon
        recorded[rec0:] = [DELAY_S + t - t0 for t in recorded[rec0:]]
        handed.extend(DELAY_S + t - t0 for t in signal_sent[hand0:])
        if k + 1 == 10:
            rss10 = rss_mb()
        if rss_every and (k + 1) % rss_every == 0:
            print(f"cycle {k + 1}: RSS {rss_mb():.1f} MB", flush=True)
        if progress_every and (k + 1) % progress_every == 0:
            progress(f"cycle {k + 1}/{cycles}, {time.perf_counter() - started:.0f} s, "
                     f"{len(recorded)} signals")
    rss_end = rss_mb()
    await daemon.shutdown()
    fake.close()

    def pct(xs, q):
        return statistics.quantiles(xs, n=100)[q - 1] if len(xs) > 1 else float("nan")

    print(f"daemon bench: {SYMBOLS} symbols x 2 timeframes (1m, 5m), {cycles} cycles, "
          f"FETCH_DELAY_S={DELAY_S}")
    print(f"{'from candle close to':<28}{'n':>6}{'p50 s':>10}{'p99 s':>10}  verdict")
    for name, xs in (("signal recorded", recorded), ("alert accepted by notifier", handed)):
        p99 = pct(xs, 99)
        print(f"{name:<28}{len(xs):>6}{pct(xs, 50):>10.3f}{p99:>10.3f}  "
              f"{judged(p99 <= TARGET_P99_S, f'p99 <= {TARGET_P99_S:.1f} s')}")
    if rss10 is None:
        print(f"RSS after {cycles} cycles {rss_end:.1f} MB: "
              f"{judged(rss_end < TARGET_RSS_MB, f'< {TARGET_RSS_MB} MB')}; growth needs "
              "more than 10 cycles")
    else:
        growth = (rss_end - rss10) / rss10
        ok = growth < TARGET_RSS_GROWTH and rss_end < TARGET_RSS_MB
        print(f"RSS after 10 cycles {rss10:.1f} MB, after {cycles} cycles {rss_end:.1f} MB: "
              f"growth {growth:+.1%} "
              f"{judged(ok, f'growth < {TARGET_RSS_GROWTH:.0%}, under {TARGET_RSS_MB} MB')}")
    if telegram:
        print("alerts went through python-telegram-bot to the fake Telegram, with a chart each "
              "(rate limit off)")
    else:
        print(f"console notifier wrote {console.chars:,} characters (discarded, as journald "
              f"takes them off stdout)")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cycles", type=int, default=1000)
    parser.add_argument("--rss-every", type=int, default=0, help="also print RSS every N cycles")
    parser.add_argument("--telegram", action="store_true",
                        help="alerts through python-telegram-bot to a fake Telegram, with charts")
    parser.add_argument("--progress-every", type=int, default=50,
                        help="a progress line on stderr every N cycles (0: none)")
    parser.add_argument("--data", type=Path, default=DATA, help="the 1m candles CSV to replay")
    args = parser.parse_args()
    try:
        asyncio.run(main(args.cycles, args.rss_every, args.telegram, args.progress_every,
                         args.data))
    except BenchError as e:
        sys.exit(f"daemon bench: {e}")
