"""What the API reads and does, as Protocols the daemon implements (api/ never imports app/)."""
from __future__ import annotations

from typing import Protocol

from .renders import Render


class DaemonView(Protocol):
    """Read-only access to a running daemon; every method is cheap and never touches an exchange."""

    def alive(self) -> bool:
        """True while the scheduler and the alert delivery task are both running."""

    def health(self) -> dict:
        """Both instances (exchange, ok, host, last success, error counts), data freshness, mode."""

    def signals(self, limit: int, symbol: str | None, timeframe: str | None) -> list[dict]:
        """Recorded signals, newest first, optionally of one symbol and/or timeframe."""

    async def chart_png(self, signal_id: int, render: Render) -> bytes | None:
        """The signal's chart as PNG (rendered with `render`, the API's own thread), or None when
        the signal or its candles are unknown."""

    async def positions(self) -> list[dict]:
        """Open positions, with the unrealised PnL where a price is known."""

    def trades(self, limit: int, offset: int) -> dict:
        """A page of closed positions, newest first, with realised PnL and fees
        ({"trades": [...], "total": how many closed in all})."""

    def summary(self) -> dict:
        """Realised PnL in total and per UTC day, win rate, trades, open positions, paused."""

    def candles(self, symbol: str, timeframe: str, limit: int) -> dict | None:
        """One stream's candles kept in memory, its open positions and recent signals; None when
        none are kept for it."""

    def logs(self, limit: int) -> list[dict]:
        """The newest warnings and errors logged (redacted), newest first."""

    def outbox(self) -> dict:
        """Alert outbox counts per status and the pending rows (without their payloads)."""

    def config(self) -> dict:
        """Every setting by its environment key, secrets masked."""


class DaemonControls(Protocol):
    """Trading actions, through the same code paths as the Telegram commands."""

    def pause(self) -> None:
        """Stop opening trades (alerts continue)."""

    def resume(self) -> None:
        """Trade new signals again."""

    async def close(self, symbol: str) -> str:
        """Close one symbol's position; a one-line result."""

    async def close_all(self) -> str:
        """Close every open position; a short result."""

    def announce(self, action: str, who: str, result: str) -> None:
        """Log the action and queue an alert saying who did what (via the outbox)."""
