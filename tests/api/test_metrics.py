"""GET /metrics over a scripted run: Prometheus text whose counts match what the daemon did."""
from __future__ import annotations

import json

import pytest
from prometheus_client.parser import text_string_to_metric_families

from .scenario import MINUTE

pytestmark = [pytest.mark.slow, pytest.mark.asyncio(loop_scope="module")]


async def scrape(http, run) -> dict:
    """name -> list of (labels, value) samples."""
    async with http.get(run.url + "/metrics", headers=run.auth()) as r:
        assert r.status == 200 and r.headers["Content-Type"].startswith("text/plain")
        text = await r.text()
    samples: dict = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            samples.setdefault(s.name, []).append((s.labels, s.value))
    return samples


def total(samples: dict, name: str, **labels) -> float:
    return sum(v for lab, v in samples.get(name, []) if all(lab.get(k) == x
                                                            for k, x in labels.items()))


async def test_latency_histograms_count_every_signal_alert_and_entry(run, http):
    m = await scrape(http, run)
    store = run.daemon.store
    signals = store.recent_signals(1000)
    sent = store.conn.execute("SELECT COUNT(*) FROM outbox WHERE topic='signal' AND "
                              "status='sent'").fetchone()[0]
    entries = store.intents(role="entry")
    assert signals and sent and entries
    assert total(m, "choch_candle_close_to_signal_seconds_count", exchange="binanceusdm",
                 timeframe="1m") == len(signals)
    assert total(m, "choch_signal_to_alert_seconds_count", exchange="binanceusdm",
                 timeframe="1m") == sent
    assert total(m, "choch_signal_to_order_seconds_count", exchange="paper",
                 timeframe="1m") == len(entries)
    # Each signal was recorded in the slot of its candle: FETCH_DELAY_S=0, host 3 s behind.
    expected = sum(max(0, s.detected_at - s.event.confirmed_at) / 1000 for s in signals)
    assert total(m, "choch_candle_close_to_signal_seconds_sum") == pytest.approx(expected)


async def test_gauges_are_read_from_the_state_at_scrape_time(run, http):
    m = await scrape(http, run)
    store = run.daemon.store
    assert total(m, "choch_open_positions") == len(store.open_positions()) == 1
    assert total(m, "choch_outbox_pending") == 0
    ages = m["choch_last_closed_candle_age_seconds"]
    assert [lab["timeframe"] for lab, _ in ages] == ["1m"] and ages[0][1] >= 0
    assert total(m, "process_resident_memory_bytes") > 10_000_000
    store.enqueue("notice", {"event": "test", "text": "x"}, 0)  # one more pending, right now
    assert total(await scrape(http, run), "choch_outbox_pending") == 1
    await run.daemon.delivery.flush(5)


async def test_exchange_requests_are_counted_per_instance_and_outcome(run, http):
    before = await scrape(http, run)
    ok = total(before, "choch_exchange_requests_total", instance="data", outcome="ok")
    assert ok > 0 and total(before, "choch_exchange_requests_total", outcome="network") == 0
    run.exchange.fail("/fapi/v1/klines", 503, times=1)  # one failure, then the retry succeeds
    run.exchange.advance(MINUTE)
    await run.daemon.run_timeframe("1m", retry_s=0)
    after = await scrape(http, run)
    assert total(after, "choch_exchange_requests_total", instance="data",
                 exchange="binanceusdm", outcome="network") == 1
    assert total(after, "choch_exchange_requests_total", instance="data", outcome="ok") > ok
    async with http.get(run.url + "/api/v1/health", headers=run.auth()) as r:
        data = json.loads(await r.read())["instances"]["data"]
    assert data["errors"] == {"network": 1} and data["last_error"] == "ExchangeNotAvailable"
