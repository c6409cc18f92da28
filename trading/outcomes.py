"""What trading decided, as values: the manager and reconciliation return these, notices.py
turns them into words."""
from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from domain.trade import Direction, ExitReason, OrderStatus, TradeState


class OutcomeKind(StrEnum):
    """What `PositionManager.on_signal` did with a signal."""

    OPENED = "opened"                        # filled and protected
    OPENED_AND_CLOSED = "opened_and_closed"  # filled, protection impossible, closed at once
    SKIPPED = "skipped"                      # refused: see the SkipReason
    NOT_TRADED = "not_traded"                # a kind not in TRADE_ON
    ALREADY_HANDLED = "already_handled"      # decided before (state in `state`)
    ALREADY_SENT = "already_sent"            # its entry was sent before: reconciliation decides
    UNRESOLVED = "unresolved"                # the entry's fate is unknown: asked every cycle
    NOT_FILLED = "not_filled"                # acknowledged, not filled yet (status in `status`)


class SkipReason(StrEnum):
    """Why a signal was not traded."""

    STALE = "stale"                                  # older than one candle
    PAUSED = "paused"                                # /pause
    FOREIGN_POSITION = "foreign_position"            # a position the daemon did not open
    SAME_DIRECTION = "same_direction"
    OPPOSITE_IGNORED = "opposite_ignored"            # ON_OPPOSITE=ignore
    OPPOSITE_CLOSED = "opposite_closed"              # ON_OPPOSITE=close
    LIMIT = "limit"                                  # see `limit`
    NOT_PREPARED = "not_prepared"                    # no market rules for the symbol
    STOP_NOT_BEYOND_ENTRY = "stop_not_beyond_entry"
    SIZE = "size"                                    # see `size`
    ENTRY_REJECTED = "entry_rejected"                # the exchange refused the entry
    ENTRY_NOT_FILLED = "entry_not_filled"            # canceled/expired without a fill
    ENTRY_NEVER_ARRIVED = "entry_never_arrived"      # the exchange never got it
    OPPOSITE_NOT_CLOSED = "opposite_not_closed"      # a reversal whose close failed
    UNEXPECTED_POSITION = "unexpected_position"      # the venue holds what the DB does not say
    POSITION_UNREADABLE = "position_unreadable"      # the venue's position could not be read
    QUANTITY_MISMATCH = "quantity_mismatch"          # venue and DB disagree on the symbol
    OTHER_INSTANCE = "other_instance"                # another daemon trades on the account
    TRADING_UNAVAILABLE = "trading_unavailable"      # the venue's start failed: retried meanwhile


class LimitKind(StrEnum):
    """Which risk limit stops new positions."""

    DAILY_LOSS = "daily_loss"
    DAILY_TRADES = "daily_trades"
    MAX_OPEN = "max_open"


@dataclass(frozen=True)
class Limit:
    """A reached limit: `value` (today's PnL, trades opened, positions open) against `cap`."""

    kind: LimitKind
    value: float
    cap: float

    @property
    def daily(self) -> bool:
        """True when it lasts until the next UTC day."""
        return self.kind is not LimitKind.MAX_OPEN


class SizeLimit(StrEnum):
    """Which exchange rule a position size breaks."""

    BELOW_MIN_QTY = "below_min_qty"
    BELOW_MIN_NOTIONAL = "below_min_notional"
    ABOVE_MARKET_MAX = "above_market_max"
    ABOVE_BRACKET = "above_bracket"


@dataclass(frozen=True)
class SizeProblem:
    """A size the exchange would refuse: `value` (quantity or notional) against `bound`."""

    kind: SizeLimit
    value: float
    bound: float
    wanted: float | None = None    # the unfloored quantity (BELOW_MIN_QTY)
    leverage: int | None = None    # ABOVE_BRACKET


class ProtectionProblem(StrEnum):
    """Why a position's stop or target is not on the exchange."""

    REJECTED = "rejected"                   # refused: the position must not stay open
    UNPLACED = "unplaced"                   # the exchange could not be asked: retried
    FILL_BEYOND_STOP = "fill_beyond_stop"   # the entry filled past its own stop


@dataclass(frozen=True)
class ProtectionFailure:
    """A stop or target (`role`) that could not be placed, and why."""

    role: str                     # stop | target
    problem: ProtectionProblem
    detail: str = ""              # the exchange's words
    fill: float | None = None  # FILL_BEYOND_STOP: the entry price
    level: float | None = None  # FILL_BEYOND_STOP: the stop

    @property
    def must_close(self) -> bool:
        """True when retrying cannot help: the position is closed instead of left naked."""
        return self.problem is not ProtectionProblem.UNPLACED


class CloseKind(StrEnum):
    """What a close attempt came to."""

    CLOSED = "closed"
    UNRESOLVED = "unresolved"   # an earlier close could not be looked up
    FAILED = "failed"           # refused or unanswered: retried on the next cycle
    NO_POSITION = "no_position"


@dataclass(frozen=True)
class CloseOutcome:
    """A position closed (with its exit) or not (with the exchange's words in `detail`)."""

    kind: CloseKind
    symbol: str
    reason: ExitReason | None = None
    direction: Direction | None = None
    price: float | None = None
    pnl: float | None = None      # net of `fees` when they are known
    fees: float | None = None
    detail: str = ""


@dataclass(frozen=True)
class SignalOutcome:
    """What on_signal did: the kind, and for a skip its reason with the values behind it."""

    kind: OutcomeKind
    reason: SkipReason | None = None
    detail: str = ""                          # the exchange's words, when it gave some
    direction: Direction | None = None
    quantity: float | None = None
    price: float | None = None
    state: TradeState | None = None        # ALREADY_HANDLED
    status: OrderStatus | None = None      # NOT_FILLED / ENTRY_NOT_FILLED: the entry's
    limit: Limit | None = None
    size: SizeProblem | None = None
    stop: float | None = None              # STOP_NOT_BEYOND_ENTRY
    close: CloseOutcome | None = None      # OPPOSITE_CLOSED / OPPOSITE_NOT_CLOSED
    failure: ProtectionFailure | None = None  # OPENED_AND_CLOSED

    @classmethod
    def skipped(cls, reason: SkipReason, **values) -> SignalOutcome:
        """A skip for `reason`."""
        return cls(OutcomeKind.SKIPPED, reason, **values)


class EntryDecision(StrEnum):
    """What reconciliation decided about one entry sent without a clear answer."""

    WAITING = "waiting"                # not seen yet, within its grace period
    ABANDONED = "abandoned"            # never reached the exchange
    NOT_FILLED = "not_filled"          # canceled/expired/rejected without a fill: skipped
    STILL_OPEN = "still_open"          # still open on the exchange: asked again next cycle
    ALREADY_RECORDED = "already_recorded"
    FILLED_BUT_FLAT = "filled_but_flat"  # filled and already closed again
    ADOPTED = "adopted"                # filled: recorded and protected now
    NO_ANSWER = "no_answer"            # the exchange could not be asked
    NO_SIGNAL = "no_signal"            # an entry without its signal row: nothing to open


class PositionDecision(StrEnum):
    """What reconciliation decided about one open position of the daemon."""

    PROTECTED = "protected"
    EXIT_RECORDED = "exit_recorded"
    EXIT_UNKNOWN = "exit_unknown"            # the exchange is flat, its trades not readable yet
    EMERGENCY_CLOSED = "emergency_closed"    # protection refused: closed
    PROTECTION_MISSING = "protection_missing"  # not placed yet: retried every cycle


@dataclass(frozen=True)
class ReconcileReport:
    """Every decision of one reconciliation, by entry client id and by symbol."""

    skipped: bool = False  # the exchange could not be read: nothing was decided
    entries: dict[str, EntryDecision] = field(default_factory=dict)
    positions: dict[str, PositionDecision] = field(default_factory=dict)
    adopted: tuple[str, ...] = ()
    foreign: tuple[str, ...] = ()
    orphans_canceled: tuple[str, ...] = ()
    other_instance: tuple[str, ...] = ()  # another daemon's orders that appeared
