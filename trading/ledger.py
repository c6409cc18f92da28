"""What the state DB says about one position: its identity and its order intents."""
from __future__ import annotations

from store import Store
from store.orders import IntentRow, PositionRow

from .client_ids import TAG, new_tag

INSTANCE_TAG_KEY = "instance_tag"


def position_identity(store: Store, pos: PositionRow) -> str:
    """The idempotency key of a position's orders: its signal's identity."""
    sig = store.signal(pos.signal_id) if pos.signal_id else None
    # Without a signal (an adopted position) the opening time keeps the ids apart from those
    # of a position that had the same row id in a state DB since lost.
    return sig.identity if sig else f"position:{pos.id}:{pos.opened_at}"


def position_intents(store: Store, pos: PositionRow, role: str) -> list[IntentRow]:
    """The position's order intents of `role`, oldest first: by its signal, or for a position
    without one (adopted) by the position id written on each intent."""
    if pos.signal_id:
        return store.intents(signal_id=pos.signal_id, role=role)
    return [i for i in store.intents(role=role)
            if i.symbol == pos.symbol and i.detail.get("position_id") == pos.id]


def instance_tag(store: Store) -> str:
    """This state DB's instance tag (made on first use): what its stops, targets and closes
    carry, so that another daemon's on the same account are recognised as not ours."""
    tag = store.get(INSTANCE_TAG_KEY)
    if not isinstance(tag, str) or not TAG.match(tag):
        tag = new_tag()
        store.put(INSTANCE_TAG_KEY, tag)
    return tag
