"""What the Telegram commands see of the daemon: status, and trading actions via the manager."""
from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from config import Settings
from store import Store
from trading import PositionManager
from trading.notices import close_text

from . import banner
from .cycle import Poller, SlotSummary
from .trading_start import TradingStart


class RunningDaemon(Protocol):
    """What the commands read and act on of a running Daemon (app.daemon.Daemon)."""

    settings: Settings
    host_clock: Callable[[], float]
    started_at: float  # on the host clock
    symbols: list[str]
    last_slot: dict[str, SlotSummary]
    trading_error: str | None
    store: Store
    manager: PositionManager
    poller: Poller
    trading: TradingStart


class DaemonController:
    """Implements alerts.Controller over a running Daemon."""

    def __init__(self, daemon: RunningDaemon) -> None:
        self.daemon = daemon

    def status(self) -> dict:
        """Uptime, mode, what is watched, last candle per stream, health of both instances."""
        d = self.daemon
        s = d.settings
        failing = {tf: x.lagging for tf, x in d.last_slot.items()}
        return {
            "uptime_s": int(d.host_clock() - d.started_at),
            "mode": banner.trading_mode(s),
            "symbols": list(d.symbols),
            "timeframes": list(s.timeframes),
            "last_candles": {f"{sym} {tf}": ts for (sym, tf), ts in d.store.last_candles().items()},
            "data_health": "ok" if not any(failing.values()) else
                           f"degraded ({sum(failing.values())} stream(s) behind in last slots)",
            "trading_health": self._trading_health(),
            "paused": d.manager.paused,
        }

    def _trading_health(self) -> str:
        d = self.daemon
        if d.trading.unavailable is not None:
            return f"unavailable: {d.trading.unavailable}"
        return "ok" if d.trading_error is None else \
            f"last reconciliation failed: {d.trading_error}"

    async def positions(self) -> list[dict]:
        """Open positions as the manager knows them, each with the last close seen as its mark."""
        closes = self._last_closes()
        return [{**p, "mark": closes[p["symbol"]]} if p.get("symbol") in closes else p
                for p in await self.daemon.manager.positions()]

    def _last_closes(self) -> dict[str, float]:
        """Per symbol, the close of the newest candle any of its streams has fed."""
        newest: dict[str, tuple[int, float]] = {}
        for (symbol, _tf), stream in self.daemon.poller.streams.items():
            if len(stream.recent):
                closed_at = int(stream.recent.ts[-1]) + stream.timeframe_ms
                if symbol not in newest or closed_at > newest[symbol][0]:
                    newest[symbol] = (closed_at, float(stream.recent.ohlcv[-1, 3]))
        return {symbol: close for symbol, (_, close) in newest.items()}

    def pause(self) -> None:
        """Stop opening trades (alerts continue); recorded even while trading is unavailable."""
        self.daemon.manager.pause()

    def resume(self) -> None:
        """Allow trades again."""
        self.daemon.manager.resume()

    async def close(self, symbol: str) -> str:
        """Close one symbol's position; the reply in words."""
        if self._unavailable():
            return self._unavailable()
        try:
            return close_text(await self.daemon.manager.close_position(symbol))
        except ValueError as err:  # not a symbol
            return str(err)

    async def close_all(self) -> str:
        """Close every position the daemon opened; one line per position."""
        if self._unavailable():
            return self._unavailable()
        closed = await self.daemon.manager.close_all()
        return "\n".join(close_text(c) for c in closed) or "no open positions"

    def _unavailable(self) -> str:
        """Why nothing can be closed now (the venue has not started), else ''."""
        why = self.daemon.trading.unavailable
        return f"trading unavailable ({why}): nothing closed" if why is not None else ""
