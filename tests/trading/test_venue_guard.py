"""The venue is read, not remembered: a position the user opened a second ago is never traded on
top of, a quantity the daemon did not fill is said at once, another daemon on the account pauses
trading, a stop cancelled by hand is announced and replaced, and the daemon's own close found
after a crash is recorded as the daemon's exit."""
from __future__ import annotations

import pytest

from domain.trade import ExitReason, OrderStatus
from exchanges.errors import Rejected
from exchanges.venue import Reason
from trading.client_ids import TAGGED, tag_of
from trading.execution import ClientIdTaken, OrderDesk
from trading.models import OrderResult
from trading.outcomes import SkipReason

from .conftest import TF_MS, is_opened, make_manager, make_signal, notices


class Killed(BaseException):
    """Stands for kill -9: nothing after it runs."""


def events(store) -> list[str]:
    return [n["event"] for n in notices(store)]


def user_order(fake, side: str, qty: str, symbol: str = "BTCUSDT") -> None:
    """A market order the account's owner sends on the web site (an id that is not ours)."""
    fake.h_post_order({"symbol": symbol, "side": side, "type": "MARKET", "quantity": qty,
                       "newClientOrderId": "web_manual"})


def daemon_orders(fake) -> list[dict]:
    return [o for o in fake.orders if o["clientOrderId"].startswith("chx")]


async def test_a_position_opened_seconds_before_the_signal_is_not_traded_on_top_of(fake, store):
    manager = await make_manager(fake, store)   # reconciled: the account was flat
    user_order(fake, "SELL", "0.002")           # the owner's short, after that snapshot
    outcome = await manager.on_signal(make_signal(store), TF_MS)
    assert outcome.reason is SkipReason.FOREIGN_POSITION
    assert daemon_orders(fake) == [] and fake.position("BTCUSDT") == -0.002
    [skip] = [n for n in notices(store) if n["event"] == "trade_skipped"]
    assert "short 0.002" in skip["text"]


async def test_a_reversal_is_not_sent_when_the_venue_holds_more_than_the_daemon_opened(fake,
                                                                                     store):
    manager = await make_manager(fake, store)
    assert is_opened(await manager.on_signal(make_signal(store), TF_MS))
    user_order(fake, "BUY", "0.01")             # the owner adds to the daemon's long
    opposite = make_signal(store, direction="bearish", close=50000, extreme=51000,
                           pivot_time=7)
    outcome = await manager.on_signal(opposite, TF_MS)
    assert outcome.reason is SkipReason.UNEXPECTED_POSITION
    assert "long 0.05" in outcome.detail and "long 0.04" in outcome.detail
    assert fake.position("BTCUSDT") == pytest.approx(0.05) and len(daemon_orders(fake)) == 1


async def test_a_fill_that_leaves_another_quantity_is_alerted_and_blocks_the_symbol(fake,
                                                                                  store):
    manager = await make_manager(fake, store)
    send = manager.broker.market_order

    async def owner_trades_first(*args, **kwargs):
        user_order(fake, "SELL", "0.002")       # between the position read and the fill
        return await send(*args, **kwargs)

    manager.broker.market_order = owner_trades_first
    assert is_opened(await manager.on_signal(make_signal(store), TF_MS), quantity=0.04)
    manager.broker.market_order = send
    assert fake.position("BTCUSDT") == pytest.approx(0.038)
    [said] = [n for n in notices(store) if n["event"] == "quantity_mismatch"]
    assert "long 0.038" in said["text"] and "long 0.04" in said["text"]
    later = make_signal(store, pivot_time=9)
    assert (await manager.on_signal(later, TF_MS)).reason is SkipReason.QUANTITY_MISMATCH
    await manager.reconcile()
    await manager.reconcile()
    assert events(store).count("quantity_mismatch") == 1   # once per figure, not per cycle
    user_order(fake, "BUY", "0.002")            # the owner takes their trade back
    await manager.reconcile()
    assert "BTC/USDT" not in manager.guard.mismatch


async def test_a_quantity_changed_outside_the_daemon_is_said_by_the_reconciliation(fake, store):
    manager = await make_manager(fake, store)
    assert is_opened(await manager.on_signal(make_signal(store), TF_MS))
    user_order(fake, "BUY", "0.002")
    await manager.reconcile()
    [said] = [n for n in notices(store) if n["event"] == "quantity_mismatch"]
    assert "long 0.042" in said["text"] and said["topic"] == "notice"


async def test_stops_targets_and_closes_carry_this_instances_tag(fake, store, fresh):
    manager = await make_manager(fake, store)
    assert is_opened(await manager.on_signal(make_signal(store), TF_MS))
    ids = [a["clientAlgoId"] for a in fake.algos]
    assert all(TAGGED.match(i) and len(i) <= 32 and tag_of(i) == manager.tag for i in ids)
    assert (await make_manager(fake, fresh, start=False)).tag != manager.tag
    assert (await make_manager(fake, store, start=False)).tag == manager.tag  # kept in the DB


async def test_another_daemons_orders_appearing_pause_trading_until_resume(fake, store, fresh):
    second = await make_manager(fake, fresh)    # running, reconciled against a flat account
    first = await make_manager(fake, store)
    assert is_opened(await first.on_signal(make_signal(store), TF_MS))
    report = await second.reconcile()
    assert len(report.other_instance) == 2 and report.adopted == ()
    assert second.paused and fresh.open_positions() == []   # never taken up as its own
    [said] = [n for n in notices(fresh) if n["event"] == "other_instance"]
    assert first.tag in said["text"] and second.tag in said["text"]
    signal = make_signal(fresh, "ETH/USDT", close=3000, extreme=2950)
    assert (await second.on_signal(signal, TF_MS)).reason is SkipReason.OTHER_INSTANCE
    second.resume()
    await second.reconcile()
    assert not second.paused                     # the same orders do not pause it again
    assert fake.calls("DELETE", "/fapi/v1/algoOrder") == []   # and none of them was touched


async def test_a_stop_cancelled_by_hand_is_announced_and_placed_again(fake, store):
    manager = await make_manager(fake, store)
    assert is_opened(await manager.on_signal(make_signal(store), TF_MS))
    [stop] = [a for a in fake.algos if a["orderType"] == "STOP_MARKET"]
    fake.h_delete_algoorder({"clientAlgoId": stop["clientAlgoId"]})   # the owner cancels it
    await manager.reconcile()
    [again] = [a for a in fake.open_algos() if a["orderType"] == "STOP_MARKET"]
    assert again["triggerPrice"] == stop["triggerPrice"]
    assert again["clientAlgoId"] != stop["clientAlgoId"]
    gone = [n for n in notices(store) if n["event"] == "protection_gone"]
    placed = [n for n in notices(store) if n["event"] == "protection_replaced"]
    assert len(gone) == 1 and "49000" in gone[0]["text"] and "stop" in gone[0]["text"]
    assert len(placed) == 1 and "49000" in placed[0]["text"]
    await manager.reconcile()
    assert events(store).count("protection_gone") == 1


async def test_the_daemons_own_close_found_after_a_crash_is_its_exit(fake, store):
    manager = await make_manager(fake, store)
    assert is_opened(await manager.on_signal(make_signal(store), TF_MS))

    async def die(*args, **kwargs):
        raise Killed()

    manager.protection._closed_by_us = die       # killed after the close filled
    with pytest.raises(Killed):
        await manager.close_position("BTC/USDT")
    assert fake.position("BTCUSDT") == 0 and store.open_positions()
    restarted = await make_manager(fake, store)  # start() reconciles
    [closed] = store.closed_positions()
    assert closed.exit_reason is ExitReason.COMMAND
    assert restarted.store.open_positions() == []


class _Broker:
    """Answers a placement with a duplicate-id refusal; the lookup finds `found`."""

    def __init__(self, found: OrderResult | None) -> None:
        self.found = found

    async def find_order(self, symbol, client_id, conditional, intent=None):
        return self.found


async def _refused_as_duplicate():
    raise Rejected("duplicate", 110072, reason=Reason.DUPLICATE_CLIENT_ID)


async def test_a_duplicate_id_on_a_stop_is_looked_up_and_never_a_rejection(store):
    mine = OrderResult("BTC/USDT", "chxzabcd" + "0" * 19 + "s", "9", OrderStatus.OPEN, 0.0,
                       None, "sell", 49000.0, "stop")
    desk = OrderDesk(store, _Broker(mine), venue="binance")
    got = await desk.place(client_id=mine.client_id, signal_id=None, symbol="BTC/USDT",
                           role="stop", side="sell", quantity=None, price=49000.0,
                           conditional=True, send=_refused_as_duplicate)
    assert got == mine and store.intent(mine.client_id).status is OrderStatus.OPEN


async def test_an_entry_id_held_before_it_was_ever_sent_is_another_daemons(store):
    theirs = OrderResult("BTC/USDT", "chx" + "1" * 24 + "e", "7", OrderStatus.FILLED, 0.04,
                         50000.0, "buy")
    desk = OrderDesk(store, _Broker(theirs), venue="binance")
    with pytest.raises(ClientIdTaken):
        await desk.place(client_id=theirs.client_id, signal_id=None, symbol="BTC/USDT",
                         role="entry", side="buy", quantity=0.04, price=50000.0,
                         conditional=False, send=_refused_as_duplicate)
    # Final: reconciliation never takes the other daemon's fill up as this signal's.
    assert store.intent(theirs.client_id).status is OrderStatus.ABANDONED
    assert store.intents(role="entry", unresolved=True) == []
