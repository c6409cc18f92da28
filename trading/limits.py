"""The risk limits that stop a new position, read from the state DB, and their notice."""
from __future__ import annotations

from collections.abc import Callable

from store import Store

from . import risk
from .notices import limit_text
from .notifier import TradeNotifier
from .outcomes import Limit
from .policy import TradingPolicy


class RiskLimits:
    """Open positions, trades and loss of the day against the policy's limits."""

    def __init__(self, policy: TradingPolicy, store: Store, notifier: TradeNotifier, *,
                 mode: str, venue: str, now_ms: Callable[[], int]) -> None:
        self.policy, self.store, self.notify = policy, store, notifier.notify
        self.mode, self.venue, self.now_ms = mode, venue, now_ms

    def reached(self, freed: int = 0) -> Limit | None:
        """The risk limit that stops a new position now, or None.

        `freed`: positions about to be closed first (a reversal)."""
        opened, pnl = self.store.day_stats(self.mode, risk.day_start(self.now_ms()))
        held = len(self.store.open_positions(self.mode, self.venue))
        return risk.limit(opened, pnl, held - freed,
                          self.policy.max_open_positions, self.policy.max_daily_trades,
                          self.policy.max_daily_loss)

    def announce(self, limit: Limit | None) -> None:
        """A daily limit pauses trading until 00:00 UTC: said once per mode and day."""
        if limit is None or not limit.daily:
            return
        day = risk.day_start(self.now_ms())
        self.notify("trading_paused", None, f"Trading paused: {limit_text(limit)}",
                    dedupe=f"daily_limit:{self.mode}:{day}", topic="notice")
