"""CoinDCX Futures trading on the port, over its own client (ccxt does not speak it).

What differs from the ccxt venues, and why:
- No client order id on futures orders. The trading layer writes the intent (side, quantity,
  time) before sending; an order whose answer was lost, or a process killed meanwhile, is found
  by listing recent orders and matching pair, side, quantity and a creation time after the
  intent (`find_order`), or by the venue's id once an answer gave it.
- An entry is sent at most once per client id by a process (`_send_once`): the venue cannot
  refuse a duplicate, so a second send would be a second position. Safe because the desk only
  re-sends after a lookup said the order does not exist; here that second send is refused and
  the outcome stays unknown: the intent is left for reconciliation, which looks it up again and
  abandons it (never re-sends) when nothing is found. A crash loses this set, but a new process
  never re-sends an old entry either: reconciliation only looks entries up.
- Create Order answers status 'initial': the fill is read back from the order list.
- The order's leverage must equal the position's: set at start, and every order carries the
  leverage the venue reports for the position.
- Stops and targets are the position's own TP/SL (positions/create_tpsl by position id), one
  leg per call, its success flag checked; moving one = cancel its untriggered order, then
  create again. A wrong-side trigger is refused by words, mapped to WOULD_TRIGGER_IMMEDIATELY.
- No reduce-only flag: a closing order is sized to the position read just before, and refused
  (REDUCE_ONLY_REJECTED) when the position is flat or on the other side.
"""
from __future__ import annotations

import asyncio
import dataclasses
import math
from collections.abc import Awaitable, Callable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

import pandas as pd
import structlog

from domain.candles import Candles
from domain.checks import CheckLine

from . import coindcx_orders as co
from .coindcx import TRADING_HOST, pair_of, reason_of_message, symbol_of
from .coindcx_http import PACER, CoindcxHttp, VenueId
from .errors import PermanentExchangeError, Rejected, TransientExchangeError, reason_of
from .options import TradingConfig
from .port import (
    Balance,
    Direction,
    ExchangePosition,
    ExitFill,
    LiveTradingRefused,
    MarketRules,
    OrderIntent,
    OrderResult,
    OrderStatus,
)
from .retry import RetryPolicy, SharedPause, with_retry
from .tagging import RequestObserver
from .venue import Reason, Venue

log = structlog.get_logger(__name__)
T = TypeVar("T")
PAGE_SIZE = 50
PAGES = 4            # recent orders read per side when looking an order up
FILL_READS_S = (0.05, 0.1, 0.2, 0.4)  # read-backs of a market order's fill after 'initial'


class Trading:
    """One CoinDCX Futures account (live only: there is no testnet)."""

    def __init__(self, config: TradingConfig, venue: Venue, *, read_attempts: int = 4,
                 backoff_s: float = 0.25, timeout_s: float = 10.0, rate_limit: bool = True,
                 sleep: Callable[[float], Awaitable[None]] = asyncio.sleep) -> None:
        if config.demo:
            raise LiveTradingRefused(f"{venue.label} has no testnet: set DEMO_TRADING=0 and "
                                     "CONFIRM_LIVE_TRADING=yes, or trade on paper")
        if not config.live_confirmed:
            raise LiveTradingRefused("DEMO_TRADING=0 places real orders: set "
                                     "CONFIRM_LIVE_TRADING=yes to confirm")
        venue.trading_spec()  # NotTradable for a data-only venue
        self.venue, self.config, self.mode = venue, config, "live"
        self.slippage_bps = 0.0
        self.client_id_room = 32      # ids never reach the venue: the daemon's own length
        self.conditional_ids = False  # stops and targets are named by the venue's order id
        keys = config.credentials
        self.http = CoindcxHttp(venue, config.url or f"https://{TRADING_HOST}",
                                api_key=keys.api_key, secret=keys.secret, timeout_s=timeout_s,
                                pacer=PACER if rate_limit else None)
        self.exchange = VenueId(venue.name)  # the metrics' venue label
        self._policy = RetryPolicy(attempts=read_attempts, base_s=backoff_s, cap_s=8.0,
                                   budget_s=math.inf, sleep=sleep)
        self._pause = SharedPause(self._policy.clock)
        self._sleep = sleep
        self._rules: dict[str, MarketRules] = {}
        self._leverage: dict[str, int] = {}
        self._sent: set[str] = set()       # entries' client ids sent by this process
        self._named: dict[str, str] = {}   # venue order id -> our client id (this process)

    # -- plumbing ---------------------------------------------------------------------------------
    async def _read(self, path: str, fields: Mapping[str, Any] | None = None,
                    method: str = "POST") -> Any:
        """A signed read (or an idempotent call), retried on transient failures."""
        return await with_retry(lambda: self.http.signed(method, path, fields), self._policy,
                                path, self._pause, self.venue, log_as="trading")

    async def _public(self, path: str, params: Mapping[str, Any]) -> Any:
        return await with_retry(lambda: self.http.get(path, params), self._policy, path,
                                self._pause, self.venue, log_as="trading")

    def observe_requests(self, observer: RequestObserver) -> None:
        self.http.observer = observer

    async def close(self) -> None:
        await self.http.close()

    def rules(self, symbol: str) -> MarketRules:
        return self._rules[symbol]

    def _step(self, symbol: str) -> float:
        rules = self._rules.get(symbol)
        return rules.step if rules else 0.0

    # -- start --------------------------------------------------------------------------------
    async def start(self, symbols: list[str]) -> None:
        """Rules per pair, margin type and leverage set (the order's leverage must equal the
        position's), then the position's leverage as the venue holds it."""
        for symbol in symbols:
            answer = await self._public(co.INSTRUMENT, {"pair": pair_of(symbol),
                                                        "margin_currency_short_name": "USDT"})
            self._rules[symbol] = co.rules_of(symbol, answer.get("instrument") or {})
            await self._setting(co.MARGIN_TYPE, {
                "pair": pair_of(symbol),
                "margin_type": co.MARGIN_TYPES.get(self.config.margin_mode, "isolated")})
            await self._setting(co.LEVERAGE, {"pair": pair_of(symbol),
                                              "leverage": str(self.config.leverage),
                                              "margin_currency_short_name": "USDT"})
            row = await self._position_row(symbol)
            self._leverage[symbol] = int(co.number(row.get("leverage"))
                                         or self.config.leverage) if row else \
                self.config.leverage
            log.info("symbol_prepared", venue=self.venue.name, symbol=symbol,
                     margin_mode=self.config.margin_mode, leverage=self._leverage[symbol])

    async def _setting(self, path: str, fields: Mapping[str, Any]) -> None:
        """A setting the venue may refuse while a position is open: said, not fatal (orders
        then carry the leverage the position really has)."""
        try:
            await self._read(path, fields)
        except (Rejected, TransientExchangeError) as e:
            log.warning("setting_refused", venue=self.venue.name, path=path, error=str(e)[:200])

    # -- orders -------------------------------------------------------------------------------
    def _send_once(self, client_id: str) -> None:
        """See the module docstring: an entry whose outcome is unknown is never sent again."""
        if client_id in self._sent:
            raise TransientExchangeError(f"{client_id} was sent already; {self.venue.label} "
                                         "keeps no client id, so it is looked up, never re-sent")
        self._sent.add(client_id)

    async def market_order(self, symbol: str, side: str, quantity: float, client_id: str, *,
                           reduce_only: bool = False, ref_price: float | None = None
                           ) -> OrderResult:
        """One market order, sent once; its fill read back from the order list."""
        if reduce_only:
            quantity = await self._closable(symbol, side, quantity)
        self._send_once(client_id)
        # price and stop_price are documented as mandatory and NULL for a market order.
        order = {"side": side, "pair": pair_of(symbol), "order_type": "market_order",
                 "price": None, "stop_price": None,
                 "total_quantity": co.quantity_text(quantity, self._step(symbol)),
                 "leverage": self._leverage.get(symbol, self.config.leverage),
                 "notification": "no_notification", "margin_currency_short_name": "USDT"}
        answer = await self.http.signed("POST", co.CREATE, {"order": order})
        created = answer[0] if isinstance(answer, list) and answer else None
        if not isinstance(created, dict) or not created.get("id"):
            raise TransientExchangeError(f"create order: no order in the answer ({answer!r:.80})")
        self._named[str(created["id"])] = client_id
        last = dataclasses.replace(co.order_result(created, client_id), symbol=symbol)
        for delay in FILL_READS_S:  # 'initial' says nothing of the fill yet
            await self._sleep(delay)
            try:
                found = await self._by_id(symbol, side, str(created["id"]), conditional=False)
            except (TransientExchangeError, PermanentExchangeError) as e:
                log.warning("fill_read_failed", client_id=client_id, error=str(e)[:200])
                break  # the desk follows the order by the venue id it now holds
            if found is not None:
                last = dataclasses.replace(found, client_id=client_id)
                if last.status is not OrderStatus.OPEN:
                    break
        return last

    async def _closable(self, symbol: str, side: str, quantity: float) -> float:
        """The quantity a closing order may take: at most the position it closes."""
        row = await self._position_row(symbol)
        held = co.number(row.get("active_pos")) if row else 0.0
        if not held or (held > 0) == (side == "buy"):
            raise Rejected(f"no {symbol} position for a {side} to reduce", None,
                           reason=Reason.REDUCE_ONLY_REJECTED)
        return min(quantity, abs(held))

    async def _orders(self, side: str, status: str, pages: int = PAGES,
                      since_ms: int | None = None) -> list[dict[str, Any]]:
        """Recent orders of one side (newest first), page after page."""
        out: list[dict[str, Any]] = []
        for page in range(1, pages + 1):
            rows = await self._read(co.ORDERS, {
                "status": status, "side": side, "page": str(page), "size": str(PAGE_SIZE),
                "margin_currency_short_name": ["USDT"]})
            rows = rows if isinstance(rows, list) else []
            out += rows
            if len(rows) < PAGE_SIZE or (since_ms is not None and rows and min(
                    co.number(r.get("created_at")) for r in rows) < since_ms - co.SKEW_MS):
                break
        return out

    async def _by_id(self, symbol: str, side: str | None, order_id: str, conditional: bool
                     ) -> OrderResult | None:
        status = co.EVERY_STATUS + (",untriggered" if conditional else "")
        for s in ([side] if side else ["buy", "sell"]):
            for o in await self._orders(s, status):
                if str(o.get("id")) == order_id:
                    return dataclasses.replace(co.order_result(o), symbol=symbol)
        return None

    async def find_order(self, symbol: str, client_id: str, conditional: bool,
                         intent: OrderIntent | None = None) -> OrderResult | None:
        """By the venue's id when known; else the order matching what the intent wrote down."""
        if intent is None:
            raise TransientExchangeError(f"{client_id}: {self.venue.label} keeps no client id "
                                         "and no intent was written: it cannot be looked up")
        if intent.exchange_id:
            found = await self._by_id(symbol, intent.side, intent.exchange_id, conditional)
        elif conditional:
            found = next((o for o in await self.open_protective()
                          if o.symbol == symbol and o.side == intent.side
                          and o.kind == intent.kind and co.same_trigger(o.trigger,
                                                                        intent.trigger)), None)
        else:
            found = await self._matching_entry(symbol, client_id, intent)
        if found is None:
            return None
        if found.exchange_id:
            self._named[found.exchange_id] = client_id
        return dataclasses.replace(found, client_id=client_id)

    async def _matching_entry(self, symbol: str, client_id: str, intent: OrderIntent
                              ) -> OrderResult | None:
        """The earliest market order after the intent with its pair, side and quantity that
        no other order of this process holds (created at or after the intent's time first)."""
        if intent.side is None:
            raise TransientExchangeError(f"{client_id}: no side written: cannot match an order")
        pair, step = pair_of(symbol), self._step(symbol)
        rows = [o for o in await self._orders(intent.side, co.EVERY_STATUS,
                                              since_ms=intent.created_ms)
                if co.matches_intent(o, intent, pair, step)
                and self._named.get(str(o.get("id")), client_id) == client_id]
        rows.sort(key=lambda o: (co.number(o.get("created_at")) < intent.created_ms,
                                 co.number(o.get("created_at"))))
        return dataclasses.replace(co.order_result(rows[0]), symbol=symbol) if rows else None

    # -- stops and targets ------------------------------------------------------------------------
    async def protective_order(self, symbol: str, side: str, kind: str, trigger: float,
                               client_id: str) -> OrderResult:
        """The position's whole stop or target: one create_tpsl leg, its success flag read."""
        row = await self._position_row(symbol)
        if not row or not co.number(row.get("active_pos")):
            raise PermanentExchangeError(f"no {symbol} position to protect")
        result = await self._tpsl(symbol, str(row["id"]), kind, trigger, client_id)
        if isinstance(result, OrderResult):
            return result
        existing = next((o for o in await self.open_protective()
                         if o.symbol == symbol and o.kind == kind), None)
        if existing is None:  # said to exist, not listed yet: unknown, looked up later
            raise TransientExchangeError(f"{symbol} {kind}: {result}")
        if co.same_trigger(existing.trigger, trigger) and existing.side == side:
            # The position's own stop at our level (another instance on the account placed
            # it): it protects the whole position, ours included.
            return dataclasses.replace(existing, client_id=client_id)
        log.warning("protection_moved", symbol=symbol, kind=kind, old=existing.trigger,
                    new=trigger)
        await self.cancel_protective(symbol, client_id, existing.exchange_id)
        again = await self._tpsl(symbol, str(row["id"]), kind, trigger, client_id)
        if isinstance(again, OrderResult):
            return again
        raise TransientExchangeError(f"{symbol} {kind}: {again}")

    async def _tpsl(self, symbol: str, position_id: str, kind: str, trigger: float,
                    client_id: str) -> OrderResult | str:
        """Our result for one leg, or the venue's words when it says the leg exists already."""
        leg, order_type = co.LEGS[kind]
        tick = self._rules[symbol].tick if symbol in self._rules else 0.0
        answer = await self.http.signed("POST", co.TPSL, {
            "id": position_id, leg: {"stop_price": str(co.quantity_text(trigger, tick)),
                                     "order_type": order_type}})
        got = answer.get(leg) if isinstance(answer, dict) else None
        if not isinstance(got, dict):
            raise TransientExchangeError(f"create_tpsl: no {leg} in the answer ({answer!r:.80})")
        if got.get("success") is False or got.get("error"):
            words = str(got.get("error") or "refused")
            reason = reason_of_message(words) or Reason.OTHER
            if reason is Reason.DUPLICATE_CLIENT_ID:
                return words
            raise Rejected(f"CoinDCX {leg}: {words}", None, reason=reason)
        self._named[str(got.get("id"))] = client_id
        return dataclasses.replace(co.order_result(got, client_id), symbol=symbol)

    async def cancel_protective(self, symbol: str, client_id: str,
                                exchange_id: str | None = None) -> None:
        """Cancel a stop or target by the venue's id (gone already is fine)."""
        if not exchange_id:
            raise TransientExchangeError(f"{client_id}: no venue order id to cancel it by")
        try:
            await self._read(co.CANCEL, {"id": exchange_id})
        except PermanentExchangeError as e:
            if reason_of(e) is not Reason.NOT_FOUND:
                raise

    async def open_protective(self) -> list[OrderResult]:
        """Every untriggered TP/SL order on the account (named by nothing: client_id '')."""
        out = []
        for side in ("buy", "sell"):
            for o in await self._orders(side, "untriggered"):
                symbol = symbol_of(str(o.get("pair")))
                if symbol and o.get("order_type") in co.KINDS:
                    out.append(co.order_result(o))
        return out

    async def recent_entries(self, symbol: str) -> list[OrderResult]:
        """The pair's filled market orders, newest first; no client id is ever on them, so a
        position cannot be proved the daemon's by them (it is reported, never adopted)."""
        pair = pair_of(symbol)
        rows = [o for side in ("buy", "sell") for o in await self._orders(side, "filled", 1)
                if o.get("pair") == pair and o.get("order_type") == "market_order"]
        rows.sort(key=lambda o: -co.number(o.get("created_at")))
        return [dataclasses.replace(co.order_result(o), symbol=symbol) for o in rows]

    # -- account ----------------------------------------------------------------------------------
    async def _position_rows(self, pairs: list[str] | None = None) -> list[dict[str, Any]]:
        fields: dict[str, Any] = {"page": "1", "size": "100",
                                  "margin_currency_short_name": ["USDT"]}
        if pairs:
            fields["pairs"] = ",".join(pairs)
        rows = await self._read(co.POSITIONS, fields)
        return rows if isinstance(rows, list) else []

    async def _position_row(self, symbol: str) -> dict[str, Any] | None:
        pair = pair_of(symbol)
        return next((r for r in await self._position_rows([pair]) if r.get("pair") == pair),
                    None)

    async def positions(self, symbols: list[str]) -> dict[str, ExchangePosition]:
        """Open positions by our symbol (active_pos is signed, in coins)."""
        out = {}
        for r in await self._position_rows([pair_of(s) for s in symbols] if symbols else None):
            size, symbol = co.number(r.get("active_pos")), symbol_of(str(r.get("pair")))
            if size and symbol:
                out[symbol] = ExchangePosition(symbol, Direction.LONG if size > 0
                                               else Direction.SHORT, abs(size),
                                               co.number(r.get("avg_price")))
        return out

    async def closing_fill(self, symbol: str, direction: Direction, since_ms: int
                           ) -> ExitFill | None:
        """Price, PnL and fees of the fills that closed the position (futures/trades)."""
        day = timedelta(days=1)
        start = datetime.fromtimestamp(since_ms / 1000, tz=UTC)
        rows = await self._read(co.TRADES, {
            "pair": pair_of(symbol), "from_date": start.strftime("%Y-%m-%d"),
            "to_date": (datetime.now(UTC) + day).strftime("%Y-%m-%d"), "page": "1",
            "size": "100", "margin_currency_short_name": ["USDT"]})
        return co.exit_fill(co.ccxt_like_trades(rows if isinstance(rows, list) else [],
                                                since_ms), direction)

    async def balance(self) -> Balance:
        """The USDT futures wallet: balance, less what margins lock."""
        rows = await self._read(co.WALLETS, None, method="GET")
        row: dict[str, Any] = next((r for r in rows if r.get("currency_short_name") == "USDT"),
                                   {}) if isinstance(rows, list) else {}
        total = co.number(row.get("balance"))
        locked = sum(co.number(row.get(k)) for k in ("locked_balance", "cross_order_margin",
                                                       "cross_user_margin"))
        return Balance("USDT", total, max(0.0, total - locked))

    async def check(self) -> list[CheckLine]:
        """Host (live: no testnet), signing pair, authentication and balance, position and
        margin mode."""
        pair = self.config.signed_by or "COINDCX_API_KEY"
        out = [CheckLine("trading host", True, f"{self.http.host} (live, no testnet, signed by "
                                               f"{pair})")]
        try:
            bal = await self.balance()
        except Exception as e:  # noqa: BLE001 - reported, not raised: check lists every problem
            return out + [CheckLine("trading authentication", False, str(e)[:200])]
        return out + [
            CheckLine("trading authentication", True, "live keys accepted"),
            CheckLine("trading balance", True, f"{bal.total:g} USDT ({bal.free:g} available)"),
            CheckLine("position mode", True, "one-way (CoinDCX keeps one position per pair)"),
            CheckLine("margin mode", True, f"{self.config.margin_mode} x{self.config.leverage}"
                                           ", set per pair at start")]

    def on_candles(self, symbol: str, candles: Candles | pd.DataFrame) -> None:
        """The venue triggers stops and targets itself: nothing to do."""
