"""BinanceFuturesAdapter: the trading ccxt `binanceusdm` instance, returning our dataclasses."""
from __future__ import annotations

import asyncio
import random
from typing import Any, Awaitable, Callable, Optional

import pandas as pd
import structlog

from config import Settings
from exchange import PermanentExchangeError, TransientExchangeError, override_hosts, translate
from exchange.ccxt_lean import ccxt, ccxt_async
from exchange.errors import TIMESTAMP_ERROR

from .models import (Direction, ExchangePosition, ExitFill, LiveTradingRefused, MarketRules,
                     OrderResult, OrderStatus, PositionModeError, side_for)

log = structlog.get_logger(__name__)
# ccxt's unified order statuses; anything else (None, 'new') is an order still open.
STATUS = {"open": OrderStatus.OPEN, "closed": OrderStatus.FILLED,
          "canceled": OrderStatus.CANCELED, "expired": OrderStatus.EXPIRED,
          "rejected": OrderStatus.REJECTED}


def ccxt_symbol(symbol: str) -> str:
    """'BTC/USDT' -> 'BTC/USDT:USDT' (the USD-M perpetual)."""
    return symbol if ":" in symbol else f"{symbol}:USDT"


def our_symbol(symbol: str) -> str:
    """'BTC/USDT:USDT' -> 'BTC/USDT'."""
    return symbol.split(":")[0]


def _kind(info: dict) -> Optional[str]:
    """'stop' or 'target' from Binance's own order type (ccxt reports algo orders as 'market')."""
    raw = str(info.get("orderType") or info.get("origType") or info.get("type") or "").upper()
    if raw.startswith("STOP"):
        return "stop"
    if raw.startswith("TAKE_PROFIT"):
        return "target"
    return None


def _order(o: dict, symbol: str) -> OrderResult:
    info = o.get("info") or {}
    cid = o.get("clientOrderId") or info.get("clientAlgoId") or info.get("clientOrderId") or ""
    status = STATUS.get(o.get("status") or "", OrderStatus.OPEN)
    avg = o.get("average") or (float(info["avgPrice"]) if float(info.get("avgPrice") or 0) else None)
    trigger = o.get("triggerPrice") or o.get("stopPrice") or info.get("triggerPrice")
    return OrderResult(symbol, cid, str(o.get("id")) if o.get("id") is not None else None,
                       status, float(o.get("filled") or 0), float(avg) if avg else None,
                       o.get("side"), float(trigger) if trigger and float(trigger) else None,
                       _kind(info))


def _usdt_commissions(trades: list[dict]) -> Optional[float]:
    """The trades' commissions in USDT; None if any was paid in another asset (BNB discount)."""
    total = 0.0
    for t in trades:
        info = t.get("info") or {}
        if info.get("commissionAsset") != "USDT" or info.get("commission") is None:
            return None
        total += float(info["commission"])
    return total


def _round_trip(trades: list[dict], close_side: str) -> Optional[tuple[list, list]]:
    """(entry, exit) trades of the last position, walking back from the newest trade until the
    position was flat before it; None when the trades do not add up to one (e.g. cut off by the
    look-back window), so that the caller falls back to what it can still say."""
    exits: list[dict] = []
    entry: list[dict] = []
    net = 0.0
    for t in reversed(trades):  # ccxt returns them oldest first
        if t["side"] == close_side:
            if entry:  # an exit of an older position (one this one reversed)
                break
            exits.append(t)
        else:
            entry.append(t)
        net += float(t["amount"]) * (1 if t["side"] == close_side else -1)
        if entry and abs(net) <= 1e-9 * max(1.0, float(t["amount"])):
            return entry[::-1], exits[::-1]
    return None


class BinanceFuturesAdapter:
    """Binance USD-M futures through ccxt (demo by default; live only when confirmed)."""

    def __init__(self, settings: Settings, *, read_attempts: int = 4, backoff_s: float = 0.25,
                 timeout_s: float = 10.0, rate_limit: bool = True) -> None:
        if not settings.enable_trading:
            raise ValueError("BinanceFuturesAdapter needs ENABLE_TRADING=1 (else the paper broker)")
        if settings.live_trading and not settings.confirm_live_trading:
            raise LiveTradingRefused("DEMO_TRADING=0 places real orders: set "
                                     "CONFIRM_LIVE_TRADING=yes to confirm")
        self.mode = "demo" if settings.demo_trading else "live"
        self.slippage_bps = 0.0  # real fills carry their own; none is added
        key, secret = ((settings.binance_api_key_demo, settings.binance_secret_demo)
                       if settings.demo_trading else
                       (settings.binance_api_key, settings.binance_secret))
        self.settings = settings
        self.read_attempts, self.backoff_s = read_attempts, backoff_s
        self.exchange = ccxt_async.binanceusdm({
            "apiKey": key, "secret": secret, "enableRateLimit": rate_limit,
            "timeout": int(timeout_s * 1000),
            "options": {"adjustForTimeDifference": False, "warnOnFetchOpenOrdersWithoutSymbol":
                        False, "recvWindow": 5000}})
        if settings.demo_trading:
            self.exchange.enable_demo_trading(True)
        override_hosts(self.exchange, settings.binance_trading_url)  # after the demo switch
        self._rules: dict[str, MarketRules] = {}
        self._prepared: set[str] = set()

    # -- plumbing ---------------------------------------------------------------------------------
    async def _resync(self) -> None:
        """Measure the offset between our clock and Binance's (ccxt applies it when signing)."""
        self.exchange.options["adjustForTimeDifference"] = True
        await self._call(self.exchange.load_time_difference, read=True)
        log.info("clock_synced", offset_ms=self.exchange.options.get("timeDifference"))

    async def _call(self, fn: Callable[[], Awaitable[Any]], *, read: bool) -> Any:
        """Run one ccxt call; -1021 resyncs and retries once; reads also retry transient errors."""
        attempts = self.read_attempts if read else 1
        resynced = False
        attempt = 0
        while True:
            try:
                return await fn()
            except ccxt.BaseError as e:
                err = translate(e)
                if err.code == TIMESTAMP_ERROR and not resynced:
                    resynced = True
                    await self._resync()
                    continue  # rejected before processing: the same request is safe again
                attempt += 1
                if isinstance(err, TransientExchangeError) and attempt < attempts:
                    delay = err.retry_after_s or self.backoff_s * 2 ** (attempt - 1)
                    await asyncio.sleep(delay * (0.5 + random.random() / 2))
                    continue
                raise err from e

    # -- start ------------------------------------------------------------------------------------
    async def start(self, symbols: list[str]) -> None:
        """Load markets, sync the clock, require one-way mode, set margin mode and leverage."""
        await self._call(self.exchange.load_markets, read=True)
        await self._resync()
        mode = await self._call(lambda: self.exchange.fetch_position_mode(
            ccxt_symbol(symbols[0]) if symbols else None), read=True)
        if mode.get("hedged"):
            raise PositionModeError("the Binance account is in Hedge Mode; switch Position Mode "
                                    "to One-way (Futures > Preferences) and restart")
        tiers = await self._call(lambda: self.exchange.fetch_leverage_tiers(
            [ccxt_symbol(s) for s in symbols]), read=True)
        for symbol in symbols:
            self._rules[symbol] = self._market_rules(symbol, tiers.get(ccxt_symbol(symbol), []))
            if symbol not in self._prepared:
                await self._prepare(symbol)
                self._prepared.add(symbol)

    async def _prepare(self, symbol: str) -> None:
        """Margin mode and leverage, once per symbol; 'nothing to change' counts as success."""
        s = ccxt_symbol(symbol)
        try:
            await self._call(lambda: self.exchange.set_margin_mode(self.settings.margin_mode, s),
                             read=True)
        except PermanentExchangeError as e:
            if e.code != -4046 and "MarginModeAlreadySet" not in str(e):
                raise
        await self._call(lambda: self.exchange.set_leverage(self.settings.leverage, s), read=True)
        log.info("symbol_prepared", symbol=symbol, margin_mode=self.settings.margin_mode,
                 leverage=self.settings.leverage)

    def _market_rules(self, symbol: str, tiers: list[dict]) -> MarketRules:
        market = self.exchange.market(ccxt_symbol(symbol))
        filters = {f["filterType"]: f for f in market["info"].get("filters", [])}
        lot = filters.get("LOT_SIZE", {})
        mlot = filters.get("MARKET_LOT_SIZE", {})
        return MarketRules(
            symbol=symbol,
            step=float(mlot.get("stepSize") or lot.get("stepSize") or market["precision"]["amount"]),
            min_qty=float(max(float(mlot.get("minQty") or 0), float(lot.get("minQty") or 0))),
            min_notional=float(filters.get("MIN_NOTIONAL", {}).get("notional") or 0),
            tick=float(filters.get("PRICE_FILTER", {}).get("tickSize")
                       or market["precision"]["price"]),
            max_market_qty=float(mlot["maxQty"]) if mlot.get("maxQty") else None,
            brackets=tuple((float(t["maxNotional"]), float(t["maxLeverage"])) for t in tiers))

    def rules(self, symbol: str) -> MarketRules:
        """Trading rules of `symbol` (after start)."""
        return self._rules[symbol]

    # -- orders -----------------------------------------------------------------------------------
    async def market_order(self, symbol: str, side: str, quantity: float, client_id: str, *,
                           reduce_only: bool = False, ref_price: float | None = None
                           ) -> OrderResult:
        """A market order with newClientOrderId=client_id; never retried here."""
        params: dict[str, Any] = {"newClientOrderId": client_id}
        if reduce_only:
            params["reduceOnly"] = True
        o = await self._call(lambda: self.exchange.create_order(
            ccxt_symbol(symbol), "market", side, quantity, None, params), read=False)
        return _order(o, symbol)

    async def protective_order(self, symbol: str, side: str, kind: str, trigger: float,
                               client_id: str) -> OrderResult:
        """closePosition STOP_MARKET / TAKE_PROFIT_MARKET (ccxt sends it to /fapi/v1/algoOrder)."""
        type_ = "STOP_MARKET" if kind == "stop" else "TAKE_PROFIT_MARKET"
        params = {"triggerPrice": trigger, "closePosition": True, "clientAlgoId": client_id,
                  "workingType": "MARK_PRICE"}
        o = await self._call(lambda: self.exchange.create_order(
            ccxt_symbol(symbol), type_, side, None, None, params), read=False)
        return _order(o, symbol)

    async def find_order(self, symbol: str, client_id: str, conditional: bool
                         ) -> Optional[OrderResult]:
        """Look an order up by client id; None when Binance answers -2013 (does not exist)."""
        params = ({"clientAlgoId": client_id, "trigger": True} if conditional
                  else {"origClientOrderId": client_id})
        try:
            o = await self._call(lambda: self.exchange.fetch_order(
                None, ccxt_symbol(symbol), params), read=True)
        except PermanentExchangeError as e:
            if e.code == -2013 or "OrderNotFound" in str(e):
                return None
            raise
        return _order(o, symbol)

    async def cancel_protective(self, symbol: str, client_id: str) -> None:
        """Cancel a conditional order by client id; already gone is fine."""
        try:
            await self._call(lambda: self.exchange.cancel_order(
                None, ccxt_symbol(symbol), {"clientAlgoId": client_id, "trigger": True}),
                read=True)
        except PermanentExchangeError as e:
            if e.code not in (-2011, -2013, -20124):
                raise

    async def open_protective(self) -> list[OrderResult]:
        """Every open conditional order on the account (one request)."""
        orders = await self._call(lambda: self.exchange.fetch_open_orders(
            None, None, None, {"trigger": True}), read=True)
        return [_order(o, our_symbol(o["symbol"])) for o in orders]

    # -- account ----------------------------------------------------------------------------------
    async def positions(self, symbols: list[str]) -> dict[str, ExchangePosition]:
        """Open positions (one-way), by our symbol."""
        rows = await self._call(lambda: self.exchange.fetch_positions(None), read=True)
        out = {}
        for p in rows:
            qty = float(p.get("contracts") or 0)
            if qty <= 0:
                continue
            symbol = our_symbol(p["symbol"])
            side = Direction.LONG if p.get("side") == "long" else Direction.SHORT
            out[symbol] = ExchangePosition(symbol, side, qty, float(p.get("entryPrice") or 0))
        return out

    async def closing_fill(self, symbol: str, direction: Direction, since_ms: int
                           ) -> Optional[ExitFill]:
        """Average price, realised PnL and fees of the trades that closed the position."""
        trades = await self._call(lambda: self.exchange.fetch_my_trades(
            ccxt_symbol(symbol), since_ms), read=True)
        close_side = side_for(direction, closing=True)
        trip = _round_trip(trades, close_side)
        closing = trip[1] if trip else [t for t in trades if t["side"] == close_side]
        qty = sum(float(t["amount"]) for t in closing)
        if not qty:
            return None
        price = sum(float(t["price"]) * float(t["amount"]) for t in closing) / qty
        pnl = sum(float((t.get("info") or {}).get("realizedPnl") or 0) for t in closing)
        return ExitFill(price, qty, pnl, _usdt_commissions(trip[0] + closing) if trip else None)

    async def check(self) -> list[tuple[str, bool, str]]:
        """Authentication, balance and position mode, for `main.py check`."""
        out: list[tuple[str, bool, str]] = []
        try:
            balance = await self._call(self.exchange.fetch_balance, read=True)
            usdt = balance.get("USDT", {})
            out.append(("trading authentication", True, f"{self.mode} keys accepted"))
            out.append(("trading balance", True, f"{usdt.get('total', 0)} USDT "
                                                 f"({usdt.get('free', 0)} available)"))
        except Exception as e:  # reported, not raised: check lists every problem
            out.append(("trading authentication", False, str(e)[:200]))
            return out
        try:
            mode = await self._call(self.exchange.fetch_position_mode, read=True)
            out.append(("position mode", not mode.get("hedged"),
                        "hedge mode: switch to one-way" if mode.get("hedged") else "one-way"))
        except Exception as e:
            out.append(("position mode", False, str(e)[:200]))
        return out

    def on_candles(self, symbol: str, candles: pd.DataFrame) -> None:
        """The exchange triggers stops and targets itself: nothing to do."""

    async def close(self) -> None:
        """Close ccxt's HTTP session."""
        await self.exchange.close()
