"""Gate USDT perpetuals over the generic classes: what ccxt's unified methods leave to the caller.

- candles: /futures/usdt/candlesticks refuses `limit` beside `from`/`to`, so every page is asked
  as a from/to range (ccxt sends `to` + `limit` for "the last n"); a range starting more than
  10,000 intervals back is refused, so such a request fails at once saying how far back Gate
  serves that timeframe (download must not loop on it);
- sizes are whole contracts of quanto_multiplier base units: converted here, rounded down;
- ccxt has no attached SL/TP for Gate (stopLoss/takeProfit go into the body and are ignored):
  stops and targets are separate reduce-only price-triggered orders (/price_orders) whose
  Gate documents their initial.text as how the order was made (web, api, app), not our id:
  they are found and cancelled by the numeric id recorded at placement (on_conditional=False);
- client ids: ccxt refuses a text over 28 characters before adding 't-', so the entry's id goes
  bare (ccxt prefixes it) and a trigger order's with its prefix (ccxt writes it as is);
- cross margin is leverage 0 + cross_leverage_limit (ccxt's set_leverage with marginMode
  cross), isolated the leverage itself; there is no separate margin-mode call;
- the position mode is the futures account's in_dual_mode: a dual-mode account is refused;
- REQUEST_EXPIRED (our clock outside Gate's 60 s window) is a clock error: resync, resend.
"""
from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

import structlog

from domain.checks import CheckLine
from domain.timeframe import timeframe_ms

from .ccxt_market_data import CcxtMarketData
from .ccxt_trading import CcxtTrading
from .errors import PermanentExchangeError
from .gate import (
    MAX_INTERVALS_BACK,
    REQUEST_EXPIRED,
    SETTLE,
    oldest_served,
    stop_or_target,
    to_contracts,
)
from .ohlcv import Rows, utc_text
from .port import OrderResult, PositionModeError

log = structlog.get_logger(__name__)

DUAL_MODE_WHERE = " (Futures > Settings > Position mode: One-way)"


class HistoryOutOfReach(PermanentExchangeError):
    """Candles asked for from further back than Gate serves for that timeframe."""


NO_CURRENCIES = {"fetchCurrencies": False}  # load_markets would also read /spot/currencies


class GateMarketData(CcxtMarketData):
    """Gate's candles asked as from/to ranges, within its 10,000-interval horizon."""

    def _client_config(self) -> dict[str, Any]:
        return {**super()._client_config(), "has": NO_CURRENCIES}

    async def _rows(self, symbol: str, timeframe: str, *, since: int | None, until: int | None,
                    limit: int) -> Rows:
        """One page, always as a range: 'the last n up to until' becomes from = n intervals
        back (Gate refuses limit with from/to), cut at the horizon; a range starting before
        what Gate serves is refused here, saying how far back it reaches."""
        tf_ms = timeframe_ms(timeframe)
        now = await self.server_time_ms()
        oldest = oldest_served(now, tf_ms)
        if since is None:
            end = until if until is not None else now
            # Backwards, the horizon is where the history ends: a short page says so.
            since = max(end - end % tf_ms - (limit - 1) * tf_ms, oldest)
            until = end
        # Gate's `from` is in seconds and inclusive, ccxt drops rows before `since`: start on
        # the next open time, or a page's first row would be cut and the page read as short.
        since += (-since) % tf_ms
        if since < oldest or (until is not None and until < oldest):
            # Gate refuses the whole range: say how far back it reaches, never loop on it.
            raise HistoryOutOfReach(self.horizon_text(timeframe, oldest))
        return await super()._rows(symbol, timeframe, since=since, until=until, limit=limit)

    def horizon_text(self, timeframe: str, oldest: int) -> str:
        """What Gate serves of `timeframe`, for the error people read."""
        return (f"{self.venue.label} serves {timeframe} candles only "
                f"{MAX_INTERVALS_BACK:,} intervals back, from {utc_text(oldest)} UTC: "
                f"ask for a later start or a longer timeframe")


class GateTrading(CcxtTrading):
    """Gate USDT perpetuals: whole contracts, price-triggered stops, leverage 0 for cross."""

    mode_with_leverage = True  # cross = leverage 0 + cross_leverage_limit

    one_way_where = DUAL_MODE_WHERE

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Price orders placed by this process: Gate's id -> our id, should a listing come back
        # without the text it was sent with (the docs call initial.text the order's source).
        self._placed: dict[str, str] = {}

    def _client_config(self, timeout_s: float, rate_limit: bool) -> dict[str, Any]:
        return {**super()._client_config(timeout_s, rate_limit), "has": NO_CURRENCIES}

    def _is_clock_error(self, error: Exception) -> bool:
        return super()._is_clock_error(error) or REQUEST_EXPIRED in str(error)

    def _multiplier(self, symbol: str) -> float:
        return self._contract_size(symbol)

    async def _account(self) -> Mapping[str, Any]:
        """The USDT futures account (balance fields and in_dual_mode)."""
        return await self._call(lambda: self.exchange.privateFuturesGetSettleAccounts(
            {"settle": SETTLE}), read=True)

    async def _require_one_way(self, symbols: list[str]) -> None:
        """Refuse a dual-mode (hedge) account: the daemon holds one position per contract."""
        if (await self._account()).get("in_dual_mode"):
            raise PositionModeError(f"the {self.venue.label} account is in dual (hedge) mode; "
                                    f"switch the position mode to One-way{self.one_way_where} "
                                    "and restart")

    async def _leverage_tiers(self, symbols: list[str]) -> dict[str, list[dict[str, Any]]]:
        return {}  # risk-limit tiers are per contract and not needed to size one position

    def _order_params(self, client_id: str) -> dict[str, Any]:
        """Our id bare: ccxt refuses a text over 28 characters, then writes 't-' before it."""
        return {"clientOrderId": client_id}

    def _amount(self, symbol: str, quantity: float) -> float:
        """Whole contracts of quanto_multiplier, rounded down (a market order is IOC at 0)."""
        return to_contracts(quantity, self._multiplier(symbol))

    def _protective_params(self, kind: str, trigger: float, client_id: str) -> dict[str, Any]:
        """A reduce-only price-triggered market order on the last price; ccxt copies the id
        into initial.text as given, so it goes with its 't-'."""
        level = "stopLossPrice" if kind == "stop" else "takeProfitPrice"
        return {level: trigger, "reduceOnly": True, "price_type": 0,
                "clientOrderId": self._ids.wire(client_id)}

    async def protective_order(self, symbol: str, side: str, kind: str, trigger: float,
                               client_id: str) -> OrderResult:
        """Gate answers a price order with its id only: the rest is what was asked."""
        placed = await super().protective_order(symbol, side, kind, trigger, client_id)
        if placed.exchange_id:
            self._placed[placed.exchange_id] = client_id
        return dataclasses.replace(placed, client_id=placed.client_id or client_id,
                                   side=side, kind=kind, trigger=trigger)

    async def _price_orders(self, symbol: str | None, status: str) -> list[OrderResult]:
        """Price-triggered orders of one status ('open' or 'finished'), newest first."""
        s = self.venue.ccxt_symbol(symbol) if symbol else None
        fetch = self.exchange.fetch_open_orders if status == "open" else \
            self.exchange.fetch_closed_orders
        orders = await self._call(lambda: fetch(s, None, None, {"trigger": True}), read=True)
        return [self._order(o, self.venue.our_symbol(o["symbol"])) for o in orders]

    async def open_protective(self) -> list[OrderResult]:
        """Every waiting price-triggered order of the USDT futures account (one request)."""
        return await self._price_orders(None, "open")

    def _kind(self, o: Mapping[str, Any]) -> str | None:
        """A price order's kind from its size's sign and its trigger rule."""
        info = o.get("info") or {}
        rule = (info.get("trigger") or {}).get("rule")
        size = (info.get("initial") or {}).get("size")
        if rule is None or size is None:
            return None
        return stop_or_target(float(size), int(rule))

    def _order(self, o: Mapping[str, Any], symbol: str) -> OrderResult:
        result = super()._order(o, symbol)
        info = o.get("info") or {}
        if "initial" not in info:
            return result  # a plain order: its text is ccxt's clientOrderId
        text = str((info.get("initial") or {}).get("text") or "")
        if not text.startswith(self._ids.prefix):  # 'api', 'web': how it was made, not an id
            text = self._placed.get(result.exchange_id or "", "")
        return dataclasses.replace(result, client_id=self._ids.unwire(text))

    async def _position_mode_line(self) -> CheckLine:
        """One-way, or the futures account's dual mode refused with where to switch it."""
        dual = bool((await self._account()).get("in_dual_mode"))
        return CheckLine("position mode", not dual,
                         f"dual (hedge) mode: switch to One-way{self.one_way_where}" if dual
                         else "one-way")

    async def _margin_mode_line(self) -> CheckLine:
        return CheckLine("margin mode", True,
                         f"{self.config.margin_mode} x{self.config.leverage}, set per contract at "
                         "start (cross = leverage 0 + cross_leverage_limit)")


MarketData = GateMarketData
Trading = GateTrading
