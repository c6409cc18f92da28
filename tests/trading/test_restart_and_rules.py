"""Restart after a crash, reversal, daily limits, orphans, foreign positions, live refusal."""
from __future__ import annotations

import time

import pytest

from app import components
from config import ConfigError, Settings, VenueKeys
from domain.trade import Direction, ExitReason, OrderStatus
from exchanges.binance import BINANCE
from exchanges.binance_client import BinanceTrading
from store import Store
from trading import LiveTradingRefused, PositionModeError
from trading.client_ids import client_id
from trading.outcomes import Limit, LimitKind, OutcomeKind, SkipReason

from .conftest import TF_MS, is_opened, make_manager, make_settings, make_signal, notices


class Killed(BaseException):
    """Stands for kill -9: nothing after it runs."""


async def test_killed_between_entry_and_protection_protects_on_restart(fake, store, tmp_path):
    manager = await make_manager(fake, store)

    async def die(*args, **kwargs):
        raise Killed()

    manager.broker.protective_order = die
    with pytest.raises(Killed):
        await manager.on_signal(make_signal(store), TF_MS)
    assert fake.position("BTCUSDT") == 0.04 and fake.open_algos() == []
    store.close()

    reopened = Store(tmp_path / "state.db")   # a new process on the same DB
    try:
        await make_manager(fake, reopened)       # start() reconciles
        assert sorted(a["orderType"] for a in fake.open_algos("BTCUSDT")) == [
            "STOP_MARKET", "TAKE_PROFIT_MARKET"]
        assert len(fake.algos) == 2 and fake.position("BTCUSDT") == 0.04
        assert len(reopened.open_positions()) == 1
    finally:
        reopened.close()


async def test_killed_after_sending_entry_adopts_the_fill_on_restart(fake, store, tmp_path):
    signal = make_signal(store)
    cid = client_id(signal.identity, "entry")
    store.record_intent(cid, signal.id, "BTC/USDT", "entry", "buy", 0.04, 50000.0, 0,
                        venue="binance")
    fake.h_post_order({"symbol": "BTCUSDT", "side": "BUY", "type": "MARKET",
                       "quantity": "0.04", "newClientOrderId": cid})   # reached the exchange
    manager = await make_manager(fake, store)
    assert (await manager.on_signal(signal, TF_MS)).kind is OutcomeKind.ALREADY_HANDLED
    assert len([o for o in fake.orders if o["clientOrderId"] == cid]) == 1
    assert fake.position("BTCUSDT") == 0.04 and len(fake.open_algos("BTCUSDT")) == 2
    assert store.position_for_signal(signal.id).entry_price == 50000.0


async def test_entry_intended_but_never_sent_is_abandoned_not_sent(fake, store):
    signal = make_signal(store)
    cid = client_id(signal.identity, "entry")
    store.record_intent(cid, signal.id, "BTC/USDT", "entry", "buy", 0.04, 50000.0, 0,
                        venue="binance")
    await make_manager(fake, store)
    assert store.intent(cid).status is OrderStatus.ABANDONED
    assert fake.calls("POST", "/fapi/v1/order") == [] and fake.position("BTCUSDT") == 0


async def test_opposite_signal_reverses(fake, store):
    manager = await make_manager(fake, store)
    await manager.on_signal(make_signal(store), TF_MS)
    fake.set_price("BTCUSDT", 50500)
    short = make_signal(store, direction="bearish", close=50500, extreme=51000, pivot_time=7)
    result = await manager.on_signal(short, TF_MS)
    assert is_opened(result, Direction.SHORT)
    assert fake.position("BTCUSDT") == pytest.approx(-0.039)   # 2000 / 50500 floored
    closed, = store.closed_positions()
    fees = (0.04 * 50000 + 0.04 * 50500) * fake.taker_fee  # our close's PnL is the exchange's
    assert closed.exit_reason is ExitReason.OPPOSITE and round(closed.pnl, 6) == round(20 - fees, 6)
    assert sorted((a["orderType"], a["side"]) for a in fake.open_algos()) == [
        ("STOP_MARKET", "BUY"), ("TAKE_PROFIT_MARKET", "BUY")]
    # Closing the short counts its own entry's fee, not that of the long it reversed.
    fake.set_price("BTCUSDT", 50000)
    await manager.close_position("BTC/USDT")
    short_pos = [p for p in store.closed_positions() if p.direction == "short"][0]
    fees = (0.039 * 50500 + 0.039 * 50000) * fake.taker_fee
    assert round(short_pos.pnl, 6) == round(500 * 0.039 - fees, 6)


@pytest.mark.parametrize("mode,expect", [("close", 0), ("ignore", 0.04)])
async def test_opposite_signal_close_or_ignore(fake, store, mode, expect):
    manager = await make_manager(fake, store, make_settings(fake.url, ON_OPPOSITE=mode))
    await manager.on_signal(make_signal(store), TF_MS)
    short = make_signal(store, direction="bearish", close=50000, extreme=51000, pivot_time=7)
    assert (await manager.on_signal(short, TF_MS)).reason is (
        SkipReason.OPPOSITE_CLOSED if mode == "close" else SkipReason.OPPOSITE_IGNORED)
    assert fake.position("BTCUSDT") == expect


async def test_daily_loss_limit_pauses_until_next_utc_day(fake, store):
    now = [time.time()]   # a clock the test can move to the next day
    settings = make_settings(fake.url, MAX_DAILY_LOSS="30")
    manager = await make_manager(fake, store, settings, clock=lambda: now[0])
    t = manager.now_ms()
    await manager.on_signal(make_signal(store, confirmed_at=t), TF_MS)
    fake.candle("BTCUSDT", high=50000, low=48000, close=48500)   # stop: -40 USDT
    await manager.reconcile()
    paused = [n for n in notices(store) if n["event"] == "trading_paused"]
    assert len(paused) == 1 and "daily loss" in paused[0]["text"]
    fake.set_price("BTCUSDT", 50000)
    nxt = make_signal(store, confirmed_at=t, pivot_time=9)
    assert (await manager.on_signal(nxt, TF_MS)).limit.kind is LimitKind.DAILY_LOSS
    now[0] += 86_400
    tomorrow = make_signal(store, confirmed_at=manager.now_ms(), pivot_time=11)
    assert is_opened(await manager.on_signal(tomorrow, TF_MS))


async def test_max_open_positions_and_daily_trades(fake, store):
    settings = make_settings(fake.url, MAX_OPEN_POSITIONS="1")
    manager = await make_manager(fake, store, settings)
    await manager.on_signal(make_signal(store), TF_MS)
    eth = make_signal(store, "ETH/USDT", close=3000, extreme=2950)
    assert (await manager.on_signal(eth, TF_MS)).limit == Limit(LimitKind.MAX_OPEN, 1, 1)


async def test_orphan_stop_cancelled_and_foreign_position_reported_once(fake, store):
    manager = await make_manager(fake, store)
    fake.h_post_order({"symbol": "ETHUSDT", "side": "SELL", "type": "MARKET",
                       "quantity": "0.5"})          # opened by hand, not by the daemon
    fake.h_post_algoorder({"symbol": "LTCUSDT", "side": "SELL", "type": "STOP_MARKET",
                           "algoType": "CONDITIONAL", "triggerPrice": "40",
                           "closePosition": "true", "clientAlgoId": "chxdeadbeef-s"})
    fake.h_post_algoorder({"symbol": "LTCUSDT", "side": "SELL", "type": "STOP_MARKET",
                           "algoType": "CONDITIONAL", "triggerPrice": "41",
                           "closePosition": "true", "clientAlgoId": "users-own"})
    await manager.reconcile()
    await manager.reconcile()
    assert [a["clientAlgoId"] for a in fake.open_algos()] == ["users-own"]
    foreign = [n for n in notices(store) if n["event"] == "foreign_position"]
    assert len(foreign) == 1 and foreign[0]["symbol"] == "ETH/USDT"
    assert fake.position("ETHUSDT") == -0.5
    eth = make_signal(store, "ETH/USDT", close=3000, extreme=2950)
    assert (await manager.on_signal(eth, TF_MS)).reason is SkipReason.FOREIGN_POSITION


async def test_missing_stop_is_replaced_with_a_new_id(fake, store):
    manager = await make_manager(fake, store)
    await manager.on_signal(make_signal(store), TF_MS)
    stop = next(a for a in fake.open_algos() if a["orderType"] == "STOP_MARKET")
    stop["algoStatus"] = "CANCELED"   # cancelled by hand in the app
    await manager.reconcile()
    stops = [a for a in fake.open_algos() if a["orderType"] == "STOP_MARKET"]
    assert len(stops) == 1 and stops[0]["clientAlgoId"] == stop["clientAlgoId"] + "1"


def test_live_without_confirmation_is_refused_before_any_request():
    with pytest.raises(ConfigError, match="CONFIRM_LIVE_TRADING"):
        make_settings("", DEMO_TRADING="0", BINANCE_API_KEY="k", BINANCE_SECRET="s")
    unconfirmed = Settings(enable_trading=True, demo_trading=False, confirm_live_trading=False,
                           venue_credentials=(("binance", VenueKeys("k", "s")),))
    with pytest.raises(LiveTradingRefused):
        BinanceTrading(components.trading_config(unconfirmed, BINANCE), BINANCE)
    with pytest.raises(LiveTradingRefused):
        components.make_broker(unconfirmed, store=None)


async def test_live_with_confirmation_uses_production_keys(fake):
    settings = make_settings(fake.url, DEMO_TRADING="0", CONFIRM_LIVE_TRADING="yes",
                             BINANCE_API_KEY="prod-key", BINANCE_SECRET="prod-secret")
    broker = components.make_broker(settings, store=None)
    assert broker.mode == "live" and broker.exchange.apiKey == "prod-key"
    await broker.close()


async def test_hedge_mode_is_refused_at_start(fake, store):
    fake.dual_side = True
    with pytest.raises(PositionModeError, match="One-way"):
        await make_manager(fake, store)


async def test_check_reports_auth_balance_and_mode(fake, store):
    manager = await make_manager(fake, store, start=False)
    lines = await manager.check()
    assert [(n, ok) for n, ok, _ in lines] == [
        ("trading host", True), ("trading authentication", True), ("trading balance", True),
        ("position mode", True), ("margin mode", True)]
    assert "(demo, signed by BINANCE_API_KEY_DEMO)" in lines[0].detail
    bad = await make_manager(fake, store, make_settings(fake.url, BINANCE_SECRET_DEMO="wrong"),
                             start=False)
    name, ok, detail = (await bad.check())[1]
    assert name == "trading authentication" and not ok and "-1022" in detail


async def test_reversal_that_cannot_open_keeps_the_old_position(fake, store):
    manager = await make_manager(fake, store)
    await manager.on_signal(make_signal(store), TF_MS)
    bad = make_signal(store, direction="bearish", close=50000, extreme=49900, pivot_time=7)
    assert (await manager.on_signal(bad, TF_MS)).reason is SkipReason.STOP_NOT_BEYOND_ENTRY
    assert fake.position("BTCUSDT") == 0.04 and len(fake.open_algos()) == 2
    assert len(store.open_positions()) == 1
