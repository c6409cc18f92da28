"""Alert and notice texts in Telegram's HTML parse mode: every value from outside is escaped."""
from __future__ import annotations

import html
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from domain.timeframe import MINUTE_MS, Timeframe
from domain.trade import ExitReason

TEXT_LIMIT = 4096     # Telegram's limit for one message (after entity parsing)
CAPTION_LIMIT = 1024  # and for a photo caption
TRADINGVIEW = "https://www.tradingview.com/chart/?symbol={chart}&interval={interval}"
_KIND = {"CHOCH": "CHoCH", "BOS": "BOS"}
_ARROW = {"bullish": "🟢", "bearish": "🔴"}
# Titles of trade notices; the event names themselves are for logs and dedupe keys.
_TITLES = {
    "position_opened": "Position opened",
    "position_closed": "Position closed",
    "trade_skipped": "Signal not traded",
    "entry_unresolved": "Entry order unresolved",
    "trading_paused": "Trading paused",
    "protection_failed": "Protection failed",
    "protection_missing": "Protection missing",
    "close_failed": "Close failed",
    "foreign_position": "Position not opened by the daemon",
    "quantity_mismatch": "Position differs from the daemon's",
    "other_instance": "Another daemon on this account",
    "protection_gone": "Protection gone",
    "protection_replaced": "Protection placed again",
    "trading_unavailable": "Trading unavailable",
    "trading_available": "Trading available again",
}
_CLOSE_TITLES = {ExitReason.STOP: "Stop hit", ExitReason.TARGET: "Target hit"}


def esc(value: Any) -> str:
    """Any value as text safe inside Telegram HTML."""
    return html.escape(str(value), quote=True)


def price(value: Any) -> str:
    """A price as written, without float noise or exponent (0.00001234, 64250.5)."""
    try:
        text = format(Decimal(repr(float(value))), "f")
    except (TypeError, ValueError, ArithmeticError):
        return str(value)
    return text[:-2] if text.endswith(".0") else text


def utc(ms: int) -> str:
    """Open/close time in ms as 'YYYY-MM-DD HH:MM UTC'."""
    return datetime.fromtimestamp(ms / 1000, tz=UTC).strftime("%Y-%m-%d %H:%M UTC")


def tradingview_interval(timeframe: str) -> str:
    """TradingView's interval for a timeframe: minutes as a number, 1d=D, 1w=W, 1M=M."""
    try:
        tf = Timeframe.parse(timeframe)
    except ValueError:
        return "60"
    if not tf.is_native_long:
        return str(tf.ms // MINUTE_MS)
    letter = {"d": "D", "w": "W", "M": "M"}[tf.unit]
    return letter if tf.count == 1 else f"{tf.count}{letter}"


def tradingview_url(symbol: str, timeframe: str, chart: str | None = None) -> str:
    """Link to the perpetual's chart at the signal's interval: `chart` ('OKX:BTCUSDT.P'), else
    Binance USD-M's perpetual of the symbol."""
    if not chart:
        chart = "BINANCE:" + re.sub(r"[^A-Z0-9]", "", symbol.split(":")[0].upper()) + ".P"
    return TRADINGVIEW.format(chart=chart, interval=tradingview_interval(timeframe))


def _age(seconds: float) -> str:
    """A delay in words: 45 s, 12 min, 3 h 05 min."""
    if seconds < 90:
        return f"{seconds:.0f} s"
    minutes = int(seconds // 60)
    if minutes < 120:
        return f"{minutes} min"
    return f"{minutes // 60} h {minutes % 60:02d} min"


def late_line(delay_s: float) -> str:
    """The first line of an alert delivered late."""
    return f"⚠️ <b>LATE</b>: delivered {_age(delay_s)} after the candle close"


def signal_text(payload: Mapping[str, Any], now_ms: int, late_after_s: float,
                resent: bool = False) -> str:
    """The alert for a 'signal' outbox payload, as Telegram HTML."""
    ev = payload["event"]
    symbol, tf = str(payload["symbol"]), str(payload["timeframe"])
    shown = str(payload.get("shown") or symbol)  # the venue's own contract where it differs
    kind = _KIND.get(str(ev["kind"]).upper(), str(ev["kind"]))
    direction = str(ev["direction"])
    lines = []
    delay_s = (now_ms - int(ev["confirmed_at"])) / 1000
    if delay_s > late_after_s:
        lines.append(late_line(delay_s))
    if resent:
        lines.append("↻ resent after a lost reply from Telegram: may be a repeat")
    lines += [
        f"{_ARROW.get(direction, '•')} <b>{esc(kind)} {esc(direction)}</b> · "
        f"<b>{esc(shown)}</b> · {esc(tf)}",
        f"Broken level: <code>{esc(price(ev['level']))}</code>",
        f"Close: <code>{esc(price(ev['close']))}</code>",
        f"Stop ref (extreme): <code>{esc(price(ev['extreme']))}</code>",
        f"Candle: {esc(utc(int(ev['break_time'])))} "
        f"(closed {esc(utc(int(ev['confirmed_at']))[11:])})",
        f"Mode: {esc(payload.get('mode', '?'))}",
        f'<a href="{esc(tradingview_url(symbol, tf, payload.get("chart")))}">TradingView '
        f'{esc(symbol)} {esc(tf)}</a>',
    ]
    return "\n".join(lines)


# USDT amounts in notices; Binance states them to 8 decimals.
MONEY_FIELDS = frozenset({"pnl", "fees"})
MONEY_DECIMALS = 8


def notice_text(topic: str, payload: Mapping[str, Any], now_ms: int, created_ms: int,
                late_after_s: float, resent: bool = False) -> str:
    """A 'trade' or 'notice' payload ({event, symbol, text, fields}) as Telegram HTML."""
    lines = []
    delay_s = (now_ms - created_ms) / 1000
    if delay_s > late_after_s:
        lines.append(f"⚠️ <b>LATE</b>: delivered {_age(delay_s)} after it happened")
    if resent:
        lines.append("↻ resent after a lost reply from Telegram: may be a repeat")
    icon = "💼" if topic == "trade" else "ℹ️"
    fields = payload.get("fields") or {}
    fields = fields if isinstance(fields, Mapping) else {}
    head = f"{icon} <b>{esc(notice_title(payload.get('event') or topic, fields))}</b>"
    if payload.get("symbol"):
        head += f" · <b>{esc(payload['symbol'])}</b>"
    lines.append(head)
    if payload.get("text"):
        lines.append(esc(payload["text"]))
    for name, value in fields.items():
        shown = _field_value(name, value, fields)
        if shown is not None:
            lines.append(f"{esc(name)}: <code>{esc(shown)}</code>")
    return "\n".join(lines)


def notice_title(event: str, fields: Mapping[str, Any]) -> str:
    """A notice's human title: 'Stop hit', 'Position opened', ... (else the event in words)."""
    if event == "position_closed" and fields.get("reason") in _CLOSE_TITLES:
        return _CLOSE_TITLES[fields["reason"]]
    if event in _TITLES:
        return _TITLES[event]
    return event.replace("_", " ").capitalize() if re.fullmatch(r"[a-z_]+", event) else event


def _field_value(name: str, value: Any, fields: Mapping[str, Any]) -> Any:
    """How a notice field is shown; None leaves the line out (never a raw 'None')."""
    if value is None:
        if name == "fees":  # unknown (paid in BNB, trades unseen): the text says "before fees"
            return None
        return "none"
    if isinstance(value, float) and name in MONEY_FIELDS:
        value = round(value, MONEY_DECIMALS)  # sums of float products carry noise (…99905)
    return price(value) if isinstance(value, float) else value


def plain(text_html: str) -> str:
    """Telegram HTML reduced to plain text (for the console and length checks)."""
    text = re.sub(r'<a href="([^"]*)">([^<]*)</a>', r"\2 (\1)", text_html)
    return html.unescape(re.sub(r"<[^>]+>", "", text))


def clip(text_html: str, limit: int = TEXT_LIMIT) -> str:
    """Cut an over-long message at a line boundary, so no HTML tag is left open."""
    if len(text_html) <= limit:
        return text_html
    out, size = [], 0
    for line in text_html.split("\n"):
        if size + len(line) + 1 > limit - 2:
            room = limit - 2 - size - 1
            if "<" not in line and room > 0:  # escaped free text: cut, minus a split entity
                out.append(re.sub(r"&[#A-Za-z0-9]*$", "", line[:room]))
            break
        out.append(line)
        size += len(line) + 1
    return "\n".join(out + ["…"])
