"""What a trade is and where it stands: the value types every layer shares (pure, stdlib only)."""
from __future__ import annotations

from enum import StrEnum

BULLISH = "bullish"  # the detector's word for an up-break (choch.event spells it the same)


class OrderStatus(StrEnum):
    """Where an order (and the intent written before it) stands; stored as its value."""

    INTENDED = "intended"    # written, not sent yet
    SENT = "sent"            # sent, no answer yet
    UNKNOWN = "unknown"      # the exchange could not be asked; reconciliation asks again
    OPEN = "open"
    FILLED = "filled"
    CANCELED = "canceled"
    EXPIRED = "expired"
    REJECTED = "rejected"
    ABANDONED = "abandoned"  # never reached the exchange, and never will be sent

    @classmethod
    def parse(cls, text: str) -> OrderStatus:
        """A stored status, reading the older spelling 'cancelled' as CANCELED."""
        return cls.CANCELED if text == "cancelled" else cls(text)

    @property
    def final(self) -> bool:
        """True when nothing more will happen to the order."""
        return self in FINAL_INTENT


# Intent statuses after which nothing more will happen to the order.
FINAL_INTENT = frozenset({OrderStatus.FILLED, OrderStatus.REJECTED, OrderStatus.CANCELED,
                          OrderStatus.EXPIRED, OrderStatus.ABANDONED})


class Direction(StrEnum):
    """A position's side in one-way mode."""

    LONG = "long"
    SHORT = "short"

    @classmethod
    def from_event(cls, event_direction: str) -> Direction:
        """A bullish event opens a long, a bearish one a short."""
        return cls.LONG if event_direction == BULLISH else cls.SHORT

    @property
    def sign(self) -> int:
        """+1 for a long, -1 for a short (PnL = (exit - entry) x quantity x sign)."""
        return 1 if self is Direction.LONG else -1


class ExitReason(StrEnum):
    """Why a position was closed; stored as its value."""

    STOP = "stop"
    TARGET = "target"
    OUTSIDE = "closed outside the daemon"
    OPPOSITE = "opposite signal"
    COMMAND = "closed by command"
    PROTECTION_FAILED = "protection failed"

    @classmethod
    def parse(cls, text: str) -> ExitReason:
        """A stored reason; older rows carried the failure after 'protection failed: '."""
        if text.startswith(cls.PROTECTION_FAILED.value):
            return cls.PROTECTION_FAILED
        return cls(text)


class TradeState(StrEnum):
    """What trading did with a signal; stored as its value."""

    PENDING = "pending"        # to trade
    NOT_TRADED = "not_traded"  # never meant to be traded (too old, a kind not in TRADE_ON)
    SKIPPED = "skipped"        # meant to be traded, refused (see the note)
    UNRESOLVED = "unresolved"  # the entry was sent, its outcome is being asked for
    DONE = "done"              # the entry filled
