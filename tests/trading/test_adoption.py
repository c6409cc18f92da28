"""A lost or fresh state DB never strips a live position of its stop: our protected positions are
adopted, our orders are cancelled only where the exchange is flat, foreign positions left alone."""
from __future__ import annotations

from .conftest import TF_MS, is_opened, make_manager, make_signal, notices


async def opened_elsewhere(fake, store):
    """A long BTC 0.04 @ 50000 with stop 49000 / target 52000, opened by the daemon on `store`."""
    manager = await make_manager(fake, store)
    assert is_opened(await manager.on_signal(make_signal(store), TF_MS))
    return manager


def open_ids(fake):
    return sorted(a["clientAlgoId"] for a in fake.open_algos())


def by_type(fake, order_type):
    return [a for a in fake.open_algos() if a["orderType"] == order_type]


async def test_fresh_db_adopts_our_position_and_keeps_its_stop_and_target(fake, store, fresh):
    await opened_elsewhere(fake, store)
    before = open_ids(fake)
    manager = await make_manager(fake, fresh)   # start() reconciles against an empty DB
    await manager.reconcile()
    await manager.reconcile()
    assert open_ids(fake) == before and len(fake.algos) == 2
    assert fake.calls("DELETE", "/fapi/v1/algoOrder") == []
    pos = fresh.open_position("BTC/USDT")
    assert (pos.direction, pos.quantity, pos.entry_price, pos.stop, pos.target,
            pos.signal_id) == ("long", 0.04, 50000.0, 49000.0, 52000.0, None)
    [adopted] = [n for n in notices(fresh) if n["event"] == "position_adopted"]
    assert adopted["symbol"] == "BTC/USDT" and adopted["fields"]["stop"] == 49000.0
    assert not any(n["event"] == "foreign_position" for n in notices(fresh))

    fake.candle("BTCUSDT", high=50100, low=48800, close=48900)   # the kept stop triggers
    await manager.reconcile()
    [closed] = fresh.closed_positions()
    assert (closed.exit_reason, closed.exit_price) == ("stop", 49000.0)
    assert fake.open_algos() == []   # the target left behind is cancelled


async def test_two_instances_on_one_account_leave_each_others_orders_alone(fake, store, fresh):
    first = await opened_elsewhere(fake, store)
    second = await make_manager(fake, fresh)
    for _ in range(3):
        await first.reconcile()
        await second.reconcile()
    assert fake.calls("DELETE", "/fapi/v1/algoOrder") == [] and len(fake.algos) == 2
    assert len(store.open_positions()) == 1 and len(fresh.open_positions()) == 1


async def test_adopted_position_missing_its_target_gets_one_from_the_kept_stop(fake, store,
                                                                                fresh):
    await opened_elsewhere(fake, store)
    [target] = by_type(fake, "TAKE_PROFIT_MARKET")
    target["algoStatus"] = "CANCELED"   # cancelled by hand, then the DB was lost
    [stop] = by_type(fake, "STOP_MARKET")
    await make_manager(fake, fresh)
    assert by_type(fake, "STOP_MARKET") == [stop]
    [placed] = by_type(fake, "TAKE_PROFIT_MARKET")
    assert float(placed["triggerPrice"]) == 52000 and placed["clientAlgoId"] != target[
        "clientAlgoId"]
    assert fresh.open_position("BTC/USDT").target == 52000.0


async def test_adopted_position_without_a_stop_keeps_its_target_and_says_so(fake, store, fresh):
    await opened_elsewhere(fake, store)
    [stop] = by_type(fake, "STOP_MARKET")
    stop["algoStatus"] = "CANCELED"
    [target] = by_type(fake, "TAKE_PROFIT_MARKET")
    manager = await make_manager(fake, fresh)
    await manager.reconcile()
    assert fake.open_algos() == [target] and len(fake.algos) == 2   # no stop invented
    assert fake.position("BTCUSDT") == 0.04                          # and not closed either
    pos = fresh.open_position("BTC/USDT")
    assert (pos.stop, pos.target) == (None, 52000.0)
    [adopted] = [n for n in notices(fresh) if n["event"] == "position_adopted"]
    assert "NO STOP" in adopted["text"] and adopted["fields"]["stop"] is None


async def test_our_stop_on_a_flat_symbol_is_still_cancelled(fake, store, fresh):
    await opened_elsewhere(fake, store)
    fake.h_post_order({"symbol": "BTCUSDT", "side": "SELL", "type": "MARKET",
                       "quantity": "0.04", "reduceOnly": "true"})   # closed by hand: flat
    await make_manager(fake, fresh)
    assert fake.open_algos() == [] and fresh.open_positions() == []


async def test_position_without_our_ids_is_reported_foreign_and_untouched(fake, fresh):
    fake.h_post_order({"symbol": "ETHUSDT", "side": "BUY", "type": "MARKET",
                       "quantity": "0.5"})          # opened by hand, with the user's own stop
    fake.h_post_algoorder({"symbol": "ETHUSDT", "side": "SELL", "type": "STOP_MARKET",
                           "algoType": "CONDITIONAL", "triggerPrice": "2900",
                           "closePosition": "true", "clientAlgoId": "users-own"})
    manager = await make_manager(fake, fresh)
    await manager.reconcile()
    assert open_ids(fake) == ["users-own"] and fresh.open_positions() == []
    foreign = [n for n in notices(fresh) if n["event"] == "foreign_position"]
    assert [n["symbol"] for n in foreign] == ["ETH/USDT"]
    assert not any(n["event"] == "position_adopted" for n in notices(fresh))
