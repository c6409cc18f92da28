"""CoinDCX futures orders, positions, instruments and trades read into our values (pure).

Order fields (docs, "List Orders"): id, pair, side, status (initial on create; open,
partially_filled, filled, cancelled, partially_cancelled, rejected, untriggered), order_type
(market_order, stop_market, take_profit_market, ...), stop_price, avg_price, total_quantity,
remaining_quantity, cancelled_quantity, created_at (ms). No client order id exists.
"""
from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from .ccxt_fills import closing_side, fees_in, round_trip
from .coindcx import on_step, symbol_of
from .port import Direction, ExitFill, MarketRules, OrderIntent, OrderResult, OrderStatus

BASE = "/exchange/v1/derivatives/futures"
ORDERS = BASE + "/orders"
CREATE = ORDERS + "/create"
CANCEL = ORDERS + "/cancel"
POSITIONS = BASE + "/positions"
LEVERAGE = POSITIONS + "/update_leverage"
MARGIN_TYPE = POSITIONS + "/margin_type"
TPSL = POSITIONS + "/create_tpsl"
TRADES = BASE + "/trades"
WALLETS = BASE + "/wallets"
INSTRUMENT = BASE + "/data/instrument"
ACTIVE = BASE + "/data/active_instruments"

# The documented filter values ("initial", what Create Order answers, is not one of them).
EVERY_STATUS = "open,partially_filled,filled,cancelled,partially_cancelled,rejected"
STATUS = {"initial": OrderStatus.OPEN, "open": OrderStatus.OPEN,
          "partially_filled": OrderStatus.OPEN, "untriggered": OrderStatus.OPEN,
          "filled": OrderStatus.FILLED, "cancelled": OrderStatus.CANCELED,
          "partially_cancelled": OrderStatus.CANCELED, "rejected": OrderStatus.REJECTED}
KINDS = {"stop_market": "stop", "stop_limit": "stop", "take_profit_market": "target",
         "take_profit_limit": "target"}
LEGS = {"stop": ("stop_loss", "stop_market"), "target": ("take_profit", "take_profit_market")}
MARGIN_TYPES = {"isolated": "isolated", "cross": "crossed", "crossed": "crossed"}
# How far before the intent's time (our clock) a venue's creation time (its clock) may be and
# still be the order: the two clocks differ by NTP's error, not by seconds.
SKEW_MS = 2_000


def number(value: Any) -> float:
    try:
        out = float(value)
    except (TypeError, ValueError):
        return 0.0
    return out if math.isfinite(out) else 0.0


def filled_of(o: Mapping[str, Any]) -> float:
    """The quantity filled: total minus what is still open or was cancelled."""
    return max(0.0, number(o.get("total_quantity")) - number(o.get("remaining_quantity"))
               - number(o.get("cancelled_quantity")))


def order_result(o: Mapping[str, Any], client_id: str = "") -> OrderResult:
    """One CoinDCX order as ours (a TP/SL order as a stop or target with its trigger)."""
    kind = KINDS.get(str(o.get("order_type")))
    status = STATUS.get(str(o.get("status")), OrderStatus.OPEN)
    filled = filled_of(o)
    if status is OrderStatus.CANCELED and filled > 0 and not number(o.get("remaining_quantity")):
        status = OrderStatus.FILLED  # partially_cancelled after a fill: what filled stays
    return OrderResult(symbol_of(str(o.get("pair"))) or str(o.get("pair")), client_id,
                       str(o["id"]) if o.get("id") is not None else None, status, filled,
                       number(o.get("avg_price")) or None, o.get("side"),
                       number(o.get("stop_price")) or None if kind else None, kind)


def matches_intent(o: Mapping[str, Any], intent: OrderIntent, pair: str, step: float) -> bool:
    """True when a listed market order can be the one `intent` sent: its pair, side and
    quantity, created after the intent was written (within the clocks' skew)."""
    if o.get("pair") != pair or o.get("side") != intent.side or KINDS.get(
            str(o.get("order_type"))) is not None:
        return False
    if intent.quantity is not None and abs(number(o.get("total_quantity")) - intent.quantity) \
            > max(step / 2, 1e-9 * intent.quantity):
        return False
    return number(o.get("created_at")) >= intent.created_ms - SKEW_MS


def same_trigger(a: float | None, b: float | None) -> bool:
    return a is not None and b is not None and math.isclose(a, b, rel_tol=1e-9)


def rules_of(symbol: str, instrument: Mapping[str, Any]) -> MarketRules:
    """Steps, minimums, tick and leverage brackets of one instrument (coins: contract size 1).

    dynamic_position_leverage_details maps a leverage to the largest position (USDT) allowed
    at it: {"5": 15000000.0, "20": 100000.0, ...}."""
    step = number(instrument.get("quantity_increment"))
    tiers = instrument.get("dynamic_position_leverage_details") or {}
    brackets = tuple(sorted((number(cap), number(lev)) for lev, cap in tiers.items()))
    market_max = number(instrument.get("max_market_order_quantity"))
    return MarketRules(
        symbol=symbol, step=step,
        min_qty=max(number(instrument.get("min_quantity")),
                    number(instrument.get("min_trade_size"))),
        min_notional=number(instrument.get("min_notional")),
        tick=number(instrument.get("price_increment")),
        max_market_qty=market_max or None, brackets=brackets)


def quantity_text(quantity: float, step: float) -> float:
    """The quantity as sent: a multiple of the step without float noise."""
    return on_step(quantity, step)


def ccxt_like_trades(rows: list[Mapping[str, Any]], since_ms: int) -> list[dict[str, Any]]:
    """Fills since `since_ms`, oldest first, in the shape exchanges.ccxt_fills reads."""
    out = [{"side": r.get("side"), "price": number(r.get("price")),
            "amount": number(r.get("quantity")), "timestamp": int(number(r.get("timestamp"))),
            "fee": {"cost": number(r.get("fee_amount")), "currency": "USDT"}}
           for r in rows if number(r.get("timestamp")) >= since_ms]
    return sorted(out, key=lambda t: t["timestamp"])


def exit_fill(trades: list[dict[str, Any]], direction: Direction) -> ExitFill | None:
    """Price, PnL (from the entry's average) and fees of the fills that closed a position."""
    close_side = closing_side(direction)
    trip = round_trip(trades, close_side)
    closing = trip[1] if trip else [t for t in trades if t["side"] == close_side]
    qty = sum(t["amount"] for t in closing)
    if not qty:
        return None
    price = sum(t["price"] * t["amount"] for t in closing) / qty
    entry = trip[0] if trip else []
    entry_qty = sum(t["amount"] for t in entry)
    pnl = ((price - sum(t["price"] * t["amount"] for t in entry) / entry_qty) * qty
           * direction.sign) if entry_qty else 0.0
    return ExitFill(price, qty, pnl, fees_in(entry + closing, "USDT") if trip else None)
