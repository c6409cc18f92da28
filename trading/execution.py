"""Sending one order safely: intent first, and an ambiguous failure is resolved by client id."""
from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import replace
from typing import Any

import structlog

from exchanges.errors import PermanentExchangeError, TransientExchangeError, reason_of
from exchanges.venue import Reason
from store import Store

from .models import Broker, OrderIntent, OrderResult, OrderStatus

log = structlog.get_logger(__name__)

# Waits between lookups of an order the exchange acknowledged without saying it filled (a
# market order answered NEW): about 2 s in all, so that its protection follows within a slot's
# first seconds instead of at the next reconciliation.
FOLLOW_DELAYS_S = (0.1, 0.2, 0.3, 0.5, 0.7)


class OrderUnresolved(Exception):
    """The exchange could not say whether the order exists; reconciliation will ask again."""


class ClientIdTaken(Exception):
    """An entry's id is held on the venue by an order this instance never sent: another daemon
    traded the same signal on the account. `order` is that order, as the venue reports it."""

    def __init__(self, client_id: str, order: OrderResult) -> None:
        super().__init__(f"client id {client_id} is held by an order this daemon did not send "
                         f"(status {order.status}, filled {order.filled:g})")
        self.order = order


class OrderDesk:
    """Places orders so that one client id is at most one order on the exchange."""

    def __init__(self, store: Store, broker: Broker, clock: Callable[[], float] = time.time,
                 sleep: Callable[[float], Awaitable[None]] = asyncio.sleep, *,
                 venue: str) -> None:
        self.store, self.broker, self.clock, self.sleep = store, broker, clock, sleep
        self.venue = venue  # written on every intent

    def _now(self) -> int:
        return int(self.clock() * 1000)

    async def place(self, *, client_id: str, signal_id: int | None, symbol: str, role: str,
                    side: str, quantity: float | None, price: float | None,
                    conditional: bool, send: Callable[[], Awaitable[OrderResult]],
                    detail: dict[str, Any] | None = None) -> OrderResult:
        """Record the intent, send, and on a timeout/5xx/lost answer look the id up before any
        second attempt. Raises PermanentExchangeError (rejected) or OrderUnresolved."""
        self.store.record_intent(client_id, signal_id, symbol, role, side, quantity, price,
                                 self._now(), detail=detail, venue=self.venue)
        for attempt in (1, 2):
            self.store.update_intent(client_id, OrderStatus.SENT, self._now(),
                                     detail={"attempt": attempt})
            try:
                result = await send()
            except PermanentExchangeError as e:
                if reason_of(e) is Reason.DUPLICATE_CLIENT_ID:
                    return await self._duplicate(symbol, client_id, role, attempt, conditional,
                                                 e)
                self.store.update_intent(client_id, OrderStatus.REJECTED, self._now(),
                                         detail={"error": str(e)[:300], "code": e.code})
                raise
            except TransientExchangeError as e:
                log.warning("order_ambiguous", client_id=client_id, role=role, error=str(e)[:200])
                found = await self.lookup(symbol, client_id, conditional)
                if found is not None:
                    return found
                continue  # the exchange says it never got it: the one retry, with the same id
            if result.client_id != client_id:
                # The answer is the order just sent, whether or not the venue kept our id on it.
                result = replace(result, client_id=client_id)
            self.record(result)
            return result
        self.store.update_intent(client_id, OrderStatus.UNKNOWN, self._now())
        raise OrderUnresolved(f"{role} order {client_id} failed twice")

    async def _duplicate(self, symbol: str, client_id: str, role: str, attempt: int,
                         conditional: bool, error: Exception) -> OrderResult:
        """The venue says the id exists: never a refusal, a question. Our own resend finds our
        order; an entry's id taken before this instance ever sent it is another daemon's."""
        log.warning("order_id_exists", client_id=client_id, role=role, attempt=attempt,
                    error=str(error)[:200])
        found = await self.lookup(symbol, client_id, conditional)
        if found is None:  # it exists, yet the venue's lists do not show it yet
            self.store.update_intent(client_id, OrderStatus.UNKNOWN, self._now(),
                                     detail={"error": str(error)[:300]})
            raise OrderUnresolved(f"{role} order {client_id} exists but was not found")
        if role == "entry" and attempt == 1:
            # Not ours: reconciliation must never take it up as this signal's fill.
            self.store.update_intent(client_id, OrderStatus.ABANDONED, self._now(),
                                     detail={"held_by_another_instance": True})
            raise ClientIdTaken(client_id, found)
        return found

    async def lookup(self, symbol: str, client_id: str, conditional: bool
                     ) -> OrderResult | None:
        """Ask the exchange for `client_id`: the order, or None when it definitely does not exist.

        Raises OrderUnresolved when the exchange cannot be asked (the intent stays 'unknown').
        """
        try:
            found = await self.broker.find_order(symbol, client_id, conditional,
                                                 self.intent_of(client_id))
        except (TransientExchangeError, PermanentExchangeError) as e:
            self.store.update_intent(client_id, OrderStatus.UNKNOWN, self._now(),
                                     detail={"error": str(e)[:300]})
            raise OrderUnresolved(f"cannot look up {client_id}: {e}") from e
        if found is not None:
            self.record(found)
        return found

    async def follow(self, symbol: str, client_id: str, last: OrderResult) -> OrderResult:
        """Look a market order up by id until it is filled (with a price) or final, within
        FOLLOW_DELAYS_S; returns the last answer, `last` when no lookup told more."""
        for delay in FOLLOW_DELAYS_S:
            if settled(last):
                break
            await self.sleep(delay)
            try:
                found = await self.lookup(symbol, client_id, conditional=False)
            except OrderUnresolved as err:  # the next poll may get through
                log.warning("order_follow_failed", client_id=client_id, error=str(err)[:200])
                continue
            if found is not None:
                last = found
        log.info("order_followed", client_id=client_id, status=last.status)
        return last

    def intent_of(self, client_id: str) -> OrderIntent | None:
        """The written intent of `client_id` as the port takes it (None when never written)."""
        row = self.store.intent(client_id)
        if row is None:
            return None
        conditional = row.role in ("stop", "target")
        return OrderIntent(row.client_id, row.symbol, row.side, row.quantity, row.created_at,
                           row.exchange_id, row.role if conditional else None,
                           row.price if conditional else None)

    def record(self, result: OrderResult) -> None:
        """Write what the exchange reported onto the intent."""
        self.store.update_intent(result.client_id, result.status, self._now(),
                                 exchange_id=result.exchange_id,
                                 detail={"filled": result.filled, "average": result.average})


def settled(result: OrderResult) -> bool:
    """True once a market order's answer says all there is to know: filled at a known price, or
    final (canceled, expired, rejected)."""
    if result.status == OrderStatus.FILLED:
        return bool(result.average)
    return result.status != OrderStatus.OPEN
