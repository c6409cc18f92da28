"""CcxtAccount: a trading instance's account reads over ccxt: positions, the fills that closed
one, the balance, and the `check` lines (host and signing pair, keys, balance, position mode,
margin mode). A venue overrides `_trade_pnl`, `closing_fill`, `positions` or the two probes."""
from __future__ import annotations

from urllib.parse import urlsplit

from domain.checks import CheckLine

from .ccxt_fills import CcxtTrade, closing_side, fees_in, round_trip
from .ccxt_session import CcxtSession
from .port import Balance, Direction, ExchangePosition, ExitFill


class CcxtAccount(CcxtSession):
    """The account side of a venue's trading instance."""

    async def positions(self, symbols: list[str]) -> dict[str, ExchangePosition]:
        """Open positions (one-way), by our symbol, in base units."""
        rows = await self._call(lambda: self.exchange.fetch_positions(None), read=True)
        out = {}
        for p in rows:
            contracts = float(p.get("contracts") or 0)
            if contracts <= 0:
                continue
            symbol = self.venue.our_symbol(p["symbol"])
            qty = contracts * float(p.get("contractSize") or 1.0)
            side = Direction.LONG if p.get("side") == "long" else Direction.SHORT
            out[symbol] = ExchangePosition(symbol, side, qty, float(p.get("entryPrice") or 0))
        return out

    def _trade_pnl(self, closing: list[CcxtTrade], entry: list[CcxtTrade],
                   direction: Direction) -> float:
        """Realised PnL (before fees) of the closing trades, from the entry's average price."""
        entry_qty = sum(float(t["amount"]) for t in entry)
        if not entry_qty:
            return 0.0
        avg_in = sum(float(t["price"]) * float(t["amount"]) for t in entry) / entry_qty
        return sum((float(t["price"]) - avg_in) * float(t["amount"]) for t in closing) \
            * direction.sign

    def _fees(self, trades: list[CcxtTrade]) -> float | None:
        """The trades' fees in the settlement asset; None if any was paid in another one."""
        return fees_in(trades, self.venue.settle)

    async def closing_fill(self, symbol: str, direction: Direction, since_ms: int
                           ) -> ExitFill | None:
        """Average price, realised PnL and fees of the trades that closed the position."""
        trades = await self._call(lambda: self.exchange.fetch_my_trades(
            self.venue.ccxt_symbol(symbol), since_ms), read=True)
        close_side = closing_side(direction)
        trip = round_trip(trades, close_side)
        closing = trip[1] if trip else [t for t in trades if t["side"] == close_side]
        contracts = sum(float(t["amount"]) for t in closing)
        if not contracts:
            return None
        price = sum(float(t["price"]) * float(t["amount"]) for t in closing) / contracts
        pnl = self._trade_pnl(closing, trip[0] if trip else [], direction)
        return ExitFill(price, contracts * self._contract_size(symbol), pnl,
                        self._fees(trip[0] + closing) if trip else None)

    async def balance(self) -> Balance:
        """The settlement asset's total and free balance."""
        raw = await self._call(self.exchange.fetch_balance, read=True)
        row = raw.get(self.venue.settle) or {}
        return Balance(self.venue.settle, float(row.get("total") or 0),
                       float(row.get("free") or 0))

    async def check(self) -> list[CheckLine]:
        """Host and signing pair, authentication, balance, position mode and margin mode."""
        out = [self._host_line()]
        try:
            bal = await self.balance()
        except Exception as e:  # noqa: BLE001 - reported, not raised: check lists every problem
            return out + [CheckLine("trading authentication", False, str(e)[:200])]
        out += [CheckLine("trading authentication", True, f"{self.mode} keys accepted"),
                CheckLine("trading balance", True, f"{bal.total:g} {bal.asset} "
                                                   f"({bal.free:g} available)")]
        for what, probe in (("position mode", self._position_mode_line),
                            ("margin mode", self._margin_mode_line)):
            try:
                out.append(await probe())
            except Exception as e:  # noqa: BLE001 - one failed probe line, the others still run
                out.append(CheckLine(what, False, str(e)[:200]))
        return out

    def _host_line(self) -> CheckLine:
        """Where orders go, demo or live, and which key pair signs them."""
        host = urlsplit(self.config.url).netloc or \
            self.venue.trading_spec().hosts[1 if self.config.demo else 0]
        pair = self.config.signed_by or "the configured pair"
        header = self.venue.demo_header if self.config.demo else ""
        mode = f"{self.mode} with {header}" if header else self.mode
        return CheckLine("trading host", True, f"{host} ({mode}, signed by {pair})")

    async def _position_mode_line(self) -> CheckLine:
        """One-way, or a hedge-mode account refused with where to switch it."""
        mode = await self._call(self.exchange.fetch_position_mode, read=True)
        hedged = bool(mode.get("hedged"))
        return CheckLine("position mode", not hedged,
                         f"hedge mode: switch to One-way{self.one_way_where}" if hedged
                         else "one-way")

    async def _margin_mode_line(self) -> CheckLine:
        """The margin mode and leverage the daemon sets on each symbol at start."""
        return CheckLine("margin mode", True, f"{self.config.margin_mode} x{self.config.leverage}"
                                              ", set per symbol at start")

