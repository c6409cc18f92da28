"""The read-only JSON API over a scripted run of the real daemon: what it shows is what it did."""
from __future__ import annotations

import json

import pytest

from .scenario import MINUTE, SECRETS, USER, scripted_candles

pytestmark = [pytest.mark.slow, pytest.mark.asyncio(loop_scope="module")]


async def get(http, run, path: str, **kw):
    async with http.get(run.url + path, headers=run.auth(), **kw) as r:
        return r.status, r.headers, await r.read()


async def get_json(http, run, path: str):
    status, _, body = await get(http, run, path)
    assert status == 200, (path, body[:300])
    return json.loads(body)


async def test_the_scripted_signals_are_listed_newest_first_with_their_fields(run, http):
    recorded = run.daemon.store.recent_signals(1000)
    listed = (await get_json(http, run, "/api/v1/signals?limit=500"))["signals"]
    assert recorded and [s["id"] for s in listed] == [s.id for s in recorded]
    first, row = listed[0], recorded[0]
    assert (first["symbol"], first["timeframe"], first["kind"], first["direction"]) == \
        ("LTC/USDT", "1m", row.event.kind, row.event.direction)
    assert (first["level"], first["extreme"], first["pivot_time"], first["break_time"],
            first["confirmed_at"]) == (row.event.level, row.event.extreme, row.event.pivot_time,
                                       row.event.break_time, row.event.confirmed_at)
    assert first["alerted"] is True  # the run drained the outbox
    assert {s["traded"] for s in listed} == {True, False}  # CHoCHs traded, some BOS skipped
    assert all(s["traded"] == (r.trade_state == "done") for s, r in zip(listed, recorded))


async def test_signals_filter_by_symbol_and_timeframe_and_limit(run, http):
    total = len(run.daemon.store.recent_signals(1000))
    for query, expected in (("symbol=LTCUSDT", total), ("symbol=LTC/USDT&timeframe=1m", total),
                            ("timeframe=5m", 0), ("symbol=BTCUSDT", 0), ("limit=2", 2)):
        assert len((await get_json(http, run, f"/api/v1/signals?{query}"))["signals"]) == \
            expected, query
    for bad in ("limit=0", "limit=501", "limit=x", "timeframe=1x", "symbol=%3Cscript%3E"):
        status, _, body = await get(http, run, f"/api/v1/signals?{bad}")
        assert status == 400 and "error" in json.loads(body), bad


async def test_a_signal_chart_is_a_png_and_an_unknown_one_is_404(run, http):
    signal = run.daemon.store.recent_signals(1)[0]
    status, headers, body = await get(http, run, f"/api/v1/signals/{signal.id}/chart.png")
    assert status == 200 and headers["Content-Type"] == "image/png"
    assert body.startswith(b"\x89PNG\r\n\x1a\n") and len(body) > 10_000
    status, _, _ = await get(http, run, "/api/v1/signals/999999/chart.png")
    assert status == 404


async def test_positions_show_stop_target_and_the_unrealised_pnl_at_the_last_close(run, http):
    held = run.daemon.store.open_positions()
    listed = (await get_json(http, run, "/api/v1/positions"))["positions"]
    assert len(listed) == len(held) == 1
    p, row = listed[0], held[0]
    candles = scripted_candles()
    last_open = run.exchange.now_ms() // MINUTE * MINUTE - MINUTE  # the newest closed candle
    mark = float(candles.loc[candles["timestamp"] == last_open, "close"].iloc[0])
    sign = 1 if row.direction == "long" else -1
    assert (p["symbol"], p["direction"], p["stop"], p["target"], p["mode"]) == \
        (row.symbol, row.direction, row.stop, row.target, "paper")
    assert p["mark"] == mark
    assert p["unrealised_pnl"] == pytest.approx((mark - row.entry_price) * row.quantity * sign)
    assert (p["timeframe"], p["kind"]) == ("1m", run.daemon.store.signal(row.signal_id).event.kind)


async def test_trades_are_the_closed_positions_with_realised_pnl_and_fees(run, http):
    closed = run.daemon.store.closed_positions(100)
    listed = (await get_json(http, run, "/api/v1/trades?limit=100"))["trades"]
    assert len(closed) >= 2 and [t["id"] for t in listed] == [p.id for p in closed]
    for t, p in zip(listed, closed):
        assert t["realised_pnl"] == p.pnl and t["exit_price"] == p.exit_price
        # The paper broker charges PAPER_FEE_RATE on both legs, as a backtest does.
        notional = (p.entry_price + p.exit_price) * p.quantity
        assert t["fees"] == pytest.approx(0.0005 * notional) and t["mode"] == "paper"
        assert t["exit_reason"] == p.exit_reason and t["closed_at"] == p.closed_at


async def test_health_shows_both_instances_and_the_data_freshness(run, http):
    h = await get_json(http, run, "/api/v1/health")
    data, trading = h["instances"]["data"], h["instances"]["trading"]
    assert h["alive"] is True and h["ok"] is True
    assert data["exchange"] == "binanceusdm" and data["ok"] is True
    assert data["host"] == run.exchange.url.split("//")[1]
    assert data["requests"] > 0 and data["errors"] == {} and data["last_success_at"] > 0
    last_close = run.exchange.now_ms() // MINUTE * MINUTE
    assert data["candles"]["1m"]["last_close"] == last_close
    assert data["candles"]["1m"]["age_s"] == max(0, h["now"] - last_close) / 1000
    assert (trading["exchange"], trading["mode"], trading["ok"]) == ("paper", "paper", True)
    assert trading["position_mode"].startswith("one-way") and trading["open_positions"] == 1


async def test_outbox_counts_match_the_store(run, http):
    o = await get_json(http, run, "/api/v1/outbox")
    counts = run.daemon.store.outbox_counts()
    assert o["counts"]["sent"] == counts["sent"] > 0
    assert o["counts"]["pending"] == 0 and o["pending"] == []


async def test_config_shows_every_setting_with_secrets_masked(run, http):
    from config import KEYS, SECRET_KEYS, venue_keys_table

    shown = (await get_json(http, run, "/api/v1/config"))["settings"]
    assert set(shown) == set(KEYS) | set(venue_keys_table())
    assert "API_PASSWORD" in SECRET_KEYS and all(shown[k] == "***" for k in SECRETS)
    assert shown["API_USERNAME"] == USER and shown["SYMBOLS"] == ["LTC/USDT"]


async def test_no_response_contains_a_secret(run, http):
    signal = run.daemon.store.recent_signals(1)[0]
    paths = ["/api/v1/health", "/api/v1/signals?limit=500", "/api/v1/positions",
             "/api/v1/summary", "/api/v1/logs", "/api/v1/candles?symbol=LTCUSDT&timeframe=1m",
             "/static/trader.js",
             "/api/v1/trades?limit=500", "/api/v1/outbox", "/api/v1/config", "/metrics",
             "/api/v1/session", "/api/v1/openapi.json", "/", "/static/app.js",
             f"/api/v1/signals/{signal.id}/chart.png", "/login", "/api/v1/ping"]
    for path in paths:
        status, headers, body = await get(http, run, path)
        assert status == 200, path
        everything = body + str(dict(headers)).encode()
        for key, secret in SECRETS.items():
            assert secret.encode() not in everything, (path, key)


async def test_the_openapi_document_lists_every_route(run, http):
    doc = await get_json(http, run, "/api/v1/openapi.json")
    routes = {(r.method.lower(), r.resource.canonical) for r in run.daemon.api.app.router.routes()
              if r.resource is not None and r.method != "HEAD"
              and not r.resource.canonical.startswith("/static")}
    documented = {(m, path) for path, ops in doc["paths"].items() for m in ops}
    control = {("post", f"/api/v1/control/{a}") for a in ("pause", "resume", "close", "closeall")}
    routes = {r for r in routes if "{action" not in r[1]} | control
    assert routes == documented


async def test_the_summary_is_the_realised_pnl_of_the_closed_paper_trades(run, http):
    s = await get_json(http, run, "/api/v1/summary")
    closed = [p for p in run.daemon.store.closed_positions(1000) if p.mode == "paper"]
    wins = sum(p.pnl > 0 for p in closed)
    assert (s["mode"], s["trades"], s["wins"], s["losses"]) == \
        ("paper", len(closed), wins, len(closed) - wins)
    assert 0 < s["win_rate"] < 1 and s["win_rate"] == pytest.approx(wins / len(closed))
    assert s["total_pnl"] == pytest.approx(sum(p.pnl for p in closed))
    # The scripted run's clock is on 2026-01-01, the day every trade closed.
    assert s["today"] == "2026-01-01" and s["today_pnl"] == pytest.approx(s["total_pnl"])
    assert s["days"] == [{"day": "2026-01-01", "trades": len(closed), "wins": wins,
                          "pnl": pytest.approx(s["total_pnl"])}]
    assert (s["open_positions"], s["paused"], s["trading"]) == (1, False, True)


async def test_the_trade_history_pages_newest_first_with_the_total(run, http):
    closed = run.daemon.store.closed_positions(1000)
    ids = [p.id for p in closed]
    first = await get_json(http, run, "/api/v1/trades?limit=1")
    second = await get_json(http, run, "/api/v1/trades?limit=1&offset=1")
    rest = await get_json(http, run, "/api/v1/trades?limit=500&offset=1")
    beyond = await get_json(http, run, f"/api/v1/trades?offset={len(ids)}")
    assert [t["id"] for t in first["trades"]] == ids[:1]
    assert [t["id"] for t in second["trades"]] == ids[1:2]
    assert [t["id"] for t in rest["trades"]] == ids[1:]
    assert beyond["trades"] == [] and beyond["total"] == first["total"] == len(ids)
    assert (second["limit"], second["offset"]) == (1, 1)
    for bad in ("offset=-1", "offset=x", "offset=1e3", "offset=9999999999"):
        status, _, body = await get(http, run, f"/api/v1/trades?{bad}")
        assert status == 400 and "offset" in json.loads(body)["error"], bad


async def test_candles_come_from_memory_with_the_open_position_and_the_signals(run, http):
    held = run.daemon.store.open_positions()[0]
    data = await get_json(http, run, "/api/v1/candles?symbol=LTCUSDT&timeframe=1m&limit=100")
    stream = run.daemon.poller.streams[("LTC/USDT", "1m")].recent
    assert (data["symbol"], data["timeframe"], len(data["candles"])) == ("LTC/USDT", "1m", 100)
    o, h, lo, c, _ = stream.ohlcv[-1].tolist()
    assert data["candles"][-1] == {"time": int(stream.ts[-1]), "open": o, "high": h, "low": lo,
                                   "close": c}
    times = [c["time"] for c in data["candles"]]
    assert times == sorted(times) and times[-1] - times[0] == 99 * MINUTE
    assert [(p["id"], p["entry_price"], p["stop"], p["target"]) for p in data["positions"]] == \
        [(held.id, held.entry_price, held.stop, held.target)]
    recorded = {s.id: s for s in run.daemon.store.recent_signals(1000)}
    assert data["signals"] and all(times[0] <= s["break_time"] <= times[-1] and
                                   s["kind"] == recorded[s["id"]].event.kind
                                   for s in data["signals"])


async def test_candles_need_a_known_stream(run, http):
    for query, status in (("symbol=BTCUSDT&timeframe=1m", 404),
                          ("symbol=LTCUSDT&timeframe=5m", 404), ("symbol=LTCUSDT", 400),
                          ("timeframe=1m", 400),
                          ("symbol=%3Cx%3E&timeframe=1m", 400),
                          ("symbol=LTCUSDT&timeframe=1m&limit=0", 400)):
        got, _, body = await get(http, run, f"/api/v1/candles?{query}")
        assert got == status and "error" in json.loads(body), query


async def test_logs_are_the_newest_warnings_and_errors_with_secrets_redacted(run, http):
    from app.log_ring import LogRing
    from app.logs import Redactor

    ring = LogRing(3)
    ring.use_redactor(Redactor(SECRETS.values()).scrub)
    run.daemon.log_ring = ring
    try:
        for n in range(5):
            ring(None, "warning", {"event": f"venue_slow_{n}", "level": "warning", "n": n,
                                   "url": f"https://x/?key={SECRETS['BINANCE_API_KEY']}"})
        ring(None, "info", {"event": "routine", "level": "info"})
        lines = (await get_json(http, run, "/api/v1/logs?limit=2"))["lines"]
    finally:
        del run.daemon.log_ring
    assert [x["event"] for x in lines] == ["venue_slow_4", "venue_slow_3"]
    assert lines[0]["fields"] == {"n": "4", "url": "https://x/?key=***"}
    assert lines[0]["level"] == "warning"
