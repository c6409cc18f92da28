"""Trade notices queued for the alerts outbox, and the note and notice of a skipped signal."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

import structlog

from domain.trade import TradeState
from store import SignalRow, Store

from .notices import skip_text
from .outcomes import SignalOutcome

log = structlog.get_logger(__name__)


class TradeNotifier:
    """Writes trade notices to the outbox and skip notes on signals."""

    def __init__(self, store: Store, now_ms: Callable[[], int]) -> None:
        self.store, self.now_ms = store, now_ms

    def notify(self, event: str, symbol: str | None, text: str,
               fields: dict[str, Any] | None = None, *, dedupe: str | None = None,
               topic: str = "trade",
               signal_id: int | None = None) -> None:
        """Queue a trade notice for the alerts outbox (once per dedupe key)."""
        self.store.enqueue(topic, {"event": event, "symbol": symbol, "text": text,
                                   "fields": fields or {}}, self.now_ms(), dedupe_key=dedupe,
                           signal_id=signal_id)
        log.info("trade_notice", trade_event=event, symbol=symbol, text=text)

    def skip(self, signal: SignalRow, outcome: SignalOutcome, *,
             alert: bool = False) -> SignalOutcome:
        """Record a skip (its words become the signal's trade note) and, when asked, announce it."""
        reason = skip_text(outcome)
        self.store.set_trade_state(signal.id, TradeState.SKIPPED, reason)
        log.info("signal_skipped", symbol=signal.symbol, tf=signal.timeframe, reason=reason)
        if alert:
            self.notify("trade_skipped", signal.symbol,
                        f"{signal.symbol} {signal.timeframe} {signal.event.kind} "
                        f"{signal.event.direction}: not traded, {reason}",
                        dedupe=f"skip:{signal.identity}", signal_id=signal.id)
        return outcome
