"""Stops, targets and closes of the daemon's positions."""
from __future__ import annotations

from collections.abc import Callable

import structlog

from domain.trade import ExitReason, OrderStatus
from exchanges.errors import PermanentExchangeError, TransientExchangeError
from store import Store
from store.orders import PositionRow

from .client_ids import client_id
from .execution import OrderDesk, OrderUnresolved
from .guard import VenueGuard
from .ledger import position_identity, position_intents
from .limits import RiskLimits
from .models import Broker, ExitFill, side_for
from .notices import (
    close_text,
    exit_text,
    protection_gone_text,
    protection_replaced_text,
    protection_text,
)
from .notifier import TradeNotifier
from .outcomes import CloseKind, CloseOutcome, ProtectionFailure, ProtectionProblem

log = structlog.get_logger(__name__)

# A close intent in one of these will not fill any more: an earlier close worth asking about
# is one in any other status.
_CLOSE_SETTLED = (OrderStatus.FILLED, OrderStatus.REJECTED, OrderStatus.ABANDONED)


def short(err: Exception) -> str:
    """An exception's words, cut for a notice."""
    return str(err)[:160]


class Protection:
    """Places and replaces the stop and target of a position; closes positions and records
    their exits."""

    def __init__(self, store: Store, broker: Broker, desk: OrderDesk, notifier: TradeNotifier,
                 limits: RiskLimits, guard: VenueGuard, *, tag: str,
                 now_ms: Callable[[], int]) -> None:
        self.store, self.broker, self.desk, self.notify = store, broker, desk, notifier.notify
        self.limits, self.guard, self.tag, self.now_ms = limits, guard, tag, now_ms

    async def protect(self, pos: PositionRow, open_ids: set[str] | None
                       ) -> ProtectionFailure | None:
        """Make sure the stop and the target are on the exchange; None, or what went wrong."""
        for kind, level in (("stop", pos.stop), ("target", pos.target)):
            if level is None:  # adopted without a known level: announced then, never invented
                continue
            try:
                await self._ensure(pos, kind, level, open_ids)
            except PermanentExchangeError as err:
                return ProtectionFailure(kind, ProtectionProblem.REJECTED, short(err))
            except OrderUnresolved as err:
                return ProtectionFailure(kind, ProtectionProblem.UNPLACED, short(err))
        return None

    async def _ensure(self, pos: PositionRow, kind: str, level: float,
                      open_ids: set[str] | None) -> None:
        """Place one protective order unless the venue already holds it; one the daemon had
        placed and that is gone (cancelled by hand, expired) is announced, then replaced."""
        intents = position_intents(self.store, pos, kind)
        identity = position_identity(self.store, pos)
        room = self.broker.client_id_room
        gen, cid, gone = 0, client_id(identity, kind, tag=self.tag, room=room), None
        if intents:
            cur = intents[-1]
            gen, cid = len(intents) - 1, cur.client_id
            if open_ids is not None and cid in open_ids:
                return
            found = await self.desk.lookup(pos.symbol, cid, conditional=True)
            if found is not None and found.status == OrderStatus.OPEN:
                return
            if found is not None or cur.status == OrderStatus.OPEN:
                # Triggered, cancelled, or no longer known where it was seen waiting: a fresh
                # id, since some venues refuse an id that was ever used.
                gone = found.status if found is not None else "not found"
                gen += 1
                cid = client_id(identity, kind, gen, tag=self.tag, room=room)
        if gone is not None:
            log.warning("protection_gone", symbol=pos.symbol, kind=kind, price_level=level,
                        status=str(gone))
            self.notify("protection_gone", pos.symbol,
                        protection_gone_text(pos.symbol, kind, level, str(gone)),
                        dedupe=f"gone:{intents[-1].client_id}", topic="notice")
        side = side_for(pos.direction, closing=True)
        await self.desk.place(
            client_id=cid, signal_id=pos.signal_id, symbol=pos.symbol, role=kind, side=side,
            quantity=None, price=level, conditional=True,
            send=lambda: self.broker.protective_order(pos.symbol, side, kind, level, cid),
            detail={"position_id": pos.id})
        log.info("protection_placed", symbol=pos.symbol, kind=kind, price_level=level,
                 client_id=cid)
        if gone is not None:
            self.notify("protection_replaced", pos.symbol,
                        protection_replaced_text(pos.symbol, kind, level),
                        dedupe=f"replaced:{cid}", topic="notice")

    async def emergency_close(self, pos: PositionRow, failure: ProtectionFailure
                               ) -> CloseOutcome:
        """Protection could not be placed: close at once and say so loudly."""
        outcome = await self.close(pos, ExitReason.PROTECTION_FAILED, failure)
        self.notify("protection_failed", pos.symbol,
                    f"{pos.symbol}: protection could not be placed "
                    f"({protection_text(failure)}); {close_text(outcome, failure)}",
                    dedupe=f"protfail:{pos.id}", topic="notice")
        return outcome

    async def close(self, pos: PositionRow, reason: ExitReason,
                    failure: ProtectionFailure | None = None) -> CloseOutcome:
        """Reduce-only market close of our position, then cancel its stop/target."""
        closes = position_intents(self.store, pos, "close")
        for prior in closes:  # an earlier close that may have gone through: ask first
            if prior.status not in _CLOSE_SETTLED:
                try:
                    found = await self.desk.lookup(pos.symbol, prior.client_id, False)
                except OrderUnresolved as err:
                    return CloseOutcome(CloseKind.UNRESOLVED, pos.symbol, reason,
                                        detail=short(err))
                if found is not None and found.status == OrderStatus.FILLED:
                    return await self._closed_by_us(pos, found.average, reason, failure)
        cid = client_id(position_identity(self.store, pos), "close", len(closes), tag=self.tag,
                        room=self.broker.client_id_room)
        side = side_for(pos.direction, closing=True)
        try:
            res = await self.desk.place(
                client_id=cid, signal_id=pos.signal_id, symbol=pos.symbol, role="close",
                side=side, quantity=pos.quantity, price=None, conditional=False,
                send=lambda: self.broker.market_order(pos.symbol, side, pos.quantity, cid,
                                                      reduce_only=True),
                detail={"position_id": pos.id, "reason": reason.value})
        except (PermanentExchangeError, OrderUnresolved) as err:
            self.notify("close_failed", pos.symbol, f"{pos.symbol}: closing FAILED "
                        f"({short(err)}); retrying on the next cycle", topic="notice",
                        dedupe=f"closefail:{cid}")
            return CloseOutcome(CloseKind.FAILED, pos.symbol, reason, detail=short(err))
        return await self._closed_by_us(pos, res.average, reason, failure)

    async def _closed_by_us(self, pos: PositionRow, average: float | None,
                            reason: ExitReason, failure: ProtectionFailure | None
                            ) -> CloseOutcome:
        """Our close filled: record it with the exchange's own PnL and fees when it has them."""
        fill, _ = await self.exit_fill(pos)
        if fill is None:
            return await self.closed(pos, average, reason, failure=failure)
        return await self.closed(pos, average or fill.price, reason, fill.pnl, fill.fees,
                                 failure=failure)

    async def exit_fill(self, pos: PositionRow) -> tuple[ExitFill | None, bool]:
        """(the exchange's trades that closed `pos`, or None if none are seen; whether the
        exchange answered at all)."""
        try:
            fill = await self.broker.closing_fill(pos.symbol, pos.direction,
                                                  pos.opened_at - 60_000)
        except (TransientExchangeError, PermanentExchangeError) as err:
            log.warning("exit_lookup_failed", symbol=pos.symbol, error=str(err)[:200])
            return None, False
        return fill, True

    async def closed(self, pos: PositionRow, price: float | None, reason: ExitReason,
                      pnl: float | None = None, fees: float | None = None, *,
                      failure: ProtectionFailure | None = None) -> CloseOutcome:
        """Record the exit, cancel what protected the position, announce it.

        `pnl` is the exchange's realised PnL when known; otherwise it is computed from `price`.
        Both are before fees; with `fees` known, what is recorded and shown is net of them.
        """
        if pnl is None and price:
            pnl = (price - pos.entry_price) * pos.quantity * pos.direction.sign
        net = pnl - fees if pnl is not None and fees is not None else pnl
        self.store.close_position(pos.id, price, net, reason, self.now_ms())
        self.guard.forget(pos.symbol)
        await self._cancel_protection(pos)
        outcome = CloseOutcome(CloseKind.CLOSED, pos.symbol, reason, pos.direction, price, net,
                               fees)
        self.notify("position_closed", pos.symbol, close_text(outcome, failure),
                    {"exit": price, "pnl": net, "fees": fees,
                     "reason": exit_text(reason, failure), "mode": pos.mode},
                    dedupe=f"close:{pos.id}")
        # A loss that crosses MAX_DAILY_LOSS is said now.
        self.limits.announce(self.limits.reached())
        return outcome

    async def _cancel_protection(self, pos: PositionRow) -> None:
        """Cancel every stop/target intent of the position still possibly open."""
        for role in ("stop", "target"):
            for it in position_intents(self.store, pos, role):
                if it.status.final:
                    continue
                try:
                    await self.broker.cancel_protective(pos.symbol, it.client_id,
                                                    it.exchange_id)
                    self.store.update_intent(it.client_id, OrderStatus.CANCELED, self.now_ms())
                except (TransientExchangeError, PermanentExchangeError) as err:
                    log.warning("cancel_failed", client_id=it.client_id, error=short(err))
