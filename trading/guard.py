"""The venue against the daemon's record: positions the daemon did not make, quantities it did
not fill, orders of another daemon on the same account."""
from __future__ import annotations

from collections.abc import Callable

import structlog

from exchanges.errors import PermanentExchangeError, TransientExchangeError
from store import Store
from store.orders import PositionRow

from .client_ids import is_ours, tag_of
from .models import Broker, ExchangePosition, OrderResult
from .notices import mismatch_text, num, other_instance_text, unexpected_text
from .notifier import TradeNotifier
from .outcomes import SkipReason

log = structlog.get_logger(__name__)

OTHER_INSTANCE_KEY = "other_instance"      # set while another daemon's orders were seen
SEEN_FOREIGN_KEY = "foreign_ids_seen"      # other instances' order ids already accounted for
MAX_SEEN = 500


class PositionUnreadable(Exception):
    """The venue's position of a symbol could not be read."""


class VenueGuard:
    """Compares the venue with the state DB before and after every fill, and every cycle."""

    def __init__(self, store: Store, broker: Broker, notifier: TradeNotifier, *, tag: str,
                 now_ms: Callable[[], int]) -> None:
        self.store, self.broker, self.notify = store, broker, notifier.notify
        self.tag, self.now_ms = tag, now_ms  # tag: this state DB's instance tag (client_ids)
        self.mismatch: dict[str, str] = {}  # symbol -> why the venue disagrees with the DB

    async def position(self, symbol: str) -> ExchangePosition | None:
        """The venue's position on `symbol` now (None when flat); PositionUnreadable."""
        try:
            return (await self.broker.positions([symbol])).get(symbol)
        except (TransientExchangeError, PermanentExchangeError) as err:
            raise PositionUnreadable(str(err)[:160]) from err

    def _same(self, venue: ExchangePosition | None, pos: PositionRow | None) -> bool:
        """True when the venue holds exactly the daemon's position (or both are flat)."""
        if venue is None or pos is None:
            return venue is None and pos is None
        if venue.direction != pos.direction:
            return False
        try:
            step = self.broker.rules(pos.symbol).step
        except KeyError:
            step = 0.0
        # Half a lot: a venue counting in contracts may show the base quantity rounded.
        return abs(venue.quantity - pos.quantity) <= max(step / 2, 1e-9 * pos.quantity)

    def unexpected(self, venue: ExchangePosition | None, pos: PositionRow | None
                    ) -> tuple[SkipReason, str] | None:
        """Why an entry must not be sent on top of what the venue holds; None when it may."""
        if self._same(venue, pos):
            return None
        if pos is None:
            return SkipReason.FOREIGN_POSITION, unexpected_text(venue, None)
        return SkipReason.UNEXPECTED_POSITION, unexpected_text(
            venue, f"{pos.direction} {num(pos.quantity)}")

    async def check_after_fill(self, pos: PositionRow) -> None:
        """After a fill: the venue must hold what the DB now records, else say so at once."""
        try:
            venue = await self.position(pos.symbol)
        except PositionUnreadable as err:  # the next reconciliation compares again
            log.warning("position_check_failed", symbol=pos.symbol, error=str(err))
            return
        self.compare(pos, venue)

    def compare(self, pos: PositionRow, venue: ExchangePosition | None) -> None:
        """Flag (once per figure) or clear a disagreement between the venue and the DB."""
        if self._same(venue, pos):
            if self.mismatch.pop(pos.symbol, None) is not None:
                log.info("quantity_agrees_again", symbol=pos.symbol)
            return
        ours = f"{pos.direction} {num(pos.quantity)}"
        text = mismatch_text(pos.symbol, venue, ours)
        self.mismatch[pos.symbol] = text
        held = "flat" if venue is None else f"{venue.direction}:{venue.quantity:g}"
        log.warning("quantity_mismatch", symbol=pos.symbol, venue=held, ours=ours)
        self.notify("quantity_mismatch", pos.symbol, text,
                    {"venue_quantity": venue.quantity if venue else 0.0,
                     "quantity": pos.quantity}, dedupe=f"mismatch:{pos.id}:{held}",
                    topic="notice")

    def forget(self, symbol: str) -> None:
        """The daemon's position on `symbol` is closed: no disagreement of it remains."""
        self.mismatch.pop(symbol, None)

    def _foreign_tagged(self, waiting: list[OrderResult]) -> list[OrderResult]:
        """Waiting orders of this daemon's kind made by another instance and unknown here."""
        return [o for o in waiting if is_ours(o.client_id) and tag_of(o.client_id) not in
                (None, self.tag) and self.store.intent(o.client_id) is None]

    def _new_foreign(self, waiting: list[OrderResult], first: bool) -> list[OrderResult]:
        """Another instance's orders not accounted for yet. Those seen by the first
        reconciliation predate this process (a lost state DB's, adopted or cancelled as
        usual); any appearing later were placed while this daemon runs: another daemon."""
        seen = set(self.store.get(SEEN_FOREIGN_KEY, []))
        fresh = [o for o in self._foreign_tagged(waiting) if o.client_id not in seen]
        if first and fresh:
            self._remember_foreign(fresh)
            return []
        return fresh

    def _remember_foreign(self, orders: list[OrderResult]) -> None:
        seen = list(self.store.get(SEEN_FOREIGN_KEY, []))
        seen += [o.client_id for o in orders if o.client_id not in seen]
        self.store.put(SEEN_FOREIGN_KEY, seen[-MAX_SEEN:])

    def other_instance_found(self, evidence: str, orders: tuple[OrderResult, ...] = ()) -> None:
        """Another daemon trades on this account: pause trading (until /resume) and say so."""
        self._remember_foreign(list(orders))
        self.store.put(OTHER_INSTANCE_KEY, {"evidence": evidence, "at": self.now_ms()})
        log.error("other_instance_detected", evidence=evidence, tag=self.tag)
        self.notify("other_instance", None, other_instance_text(evidence, self.tag),
                    dedupe=f"other:{self.now_ms() // 60_000}:{evidence[:80]}", topic="notice")

    def detect_other_instance(self, waiting: list[OrderResult], first: bool
                               ) -> tuple[str, ...]:
        """Pause when another instance's orders appeared; their ids (none: nothing new)."""
        fresh = self._new_foreign(waiting, first)
        if not fresh:
            return ()
        tags = sorted({tag_of(o.client_id) or "" for o in fresh})
        listed = ", ".join(f"{o.symbol} {o.kind or 'order'} {o.client_id}" for o in fresh[:4])
        self.other_instance_found(f"{len(fresh)} waiting order(s) with instance tag "
                             f"{'/'.join(tags)} appeared that this daemon did not place "
                             f"({listed})", tuple(fresh))
        return tuple(o.client_id for o in fresh)
