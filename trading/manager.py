"""PositionManager: turns fresh signals into protected positions, one per symbol, idempotently."""
from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import asdict
from typing import Any

import pandas as pd
import structlog

from domain.candles import Candles
from domain.checks import CheckLine
from domain.symbols import normalize_symbol
from domain.trade import Direction, ExitReason, TradeState
from exchanges.errors import PermanentExchangeError
from store import SignalRow, Store
from store.orders import PositionRow

from . import risk
from .client_ids import client_id
from .execution import ClientIdTaken, OrderDesk, OrderUnresolved, settled
from .guard import OTHER_INSTANCE_KEY, PositionUnreadable, VenueGuard
from .ledger import instance_tag
from .limits import RiskLimits
from .models import Broker, ended_unfilled, fill_price, side_for
from .notices import num, outcome_text, trading_available_text, trading_unavailable_text
from .notifier import TradeNotifier
from .opening import Opening
from .outcomes import (
    CloseKind,
    CloseOutcome,
    OutcomeKind,
    ReconcileReport,
    SignalOutcome,
    SkipReason,
)
from .policy import TradingPolicy
from .protection import Protection, short
from .reconcile import Reconciler
from .rules import entry_price

log = structlog.get_logger(__name__)

PAUSE_KEY = "trading_paused"


class PositionManager:
    """Trades signals of the kinds in TRADE_ON through a broker (paper, demo or live)."""

    def __init__(self, policy: TradingPolicy, store: Store, broker: Broker, *,
                 clock: Callable[[], float] = time.time,
                 sleep: Callable[[float], Awaitable[None]] = asyncio.sleep) -> None:
        self.policy, self.store, self.broker, self.clock = policy, store, broker, clock
        self.mode = broker.mode
        self.venue = policy.venue  # positions and orders are this venue's
        self.desk = OrderDesk(store, broker, clock, sleep, venue=self.venue)
        self.symbols: list[str] = list(policy.symbols)
        self.tag = instance_tag(store)  # on this DB's stops, targets and closes
        now_ms, mode, venue = self.now_ms, self.mode, self.venue
        self.notices = TradeNotifier(store, now_ms)
        self.notify, self._skip = self.notices.notify, self.notices.skip
        self.limits = RiskLimits(policy, store, self.notices, mode=mode, venue=venue,
                                 now_ms=now_ms)
        self.guard = VenueGuard(store, broker, self.notices, tag=self.tag, now_ms=now_ms)
        self.protection = Protection(store, broker, self.desk, self.notices, self.limits,
                                     self.guard, tag=self.tag, now_ms=now_ms)
        self.opening = Opening(policy, store, broker, self.notices, self.protection, self.guard,
                               mode=mode, venue=venue, now_ms=now_ms)
        self.reconciler = Reconciler(policy, store, broker, self.desk, self.notices,
                                     self.protection, self.guard, self.opening, mode=mode,
                                     venue=venue, now_ms=now_ms)
        self._lock = asyncio.Lock()  # one decision at a time: signals, reconciliation, commands
        # Why the venue cannot be traded on (its start failed and is retried), else None.
        self.unavailable: str | None = None
        # Metrics hook: called as the entry order of a signal is sent.
        self.on_entry_sent: Callable[[SignalRow, int], None] = lambda signal, now_ms: None

    def now_ms(self) -> int:
        """The manager's clock in ms."""
        return int(self.clock() * 1000)

    # -- lifecycle --------------------------------------------------------------------------------
    async def start(self, symbols: list[str]) -> None:
        """Prepare the account for `symbols`, then reconcile with what the exchange holds."""
        self.symbols = list(symbols)
        await self.broker.start(self.symbols)
        await self.reconcile()

    async def close_session(self) -> None:
        """Release the broker's HTTP session."""
        await self.broker.close()

    def set_unavailable(self, reason: str | None) -> None:
        """The venue cannot be reached (`reason`) or can again (None). While unavailable each
        signal is skipped with a notice; each change is announced once, not each new reason."""
        was, self.unavailable = self.unavailable, reason
        if was is None and reason is not None:
            self.notify("trading_unavailable", None, trading_unavailable_text(reason),
                        topic="notice")
        elif was is not None and reason is None:
            self.notify("trading_available", None, trading_available_text(), topic="notice")

    def pause(self) -> None:
        """Stop opening positions (open ones stay protected and reconciled)."""
        self.store.put(PAUSE_KEY, True)

    def resume(self) -> None:
        """Open positions on new signals again (also after another daemon was detected: the
        orders that showed it are accounted for, only new ones pause again)."""
        self.store.put(PAUSE_KEY, False)
        self.store.put(OTHER_INSTANCE_KEY, None)

    @property
    def paused(self) -> bool:
        """True while paused by command or because another daemon uses the account."""
        return bool(self.store.get(PAUSE_KEY, False)) or self.other_instance is not None

    @property
    def other_instance(self) -> str | None:
        """What showed another daemon trading on this account, while trading is paused for it."""
        found = self.store.get(OTHER_INSTANCE_KEY)
        return str(found.get("evidence")) if isinstance(found, dict) else None

    # -- signals ----------------------------------------------------------------------------------
    async def on_signal(self, signal: SignalRow, timeframe_ms: int) -> SignalOutcome:
        """Trade a fresh signal (at most one position per signal, whatever fails); says what it
        did."""
        async with self._lock:
            outcome = await self._on_signal(signal, timeframe_ms)
        log.info("signal_decided", symbol=signal.symbol, tf=signal.timeframe,
                 outcome=outcome.kind, decision=outcome_text(outcome))
        return outcome

    async def _on_signal(self, signal: SignalRow, timeframe_ms: int) -> SignalOutcome:
        """The gates in order (each may end the decision), then the entry."""
        gated = self._gate(signal, timeframe_ms)
        if gated is not None:
            return gated
        direction = Direction.from_event(signal.event.direction)
        decided, held = await self._against_the_venue(signal, direction)
        if decided is not None:
            return decided
        # Every check before a reversal closes anything: a reversal that cannot open its new
        # position leaves the old one (and its protection) alone.
        decided, qty = self._sized(signal, direction, held)
        if decided is not None:
            return decided
        if held is not None:
            closed = await self.protection.close(held, ExitReason.OPPOSITE)
            if self.store.open_position(signal.symbol, self.mode, self.venue) is not None:
                return self._skip(signal, SignalOutcome.skipped(SkipReason.OPPOSITE_NOT_CLOSED,
                                                                close=closed), alert=True)
        return await self._enter(signal, direction, qty, self._entry_id(signal))

    def _entry_id(self, signal: SignalRow) -> str:
        """The signal's entry id, within what the venue allows."""
        return client_id(signal.identity, "entry", room=self.broker.client_id_room)

    def _gate(self, signal: SignalRow, timeframe_ms: int) -> SignalOutcome | None:
        """What ends the decision before the venue is asked: handled, kind, age, sent, state."""
        current = self.store.signal(signal.id) or signal
        if current.trade_state != TradeState.PENDING:
            return SignalOutcome(OutcomeKind.ALREADY_HANDLED, state=current.trade_state)
        e = signal.event
        if e.kind not in self.policy.trade_on:
            self.store.set_trade_state(signal.id, TradeState.NOT_TRADED,
                                       f"{e.kind} not in TRADE_ON")
            return SignalOutcome(OutcomeKind.NOT_TRADED)
        if self.now_ms() - e.confirmed_at > timeframe_ms:
            return self._skip(signal, SignalOutcome.skipped(SkipReason.STALE))
        # Sent before (crash, duplicate call), maybe under an id of an older format.
        if self.store.intent(self._entry_id(signal)) is not None or \
                self.store.intents(signal_id=signal.id, role="entry"):
            return SignalOutcome(OutcomeKind.ALREADY_SENT)
        if self.unavailable is not None:  # never traded late: skipped for good
            return self._skip(signal, SignalOutcome.skipped(SkipReason.TRADING_UNAVAILABLE,
                                                            detail=self.unavailable), alert=True)
        if self.other_instance is not None:
            return self._skip(signal, SignalOutcome.skipped(SkipReason.OTHER_INSTANCE),
                              alert=True)
        if self.paused:
            return self._skip(signal, SignalOutcome.skipped(SkipReason.PAUSED))
        mismatch = self.guard.mismatch.get(signal.symbol)
        if mismatch is not None:
            return self._skip(signal, SignalOutcome.skipped(
                SkipReason.QUANTITY_MISMATCH, detail=mismatch), alert=True)
        return None

    async def _against_the_venue(self, signal: SignalRow, direction: Direction
                                 ) -> tuple[SignalOutcome | None, PositionRow | None]:
        """The venue's position now (not the last reconciliation's snapshot: a position opened
        by hand a second ago must not be netted with the daemon's entry) against the DB's, and
        what an open position of ours means for this signal."""
        held = self.store.open_position(signal.symbol, self.mode, self.venue)
        try:
            venue = await self.guard.position(signal.symbol)
        except PositionUnreadable as err:
            return self._skip(signal, SignalOutcome.skipped(SkipReason.POSITION_UNREADABLE,
                                                            detail=str(err)), alert=True), held
        if held is not None and venue is None:  # its stop or target filled since the last look
            await self.reconciler.record_exit(held)
            held = self.store.open_position(signal.symbol, self.mode, self.venue)
        unexpected = self.guard.unexpected(venue, held)
        if unexpected is not None:
            return self._skip(signal, SignalOutcome.skipped(unexpected[0], detail=unexpected[1]),
                              alert=True), held
        if held is None:
            return None, None
        if held.direction == direction:
            return self._skip(signal, SignalOutcome.skipped(SkipReason.SAME_DIRECTION)), held
        if self.policy.on_opposite == "ignore":
            return self._skip(signal, SignalOutcome.skipped(SkipReason.OPPOSITE_IGNORED)), held
        if self.policy.on_opposite == "close":
            closed = await self.protection.close(held, ExitReason.OPPOSITE)
            return self._skip(signal, SignalOutcome.skipped(SkipReason.OPPOSITE_CLOSED,
                                                            close=closed)), held
        return None, held

    def _sized(self, signal: SignalRow, direction: Direction, held: PositionRow | None
               ) -> tuple[SignalOutcome | None, float]:
        """The limits, the venue's rules, the stop and target, and the quantity; checked and
        sized at the price the entry is expected to fill at (the paper broker's slipped close,
        as in a backtest; the close itself on an exchange)."""
        limit = self.limits.reached(freed=1 if held is not None else 0)
        if limit is not None:
            self.limits.announce(limit)
            return self._skip(signal, SignalOutcome.skipped(SkipReason.LIMIT, limit=limit)), 0.0
        try:
            rules = self.broker.rules(signal.symbol)
        except KeyError:
            return self._skip(signal, SignalOutcome.skipped(SkipReason.NOT_PREPARED),
                              alert=True), 0.0
        e = signal.event
        expected = entry_price(e.close, str(direction), self.broker.slippage_bps)
        planned = risk.levels(direction, expected, e.extreme, self.policy.risk_reward,
                              rules.tick)
        if planned is None:
            return self._skip(signal, SignalOutcome.skipped(
                SkipReason.STOP_NOT_BEYOND_ENTRY, stop=e.extreme, price=expected),
                alert=True), 0.0
        qty, problem = risk.size(self.policy.position_size, self.policy.leverage, expected,
                                 rules)
        if qty is None:
            return self._skip(signal, SignalOutcome.skipped(SkipReason.SIZE, size=problem),
                              alert=True), 0.0
        return None, qty

    async def _enter(self, signal: SignalRow, direction: Direction, qty: float,
                     entry_id: str) -> SignalOutcome:
        """Send the entry (once), follow it until it says how it ended, then protect it."""
        e, side = signal.event, side_for(direction)
        self.on_entry_sent(signal, self.now_ms())
        try:
            fill = await self.desk.place(
                client_id=entry_id, signal_id=signal.id, symbol=signal.symbol, role="entry",
                side=side, quantity=qty, price=e.close, conditional=False,
                send=lambda: self.broker.market_order(signal.symbol, side, qty, entry_id,
                                                      ref_price=e.close))
        except PermanentExchangeError as err:
            return self._skip(signal, SignalOutcome.skipped(SkipReason.ENTRY_REJECTED,
                                                            detail=short(err)), alert=True)
        except ClientIdTaken as err:  # its fill is the other daemon's: never recorded here
            self.guard.other_instance_found(
                f"the entry {entry_id} of {signal.symbol} {signal.timeframe} {e.kind} "
                f"{e.direction} was already placed by another daemon ({err.order.status}, "
                f"filled {num(err.order.filled)})")
            return self._skip(signal, SignalOutcome.skipped(SkipReason.OTHER_INSTANCE),
                              alert=True)
        except OrderUnresolved as err:
            self.store.set_trade_state(signal.id, TradeState.UNRESOLVED, str(err)[:200])
            self.notify("entry_unresolved", signal.symbol,
                        f"{signal.symbol}: entry order state unknown ({short(err)}); "
                        "checking with the exchange every cycle", dedupe=f"unres:{entry_id}")
            return SignalOutcome(OutcomeKind.UNRESOLVED)
        if not settled(fill):  # e.g. answered NEW: filled in fact, but the answer does not say
            fill = await self.desk.follow(signal.symbol, entry_id, fill)
        price = fill_price(fill)
        if price is not None:
            return await self.opening.opened(signal, direction, fill.filled or qty, price)
        if ended_unfilled(fill):  # its intent is final now: nothing will ask about it again
            return self._skip(signal, SignalOutcome.skipped(SkipReason.ENTRY_NOT_FILLED,
                                                            status=fill.status), alert=True)
        self.store.set_trade_state(signal.id, TradeState.UNRESOLVED, f"entry status {fill.status}")
        return SignalOutcome(OutcomeKind.NOT_FILLED, status=fill.status)

    # -- reconciliation --------------------------------------------------------------------------
    async def reconcile(self) -> ReconcileReport:
        """Make the state DB and the venue agree (see Reconciler.run), between decisions."""
        async with self._lock:
            return await self.reconciler.run(self.symbols)

    # -- commands ---------------------------------------------------------------------------------
    async def close_position(self, symbol: str) -> CloseOutcome:
        """Close the daemon's position on `symbol` (/close); ValueError for a symbol that is
        not one."""
        symbol = normalize_symbol(symbol)
        async with self._lock:
            pos = self.store.open_position(symbol, self.mode, self.venue)
            if pos is None:
                return CloseOutcome(CloseKind.NO_POSITION, symbol)
            return await self.protection.close(pos, ExitReason.COMMAND)

    async def close_all(self) -> list[CloseOutcome]:
        """Close every position the daemon opened (/closeall): one outcome each."""
        async with self._lock:
            return [await self.protection.close(p, ExitReason.COMMAND)
                    for p in self.store.open_positions(self.mode, self.venue)]

    async def positions(self) -> list[dict[str, Any]]:
        """Open positions the daemon holds, as dicts (Telegram /positions)."""
        return [asdict(p) for p in self.store.open_positions(self.mode, self.venue)]

    async def check(self) -> list[CheckLine]:
        """Authentication, balance and position mode, for `main.py check`."""
        return await self.broker.check()

    async def on_candles(self, symbol: str, candles_df: Candles | pd.DataFrame) -> None:
        """Later candles: the paper broker fills stops/targets on them; then reconcile."""
        self.broker.on_candles(symbol, candles_df)
        if self.mode == "paper":
            await self.reconcile()

