"""The trader's part of the API view: PnL summary, candles with positions, recent log lines."""
from __future__ import annotations

import time
from typing import Any

from domain.candles import Candles
from domain.symbols import normalize_symbol

from . import banner
from .log_ring import RECENT, LogRing

DAYS_SHOWN = 30       # daily PnL rows in the summary
MARKED_SIGNALS = 50   # signal markers on one chart at most


def _utc_day(ms: int) -> str:
    return time.strftime("%Y-%m-%d", time.gmtime(ms / 1000))


class TraderView:
    """Read-only figures a trader looks at first; a mixin of DaemonApiView (needs self.daemon)."""

    daemon: Any

    def _mode(self) -> str:
        manager = getattr(self.daemon, "manager", None)
        return str(getattr(manager, "mode", None) or banner.trading_mode(self.daemon.settings))

    def summary(self) -> dict:
        """Realised PnL in total and per UTC day, win rate, trade count, open positions, pause."""
        d = self.daemon
        mode = self._mode()
        days = d.store.realised_by_day(mode)
        trades = sum(n for _, n, _, _ in days)
        wins = sum(w for _, _, w, _ in days)
        today = _utc_day(int(d.clock() * 1000))
        manager = getattr(d, "manager", None)
        return {"mode": mode, "today": today, "trades": trades, "wins": wins,
                "losses": trades - wins, "win_rate": wins / trades if trades else None,
                "total_pnl": sum(p for _, _, _, p in days),
                "today_pnl": next((p for day, _, _, p in days if day == today), 0.0),
                "open_positions": len(d.store.open_positions(mode)),
                "paused": bool(getattr(manager, "paused", False)),
                "trading": manager is not None,
                "days": [{"day": day, "trades": n, "wins": w, "pnl": p}
                         for day, n, w, p in days[-DAYS_SHOWN:]]}

    def candles(self, symbol: str, timeframe: str, limit: int) -> dict | None:
        """The candles kept in memory for one stream, with its open positions and recent signals;
        None when the daemon keeps none for it."""
        d = self.daemon
        try:
            symbol = normalize_symbol(symbol)
        except ValueError:
            return None
        stream = getattr(getattr(d, "poller", None), "streams", {}).get((symbol, timeframe))
        recent = getattr(stream, "recent", None)
        if recent is None or not len(recent):
            return None
        candles = [{"time": t, "open": o, "high": h, "low": lo, "close": c}
                   for t, o, h, lo, c, _ in Candles.of(recent).tail(limit).tuples()]
        first = candles[0]["time"]
        held = [{"id": p.id, "direction": str(p.direction), "quantity": p.quantity,
                 "entry_price": p.entry_price, "stop": p.stop, "target": p.target,
                 "opened_at": p.opened_at, "mode": p.mode}
                for p in d.store.open_positions(self._mode()) if p.symbol == symbol]
        marks = d.store.conn.execute(
            "SELECT id, kind, direction, level, break_time, trade_state FROM signals WHERE "
            "symbol = ? AND timeframe = ? AND break_time >= ? ORDER BY break_time DESC LIMIT ?",
            (symbol, timeframe, first, MARKED_SIGNALS)).fetchall()
        return {"symbol": symbol, "timeframe": timeframe, "candles": candles, "positions": held,
                "signals": [dict(m) for m in marks][::-1]}

    def logs(self, limit: int) -> list[dict]:
        """The newest warnings and errors logged (already redacted), newest first."""
        ring: LogRing = getattr(self.daemon, "log_ring", None) or RECENT
        return ring.recent(limit)
