"""PositionManager: turns fresh signals into protected positions, one per symbol, idempotently."""
from __future__ import annotations

import asyncio
import time
from dataclasses import asdict
from typing import Awaitable, Callable, Optional

import pandas as pd
import structlog

from config import Settings, normalize_symbol
from exchange import PermanentExchangeError, TransientExchangeError
from store import SignalRow, Store
from store.orders import IntentRow, PositionRow

from . import risk
from .client_ids import client_id
from .execution import OrderDesk, OrderUnresolved, settled
from .models import LONG, SHORT, Broker, side_for
from .reconcile import ReconcileMixin

log = structlog.get_logger(__name__)

PAUSE_KEY = "trading_paused"


class PositionManager(ReconcileMixin):
    """Trades signals of the kinds in TRADE_ON through a broker (paper, demo or live)."""

    def __init__(self, settings: Settings, store: Store, broker: Broker, *,
                 clock: Callable[[], float] = time.time,
                 sleep: Callable[[float], Awaitable[None]] = asyncio.sleep) -> None:
        self.settings, self.store, self.broker, self.clock = settings, store, broker, clock
        self.mode = broker.mode
        self.desk = OrderDesk(store, broker, clock, sleep)
        self.symbols: list[str] = list(settings.symbols)
        self._foreign: set[str] = set()
        self._lock = asyncio.Lock()  # one decision at a time: signals, reconciliation, commands
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

    def pause(self) -> None:
        """Stop opening positions (open ones stay protected and reconciled)."""
        self.store.put(PAUSE_KEY, True)

    def resume(self) -> None:
        """Open positions on new signals again."""
        self.store.put(PAUSE_KEY, False)

    @property
    def paused(self) -> bool:
        """True while paused by command."""
        return bool(self.store.get(PAUSE_KEY, False))

    # -- notices ----------------------------------------------------------------------------------
    def notify(self, event: str, symbol: Optional[str], text: str, fields: dict | None = None,
               *, dedupe: str | None = None, topic: str = "trade",
               signal_id: int | None = None) -> None:
        """Queue a trade notice for the alerts outbox (once per dedupe key)."""
        self.store.enqueue(topic, {"event": event, "symbol": symbol, "text": text,
                                   "fields": fields or {}}, self.now_ms(), dedupe_key=dedupe,
                           signal_id=signal_id)
        log.info("trade_notice", trade_event=event, symbol=symbol, text=text)

    def _skip(self, signal: SignalRow, reason: str, *, alert: bool = False) -> str:
        self.store.set_trade_state(signal.id, "skipped", reason)
        log.info("signal_skipped", symbol=signal.symbol, tf=signal.timeframe, reason=reason)
        if alert:
            self.notify("trade_skipped", signal.symbol,
                        f"{signal.symbol} {signal.timeframe} {signal.event.kind} "
                        f"{signal.event.direction}: not traded, {reason}",
                        dedupe=f"skip:{signal.identity}", signal_id=signal.id)
        return f"skipped: {reason}"

    # -- signals ----------------------------------------------------------------------------------
    async def on_signal(self, signal: SignalRow, timeframe_ms: int) -> str:
        """Trade a fresh signal (at most one position per signal, whatever fails); says what it did."""
        async with self._lock:
            return await self._on_signal(signal, timeframe_ms)

    async def _on_signal(self, signal: SignalRow, timeframe_ms: int) -> str:
        current = self.store.signal(signal.id) or signal
        if current.trade_state != "pending":
            return f"already handled: {current.trade_state}"
        e = signal.event
        if e.kind not in self.settings.trade_on:
            self.store.set_trade_state(signal.id, "not_traded", f"{e.kind} not in TRADE_ON")
            return "not traded: kind"
        now = self.now_ms()
        if now - e.confirmed_at > timeframe_ms:
            return self._skip(signal, "older than one candle")
        entry_id = client_id(signal.identity, "entry")
        if self.store.intent(entry_id) is not None:  # sent before (crash, duplicate call)
            return "entry already sent; reconciliation resolves it"
        if self.paused:
            return self._skip(signal, "trading paused by command")
        direction = LONG if e.direction == "bullish" else SHORT
        held = self.store.open_position(signal.symbol, self.mode)
        if signal.symbol in self._foreign and held is None:
            return self._skip(signal, "a position not opened by the daemon is open on the symbol")
        if held is not None:
            if held.direction == direction:
                return self._skip(signal, "a same-direction position is already open")
            if self.settings.on_opposite == "ignore":
                return self._skip(signal, "opposite position open (ON_OPPOSITE=ignore)")
            if self.settings.on_opposite == "close":
                text = await self._close(held, "opposite signal")
                return self._skip(signal, f"opposite position: {text} (ON_OPPOSITE=close)")
        # Every check before a reversal closes anything: a reversal that cannot open its new
        # position leaves the old one (and its protection) alone.
        reason = self._limit_reason(freed=1 if held is not None else 0)
        if reason:
            return self._skip(signal, reason)
        try:
            rules = self.broker.rules(signal.symbol)
        except KeyError:
            return self._skip(signal, "symbol not prepared for trading", alert=True)
        planned = risk.levels(direction, e.close, e.extreme, self.settings.risk_reward, rules.tick)
        if planned is None:
            return self._skip(signal, f"stop {e.extreme:g} is not beyond the entry {e.close:g}",
                              alert=True)
        qty, why = risk.size(self.settings.position_size, self.settings.leverage, e.close, rules)
        if qty is None:
            return self._skip(signal, why, alert=True)
        if held is not None:
            text = await self._close(held, "opposite signal")
            if self.store.open_position(signal.symbol, self.mode) is not None:
                return self._skip(signal, f"could not close the opposite position: {text}",
                                  alert=True)
        side = side_for(direction)
        self.on_entry_sent(signal, self.now_ms())
        try:
            fill = await self.desk.place(
                client_id=entry_id, signal_id=signal.id, symbol=signal.symbol, role="entry",
                side=side, quantity=qty, price=e.close, conditional=False,
                send=lambda: self.broker.market_order(signal.symbol, side, qty, entry_id,
                                                      ref_price=e.close))
        except PermanentExchangeError as err:
            return self._skip(signal, f"entry rejected by the exchange: {_short(err)}",
                              alert=True)
        except OrderUnresolved as err:
            self.store.set_trade_state(signal.id, "unresolved", str(err)[:200])
            self.notify("entry_unresolved", signal.symbol,
                        f"{signal.symbol}: entry order state unknown ({_short(err)}); "
                        "checking with the exchange every cycle", dedupe=f"unres:{entry_id}")
            return "entry unresolved"
        if not settled(fill):  # e.g. answered NEW: filled in fact, but the answer does not say
            fill = await self.desk.follow(signal.symbol, entry_id, fill)
        if fill.status != "filled" or not fill.average:
            self.store.set_trade_state(signal.id, "unresolved", f"entry status {fill.status}")
            return f"entry {fill.status}"
        return await self._opened(signal, direction, fill.filled or qty, fill.average)

    async def _opened(self, signal: SignalRow, direction: str, qty: float, price: float) -> str:
        """Record a filled entry and protect it at once (or close it when that is impossible)."""
        rules = self.broker.rules(signal.symbol)
        planned = risk.levels(direction, price, signal.event.extreme, self.settings.risk_reward,
                              rules.tick)
        stop, target = planned if planned else (None, None)
        pos_id = self.store.add_position(self.mode, signal.symbol, direction, qty, price, stop,
                                         target, signal.id, self.now_ms())
        self.store.set_trade_state(signal.id, "done", f"{direction} {qty:g} @ {price:g}")
        pos = self.store.position(pos_id)
        self.notify("position_opened", signal.symbol,
                    f"Opened {direction.upper()} {signal.symbol} {qty:g} @ {price:g} "
                    f"(stop {stop}, target {target}) on {signal.timeframe} {signal.event.kind}",
                    {"quantity": qty, "entry": price, "stop": stop, "target": target,
                     "mode": self.mode}, dedupe=f"open:{pos_id}", signal_id=signal.id)
        if planned is None:
            await self._emergency_close(pos, f"filled at {price:g}, already beyond the stop "
                                              f"{signal.event.extreme:g}")
            return "opened and closed: fill beyond the stop"
        problem = await self._protect(pos, open_ids=None)
        if problem:
            await self._emergency_close(pos, problem)
            return f"opened and closed: {problem}"
        return f"opened {direction} {qty:g} @ {price:g}"

    def _limit_reason(self, freed: int = 0) -> str:
        """Why no new position may open now ('' when allowed); a daily limit is said once.

        `freed`: positions about to be closed first (a reversal)."""
        now = self.now_ms()
        day = risk.day_start(now)
        opened, pnl = self.store.day_stats(self.mode, day)
        reason, daily = risk.limit_reason(
            opened, pnl, len(self.store.open_positions(self.mode)) - freed,
            self.settings.max_open_positions, self.settings.max_daily_trades,
            self.settings.max_daily_loss)
        if daily:
            self.notify("trading_paused", None, f"Trading paused: {reason}",
                        dedupe=f"daily_limit:{self.mode}:{day}", topic="notice")
        return reason

    # -- protection and closing -------------------------------------------------------------------
    def identity(self, pos: PositionRow) -> str:
        """The idempotency key of a position's orders: its signal's identity."""
        sig = self.store.signal(pos.signal_id) if pos.signal_id else None
        # Without a signal (an adopted position) the opening time keeps the ids apart from
        # those of a position that had the same row id in a state DB since lost.
        return sig.identity if sig else f"position:{pos.id}:{pos.opened_at}"

    def intents_of(self, pos: PositionRow, role: str) -> list[IntentRow]:
        """The position's order intents of `role`, oldest first: by its signal, or for a position
        without one (adopted) by the position id written on each intent."""
        if pos.signal_id:
            return self.store.intents(signal_id=pos.signal_id, role=role)
        return [i for i in self.store.intents(role=role)
                if i.symbol == pos.symbol and i.detail.get("position_id") == pos.id]

    async def _protect(self, pos: PositionRow, open_ids: Optional[set[str]]) -> str:
        """Make sure the stop and the target are on the exchange; '' or what went wrong."""
        for kind, level in (("stop", pos.stop), ("target", pos.target)):
            if level is None:  # adopted without a known level: announced then, never invented
                continue
            try:
                await self._ensure(pos, kind, level, open_ids)
            except PermanentExchangeError as err:
                return f"{kind} rejected: {_short(err)}"
            except OrderUnresolved as err:
                return f"{kind} could not be placed: {_short(err)}"
        return ""

    async def _ensure(self, pos: PositionRow, kind: str, level: float,
                      open_ids: Optional[set[str]]) -> None:
        """Place one protective order unless the exchange already holds it."""
        intents = self.intents_of(pos, kind)
        gen, cid = 0, client_id(self.identity(pos), kind)
        if intents:
            cur = intents[-1]
            gen, cid = len(intents) - 1, cur.client_id
            if open_ids is not None and cid in open_ids:
                return
            found = await self.desk.lookup(pos.symbol, cid, conditional=True)
            if found is not None and found.status == "open":
                return
            if found is not None:  # triggered or cancelled: a fresh id for the new order
                gen += 1
                cid = client_id(self.identity(pos), kind, gen)
        side = side_for(pos.direction, closing=True)
        await self.desk.place(
            client_id=cid, signal_id=pos.signal_id, symbol=pos.symbol, role=kind, side=side,
            quantity=None, price=level, conditional=True,
            send=lambda: self.broker.protective_order(pos.symbol, side, kind, level, cid),
            detail={"position_id": pos.id})
        log.info("protection_placed", symbol=pos.symbol, kind=kind, price_level=level,
                 client_id=cid)

    async def _emergency_close(self, pos: PositionRow, problem: str) -> None:
        """Protection could not be placed: close at once and say so loudly."""
        text = await self._close(pos, f"protection failed: {problem}")
        self.notify("protection_failed", pos.symbol,
                    f"{pos.symbol}: protection could not be placed ({problem}); {text}",
                    dedupe=f"protfail:{pos.id}", topic="notice")

    async def _close(self, pos: PositionRow, reason: str) -> str:
        """Reduce-only market close of our position, then cancel its stop/target."""
        closes = self.intents_of(pos, "close")
        for prior in closes:  # an earlier close that may have gone through: ask first
            if prior.status not in ("filled", "rejected", "abandoned"):
                try:
                    found = await self.desk.lookup(pos.symbol, prior.client_id, False)
                except OrderUnresolved as err:
                    return f"close unresolved: {_short(err)}"
                if found is not None and found.status == "filled":
                    return await self._closed_by_us(pos, found.average, reason)
        cid = client_id(self.identity(pos), "close", len(closes))
        side = side_for(pos.direction, closing=True)
        try:
            res = await self.desk.place(
                client_id=cid, signal_id=pos.signal_id, symbol=pos.symbol, role="close",
                side=side, quantity=pos.quantity, price=None, conditional=False,
                send=lambda: self.broker.market_order(pos.symbol, side, pos.quantity, cid,
                                                      reduce_only=True),
                detail={"position_id": pos.id})
        except (PermanentExchangeError, OrderUnresolved) as err:
            self.notify("close_failed", pos.symbol, f"{pos.symbol}: closing FAILED "
                        f"({_short(err)}); retrying on the next cycle", topic="notice",
                        dedupe=f"closefail:{cid}")
            return f"close failed: {_short(err)}"
        return await self._closed_by_us(pos, res.average, reason)

    async def _closed_by_us(self, pos: PositionRow, average: Optional[float], reason: str) -> str:
        """Our close filled: record it with the exchange's own PnL and fees when it has them."""
        try:
            fill = await self._exit_fill(pos)
        except (TransientExchangeError, PermanentExchangeError) as err:
            log.warning("exit_lookup_failed", symbol=pos.symbol, error=str(err)[:200])
            fill = None
        if fill is None:
            return await self._closed(pos, average, reason)
        return await self._closed(pos, average or fill.price, reason, fill.pnl, fill.fees)

    async def _closed(self, pos: PositionRow, price: Optional[float], reason: str,
                      pnl: Optional[float] = None, fees: Optional[float] = None) -> str:
        """Record the exit, cancel what protected the position, announce it.

        `pnl` is the exchange's realised PnL when known; otherwise it is computed from `price`.
        Both are before fees; with `fees` known, what is recorded and shown is net of them.
        """
        sign = 1 if pos.direction == LONG else -1
        if pnl is None and price:
            pnl = (price - pos.entry_price) * pos.quantity * sign
        net = pnl - fees if pnl is not None and fees is not None else pnl
        self.store.close_position(pos.id, price, net, reason, self.now_ms())
        await self._cancel_protection(pos)
        # Without the commissions (paper, a fee paid in BNB, trades not visible) say so.
        after = f"after {fees:.2f} USDT fees" if fees is not None else "before fees"
        text = (f"Closed {pos.direction.upper()} {pos.symbol} @ {price:g}: PnL {net:+.2f} USDT "
                f"{after} ({reason})" if price else f"Closed {pos.symbol} ({reason})")
        self.notify("position_closed", pos.symbol, text,
                    {"exit": price, "pnl": net, "fees": fees, "reason": reason,
                     "mode": pos.mode},
                    dedupe=f"close:{pos.id}")
        self._limit_reason()  # a loss that crosses MAX_DAILY_LOSS is announced now
        return text

    async def _cancel_protection(self, pos: PositionRow) -> None:
        """Cancel every stop/target intent of the position still possibly open."""
        for role in ("stop", "target"):
            for it in self.intents_of(pos, role):
                if it.status in ("filled", "canceled", "cancelled", "rejected", "expired"):
                    continue
                try:
                    await self.broker.cancel_protective(pos.symbol, it.client_id)
                    self.store.update_intent(it.client_id, "cancelled", self.now_ms())
                except (TransientExchangeError, PermanentExchangeError) as err:
                    log.warning("cancel_failed", client_id=it.client_id, error=_short(err))

    # -- commands ---------------------------------------------------------------------------------
    async def close(self, symbol: str) -> str:
        """Close the daemon's position on `symbol` (Telegram /close)."""
        try:
            symbol = normalize_symbol(symbol)
        except ValueError as err:
            return str(err)
        async with self._lock:
            pos = self.store.open_position(symbol, self.mode)
            if pos is None:
                return f"no position opened by the daemon on {symbol}"
            return await self._close(pos, "closed by command")

    async def close_all(self) -> str:
        """Close every position the daemon opened (Telegram /closeall)."""
        async with self._lock:
            out = [await self._close(p, "closed by command")
                   for p in self.store.open_positions(self.mode)]
            return "\n".join(out) or "no open positions"

    async def positions(self) -> list[dict]:
        """Open positions the daemon holds, as dicts (Telegram /positions)."""
        return [asdict(p) for p in self.store.open_positions(self.mode)]

    async def check(self) -> list[tuple[str, bool, str]]:
        """Authentication, balance and position mode, for `main.py check`."""
        return await self.broker.check()

    async def on_candles(self, symbol: str, candles_df: pd.DataFrame) -> None:
        """Later candles: the paper broker fills stops/targets on them; then reconcile."""
        self.broker.on_candles(symbol, candles_df)
        if self.mode == "paper":
            await self.reconcile()


def _short(err: Exception) -> str:
    return str(err)[:160]
