"""ccxt's unified order and trade dicts read into our values (pure)."""
from __future__ import annotations

from typing import Any

from domain.trade import Direction, OrderStatus

CcxtTrade = dict[str, Any]  # one of ccxt's unified trade dicts

# ccxt's unified order statuses; anything else (None, 'new') is an order still open.
STATUS = {"open": OrderStatus.OPEN, "closed": OrderStatus.FILLED,
          "canceled": OrderStatus.CANCELED, "expired": OrderStatus.EXPIRED,
          "rejected": OrderStatus.REJECTED}


def closing_side(direction: Direction) -> str:
    """The order side that reduces a `direction` position."""
    return "sell" if direction is Direction.LONG else "buy"


def round_trip(trades: list[CcxtTrade], close_side: str
               ) -> tuple[list[CcxtTrade], list[CcxtTrade]] | None:
    """(entry, exit) trades of the last position, walking back from the newest trade until the
    position was flat before it; None when the trades do not add up to one (e.g. cut off by the
    look-back window), so that the caller falls back to what it can still say."""
    exits: list[CcxtTrade] = []
    entry: list[CcxtTrade] = []
    net = 0.0
    for t in reversed(trades):  # ccxt returns them oldest first
        if t["side"] == close_side:
            if entry:  # an exit of an older position (one this one reversed)
                break
            exits.append(t)
        else:
            entry.append(t)
        net += float(t["amount"]) * (1 if t["side"] == close_side else -1)
        if entry and abs(net) <= 1e-9 * max(1.0, float(t["amount"])):
            return entry[::-1], exits[::-1]
    return None


def number(value: Any) -> float | None:
    """A positive float from a ccxt field, else None."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if number else None


def fees_in(trades: list[CcxtTrade], currency: str) -> float | None:
    """The trades' fees in `currency`; None if any was paid in another one (or not told)."""
    total = 0.0
    for t in trades:
        fee = t.get("fee") or {}
        if fee.get("currency") != currency or fee.get("cost") is None:
            return None
        total += float(fee["cost"])
    return total
