"""What the Telegram commands see of the daemon: status, and trading actions via the manager."""
from __future__ import annotations

from typing import Any

from . import banner


class DaemonController:
    """Implements alerts.Controller over a running Daemon."""

    def __init__(self, daemon: Any) -> None:
        self.daemon = daemon

    def status(self) -> dict:
        """Uptime, mode, what is watched, last candle per stream, health of both instances."""
        d = self.daemon
        s = d.settings
        failing = {tf: len(x["failed"]) + len(x["behind"]) for tf, x in d.last_slot.items()}
        return {
            "uptime_s": int(d.clock() - d.started_at),
            "mode": banner.trading_mode(s),
            "symbols": list(d.symbols),
            "timeframes": list(s.timeframes),
            "last_candles": {f"{sym} {tf}": ts for (sym, tf), ts in d.store.last_candles().items()},
            "data_health": "ok" if not any(failing.values()) else
                           f"degraded ({sum(failing.values())} stream(s) behind in last slots)",
            "trading_health": "ok" if d.trading_error is None else
                              f"last reconciliation failed: {d.trading_error}",
            "paused": getattr(d.manager, "paused", False),
        }

    async def positions(self) -> list[dict]:
        """Open positions as the manager knows them."""
        return await self.daemon.manager.positions()

    def pause(self) -> None:
        """Stop opening trades (alerts continue)."""
        self.daemon.manager.pause()

    def resume(self) -> None:
        """Allow trades again."""
        self.daemon.manager.resume()

    async def close(self, symbol: str) -> str:
        """Close one symbol's position."""
        return await self.daemon.manager.close(symbol)

    async def close_all(self) -> str:
        """Close every position the daemon opened."""
        return await self.daemon.manager.close_all()
