"""Every registered venue side by side: one polling cycle over its local fake, and the RSS.

    .venv/bin/python bench/venues.py [--symbols 200] [--latency-ms 50] [--timeframes 15m,25m,1h]
                                     [--venues bybit,okx] [--no-rss] [--no-cycle]

Cycle (as bench/cycle.py, per venue): each venue's fake answers every request after `latency`
(a round trip from a VPS) and lists `symbols` synthetic USDT perpetuals; at 05:00:02 UTC, when
15m, 25m and 1h all close, each symbol asks for the candles after the last one it processed,
through the venue's own market-data class (exchanges.factory) and TimeframeAdapter. Printed per
venue: cycle time next to Binance's from the same run, requests per cycle against symbols x base
series, each (symbol, base series) asked once, every closed candle out.
Target: requests = symbols x base series, and a cycle no slower than the venue's documented
market-data rate allows (requests / rate, plus Binance's 3.9 s for latency and our code; for
Binance, whose limit is weight, 3.9 s). A venue whose module is not registered (or has no
bench fake) gets a "skipped" line.
The same cycle is then run again with ccxt's client-side rate limiter off ("no limiter s", no
target): our code and the latency alone, so a venue held back by its per-IP request rate, as
ccxt paces it, is told apart from a slow code path.

RSS (each in a fresh subprocess): the daemon's imports plus a started market-data instance,
with DATA_EXCHANGE=binance only; with DATA_EXCHANGE=binance, TRADING_EXCHANGE=bybit and okx
every registered venue loaded too (a started instance per venue); and, for reference, the same
binance-only process after a full `import ccxt`. Target: under 220 MB with every venue, and the
lean import holding only the loaded venues' ccxt modules.
"""
from __future__ import annotations

import argparse
import asyncio
import importlib
import json
import os
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from app import components  # noqa: E402
from bench.targets import judged, verdict  # noqa: E402
from bench.venue_fakes import AT, FAKES, RemoteFake  # noqa: E402

TARGET_CYCLE_S = 3.9     # the top of Binance's measured 2.75-3.9 s
TARGET_RSS_MB = 220.0    # every venue in one daemon
# Documented public market-data requests a second per IP, where the venue counts requests (not
# weight); the cycle's floor is its requests at that rate. Bybit: 600 / 5 s; OKX: 40 / 2 s on
# history candles; Gate: 200 / 10 s; KuCoin: 2000 weight / 30 s at 3 a kline; Bitget, BingX,
# Delta: 20 / s (Delta's 20,000 weight / 5 min at 3 a candle request is ~22 / s).
DOCUMENTED_RATE = {"bybit": 120.0, "okx": 20.0, "gate": 20.0, "kucoin": 22.2, "bitget": 20.0,
                   "bingx": 20.0, "delta": 20.0}


# -- which venues can run -------------------------------------------------------------------

def venues_to_run(only: tuple[str, ...] = ()) -> list[tuple[str, str]]:
    """(venue name, '' or why it is skipped) for every registered venue and every bench fake
    (those in `only` when given; Binance always, as the reference)."""
    from exchanges import registry

    out = []
    for name in sorted(set(registry.remote_names()) | set(FAKES),
                       key=lambda n: (n != "binance", n)):
        if only and name not in only and name != "binance":
            continue
        if name not in registry.VENUES:
            out.append((name, f"no venue module registered (exchanges/{name}.py not on this "
                              "branch)"))
        elif name not in FAKES:
            out.append((name, "no bench fake for it in bench/venue_fakes.py"))
        else:
            try:
                importlib.import_module(registry.VENUES[name].client_module)
                out.append((name, ""))
            except ImportError as e:
                out.append((name, f"its client module does not import ({e})"))
    return out


# -- the cycle --------------------------------------------------------------------------------

@dataclass
class CycleResult:
    """One venue's cycle figures."""

    name: str
    bases: list[str]
    symbols: int
    elapsed: float
    unthrottled: float  # the same cycle with ccxt's rate limiter off
    requests: int
    candle_requests: int
    max_per_series: int
    series_asked: int
    closed_out: int
    expected_out: int

    @property
    def goal_requests(self) -> int:
        """Symbols x base series: one request per symbol per base series."""
        return self.symbols * len(self.bases)

    @property
    def once(self) -> bool:
        """True when the cycle asked every (symbol, base series) exactly once and nothing else."""
        return (self.requests == self.goal_requests and self.max_per_series == 1
                and self.series_asked == self.goal_requests)

    @property
    def target_s(self) -> float:
        """The cycle's target: its requests at the venue's documented rate, plus Binance's."""
        rate = DOCUMENTED_RATE.get(self.name)
        return TARGET_CYCLE_S + (self.goal_requests / rate if rate else 0.0)

    @property
    def ok(self) -> bool:
        """True when every target of the cycle is met."""
        return (self.elapsed <= self.target_s and self.once
                and self.closed_out == self.expected_out)


async def run_cycle(name: str, symbols: int, latency_ms: float,
                    timeframes: list[str]) -> CycleResult:
    """One venue's incremental cycle over its fake, timed (universe and clock outside it)."""
    from config import load_settings
    from exchanges.registry import get_venue
    from fetchers.adapter import TimeframeAdapter
    from fetchers.timeframes import plan

    venue = get_venue(name)
    spec = FAKES[name]
    fake = RemoteFake(name, symbols, latency_ms)
    settings = load_settings({f"{venue.env_prefix}_DATA_URL": fake.url, "DATA_EXCHANGE": name,
                              "SYMBOLS": "ALL", "MIN_VOLUME_24H": "0",
                              "MAX_PAIRS": str(symbols), "LOG_LEVEL": "WARNING"},
                             dotenv_path=None)
    fetcher = components.market_data(settings, venue)
    try:
        await fetcher.start()
        universe = await components.watched_symbols(settings, fetcher)()  # hourly: untimed
        await fetcher.server_time_ms()
        adapter = TimeframeAdapter(fetcher)
        # Incremental: each timeframe wants the candle after the last processed one, i.e.
        # the one that just closed (its open = AT rounded down, minus one bucket).
        plans = [plan(tf, venue.native_timeframes) for tf in timeframes]
        wanted = {p.timeframe: (AT - AT % p.bucket_ms) - p.bucket_ms for p in plans}
        before = len(fake.requests)
        started = time.perf_counter()
        results = await asyncio.gather(*(adapter.poll(s, wanted, 1) for s in universe))
        elapsed = time.perf_counter() - started
        cycle = fake.requests[before:]
        # The same cycle again with ccxt's client-side limiter off: what is left is our code
        # and the latency; the difference is the venue's per-IP rate limit as ccxt models it.
        fetcher.exchange.enableRateLimit = False
        adapter = TimeframeAdapter(fetcher)  # a fresh one: nothing served from its cache
        started = time.perf_counter()
        await asyncio.gather(*(adapter.poll(s, wanted, 1) for s in universe))
        unthrottled = time.perf_counter() - started
    finally:
        await fetcher.close()
        fake.close()
    candles = [(sym, tf) for path, sym, tf in cycle if path in spec.candle_paths]
    per = Counter(candles)
    return CycleResult(name=name, bases=sorted({p.base for p in plans}, key=_tf_ms),
                       symbols=len(universe), elapsed=elapsed, unthrottled=unthrottled,
                       requests=len(cycle),
                       candle_requests=len(candles), max_per_series=max(per.values(), default=0),
                       series_asked=len(per),
                       closed_out=sum(len(f) for out in results for f in out.values()),
                       expected_out=len(universe) * len(timeframes))


def _tf_ms(tf: str) -> int:
    from domain.timeframe import timeframe_ms
    return timeframe_ms(tf)


def print_cycles(results: list[CycleResult], skipped: list[tuple[str, str]], symbols: int,
                 latency_ms: float, timeframes: list[str]) -> bool:
    """The side-by-side cycle table; True when every venue that ran met its targets."""
    from exchanges.ccxt_market_data import CONCURRENCY

    binance = next((r.elapsed for r in results if r.name == "binance"), None)
    ref = f"{binance:.2f}" if binance is not None else "-"
    print(f"cycle per venue over its local fake: {symbols} symbols x {len(timeframes)} "
          f"timeframes ({','.join(timeframes)}), {latency_ms:.0f} ms per request, "
          f"concurrency {CONCURRENCY}")
    print(f"{'venue':<9}{'base series':<13}{'cycle s':>8}{'binance s':>10}{'no limiter s':>13}"
          f"{'requests':>10}{'goal':>6}{'once each':>10}{'candles out':>13}  verdict")
    for r in results:
        print(f"{r.name:<9}{','.join(r.bases):<13}{r.elapsed:>8.2f}{ref:>10}"
              f"{r.unthrottled:>13.2f}"
              f"{r.requests:>10}{r.goal_requests:>6}{'yes' if r.once else 'no':>10}"
              f"{f'{r.closed_out}/{r.expected_out}':>13}  "
              f"{judged(r.ok, f'<= {r.target_s:.1f} s, requests = symbols x base series')}")
    for name, why in skipped:
        print(f"{name:<9}skipped: {why}")
    print("no limiter s: the same cycle again with ccxt's client-side rate limiter off (our code "
          "and the latency only; not a target)")
    return all(r.ok for r in results)


# -- RSS --------------------------------------------------------------------------------------

def rss_mb() -> float:
    """Resident set size of this process, from /proc."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


async def _start_instances(names: tuple[str, ...]) -> tuple[list[Any], list[str]]:
    """A started market-data instance per venue (no request sent), and notes on the venues
    without a module (their bare ccxt class stands in)."""
    from config import load_settings
    from exchanges import registry
    from exchanges.ccxt_lean import exchange_class

    settings = load_settings({"DATA_EXCHANGE": "binance", "LOG_LEVEL": "WARNING"},
                             dotenv_path=None)
    notes, kept = [], []
    for name in names:
        if name in registry.VENUES:
            instance = components.market_data(settings, registry.VENUES[name])
            await instance.start()
            kept.append(instance)
        else:  # not registered yet: its ccxt class is what costs memory, so load that
            kept.append(exchange_class(FAKES[name].ccxt_id)({}))
            notes.append(f"{name}: ccxt class only (no venue module)")
    return kept, notes


def probe(which: str) -> None:
    """Subprocess body: the daemon's imports, the configured instances, then RSS as JSON."""
    if which == "full":  # reference: the whole of ccxt, before the lean import can run
        import ccxt
        import ccxt.async_support  # noqa: F401
    from app.memory import pin_mmap_threshold

    pin_mmap_threshold()  # as the daemon does at start
    import app.cli
    import app.daemon  # noqa: F401
    from exchanges import ccxt_lean, registry

    names = registry.remote_names() if which == "all" else ("binance",)
    kept, notes = asyncio.run(_start_instances(names))  # kept: alive while RSS is read
    print(json.dumps({"rss_mb": rss_mb(), "loaded": ccxt_lean.loaded(),
                      "wanted": sorted(ccxt_lean._wanted()), "notes": notes}))


def measure(which: str) -> dict:
    """Run `probe(which)` in a fresh interpreter with that configuration's environment."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("DATA_EXCHANGE", "TRADING_EXCHANGE")}
    env["DATA_EXCHANGE"] = "binance"
    if which == "all":
        from exchanges import registry
        if "bybit" in registry.VENUES:  # an unknown name is skipped by the lean import anyway
            env["TRADING_EXCHANGE"] = "bybit"
    res = subprocess.run([sys.executable, str(Path(__file__).resolve()), "--probe", which],
                         cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    if res.returncode != 0:
        raise RuntimeError(f"RSS probe {which!r} failed:\n{res.stderr[-2000:]}")
    return json.loads(res.stdout.strip().splitlines()[-1])


def print_rss() -> bool:
    """The RSS lines; True when the every-venue figure is under the target and the import lean."""
    rows = [("binance only", "binance", measure("binance")),
            ("every venue", "all", measure("all")),
            ("binance, full import ccxt", "full", measure("full"))]
    print("RSS: the daemon's imports + a started market-data instance per venue, fresh process")
    print(f"{'configuration':<27}{'RSS MB':>8}  {'ccxt exchange modules loaded':<64}verdict")
    ok = True
    for label, which, r in rows:
        loaded = ",".join(r["loaded"]) if which != "full" else f"all {len(r['loaded'])}"
        if which == "full":
            note = "reference (what the lean import saves)"
        else:
            lean = set(r["loaded"]) <= set(r["wanted"])
            good = lean and (which != "all" or r["rss_mb"] < TARGET_RSS_MB)
            ok = ok and good
            target = "only the configured venues" + (
                f", < {TARGET_RSS_MB:.0f} MB" if which == "all" else "")
            note = judged(good, target)
        print(f"{label:<27}{r['rss_mb']:>8.1f}  {loaded:<64}{note}")
        for n in r["notes"]:
            print(f"{'':<27}{'':>8}  note: {n}")
    return ok


# -- entry point ------------------------------------------------------------------------------

async def run(symbols: int, latency_ms: float, timeframes: list[str], cycle: bool,
              rss: bool, only: tuple[str, ...] = ()) -> int:
    """Run the bench; returns a process exit status (1 when a target is missed)."""
    from app.logs import configure

    configure("WARNING", [], stream=sys.stderr)  # warnings only, and never into the table
    ok = True
    if cycle:
        plan = venues_to_run(only)
        results = [await run_cycle(name, symbols, latency_ms, timeframes)
                   for name, why in plan if not why]
        ok = print_cycles(results, [(n, w) for n, w in plan if w], symbols, latency_ms,
                          timeframes) and ok
    if rss:
        ok = print_rss() and ok
    print("targets:", "all PASS" if ok else verdict(False))
    return 0 if ok else 1


def main() -> int:
    """Command line entry point."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--symbols", type=int, default=200)
    ap.add_argument("--latency-ms", type=float, default=50.0)
    ap.add_argument("--timeframes", default="15m,25m,1h")
    ap.add_argument("--venues", default="", help="comma-separated venues to run (binance "
                    "always runs, as the reference); default: all")
    ap.add_argument("--no-rss", action="store_true", help="leave out the RSS subprocesses")
    ap.add_argument("--no-cycle", action="store_true", help="leave out the cycle")
    ap.add_argument("--probe", choices=("binance", "all", "full"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.probe:
        probe(args.probe)
        return 0
    return asyncio.run(run(args.symbols, args.latency_ms, args.timeframes.split(","),
                           not args.no_cycle, not args.no_rss,
                           tuple(v for v in args.venues.split(",") if v)))


if __name__ == "__main__":
    sys.exit(main())
