"""Sizing, stop/target levels and the daily limits: pure functions, no I/O."""
from __future__ import annotations

from decimal import ROUND_FLOOR, ROUND_HALF_UP, Decimal
from typing import Optional

from .models import LONG, MarketRules

DAY_MS = 86_400_000


def floor_to(value: float, step: float) -> float:
    """`value` floored to a multiple of `step` (decimal-exact, no 0.30000000004)."""
    s = Decimal(str(step))
    return float((Decimal(str(value)) / s).to_integral_value(ROUND_FLOOR) * s)


def round_to(value: float, tick: float) -> float:
    """`value` rounded to the nearest multiple of `tick`."""
    t = Decimal(str(tick))
    return float((Decimal(str(value)) / t).to_integral_value(ROUND_HALF_UP) * t)


def size(position_size: float, leverage: int, price: float,
         rules: MarketRules) -> tuple[Optional[float], str]:
    """(quantity, '') or (None, why the trade is skipped): margin x leverage / price, floored."""
    qty = floor_to(position_size * leverage / price, rules.step)
    notional = qty * price
    if qty < rules.min_qty:
        return None, (f"quantity {qty:g} is below the minimum {rules.min_qty:g} "
                      f"(POSITION_SIZE x LEVERAGE / price = {position_size * leverage / price:.6g})")
    if notional < rules.min_notional:
        return None, f"notional {notional:.2f} USDT is below the minimum {rules.min_notional:g}"
    if rules.max_market_qty and qty > rules.max_market_qty:
        return None, f"quantity {qty:g} is above the market maximum {rules.max_market_qty:g}"
    cap = rules.max_notional(leverage)
    if cap is not None and notional > cap:
        return None, (f"notional {notional:.2f} USDT is above the {cap:g} USDT the leverage "
                      f"bracket allows at {leverage}x")
    return qty, ""


def levels(direction: str, entry: float, extreme: float, risk_reward: float,
           tick: float) -> Optional[tuple[float, float]]:
    """(stop, target): stop at the event's extreme, target at RISK_REWARD x risk; None if the
    stop is not beyond the entry."""
    stop = round_to(extreme, tick)
    risk = entry - stop if direction == LONG else stop - entry
    if risk <= 0:
        return None
    target = entry + risk_reward * risk if direction == LONG else entry - risk_reward * risk
    target = round_to(target, tick)
    if target <= 0:
        return None
    return stop, target


def day_start(now_ms: int) -> int:
    """Start of the UTC day containing `now_ms`."""
    return now_ms - now_ms % DAY_MS


def limit_reason(opened_today: int, pnl_today: float, open_count: int, max_open: int,
                 max_trades: int, max_loss: float) -> tuple[str, bool]:
    """(why no new position may open, whether it lasts until the next UTC day); '' = allowed."""
    if max_loss > 0 and pnl_today <= -max_loss:
        return (f"daily loss limit reached: {pnl_today:.2f} USDT realised today "
                f"(MAX_DAILY_LOSS={max_loss:g}); paused until 00:00 UTC"), True
    if max_trades > 0 and opened_today >= max_trades:
        return (f"daily trade limit reached: {opened_today} positions opened today "
                f"(MAX_DAILY_TRADES={max_trades}); paused until 00:00 UTC"), True
    if open_count >= max_open:
        return f"{open_count} positions open (MAX_OPEN_POSITIONS={max_open})", False
    return "", False
