"""Each venue's stream over its fake: closes heard once, never a forming candle, and every fault
(refuse, drop, stall, duplicate, reorder, no closed flag, kill mid-candle) recovered from."""
from __future__ import annotations

from fetchers.candle_book import Outcome
from tests.fakes.ws_base import settle

from .conftest import T0, M, history, kline


def closes(rig):
    return [(o, outcome) for _, _, o, outcome in rig.heard]


async def test_closed_candles_are_heard_once_and_forming_ones_never(rig):
    await rig.fake.push(kline(5, closed=False))
    await rig.fake.push(kline(5))
    await rig.fake.push(kline(6, closed=False))
    await rig.until(lambda: rig.heard)
    await settle()
    assert closes(rig) == [(T0 + 5 * M, Outcome.CLOSED)]
    got = rig.book.columns("BTC/USDT", "1m", T0 + 5 * M, None, T0 + 5 * M).frame()
    assert got["close"].tolist() == [kline(5).close]


async def test_duplicates_and_reordered_pushes_are_idempotent(rig):
    rig.fake.duplicate = True
    rig.fake.reorder = True
    for i in (5, 6):
        await rig.fake.push(kline(i))
    await rig.until(lambda: len(rig.heard) >= 2)
    await settle()
    assert sorted(o for o, _ in closes(rig)) == [T0 + 5 * M, T0 + 6 * M]
    assert rig.book.last("BTC/USDT", "1m") == T0 + 6 * M


async def test_a_push_without_closed_flag_is_proven_by_the_next_open_and_left_to_rest(rig):
    rig.fake.flagless = True
    await rig.fake.push(kline(5))
    await rig.fake.push(kline(6, closed=False))
    await rig.until(lambda: rig.heard)
    assert closes(rig) == [(T0 + 6 * M, Outcome.PROVEN)]
    assert rig.book.last("BTC/USDT", "1m") == T0 + 4 * M  # nothing forming was stored
    assert rig.feed.health().fallbacks["no_close_flag"] == 1


async def test_a_dropped_socket_reconnects_and_the_missed_candle_is_a_hole(rig):
    await rig.fake.drop()
    await rig.until(lambda: rig.feed.health().fallbacks.get("closed"))
    await rig.connected()
    await rig.fake.push(kline(6))  # 5 closed while the socket was down
    await rig.until(lambda: rig.heard)
    assert closes(rig) == [(T0 + 6 * M, Outcome.AHEAD)]
    assert rig.book.columns("BTC/USDT", "1m", T0 + 5 * M, None, T0 + 6 * M) is None
    rig.book.record("BTC/USDT", "1m", M, history(5).iloc[5:], T0 + 5 * M)  # REST backfill
    assert rig.book.last("BTC/USDT", "1m") == T0 + 6 * M


async def test_refused_connects_are_retried_with_backoff(rig):
    rig.fake.refuse(2)
    await rig.fake.drop()
    await rig.until(lambda: rig.fake.refused == 2)
    await rig.connected()
    assert rig.feed.health().fallbacks["refused"] == 2


async def test_a_stalled_socket_is_abandoned_and_replaced(rig):
    rig.fake.stalled = True
    await rig.until(lambda: rig.feed.health().fallbacks.get("stall"), limit_s=3.0)
    rig.fake.stalled = False
    await rig.connected()
    await rig.fake.push(kline(5))
    await rig.until(lambda: rig.heard)
    assert closes(rig) == [(T0 + 5 * M, Outcome.CLOSED)]


async def test_a_socket_killed_mid_candle_loses_no_candle_and_keeps_no_forming_one(rig):
    rig.fake.kill_after(1)
    await rig.fake.drop()
    await rig.connected()
    await rig.fake.push(kline(5, closed=False))  # the socket dies after this push
    await rig.until(lambda: rig.feed.health().fallbacks.get("closed"))
    await rig.connected()
    await rig.fake.push(kline(5))
    await rig.until(lambda: rig.heard)
    assert closes(rig) == [(T0 + 5 * M, Outcome.CLOSED)]
    assert rig.book.last("BTC/USDT", "1m") == T0 + 5 * M


async def test_a_stop_closes_the_sockets_at_once_and_counts_no_fallback(rig):
    import time

    started = time.monotonic()
    await rig.feed.stop()
    assert time.monotonic() - started < 0.3  # not the read's stall timeout (0.6 s here)
    assert rig.feed.health().connected == 0 and not rig.feed.fallbacks
    assert not rig.fake.clients
