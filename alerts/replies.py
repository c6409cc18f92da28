"""Command replies as Telegram HTML: status, signals, positions (values escaped)."""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from .messages import esc, price, utc

HELP = "\n".join([
    "<b>Commands</b>",
    "/status: uptime, mode, what is watched, last candles, health, open positions",
    "/signals [N]: the last N signals (default 5, at most 50)",
    "/positions: open positions",
    "/pause: stop opening trades (alerts continue, open positions keep their stops)",
    "/resume: trade new signals again",
    "/close SYMBOL: close one position at market, e.g. /close BTCUSDT",
    "/closeall: close every position (asks to confirm)",
    "/help: this list",
    "(pause, resume, close and closeall: admins only, see TELEGRAM_ADMIN_IDS)",
])


def duration(seconds: float) -> str:
    """Seconds as '3d 04h 12m' (or '5m 03s' when short)."""
    s = int(max(0, seconds))
    d, s = divmod(s, 86400)
    h, s = divmod(s, 3600)
    m, s = divmod(s, 60)
    if d:
        return f"{d}d {h:02d}h {m:02d}m"
    if h:
        return f"{h}h {m:02d}m"
    return f"{m}m {s:02d}s"


def _last_candles(value: Any) -> Iterable[tuple[str, object]]:
    """(label, open ms) from {(symbol, tf): ms}, {'SYM tf': ms} or [{symbol, timeframe, ts}]."""
    if isinstance(value, Mapping):
        for key, ts in value.items():
            label = " ".join(map(str, key)) if isinstance(key, (tuple, list)) else str(key)
            yield label, ts
    elif isinstance(value, (list, tuple)):
        for item in value:
            if isinstance(item, Mapping):
                yield f"{item.get('symbol', '?')} {item.get('timeframe', '?')}", item.get("ts")


def status_text(status: Mapping[str, Any], positions: list[dict] | None, now_s: float) -> str:
    """The /status reply from Controller.status() (and the open positions, when known)."""
    lines = ["<b>Status</b>"]
    if "uptime_s" in status:
        lines.append(f"Uptime: {esc(duration(float(status['uptime_s'])))}")
    if "mode" in status:
        mode = esc(status["mode"])
        lines.append(f"Mode: <b>{mode}</b>" + (" (trading PAUSED)" if status.get("paused") else ""))
    symbols, tfs = status.get("symbols") or [], status.get("timeframes") or []
    if symbols or tfs:
        watched = f"{', '.join(map(str, symbols))} × {', '.join(map(str, tfs))}"
        lines.append(f"Watching: {esc(watched)}")
    candles = list(_last_candles(status.get("last_candles") or {}))
    if candles:
        lines.append("Last candle processed (open time):")
        for label, ts in sorted(candles):
            when = utc(int(ts)) if isinstance(ts, (int, float)) else "none yet"
            age = (f", {duration(now_s - int(ts) / 1000)} ago" if isinstance(ts, (int, float))
                   else "")
            lines.append(f"  {esc(label)}: {esc(when)}{esc(age)}")
    health = status.get("health") or {}
    if isinstance(health, Mapping):
        for name, value in health.items():
            lines.append(f"Health {esc(name)}: {esc(value)}")
    for key, value in status.items():  # anything else the daemon chose to report
        if key.endswith("_health"):
            lines.append(f"Health {esc(key[:-len('_health')])}: {esc(value)}")
        elif key not in ("uptime_s", "mode", "paused", "symbols", "timeframes", "last_candles",
                         "health"):
            lines.append(f"{esc(key)}: {esc(value)}")
    if positions is not None:
        lines.append(f"Open positions: {len(positions)}")
    return "\n".join(lines)


def unrealised_pnl(p: Mapping[str, Any]) -> float | None:
    """(mark - entry) x quantity, signed by direction; None without a mark price."""
    try:
        mark, entry, qty = float(p["mark"]), float(p["entry_price"]), float(p["quantity"])
    except (KeyError, TypeError, ValueError):
        return None
    sign = -1 if str(p.get("direction", p.get("side", ""))).lower() in ("short", "sell") else 1
    return (mark - entry) * qty * sign


def position_line(p: Mapping[str, Any]) -> str:
    """One position: symbol, side, size, entry, stop, target, PnL (given, or at the mark)."""
    parts = [f"<b>{esc(p.get('symbol', '?'))}</b> {esc(p.get('direction', p.get('side', '')))}"]
    for key, label in (("quantity", "qty"), ("entry_price", "entry"), ("stop", "stop"),
                       ("target", "target"), ("pnl", "PnL"), ("mode", "mode")):
        value = p.get(key)
        if key == "pnl" and value is None and unrealised_pnl(p) is not None:
            parts.append(f"PnL <code>{unrealised_pnl(p):+.2f}</code> USDT at last close "
                         f"<code>{esc(price(p['mark']))}</code>")
        elif value is not None:
            shown = price(value) if isinstance(value, (int, float)) and key != "mode" else value
            parts.append(f"{label} <code>{esc(shown)}</code>")
    return " · ".join(parts)


def positions_text(positions: list[dict]) -> str:
    """The /positions reply."""
    if not positions:
        return "No open positions."
    return "\n".join([f"<b>Open positions ({len(positions)})</b>"]
                     + [position_line(p) for p in positions])


def signals_text(signals: list[Any]) -> str:
    """The /signals reply from store.recent_signals() rows, newest first."""
    if not signals:
        return "No signals recorded yet."
    lines = [f"<b>Last {len(signals)} signal{'s' if len(signals) > 1 else ''}</b>"]
    for s in signals:
        e = s.event
        kind = "CHoCH" if e.kind == "CHOCH" else e.kind
        lines.append(f"{esc(utc(e.break_time))} · <b>{esc(s.symbol)}</b> {esc(s.timeframe)} · "
                     f"{esc(kind)} {esc(e.direction)} · "
                     f"level <code>{esc(price(e.level))}</code> · "
                     f"close <code>{esc(price(e.close))}</code> · {esc(s.trade_state)}")
    return "\n".join(lines)
