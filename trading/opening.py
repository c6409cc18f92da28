"""A filled entry becomes a recorded position, protected at once or closed."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from domain.trade import Direction, TradeState
from store import SignalRow, Store

from . import risk
from .guard import VenueGuard
from .models import Broker
from .notices import num, opened_text
from .notifier import TradeNotifier
from .outcomes import OutcomeKind, ProtectionFailure, ProtectionProblem, SignalOutcome
from .policy import TradingPolicy
from .protection import Protection


class Opening:
    """Records the daemon's filled entries (sent now, or found by reconciliation)."""

    def __init__(self, policy: TradingPolicy, store: Store, broker: Broker,
                 notifier: TradeNotifier, protection: Protection, guard: VenueGuard, *,
                 mode: str, venue: str, now_ms: Callable[[], int]) -> None:
        self.policy, self.store, self.broker, self.notify = policy, store, broker, notifier.notify
        self.protection, self.guard = protection, guard
        self.mode, self.venue, self.now_ms = mode, venue, now_ms

    async def opened(self, signal: SignalRow, direction: Direction, qty: float,
                     price: float) -> SignalOutcome:
        """Record a filled entry and protect it at once (or close it when that is impossible)."""
        rules = self.broker.rules(signal.symbol)
        planned = risk.levels(direction, price, signal.event.extreme, self.policy.risk_reward,
                              rules.tick)
        stop, target = planned if planned else (None, None)
        pos_id = self.store.add_position(self.mode, signal.symbol, direction, qty, price, stop,
                                         target, signal.id, self.now_ms(),
                                         venue=self.venue)
        self.store.set_trade_state(signal.id, TradeState.DONE,
                                   f"{direction} {num(qty)} @ {num(price)}")
        pos = self.store.existing_position(pos_id)
        opened = SignalOutcome(OutcomeKind.OPENED, direction=direction, quantity=qty, price=price)
        self.notify("position_opened", signal.symbol,
                    opened_text(signal.symbol, opened, stop, target, signal.timeframe,
                                signal.event.kind),
                    {"quantity": qty, "entry": price, "stop": stop, "target": target,
                     "mode": self.mode}, dedupe=f"open:{pos_id}", signal_id=signal.id)
        failure = (ProtectionFailure("stop", ProtectionProblem.FILL_BEYOND_STOP, fill=price,
                                     level=signal.event.extreme) if planned is None
                   else await self.protection.protect(pos, open_ids=None))
        if failure is not None:
            await self.protection.emergency_close(pos, failure)
            return replace(opened, kind=OutcomeKind.OPENED_AND_CLOSED, failure=failure)
        await self.guard.check_after_fill(pos)  # protected first: the comparison costs a request
        return opened
