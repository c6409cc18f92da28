"""What PositionManager's mixins share, declared once so that each mixin is type-checked against
the manager it is mixed into (the attributes are set by PositionManager.__init__)."""
from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from domain.trade import Direction, ExitReason
from store import SignalRow, Store
from store.orders import PositionRow

from .execution import OrderDesk
from .models import Broker, ExchangePosition, ExitFill, OrderResult
from .outcomes import CloseOutcome, Limit, PositionDecision, ProtectionFailure, SignalOutcome
from .policy import TradingPolicy


class ManagerBase:
    """PositionManager's state and the steps one mixin calls in another (declarations only)."""

    policy: TradingPolicy
    store: Store
    broker: Broker
    desk: OrderDesk
    mode: str
    venue: str
    symbols: list[str]
    tag: str                    # this state DB's instance tag (see client_ids)
    _mismatch: dict[str, str]   # symbol -> why the venue disagrees with the DB
    _reconciled: bool           # the first reconciliation of this process has run
    _lock: asyncio.Lock

    # Declared for the type checker only: defined at run time, these stubs would shadow the
    # real steps of the mixins that come later in PositionManager's MRO.
    if TYPE_CHECKING:
        def now_ms(self) -> int: ...

        def notify(self, event: str, symbol: str | None, text: str,
                   fields: dict[str, Any] | None = None, *, dedupe: str | None = None,
                   topic: str = "trade", signal_id: int | None = None) -> None: ...

        def _skip(self, signal: SignalRow, outcome: SignalOutcome, *,
                  alert: bool = False) -> SignalOutcome: ...

        async def _opened(self, signal: SignalRow, direction: Direction, qty: float,
                          price: float) -> SignalOutcome: ...

        def _limit(self, freed: int = 0) -> Limit | None: ...

        def _announce_limit(self, limit: Limit | None) -> None: ...

        async def _protect(self, pos: PositionRow, open_ids: set[str] | None
                           ) -> ProtectionFailure | None: ...

        async def _emergency_close(self, pos: PositionRow, failure: ProtectionFailure
                                   ) -> CloseOutcome: ...

        async def _record_exit(self, pos: PositionRow) -> PositionDecision: ...

        def _compare(self, pos: PositionRow, venue: ExchangePosition | None) -> None: ...

        def _detect_other_instance(self, waiting: list[OrderResult], first: bool
                                   ) -> tuple[str, ...]: ...

        async def _exit_fill(self, pos: PositionRow) -> tuple[ExitFill | None, bool]: ...

        async def _closed(self, pos: PositionRow, price: float | None, reason: ExitReason,
                          pnl: float | None = None, fees: float | None = None, *,
                          failure: ProtectionFailure | None = None) -> CloseOutcome: ...
