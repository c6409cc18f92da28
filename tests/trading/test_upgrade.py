"""After the upgrade that put the venue into identities: orders placed before it, under the
older client-id format ('chx' + hex + '-' + role), are still the daemon's to manage."""
from __future__ import annotations

from store import Store
from trading.client_ids import is_ours
from trading.outcomes import OutcomeKind

from .conftest import TF_MS, is_opened, make_manager, make_signal


def legacy(cid: str) -> str:
    """The id the daemon gave the same order before: a '-' before the role letter."""
    body, role = cid[:27], cid[27:]
    return f"{body}-{role}"


def as_before_the_upgrade(fake, store: Store) -> list[str]:
    """Rename every open stop/target (exchange and state DB) to the older id format."""
    renamed = []
    for algo in fake.open_algos():
        old = legacy(algo["clientAlgoId"])
        store.conn.execute("UPDATE order_intents SET client_id=? WHERE client_id=?",
                           (old, algo["clientAlgoId"]))
        algo["clientAlgoId"] = old
        renamed.append(old)
    return sorted(renamed)


async def test_a_position_protected_under_old_ids_keeps_its_orders(fake, store):
    manager = await make_manager(fake, store)
    assert is_opened(await manager.on_signal(make_signal(store), TF_MS))
    old_ids = as_before_the_upgrade(fake, store)
    assert all(is_ours(c) and "-" in c for c in old_ids)
    await manager.reconcile()
    await manager.reconcile()
    # Neither replaced (no duplicate stop) nor cancelled as someone else's.
    assert sorted(a["clientAlgoId"] for a in fake.open_algos()) == old_ids
    fake.candle("BTCUSDT", high=50100, low=48800, close=48900)  # the old stop triggers
    await manager.reconcile()
    [closed] = store.closed_positions()
    assert closed.exit_reason == "stop" and fake.open_algos() == []


async def test_a_fresh_db_adopts_a_position_protected_under_old_ids(fake, store, fresh):
    first = await make_manager(fake, store)
    assert is_opened(await first.on_signal(make_signal(store), TF_MS))
    old_ids = as_before_the_upgrade(fake, store)
    manager = await make_manager(fake, fresh)  # start() reconciles against an empty DB
    await manager.reconcile()
    pos = fresh.open_position("BTC/USDT")
    assert pos is not None and (pos.stop, pos.target) == (49000.0, 52000.0)
    assert sorted(a["clientAlgoId"] for a in fake.open_algos()) == old_ids


async def test_an_entry_sent_under_an_old_id_is_never_sent_again(fake, store):
    manager = await make_manager(fake, store)
    signal = make_signal(store)
    # Recorded (and maybe sent) just before the upgrade, the signal still pending.
    store.record_intent("chx0123456789abcdef01234567-e", signal.id, "BTC/USDT", "entry", "buy",
                        0.04, 50000.0, signal.event.confirmed_at, venue="binance")
    outcome = await manager.on_signal(signal, TF_MS)
    assert outcome.kind is OutcomeKind.ALREADY_SENT
    assert fake.calls("POST", "/fapi/v1/order") == []
