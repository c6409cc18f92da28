"""Reconciliation: make the state DB and the exchange agree, at start and every cycle."""
from __future__ import annotations

import structlog

from exchange import PermanentExchangeError, TransientExchangeError

from . import risk
from .client_ids import is_ours
from .execution import OrderUnresolved
from .models import LONG, SHORT, ExchangePosition, OrderResult, side_for

log = structlog.get_logger(__name__)

# An entry the exchange does not know is given this long to appear before it is abandoned
# (a request still in flight when we asked); it is never re-sent: the signal is stale by then.
ENTRY_GRACE_MS = 60_000


class ReconcileMixin:
    """PositionManager's reconciliation steps (mixed in; uses its store, broker and desk)."""

    async def reconcile(self) -> None:
        """Resolve unknown entries, adopt our positions missing from the DB, record exits,
        re-place protection, cancel orphans, report positions the daemon did not open."""
        async with self._lock:
            try:
                # Orders before positions: a stop seen here was placed after its entry filled,
                # so the position read next is seen too (another instance opening meanwhile).
                waiting = await self.broker.open_protective()
                held = await self.broker.positions(self.symbols)
            except (TransientExchangeError, PermanentExchangeError) as err:
                log.warning("reconcile_skipped", error=str(err)[:200])
                return
            await self._resolve_entries(held)
            self._adopt(held, waiting)
            await self._check_positions(held, {o.client_id for o in waiting})
            await self._cancel_orphans(waiting, held)
            self._report_foreign(held)

    async def _resolve_entries(self, held: dict[str, ExchangePosition]) -> None:
        """Entries sent without a clear answer (timeouts, a crash): ask the exchange by id."""
        for it in self.store.intents(role="entry", unresolved=True):
            try:
                found = await self.desk.lookup(it.symbol, it.client_id, conditional=False)
            except OrderUnresolved:
                continue
            signal = self.store.signal(it.signal_id) if it.signal_id else None
            if found is None:
                if self.now_ms() - it.updated_at < ENTRY_GRACE_MS:
                    continue
                self.store.update_intent(it.client_id, "abandoned", self.now_ms())
                if signal is not None:
                    self.store.set_trade_state(signal.id, "skipped",
                                               "entry never reached the exchange")
                continue
            if found.status != "filled" or signal is None:
                continue
            if self.store.position_for_signal(signal.id) is not None:
                continue
            direction = LONG if signal.event.direction == "bullish" else SHORT
            pos = held.get(it.symbol)
            if pos is None or pos.direction != direction:
                log.warning("entry_filled_but_flat", symbol=it.symbol, client_id=it.client_id)
                self.store.set_trade_state(signal.id, "done", "filled, already closed")
                continue
            log.info("entry_adopted", symbol=it.symbol, client_id=it.client_id)
            await self._opened(signal, direction, found.filled or pos.quantity,
                               found.average or pos.entry_price)

    async def _check_positions(self, held: dict[str, ExchangePosition],
                               open_ids: set[str]) -> None:
        """Exits by stop/target are recorded; missing protection is put back."""
        for pos in self.store.open_positions(self.mode):
            ex = held.get(pos.symbol)
            if ex is None or ex.direction != pos.direction:
                await self._record_exit(pos)
                continue
            problem = await self._protect(pos, open_ids)
            if problem.startswith(("stop rejected", "target rejected")):
                await self._emergency_close(pos, problem)
            elif problem:
                self.notify("protection_missing", pos.symbol,
                            f"{pos.symbol}: protection missing and not placed yet ({problem}); "
                            "retrying every cycle", dedupe=f"protmiss:{pos.id}", topic="notice")

    async def _record_exit(self, pos) -> None:
        """The exchange is flat: find how the position ended and record price and PnL."""
        try:
            fill = await self._exit_fill(pos)
        except (TransientExchangeError, PermanentExchangeError) as err:
            log.warning("exit_lookup_failed", symbol=pos.symbol, error=str(err)[:200])
            return
        reason = "closed outside the daemon"
        for role in ("stop", "target"):
            intents = self.intents_of(pos, role)
            if not intents:
                continue
            try:
                found = await self.desk.lookup(pos.symbol, intents[-1].client_id, True)
            except OrderUnresolved:
                continue
            if found is not None and found.status == "filled":
                reason = role
        price, pnl, fees = (fill.price, fill.pnl, fill.fees) if fill else (None, None, None)
        if fill is None and reason in ("stop", "target"):  # trades not visible: use the level
            price = pos.stop if reason == "stop" else pos.target
        await self._closed(pos, price, reason, pnl, fees)

    async def _exit_fill(self, pos):
        """The exchange's trades that closed `pos` (price, PnL, fees); None if none are seen."""
        return await self.broker.closing_fill(pos.symbol, pos.direction, pos.opened_at - 60_000)

    async def _cancel_orphans(self, waiting: list[OrderResult],
                              held: dict[str, ExchangePosition]) -> None:
        """Our stops/targets left on symbols where the exchange is flat (and no open position of
        ours waits for its exit to be recorded) are cancelled; never while a position is held."""
        ours_open = {p.symbol for p in self.store.open_positions(self.mode)}
        for o in waiting:
            if is_ours(o.client_id) and o.symbol not in ours_open and o.symbol not in held:
                try:
                    await self.broker.cancel_protective(o.symbol, o.client_id)
                    if self.store.intent(o.client_id):
                        self.store.update_intent(o.client_id, "cancelled", self.now_ms())
                    log.info("orphan_cancelled", symbol=o.symbol, client_id=o.client_id)
                except (TransientExchangeError, PermanentExchangeError) as err:
                    log.warning("orphan_cancel_failed", client_id=o.client_id, error=str(err))

    def _adopt(self, held: dict[str, ExchangePosition], waiting: list[OrderResult]) -> None:
        """A held position protected by our own orders but missing from the DB (lost, replaced,
        or another instance's) is recorded as ours, keeping its stop and target."""
        ours = {p.symbol for p in self.store.open_positions(self.mode)}
        ours |= {i.symbol for i in self.store.intents(role="entry", unresolved=True)}
        for symbol, ex in held.items():
            if symbol in ours:
                continue
            closing = side_for(ex.direction, closing=True)
            mine = [o for o in waiting if o.symbol == symbol and is_ours(o.client_id)
                    and o.side == closing and o.kind in ("stop", "target") and o.trigger]
            if mine:
                self._adopt_one(ex, mine)

    def _adopt_one(self, ex: ExchangePosition, mine: list[OrderResult]) -> None:
        """Record `ex` with the levels of its protective orders and announce it."""
        stop_o = _tightest(mine, "stop", ex.direction)
        target_o = _tightest(mine, "target", ex.direction)
        stop = stop_o.trigger if stop_o else None
        target = target_o.trigger if target_o else self._derived_target(ex, stop)
        now = self.now_ms()
        pos_id = self.store.add_position(self.mode, ex.symbol, ex.direction, ex.quantity,
                                         ex.entry_price, stop, target, None, now)
        for o in (stop_o, target_o):
            if o is not None:  # the kept order becomes the position's current one of its kind
                self.store.record_intent(o.client_id, None, ex.symbol, o.kind, o.side, None,
                                         o.trigger, now, detail={"position_id": pos_id})
                self.store.update_intent(o.client_id, "open", now, exchange_id=o.exchange_id,
                                         detail={"position_id": pos_id, "adopted": True})
        log.warning("position_adopted", symbol=ex.symbol, direction=ex.direction,
                    quantity=ex.quantity, stop=stop, target=target,
                    kept=[o.client_id for o in (stop_o, target_o) if o])
        kept = " and ".join(k for k, o in (("stop", stop_o), ("target", target_o)) if o)
        text = (f"{ex.symbol}: a {ex.direction} position of {ex.quantity:g} @ "
                f"{ex.entry_price:g} carrying the daemon's own {kept} was missing from its "
                f"database; adopted and managed again (stop {stop}, target {target})")
        if stop is None:
            text += (". NO STOP: its stop order is gone and no stop price is known, so none "
                     "was placed; set one on the exchange or /close it")
        elif target_o is None:
            text += (f"; the missing target is placed at {target}" if target else
                     "; no target could be derived, the stop alone protects it")
        self.notify("position_adopted", ex.symbol, text,
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
        planned = risk.levels(ex.direction, ex.entry_price, stop, self.settings.risk_reward,
                              tick)
        return planned[1] if planned else None

    def _report_foreign(self, held: dict[str, ExchangePosition]) -> None:
        """Positions the daemon did not open: reported once each, never touched."""
        ours = {p.symbol for p in self.store.open_positions(self.mode)}
        ours |= {i.symbol for i in self.store.intents(role="entry", unresolved=True)}
        self._foreign = {s for s in held if s not in ours}
        for symbol in sorted(self._foreign):
            p = held[symbol]
            self.notify("foreign_position", symbol,
                        f"{symbol}: a {p.direction} position of {p.quantity:g} @ "
                        f"{p.entry_price:g} was not opened by the daemon; left alone",
                        dedupe=f"foreign:{self.mode}:{symbol}:{p.direction}:{p.quantity:g}",
                        topic="notice")


def _tightest(orders: list[OrderResult], kind: str, direction: str) -> OrderResult | None:
    """The order of `kind` that would trigger first (several of ours: two instances)."""
    of_kind = [o for o in orders if o.kind == kind]
    if not of_kind:
        return None
    nearer_above = (kind == "stop") == (direction == LONG)  # a long's stop: the highest one
    pick = max if nearer_above else min
    return pick(of_kind, key=lambda o: o.trigger or 0.0)
