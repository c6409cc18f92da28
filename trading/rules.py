"""The trade rules shared by the backtest and the paper broker: pure functions, no I/O.

One signal becomes at most one position: side from the event's direction, entry at the break
candle's close worsened by slippage, stop at the event's extreme (the signal is skipped unless
the stop is beyond the slipped entry), target at risk-reward x risk, quantity = position size x
leverage / entry. On each later candle the stop is checked first (inclusive), then the target;
a candle touching both exits at the stop. Fees are charged on the entry and exit notionals.
"""
from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_FLOOR, Decimal

from domain.trade import Direction

STOP, TARGET, REVERSE, CLOSE, END = "stop", "target", "reverse", "close", "end"
EXIT_REASONS = (STOP, TARGET, REVERSE, CLOSE, END)
ON_OPPOSITE = ("reverse", "close", "ignore")


@dataclass(frozen=True)
class TradeRules:
    """The trade settings a signal is turned into a position with."""

    trade_on: frozenset[str] = frozenset({"CHOCH"})
    risk_reward: float = 2.0
    on_opposite: str = "reverse"
    fee_rate: float = 0.0005
    slippage_bps: float = 0.0
    position_size: float = 100.0
    leverage: float = 20
    step: float | None = None  # the venue's quantity step; None leaves quantities unrounded

    def __post_init__(self) -> None:
        if self.on_opposite not in ON_OPPOSITE:
            raise ValueError(f"on_opposite must be one of {ON_OPPOSITE}, got {self.on_opposite!r}")
        if not self.risk_reward > 0 or not self.position_size > 0 or not self.leverage > 0:
            raise ValueError("risk_reward, position_size and leverage must be > 0")
        if self.fee_rate < 0 or self.slippage_bps < 0:
            raise ValueError("fee_rate and slippage_bps must be >= 0")


@dataclass(frozen=True, slots=True)
class Position:
    """An open position: what was decided at entry."""

    side: str
    signal_time: int  # ms, the break candle's close time
    entry_time: int
    entry_price: float
    stop_price: float
    target_price: float
    quantity: float


@dataclass(frozen=True, slots=True)
class Trade:
    """A closed position, with the CSV's fields (times in ms)."""

    side: str
    signal_time: int
    entry_time: int
    entry_price: float
    stop_price: float
    target_price: float
    exit_time: int
    exit_price: float
    exit_reason: str
    quantity: float
    fees: float
    pnl: float


def side_of(direction: str) -> Direction:
    """bullish -> long, bearish -> short."""
    return Direction.from_event(direction)


def entry_price(close: float, side: str, slippage_bps: float) -> float:
    """The break candle's close, worsened by slippage (a long pays more, a short gets less)."""
    if side == Direction.LONG:
        return close * (1 + slippage_bps / 1e4)
    return close * (1 - slippage_bps / 1e4)


def stop_is_valid(side: str, entry: float, stop: float) -> bool:
    """True when the stop lies strictly beyond the (slipped) entry on the losing side."""
    return stop < entry if side == Direction.LONG else stop > entry


def target_price(side: str, entry: float, stop: float, risk_reward: float) -> float:
    """entry +/- risk_reward x |entry - stop|."""
    if side == Direction.LONG:
        return entry + risk_reward * abs(entry - stop)
    return entry - risk_reward * abs(entry - stop)


def floor_to(value: float, step: float) -> float:
    """`value` floored to a multiple of `step` (decimal-exact, no 0.30000000004)."""
    s = Decimal(str(step))
    return float((Decimal(str(value)) / s).to_integral_value(ROUND_FLOOR) * s)


def quantity(position_size: float, leverage: float, entry: float,
             step: float | None = None) -> float:
    """The one sizing rule of paper, live and backtest: position_size x leverage / entry,
    floored to `step` when the venue has one (decimal-exact)."""
    qty = position_size * leverage / entry
    return qty if not step else floor_to(qty, step)


def open_position(direction: str, close: float, extreme: float, close_time: int,
                  rules: TradeRules) -> Position | None:
    """The position a tradable signal opens, or None when it is skipped (stop or size invalid)."""
    side = side_of(direction)
    entry = entry_price(close, side, rules.slippage_bps)
    if not stop_is_valid(side, entry, extreme):
        return None
    qty = quantity(rules.position_size, rules.leverage, entry, rules.step)
    if not qty > 0:
        return None
    target = target_price(side, entry, extreme, rules.risk_reward)
    return Position(side, close_time, close_time, entry, extreme, target, qty)


def stop_exit_price(side: str, stop: float, open_: float, slippage_bps: float) -> float:
    """A stop fill: the stop, or the open when the candle gapped through it; then slipped."""
    if side == Direction.LONG:
        return min(stop, open_) * (1 - slippage_bps / 1e4)
    return max(stop, open_) * (1 + slippage_bps / 1e4)


def exit_on_candle(position: Position, open_: float, high: float, low: float,
                   slippage_bps: float) -> tuple[str, float] | None:
    """(reason, price) when this candle (after the entry candle) closes the position, else None.

    Stop first (a candle touching both exits at the stop); comparisons are inclusive; the target
    fills exactly at its price.
    """
    if position.side == Direction.LONG:
        if low <= position.stop_price:
            return STOP, stop_exit_price(Direction.LONG, position.stop_price, open_, slippage_bps)
        if high >= position.target_price:
            return TARGET, position.target_price
        return None
    if high >= position.stop_price:
        return STOP, stop_exit_price(Direction.SHORT, position.stop_price, open_, slippage_bps)
    if low <= position.target_price:
        return TARGET, position.target_price
    return None


def fees(fee_rate: float, entry: float, exit_: float, qty: float) -> float:
    """fee rate x (entry notional + exit notional)."""
    return fee_rate * (entry * qty + exit_ * qty)


def pnl(side: str, entry: float, exit_: float, qty: float, fee: float) -> float:
    """Signed price move x quantity - fees."""
    move = exit_ - entry if side == Direction.LONG else entry - exit_
    return move * qty - fee


def close_position(position: Position, exit_time: int, exit_price: float, reason: str,
                   fee_rate: float) -> Trade:
    """The closed trade, with fees and pnl."""
    fee = fees(fee_rate, position.entry_price, exit_price, position.quantity)
    return Trade(position.side, position.signal_time, position.entry_time, position.entry_price,
                 position.stop_price, position.target_price, exit_time, exit_price, reason,
                 position.quantity, fee,
                 pnl(position.side, position.entry_price, exit_price, position.quantity, fee))


def signal_action(open_side: str | None, side: str, on_opposite: str) -> str:
    """What a valid tradable signal does: 'open' when flat, 'ignore' for the same side, else
    the on_opposite setting ('reverse', 'close' or 'ignore')."""
    if open_side is None:
        return "open"
    if open_side == side:
        return "ignore"
    return on_opposite
