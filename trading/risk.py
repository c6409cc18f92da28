"""Sizing, stop/target levels and the daily limits: pure functions, no I/O."""
from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from domain.timeframe import DAY_MS

from .models import Direction, MarketRules
from .outcomes import Limit, LimitKind, SizeLimit, SizeProblem
from .rules import quantity


def round_to(value: float, tick: float) -> float:
    """`value` rounded to the nearest multiple of `tick`."""
    t = Decimal(str(tick))
    return float((Decimal(str(value)) / t).to_integral_value(ROUND_HALF_UP) * t)


def size(position_size: float, leverage: int, price: float,
         rules: MarketRules) -> tuple[float | None, SizeProblem | None]:
    """(quantity, None) or (None, the rule it breaks): the trade rules' quantity on the venue's
    step, then the venue's minimums, market maximum and leverage bracket."""
    wanted = quantity(position_size, leverage, price)
    qty = quantity(position_size, leverage, price, rules.step)
    notional = qty * price
    if qty < rules.min_qty:
        return None, SizeProblem(SizeLimit.BELOW_MIN_QTY, qty, rules.min_qty, wanted=wanted)
    if notional < rules.min_notional:
        return None, SizeProblem(SizeLimit.BELOW_MIN_NOTIONAL, notional, rules.min_notional)
    if rules.max_market_qty and qty > rules.max_market_qty:
        return None, SizeProblem(SizeLimit.ABOVE_MARKET_MAX, qty, rules.max_market_qty)
    cap = rules.max_notional(leverage)
    if cap is not None and notional > cap:
        return None, SizeProblem(SizeLimit.ABOVE_BRACKET, notional, cap, leverage=leverage)
    return qty, None


def levels(direction: Direction, entry: float, extreme: float, risk_reward: float,
           tick: float) -> tuple[float, float] | None:
    """(stop, target): stop at the event's extreme, target at RISK_REWARD x risk; None if the
    stop is not beyond the entry."""
    stop = round_to(extreme, tick)
    sign = 1 if direction == Direction.LONG else -1
    risk = (entry - stop) * sign
    if risk <= 0:
        return None
    target = entry + risk_reward * risk * sign
    target = round_to(target, tick)
    if target <= 0:
        return None
    return stop, target


def day_start(now_ms: int) -> int:
    """Start of the UTC day containing `now_ms`."""
    return now_ms - now_ms % DAY_MS


def limit(opened_today: int, pnl_today: float, open_count: int, max_open: int,
          max_trades: int, max_loss: float) -> Limit | None:
    """The limit that stops a new position now, or None when one may open."""
    if max_loss > 0 and pnl_today <= -max_loss:
        return Limit(LimitKind.DAILY_LOSS, pnl_today, max_loss)
    if max_trades > 0 and opened_today >= max_trades:
        return Limit(LimitKind.DAILY_TRADES, opened_today, max_trades)
    if open_count >= max_open:
        return Limit(LimitKind.MAX_OPEN, open_count, max_open)
    return None
