"""Trading's words: the texts of notices, command replies and logs, made from outcome values."""
from __future__ import annotations

from decimal import Decimal

from domain.trade import ExitReason

from .models import ExchangePosition
from .outcomes import (
    CloseKind,
    CloseOutcome,
    Limit,
    LimitKind,
    OutcomeKind,
    ProtectionFailure,
    ProtectionProblem,
    SignalOutcome,
    SizeLimit,
    SizeProblem,
    SkipReason,
)


def num(value: float | None) -> str:
    """A price or quantity as stored, in full: `:g` would cut 104523.5 to 104524."""
    if value is None:
        return "unknown"
    text = format(Decimal(repr(float(value))), "f")
    return text[:-2] if text.endswith(".0") else text


_SKIPS = {
    SkipReason.STALE: "older than one candle",
    SkipReason.PAUSED: "trading paused by command",
    SkipReason.SAME_DIRECTION: "a same-direction position is already open",
    SkipReason.OPPOSITE_IGNORED: "opposite position open (ON_OPPOSITE=ignore)",
    SkipReason.NOT_PREPARED: "symbol not prepared for trading",
    SkipReason.ENTRY_NEVER_ARRIVED: "entry never reached the exchange",
    SkipReason.OTHER_INSTANCE: ("another trading daemon uses this account; trading is paused "
                                "until /resume"),
}


def limit_text(limit: Limit) -> str:
    """Why no new position may open, naming the setting."""
    if limit.kind is LimitKind.DAILY_LOSS:
        return (f"daily loss limit reached: {limit.value:.2f} USDT realised today "
                f"(MAX_DAILY_LOSS={num(limit.cap)}); paused until 00:00 UTC")
    if limit.kind is LimitKind.DAILY_TRADES:
        return (f"daily trade limit reached: {num(limit.value)} positions opened today "
                f"(MAX_DAILY_TRADES={num(limit.cap)}); paused until 00:00 UTC")
    return f"{num(limit.value)} positions open (MAX_OPEN_POSITIONS={num(limit.cap)})"


def size_text(p: SizeProblem) -> str:
    """Which exchange rule the position size breaks, with the numbers."""
    if p.kind is SizeLimit.BELOW_MIN_QTY:
        return (f"quantity {num(p.value)} is below the minimum {num(p.bound)} "
                f"(POSITION_SIZE x LEVERAGE / price = {p.wanted or 0:.6g})")
    if p.kind is SizeLimit.BELOW_MIN_NOTIONAL:
        return f"notional {p.value:.2f} USDT is below the minimum {num(p.bound)}"
    if p.kind is SizeLimit.ABOVE_MARKET_MAX:
        return f"quantity {num(p.value)} is above the market maximum {num(p.bound)}"
    return (f"notional {p.value:.2f} USDT is above the {num(p.bound)} USDT the leverage "
            f"bracket allows at {p.leverage}x")


def protection_text(f: ProtectionFailure) -> str:
    """What went wrong with a stop or target."""
    if f.problem is ProtectionProblem.FILL_BEYOND_STOP:
        return f"filled at {num(f.fill)}, already beyond the stop {num(f.level)}"
    if f.problem is ProtectionProblem.REJECTED:
        return f"{f.role} rejected: {f.detail}"
    return f"{f.role} could not be placed: {f.detail}"


def exit_text(reason: ExitReason, failure: ProtectionFailure | None = None) -> str:
    """Why a position was closed, in words."""
    return f"{reason}: {protection_text(failure)}" if failure is not None else str(reason)


def close_text(c: CloseOutcome, failure: ProtectionFailure | None = None) -> str:
    """A close attempt in one line (the /close reply and the position_closed notice)."""
    if c.kind is CloseKind.NO_POSITION:
        return f"no position opened by the daemon on {c.symbol}"
    if c.kind is CloseKind.UNRESOLVED:
        return f"close unresolved: {c.detail}"
    if c.kind is CloseKind.FAILED:
        return f"close failed: {c.detail}"
    why = exit_text(c.reason or ExitReason.OUTSIDE, failure)
    if not c.price:
        return f"Closed {c.symbol} ({why})"
    # Without the commissions (paper, a fee paid in BNB, trades not visible) say so.
    after = f"after {c.fees:.2f} USDT fees" if c.fees is not None else "before fees"
    direction = str(c.direction or "").upper()
    return (f"Closed {direction} {c.symbol} @ {num(c.price)}: PnL {c.pnl or 0:+.2f} USDT "
            f"{after} ({why})")


def skip_text(o: SignalOutcome) -> str:
    """Why a signal was skipped (also its trade note)."""
    r = o.reason
    if r in _SKIPS:
        return _SKIPS[r]
    if r is SkipReason.LIMIT and o.limit is not None:
        return limit_text(o.limit)
    if r is SkipReason.SIZE and o.size is not None:
        return size_text(o.size)
    if r is SkipReason.STOP_NOT_BEYOND_ENTRY:
        return f"stop {num(o.stop)} is not beyond the entry {num(o.price)}"
    if r is SkipReason.ENTRY_REJECTED:
        return f"entry rejected by the exchange: {o.detail}"
    if r is SkipReason.FOREIGN_POSITION:
        return f"{o.detail or 'a position not opened by the daemon is open on the symbol'}; " \
            "not traded on top of it"
    if r in (SkipReason.UNEXPECTED_POSITION, SkipReason.QUANTITY_MISMATCH):
        return f"{o.detail}; not traded on top of it"
    if r is SkipReason.TRADING_UNAVAILABLE:
        return f"trading unavailable ({o.detail}); the venue is retried in the background"
    if r is SkipReason.POSITION_UNREADABLE:
        return f"the venue's position could not be read before the entry ({o.detail})"
    if r is SkipReason.ENTRY_NOT_FILLED:
        return f"entry {o.status} by the exchange without a fill"
    closed = close_text(o.close) if o.close is not None else o.detail
    if r is SkipReason.OPPOSITE_CLOSED:
        return f"opposite position: {closed} (ON_OPPOSITE=close)"
    return f"could not close the opposite position: {closed}"


def outcome_text(o: SignalOutcome) -> str:
    """What on_signal did, in one line (logs and benches)."""
    if o.kind is OutcomeKind.SKIPPED:
        return f"skipped: {skip_text(o)}"
    if o.kind is OutcomeKind.OPENED:
        return f"opened {o.direction} {num(o.quantity)} @ {num(o.price)}"
    if o.kind is OutcomeKind.OPENED_AND_CLOSED and o.failure is not None:
        return f"opened and closed: {protection_text(o.failure)}"
    if o.kind is OutcomeKind.ALREADY_HANDLED:
        return f"already handled: {o.state}"
    if o.kind is OutcomeKind.ALREADY_SENT:
        return "entry already sent; reconciliation resolves it"
    if o.kind is OutcomeKind.NOT_TRADED:
        return "not traded: kind"
    if o.kind is OutcomeKind.NOT_FILLED:
        return f"entry {o.status}"
    return "entry unresolved"


def opened_text(symbol: str, o: SignalOutcome, stop: float | None, target: float | None,
                timeframe: str, kind: str) -> str:
    """The position_opened notice."""
    return (f"Opened {str(o.direction).upper()} {symbol} {num(o.quantity)} @ "
            f"{num(o.price)} (stop {stop}, target {target}) on {timeframe} {kind}")


def adopted_text(ex: ExchangePosition, stop: float | None, target: float | None,
                 kept: list[str], target_kept: bool) -> str:
    """The position_adopted notice: what was kept, what is placed, what is missing."""
    text = (f"{ex.symbol}: a {ex.direction} position of {num(ex.quantity)} @ "
            f"{num(ex.entry_price)} carrying the daemon's own {' and '.join(kept)} was "
            f"missing from its database; adopted and managed again (stop {stop}, target {target})")
    if stop is None:
        return text + (". NO STOP: its stop order is gone and no stop price is known, so none "
                       "was placed; set one on the exchange or /close it")
    if not target_kept:
        return text + (f"; the missing target is placed at {target}" if target else
                       "; no target could be derived, the stop alone protects it")
    return text


def foreign_text(p: ExchangePosition) -> str:
    """The foreign_position notice."""
    return (f"{p.symbol}: a {p.direction} position of {num(p.quantity)} @ "
            f"{num(p.entry_price)} was not opened by the daemon; left alone")


def position_words(p: ExchangePosition | None) -> str:
    """A venue's position in a few words ('flat' when there is none)."""
    return "flat" if p is None else f"{p.direction} {num(p.quantity)}"


def unexpected_text(venue: ExchangePosition | None, ours: str | None) -> str:
    """What the venue holds against what the daemon's record says (`ours`, None when none)."""
    if ours is None:
        return (f"the venue holds a {position_words(venue)} position the daemon did not open "
                "(opened by hand or by another program)")
    return f"the venue holds {position_words(venue)} where the daemon's record is {ours}"


def mismatch_text(symbol: str, venue: ExchangePosition | None, ours: str) -> str:
    """The quantity_mismatch notice: never absorbed silently into the stop and target."""
    return (f"{symbol}: the venue holds {position_words(venue)}, the daemon opened {ours}. "
            "Someone else traded this symbol (by hand, or another daemon): the daemon's stop "
            "and target act on the venue's whole position, and no new signal is traded on "
            f"{symbol} until both agree again. Check the position on the venue")


def other_instance_text(evidence: str, tag: str) -> str:
    """The other_instance notice."""
    return (f"Another trading daemon is using this account: {evidence}. This daemon's instance "
            f"tag is {tag}. Trading is PAUSED (open positions stay protected): stop the other "
            "daemon, then send /resume")


def trading_unavailable_text(reason: str) -> str:
    """The trading_unavailable notice: sent once, when the first start of the venue fails."""
    return (f"Trading unavailable: {reason}, retrying in background. Signals are still "
            "recorded and alerted; their trades are skipped until trading is available again")


def trading_available_text() -> str:
    """The trading_available notice: the venue started after failing to."""
    return "Trading available again: new signals are traded"


def protection_gone_text(symbol: str, kind: str, level: float, status: str) -> str:
    """The protection_gone notice: a stop or target the daemon placed is no longer waiting."""
    return (f"{symbol}: the daemon's {kind} at {num(level)} is no longer on the venue "
            f"({status}: cancelled outside the daemon?); placing it again")


def protection_replaced_text(symbol: str, kind: str, level: float) -> str:
    """The protection_replaced notice."""
    return f"{symbol}: {kind} placed again at {num(level)}"
