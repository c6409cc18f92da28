"""A signal becomes one protected position; the stop or target closes it with PnL recorded."""
from __future__ import annotations

from domain.trade import Direction, TradeState
from trading.client_ids import VALID
from trading.outcomes import OutcomeKind, SignalOutcome, SizeLimit, SizeProblem, SkipReason

from .conftest import TF_MS, is_opened, make_manager, make_settings, make_signal, notices


async def test_signal_opens_protected_long_and_stop_exit_is_recorded(fake, store):
    manager = await make_manager(fake, store)
    assert fake.margin_type["BTCUSDT"] == "ISOLATED" and fake.leverage["BTCUSDT"] == 20
    signal = make_signal(store)
    result = await manager.on_signal(signal, TF_MS)
    assert is_opened(result, quantity=0.04)
    assert fake.position("BTCUSDT") == 0.04
    algos = {a["orderType"]: a for a in fake.open_algos("BTCUSDT")}
    assert float(algos["STOP_MARKET"]["triggerPrice"]) == 49000
    assert float(algos["TAKE_PROFIT_MARKET"]["triggerPrice"]) == 52000
    assert all(a["closePosition"] and a["side"] == "SELL" for a in algos.values())
    assert all(VALID.match(a["clientAlgoId"]) for a in algos.values())
    entry = fake.calls("POST", "/fapi/v1/order")[0]
    assert VALID.match(entry["newClientOrderId"]) and entry["quantity"] == "0.04"
    pos = store.open_position("BTC/USDT")
    assert (pos.direction, pos.quantity, pos.entry_price, pos.stop, pos.target) == (
        "long", 0.04, 50000.0, 49000.0, 52000.0)
    assert store.signal(signal.id).trade_state is TradeState.DONE
    assert any(n["event"] == "position_opened" for n in notices(store))

    fake.candle("BTCUSDT", high=50100, low=48800, close=48900)
    await manager.reconcile()
    closed = store.position(pos.id)
    assert (closed.status, closed.exit_price, closed.exit_reason) == ("closed", 49000.0, "stop")
    # Binance's realizedPnl (-40) less the taker commissions on the entry and the exit.
    fees = (0.04 * 50000 + 0.04 * 49000) * fake.taker_fee
    assert round(closed.pnl, 6) == round(-40.0 - fees, 6)
    assert fake.open_algos() == []  # the target left behind is cancelled
    [notice] = [n for n in notices(store) if n["event"] == "position_closed"]
    assert "PnL -41.98 USDT after 1.98 USDT fees (stop)" in notice["text"]


async def test_fees_paid_in_bnb_leave_the_pnl_before_fees_and_say_so(fake, store):
    fake.fee_asset = "BNB"  # the BNB discount: commissions in BNB, no USDT figure to subtract
    manager = await make_manager(fake, store)
    await manager.on_signal(make_signal(store), TF_MS)
    fake.candle("BTCUSDT", high=50100, low=48800, close=48900)
    await manager.reconcile()
    [closed] = store.closed_positions()
    assert round(closed.pnl, 6) == -40.0
    [notice] = [n for n in notices(store) if n["event"] == "position_closed"]
    assert "PnL -40.00 USDT before fees (stop)" in notice["text"]


async def test_short_target_exit_records_profit(fake, store):
    manager = await make_manager(fake, store)
    fake.set_price("ETHUSDT", 3000)
    make_signal(store, "ETH/USDT", "bearish", close=3000, extreme=3030)
    assert is_opened(await manager.on_signal(store.signals_to_trade()[0], TF_MS), Direction.SHORT)
    assert fake.position("ETHUSDT") == -0.666   # 2000 / 3000 floored to the 0.001 step
    fake.candle("ETHUSDT", high=3001, low=2930, close=2935)
    await manager.reconcile()
    pos = store.closed_positions()[0]
    assert (pos.exit_reason, pos.exit_price) == ("target", 2940.0)
    fees = (0.666 * 3000 + 0.666 * 2940) * fake.taker_fee
    assert round(pos.pnl, 6) == round(60 * 0.666 - fees, 6)


async def test_same_signal_twice_sends_one_order(fake, store):
    manager = await make_manager(fake, store)
    signal = make_signal(store)
    await manager.on_signal(signal, TF_MS)
    again = await manager.on_signal(signal, TF_MS)
    assert again == SignalOutcome(OutcomeKind.ALREADY_HANDLED, state=TradeState.DONE)
    assert len(fake.calls("POST", "/fapi/v1/order")) == 1


async def test_same_direction_signal_on_other_timeframe_is_ignored(fake, store):
    manager = await make_manager(fake, store)
    await manager.on_signal(make_signal(store), TF_MS)
    other = make_signal(store, timeframe="1h", pivot_time=123)
    result = await manager.on_signal(other, 4 * TF_MS)
    assert result.reason is SkipReason.SAME_DIRECTION
    assert store.signal(other.id).trade_state is TradeState.SKIPPED
    assert fake.position("BTCUSDT") == 0.04


async def test_stale_signal_and_untraded_kind_are_not_traded(fake, store):
    manager = await make_manager(fake, store)
    old = make_signal(store, confirmed_at=manager.now_ms() - 2 * TF_MS)
    assert (await manager.on_signal(old, TF_MS)).reason is SkipReason.STALE
    bos = make_signal(store, "ETH/USDT", kind="BOS", close=3000, extreme=2900)
    assert (await manager.on_signal(bos, TF_MS)).kind is OutcomeKind.NOT_TRADED
    assert fake.calls("POST", "/fapi/v1/order") == []


async def test_exchange_filters_decide_size_and_skips(fake, store):
    small = await make_manager(fake, store, make_settings(fake.url, POSITION_SIZE="0.5"))
    signal = make_signal(store, "LTC/USDT", close=50, extreme=49)
    result = await small.on_signal(signal, TF_MS)   # 10 USDT < LTCUSDT's 20 USDT minimum
    assert result.size == SizeProblem(SizeLimit.BELOW_MIN_NOTIONAL, 10.0, 20.0)
    assert fake.calls("POST", "/fapi/v1/order") == []
    assert any(n["event"] == "trade_skipped" for n in notices(store))
    big = await make_manager(fake, store, make_settings(fake.url, POSITION_SIZE="200",
                                                        LEVERAGE="75"))
    signal = make_signal(store, "LTC/USDT", close=50, extreme=49, pivot_time=3)
    result = await big.on_signal(signal, TF_MS)   # 15,000 > 10,000 cap
    assert result.size == SizeProblem(SizeLimit.ABOVE_BRACKET, 15000.0, 10000.0, leverage=75)
    odd = await make_manager(fake, store, make_settings(fake.url, POSITION_SIZE="33.33"))
    fake.set_price("LTCUSDT", 51.37)
    signal = make_signal(store, "LTC/USDT", close=51.37, extreme=50.2, pivot_time=4)
    assert is_opened(await odd.on_signal(signal, TF_MS), quantity=12.976)
    assert fake.calls("POST", "/fapi/v1/order")[-1]["quantity"] == "12.976"


def test_round_trip_is_the_last_position_only_and_none_when_cut_off():
    from exchanges.ccxt_fills import round_trip as _round_trip

    def t(side, amount):
        return {"side": side, "amount": amount}
    # long 0.04 reversed into a short 0.039, which is then closed in two fills
    trades = [t("buy", 0.04), t("sell", 0.04), t("sell", 0.039), t("buy", 0.02), t("buy", 0.019)]
    entry, exits = _round_trip(trades, "buy")
    assert entry == [t("sell", 0.039)] and exits == [t("buy", 0.02), t("buy", 0.019)]
    assert _round_trip(trades[3:], "buy") is None  # the entry is outside the look-back window
