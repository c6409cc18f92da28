"""Reconciliation: make the state DB and the exchange agree, at start and every cycle."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

import structlog

from domain.trade import Direction, ExitReason, OrderStatus, TradeState
from exchanges.errors import PermanentExchangeError, TransientExchangeError
from store import Store
from store.orders import IntentRow, PositionRow

from . import risk
from .client_ids import is_ours
from .execution import OrderDesk, OrderUnresolved
from .guard import VenueGuard
from .ledger import position_intents
from .models import Broker, ExchangePosition, OrderResult, ended_unfilled, filled, side_for
from .notices import adopted_text, foreign_text, protection_text
from .notifier import TradeNotifier
from .opening import Opening
from .outcomes import EntryDecision, PositionDecision, ReconcileReport, SignalOutcome, SkipReason
from .policy import TradingPolicy
from .protection import Protection

log = structlog.get_logger(__name__)
# The state DB's id of a stop adopted without a client id of ours: its venue order id.
VENUE_ID_PREFIX = "venue-"

# An entry the exchange does not know is given this long to appear before it is abandoned
# (a request still in flight when we asked); it is never re-sent: the signal is stale by then.
ENTRY_GRACE_MS = 60_000


class Reconciler:
    """Brings the state DB and the venue into agreement (the caller holds the decision lock)."""

    def __init__(self, policy: TradingPolicy, store: Store, broker: Broker, desk: OrderDesk,
                 notifier: TradeNotifier, protection: Protection, guard: VenueGuard,
                 opening: Opening, *, mode: str, venue: str,
                 now_ms: Callable[[], int]) -> None:
        self.policy, self.store, self.broker, self.desk = policy, store, broker, desk
        self.notify, self.skip = notifier.notify, notifier.skip
        self.protection, self.guard, self.opening = protection, guard, opening
        self.mode, self.venue, self.now_ms = mode, venue, now_ms
        self.reconciled = False  # the first reconciliation of this process has run

    async def run(self, symbols: list[str]) -> ReconcileReport:
        """Resolve unknown entries, adopt our positions missing from the DB, record exits,
        re-place protection, cancel orphans, report positions the daemon did not open."""
        try:
            # Orders before positions: a stop seen here was placed after its entry filled,
            # so the position read next is seen too (another instance opening meanwhile).
            waiting = [self._named(o) for o in await self.broker.open_protective()]
            held = await self.broker.positions(symbols)
        except (TransientExchangeError, PermanentExchangeError) as err:
            log.warning("reconcile_skipped", error=str(err)[:200])
            return ReconcileReport(skipped=True)
        others = self.guard.detect_other_instance(waiting, first=not self.reconciled)
        entries = {it.client_id: await self._resolve_entry(it, held)
                   for it in self._unresolved_entries()}
        adopted = await self._adopt(held, [o for o in waiting if o.client_id not in others])
        positions = {pos.symbol: await self._check_position(pos, held,
                                                            {o.client_id for o in waiting})
                     for pos in self.store.open_positions(self.mode, self.venue)}
        orphans = await self._cancel_orphans(waiting, held)
        foreign = self._report_foreign(held)
        self.reconciled = True
        return ReconcileReport(False, entries, positions, adopted, foreign, orphans, others)

    def _named(self, order: OrderResult) -> OrderResult:
        """A waiting order the venue lists without our client id (BingX keeps none on stops),
        named by the intent that recorded its venue order id."""
        if order.client_id or not order.exchange_id:
            return order
        row = self.store.intent_by_exchange_id(order.exchange_id, self.venue)
        return replace(order, client_id=row.client_id) if row else order

    def _unresolved_entries(self) -> list[IntentRow]:
        """This venue's entries whose outcome is not known yet."""
        return self.store.intents(role="entry", unresolved=True, venue=self.venue)

    async def _resolve_entry(self, it: IntentRow, held: dict[str, ExchangePosition]
                             ) -> EntryDecision:
        """An entry sent without a clear answer (a timeout, a crash): ask the exchange by id."""
        try:
            found = await self.desk.lookup(it.symbol, it.client_id, conditional=False)
        except OrderUnresolved:
            return EntryDecision.NO_ANSWER
        signal = self.store.signal(it.signal_id) if it.signal_id else None
        if found is None:
            if self.now_ms() - it.updated_at < ENTRY_GRACE_MS:
                return EntryDecision.WAITING
            self.store.update_intent(it.client_id, OrderStatus.ABANDONED, self.now_ms())
            if signal is not None:
                self.skip(signal, SignalOutcome.skipped(SkipReason.ENTRY_NEVER_ARRIVED))
            return EntryDecision.ABANDONED
        if signal is None:
            return EntryDecision.NO_SIGNAL
        if ended_unfilled(found):  # the lookup made its intent final: said once, here
            self.skip(signal, SignalOutcome.skipped(SkipReason.ENTRY_NOT_FILLED,
                                                    status=found.status), alert=True)
            return EntryDecision.NOT_FILLED
        if found.status != OrderStatus.FILLED and not filled(found):
            return EntryDecision.STILL_OPEN
        if self.store.position_for_signal(signal.id) is not None:
            return EntryDecision.ALREADY_RECORDED
        direction = Direction.from_event(signal.event.direction)
        pos = held.get(it.symbol)
        if pos is None or pos.direction != direction:
            log.warning("entry_filled_but_flat", symbol=it.symbol, client_id=it.client_id)
            self.store.set_trade_state(signal.id, TradeState.DONE, "filled, already closed")
            return EntryDecision.FILLED_BUT_FLAT
        log.info("entry_adopted", symbol=it.symbol, client_id=it.client_id)
        await self.opening.opened(signal, direction, found.filled or pos.quantity,
                                  found.average or pos.entry_price)
        return EntryDecision.ADOPTED

    async def _check_position(self, pos: PositionRow, held: dict[str, ExchangePosition],
                              open_ids: set[str]) -> PositionDecision:
        """An exit by stop/target is recorded; missing protection is put back."""
        ex = held.get(pos.symbol)
        if ex is None or ex.direction != pos.direction:
            return await self.record_exit(pos)
        failure = await self.protection.protect(pos, open_ids)
        if failure is None:
            self.guard.compare(pos, ex)  # a quantity added or taken off outside the daemon is said
            return PositionDecision.PROTECTED
        if failure.must_close:
            await self.protection.emergency_close(pos, failure)
            return PositionDecision.EMERGENCY_CLOSED
        self.notify("protection_missing", pos.symbol,
                    f"{pos.symbol}: protection missing and not placed yet "
                    f"({protection_text(failure)}); retrying every cycle",
                    dedupe=f"protmiss:{pos.id}", topic="notice")
        return PositionDecision.PROTECTION_MISSING

    async def record_exit(self, pos: PositionRow) -> PositionDecision:
        """The exchange is flat: find how the position ended and record price and PnL."""
        fill, answered = await self.protection.exit_fill(pos)
        if not answered:
            return PositionDecision.EXIT_UNKNOWN
        reason = await self._own_close(pos) or ExitReason.OUTSIDE
        for role, why in (("stop", ExitReason.STOP), ("target", ExitReason.TARGET)):
            intents = position_intents(self.store, pos, role)
            if not intents:
                continue
            try:
                found = await self.desk.lookup(pos.symbol, intents[-1].client_id, True)
            except OrderUnresolved:
                continue
            if found is not None and found.status == OrderStatus.FILLED:
                reason = why
        price, pnl, fees = (fill.price, fill.pnl, fill.fees) if fill else (None, None, None)
        if fill is None and reason is not ExitReason.OUTSIDE:  # trades not visible: the level
            price = pos.stop if reason is ExitReason.STOP else pos.target
        await self.protection.closed(pos, price, reason, pnl, fees)
        return PositionDecision.EXIT_RECORDED

    async def _own_close(self, pos: PositionRow) -> ExitReason | None:
        """The reason of the daemon's own close of `pos` when one filled (a process killed
        between sending it and recording the exit): the daemon's exit, not an outside one."""
        for it in reversed(position_intents(self.store, pos, "close")):
            status = it.status
            if status not in (OrderStatus.FILLED, OrderStatus.REJECTED, OrderStatus.ABANDONED):
                try:
                    found = await self.desk.lookup(pos.symbol, it.client_id, False)
                except OrderUnresolved:
                    continue
                status = found.status if found is not None else status
            if status == OrderStatus.FILLED:
                # Closes sent before the reason was written on them were by command or reversal.
                return ExitReason.parse(str(it.detail.get("reason", ExitReason.COMMAND.value)))
        return None

    async def _cancel_orphans(self, waiting: list[OrderResult],
                              held: dict[str, ExchangePosition]) -> tuple[str, ...]:
        """Our stops/targets left on symbols where the exchange is flat (and no open position of
        ours waits for its exit to be recorded) are canceled; never while a position is held.
        Returns the client ids canceled."""
        ours_open = {p.symbol for p in self.store.open_positions(self.mode, self.venue)}
        canceled = []
        for o in waiting:
            if is_ours(o.client_id) and o.symbol not in ours_open and o.symbol not in held:
                try:
                    await self.broker.cancel_protective(o.symbol, o.client_id, o.exchange_id)
                    if self.store.intent(o.client_id):
                        self.store.update_intent(o.client_id, OrderStatus.CANCELED,
                                                 self.now_ms())
                    log.info("orphan_canceled", symbol=o.symbol, client_id=o.client_id)
                    canceled.append(o.client_id)
                except (TransientExchangeError, PermanentExchangeError) as err:
                    log.warning("orphan_cancel_failed", client_id=o.client_id, error=str(err))
        return tuple(canceled)

    async def _adopt(self, held: dict[str, ExchangePosition], waiting: list[OrderResult]
                     ) -> tuple[str, ...]:
        """A held position protected by our own orders but missing from the DB (lost, replaced,
        or another instance's) is recorded as ours, keeping its stop and target. Returns the
        symbols adopted."""
        ours = {p.symbol for p in self.store.open_positions(self.mode, self.venue)}
        ours |= {i.symbol for i in self._unresolved_entries()}
        adopted = []
        for symbol, ex in held.items():
            if symbol in ours:
                continue
            closing = side_for(ex.direction, closing=True)
            mine = [o for o in waiting if o.symbol == symbol and is_ours(o.client_id)
                    and o.side == closing and o.kind in ("stop", "target") and o.trigger]
            if not mine and not self.broker.conditional_ids:
                mine = await self._nameless_protection(ex, waiting)
            if mine:
                self._adopt_one(ex, mine)
                adopted.append(symbol)
        return tuple(adopted)

    async def _nameless_protection(self, ex: ExchangePosition, waiting: list[OrderResult]
                                   ) -> list[OrderResult]:
        """On a venue whose stops carry no client id (BingX, Gate), a position whose last
        opening fill is our entry is ours: its waiting closing stops and targets are taken up,
        under an id made of the venue's order id. [] when the entry is not ours or unreadable."""
        try:
            entries = await self.broker.recent_entries(ex.symbol)
        except (TransientExchangeError, PermanentExchangeError) as err:
            log.warning("adoption_entries_unreadable", symbol=ex.symbol, error=str(err)[:200])
            return []
        opening = side_for(ex.direction)
        last = next((o for o in entries if o.side == opening), None)
        if last is None or not is_ours(last.client_id):
            return []
        closing = side_for(ex.direction, closing=True)
        return [replace(o, client_id=f"{VENUE_ID_PREFIX}{o.exchange_id}") for o in waiting
                if o.symbol == ex.symbol and not o.client_id and o.exchange_id
                and o.side == closing and o.kind in ("stop", "target") and o.trigger]

    def _adopt_one(self, ex: ExchangePosition, mine: list[OrderResult]) -> None:
        """Record `ex` with the levels of its protective orders and announce it."""
        stop_o = _tightest(mine, "stop", ex.direction)
        target_o = _tightest(mine, "target", ex.direction)
        stop = stop_o.trigger if stop_o else None
        target = target_o.trigger if target_o else self._derived_target(ex, stop)
        now = self.now_ms()
        pos_id = self.store.add_position(self.mode, ex.symbol, ex.direction, ex.quantity,
                                         ex.entry_price, stop, target, None, now,
                                         venue=self.venue)
        for kind, o in (("stop", stop_o), ("target", target_o)):
            if o is not None:  # the kept order becomes the position's current one of its kind
                side = o.side or side_for(ex.direction, closing=True)  # protection closes
                self.store.record_intent(o.client_id, None, ex.symbol, kind, side, None,
                                         o.trigger, now, detail={"position_id": pos_id},
                                         venue=self.venue)
                self.store.update_intent(o.client_id, OrderStatus.OPEN, now,
                                         exchange_id=o.exchange_id,
                                         detail={"position_id": pos_id, "adopted": True})
        log.warning("position_adopted", symbol=ex.symbol, direction=ex.direction,
                    quantity=ex.quantity, stop=stop, target=target,
                    kept=[o.client_id for o in (stop_o, target_o) if o])
        kept = [k for k, o in (("stop", stop_o), ("target", target_o)) if o]
        self.notify("position_adopted", ex.symbol,
                    adopted_text(ex, stop, target, kept, target_o is not None),
                    {"quantity": ex.quantity, "entry": ex.entry_price, "stop": stop,
                     "target": target, "mode": self.mode},
                    dedupe=f"adopt:{self.mode}:{ex.symbol}:{now}")

    def _derived_target(self, ex: ExchangePosition, stop: float | None) -> float | None:
        """RISK_REWARD x the risk from the entry to `stop`, as a fresh trade would have it."""
        if stop is None:
            return None
        try:
            tick = self.broker.rules(ex.symbol).tick
        except KeyError:  # a symbol not prepared for trading: no tick to round to
            return None
        planned = risk.levels(ex.direction, ex.entry_price, stop, self.policy.risk_reward,
                              tick)
        return planned[1] if planned else None

    def _report_foreign(self, held: dict[str, ExchangePosition]) -> tuple[str, ...]:
        """Positions the daemon did not open: reported once each, never touched."""
        ours = {p.symbol for p in self.store.open_positions(self.mode, self.venue)}
        ours |= {i.symbol for i in self._unresolved_entries()}
        foreign = sorted(s for s in held if s not in ours)
        for symbol in foreign:
            p = held[symbol]
            self.notify("foreign_position", symbol, foreign_text(p),
                        dedupe=f"foreign:{self.mode}:{symbol}:{p.direction}:{p.quantity:g}",
                        topic="notice")
        return tuple(foreign)


def _tightest(orders: list[OrderResult], kind: str, direction: Direction) -> OrderResult | None:
    """The order of `kind` that would trigger first (several of ours: two instances)."""
    of_kind = [o for o in orders if o.kind == kind]
    if not of_kind:
        return None
    nearer_above = (kind == "stop") == (direction == Direction.LONG)  # a long's stop: highest
    pick = max if nearer_above else min
    return pick(of_kind, key=lambda o: o.trigger or 0.0)
