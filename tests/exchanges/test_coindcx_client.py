"""CoinDCX's own client against the fake: candles by the venue's clock, fills read back,
orders found by intent after a lost answer or a restart, never sent twice, whole-position
TP/SL legs."""
from __future__ import annotations

import time

import numpy as np
import pytest

from exchanges.coindcx import COINDCX
from exchanges.coindcx_client import MarketData, Trading
from exchanges.errors import Rejected, TransientExchangeError
from exchanges.options import Credentials, MarketDataConfig, TradingConfig
from exchanges.port import Direction, LiveTradingRefused, OrderIntent, OrderStatus
from exchanges.retry import RetryPolicy
from exchanges.venue import Reason
from tests.fakes.binance_data import synthetic
from tests.fakes.coindcx import API_KEY, CANDLES, CREATE, SECRET, TPSL, FakeCoindcx

MIN = 60_000
NOW = 1_770_729_450_000  # 13:17:30 UTC: inside a 1m and a 5m candle
PAIR = "B-BTC_USDT"


def config(url: str, **kw) -> TradingConfig:
    return TradingConfig(Credentials(API_KEY, SECRET), demo=False, live=True,
                         live_confirmed=True, url=url, leverage=5, **kw)


@pytest.fixture
async def venue():
    fake = FakeCoindcx()
    await fake.start()
    yield fake
    await fake.stop()


@pytest.fixture
async def trading(venue):
    t = Trading(config(venue.url), COINDCX, backoff_s=0.01, rate_limit=False,
                sleep=_no_sleep)
    await t.start(["BTC/USDT"])
    yield t
    await t.close()


async def _no_sleep(_s: float) -> None:
    return None


def intent(cid: str, side: str, qty: float, created_ms: int, **kw) -> OrderIntent:
    return OrderIntent(cid, "BTC/USDT", side, qty, created_ms, **kw)


def test_no_testnet_and_live_needs_the_confirmation():
    with pytest.raises(LiveTradingRefused, match="no testnet"):
        Trading(TradingConfig(demo=True), COINDCX)
    with pytest.raises(LiveTradingRefused, match="CONFIRM_LIVE_TRADING"):
        Trading(TradingConfig(demo=False, live=True), COINDCX)


async def test_closed_candles_by_the_date_header_never_the_forming_one():
    start = NOW - NOW % MIN - 3 * 1440 * MIN
    one_minute = synthetic("BTCUSDT", np.arange(start, NOW + 1, MIN, dtype=np.int64), "1m")
    fake = FakeCoindcx({(PAIR, "1m"): one_minute}, now_ms=NOW)
    await fake.start()
    data = MarketData(MarketDataConfig(url=fake.url), COINDCX,
                      retry=RetryPolicy(attempts=2, base_s=0.01, budget_s=5.0))
    try:
        assert await data.server_time_ms() // 1000 == NOW // 1000
        frame = await data.closed_candles("BTC/USDT", "1m", since_ms=start)
        last = await data.closed_candles("BTC/USDT", "5m", limit=7)
        assert "BTC/USDT" in await data.perpetuals()
        assert (await data.quote_volumes())["BTC/USDT"] > 0
    finally:
        await data.close()
        await fake.stop()
    closed = one_minute[one_minute["timestamp"] + MIN <= NOW]
    assert frame["timestamp"].tolist() == closed["timestamp"].tolist()
    assert frame["close"].to_numpy() == pytest.approx(closed["close"].to_numpy())
    assert int(last["timestamp"].iloc[-1]) == NOW - NOW % (5 * MIN) - 5 * MIN and len(last) == 7
    asked = fake.calls("GET", CANDLES)
    assert all(p["pcode"] == "f" and len(p["from"]) == 10 for p in asked)  # seconds, futures
    assert max(int(p["to"]) - int(p["from"]) for p in asked if p["resolution"] == "1") \
        == COINDCX.max_page * 60  # a second wider each side


@pytest.mark.slow  # paced pages: about 2 s each
@pytest.mark.parametrize("reading", [
    dict(cap=120, keep_newest=True, to_exclusive=True, date_from_wall=True),
    dict(cap=90, keep_newest=False, to_exclusive=True),
])
async def test_any_row_cap_and_bound_reading_gives_every_closed_candle(reading):
    start = NOW - NOW % MIN - 1440 * MIN
    one_minute = synthetic("BTCUSDT", np.arange(start, NOW + 1, MIN, dtype=np.int64), "1m")
    fake = FakeCoindcx({(PAIR, "1m"): one_minute}, now_ms=NOW)
    for key, value in reading.items():
        setattr(fake, key, value)
    await fake.start()
    data = MarketData(MarketDataConfig(url=fake.url), COINDCX,
                      retry=RetryPolicy(attempts=2, base_s=0.01, budget_s=5.0))
    try:
        frame = await data.closed_candles("BTC/USDT", "1m", since_ms=start - 3 * 1440 * MIN)
        last = await data.closed_candles("BTC/USDT", "1m", limit=300)
    finally:
        await data.close()
        await fake.stop()
    closed = one_minute[one_minute["timestamp"] + MIN <= NOW]
    assert frame["timestamp"].tolist() == closed["timestamp"].tolist()
    assert last["timestamp"].tolist() == closed["timestamp"].tolist()[-300:]


async def test_a_market_order_answered_initial_is_read_back_filled(venue, trading):
    got = await trading.market_order("BTC/USDT", "buy", 0.004, "chxe1")
    assert got.status is OrderStatus.FILLED and got.average == 50_000.0 and got.filled == 0.004
    assert got.client_id == "chxe1" and venue.position(PAIR) == 0.004
    [sent] = venue.calls("POST", CREATE)
    assert sent["order"]["leverage"] == 5 and "client_order_id" not in sent["order"]


async def test_a_lost_answer_is_found_by_intent_and_never_sent_twice(venue, trading):
    before = int(time.time() * 1000)
    venue.fail(CREATE, 504, lost=True)
    with pytest.raises(TransientExchangeError):
        await trading.market_order("BTC/USDT", "buy", 0.004, "chxe2")
    found = await trading.find_order("BTC/USDT", "chxe2", False,
                                     intent("chxe2", "buy", 0.004, before))
    assert found is not None and found.status is OrderStatus.FILLED and found.filled == 0.004
    with pytest.raises(TransientExchangeError, match="never re-sent"):
        await trading.market_order("BTC/USDT", "buy", 0.004, "chxe2")
    assert len(venue.calls("POST", CREATE)) == 1 and venue.position(PAIR) == 0.004


async def test_a_new_process_finds_the_entry_by_intent_not_an_older_or_claimed_one(venue,
                                                                                    trading):
    older = venue.execute(PAIR, "buy", 0.004)  # an older order of the same size
    time.sleep(0.01)
    written = int(time.time() * 1000) + 3_000  # past the clocks' skew allowance
    venue.execute(PAIR, "buy", 0.004)
    assert await trading.find_order("BTC/USDT", "e", False, intent("e", "buy", 0.004,
                                                                   written)) is None
    time.sleep(0.01)  # the intent written after that order, not in its millisecond
    written = int(time.time() * 1000)
    time.sleep(0.01)
    mine = venue.execute(PAIR, "buy", 0.004)
    again = Trading(config(venue.url), COINDCX, rate_limit=False)  # after kill -9
    try:
        found = await again.find_order("BTC/USDT", "e", False,
                                       intent("e", "buy", 0.004, written))
        assert found is not None and found.exchange_id == mine["id"]
        by_id = await again.find_order("BTC/USDT", "e", False, intent(
            "e", "buy", 0.004, 0, exchange_id=mine["id"]))
        assert by_id is not None and by_id.exchange_id == mine["id"]
        # Written right after the older orders (the clock read here may be seconds later on a
        # loaded machine): within the skew allowance of them.
        other = await again.find_order("BTC/USDT", "f", False,
                                       intent("f", "buy", 0.004, int(older["created_at"]) + 20))
        # The order 'e' holds is never given to another id; an older one of the same size
        # within the clocks' skew is (a venue without ids cannot tell them apart).
        assert other is not None and other.exchange_id != mine["id"]
    finally:
        await again.close()


async def test_stops_and_targets_are_whole_position_legs(venue, trading):
    await trading.market_order("BTC/USDT", "buy", 0.004, "chxe3")
    stop = await trading.protective_order("BTC/USDT", "sell", "stop", 49_000.0, "s1")
    target = await trading.protective_order("BTC/USDT", "sell", "target", 52_000.0, "t1")
    assert (stop.kind, stop.trigger, stop.status) == ("stop", 49_000.0, OrderStatus.OPEN)
    assert {o.exchange_id for o in await trading.open_protective()} == {
        stop.exchange_id, target.exchange_id}
    assert all(o.client_id == "" for o in await trading.open_protective())
    # Placed again at the same level (another instance): the existing order is ours too.
    same = await trading.protective_order("BTC/USDT", "sell", "stop", 49_000.0, "s2")
    assert same.exchange_id == stop.exchange_id and same.client_id == "s2"
    # At another level: moved, i.e. cancelled then created again.
    moved = await trading.protective_order("BTC/USDT", "sell", "stop", 48_000.0, "s3")
    assert moved.exchange_id != stop.exchange_id and moved.trigger == 48_000.0
    assert sorted(o.trigger for o in await trading.open_protective()) == [48_000.0, 52_000.0]
    await trading.cancel_protective("BTC/USDT", "s1", stop.exchange_id)  # gone already: fine
    venue.candle(PAIR, 50_100.0, 47_900.0, 47_900.0)
    assert venue.position(PAIR) == 0 and await trading.open_protective() == []
    fill = await trading.closing_fill("BTC/USDT", Direction.LONG, 0)
    assert fill is not None and fill.price == 48_000.0 and fill.pnl == pytest.approx(-8.0)


async def test_a_wrong_side_trigger_is_refused_by_its_words(venue, trading):
    await trading.market_order("BTC/USDT", "buy", 0.004, "chxe4")
    with pytest.raises(Rejected) as refused:
        await trading.protective_order("BTC/USDT", "sell", "stop", 51_000.0, "s1")
    assert refused.value.reason is Reason.WOULD_TRIGGER_IMMEDIATELY
    venue.reject_leg("target", "Trigger price should be greater than the current price")
    with pytest.raises(Rejected) as leg:
        await trading.protective_order("BTC/USDT", "sell", "target", 52_000.0, "t1")
    assert leg.value.reason is Reason.WOULD_TRIGGER_IMMEDIATELY
    assert [p for p in venue.calls("POST", TPSL)][-1].get("take_profit")


async def test_a_close_is_sized_to_the_position_and_refused_when_flat(venue, trading):
    with pytest.raises(Rejected) as flat:
        await trading.market_order("BTC/USDT", "sell", 0.004, "chxc1", reduce_only=True)
    assert flat.value.reason is Reason.REDUCE_ONLY_REJECTED and not venue.calls("POST", CREATE)
    await trading.market_order("BTC/USDT", "buy", 0.004, "chxe5")
    closed = await trading.market_order("BTC/USDT", "sell", 0.01, "chxc2", reduce_only=True)
    assert closed.filled == 0.004 and venue.position(PAIR) == 0


async def test_positions_balance_and_check(venue, trading):
    await trading.market_order("BTC/USDT", "sell", 0.004, "chxe6")
    [(symbol, pos)] = (await trading.positions(["BTC/USDT"])).items()
    assert symbol == "BTC/USDT" and pos.direction is Direction.SHORT and pos.quantity == 0.004
    assert (await trading.balance()).total == 10_000.0
    lines = {line.what: line for line in await trading.check()}
    assert all(line.ok for line in lines.values())
    assert "live, no testnet" in lines["trading host"].detail
    assert "one-way" in lines["position mode"].detail
    assert trading.rules("BTC/USDT").step == 0.001


async def test_bad_keys_are_an_auth_error(venue):
    t = Trading(TradingConfig(Credentials(API_KEY, "wrong"), demo=False, live=True,
                              live_confirmed=True, url=venue.url), COINDCX, rate_limit=False)
    try:
        lines = {line.what: line for line in await t.check()}
        assert not lines["trading authentication"].ok
        assert "401" in lines["trading authentication"].detail
    finally:
        await t.close()


async def test_the_metrics_see_the_venue_and_every_request(venue, trading):
    seen: list[object] = []
    data = MarketData(MarketDataConfig(url=venue.url), COINDCX)
    data.observe_requests(seen.append)  # before the session exists, as the daemon does
    try:
        await data.perpetuals()
    finally:
        await data.close()
    assert seen == [None] and data.exchange.id == trading.exchange.id == "coindcx"
