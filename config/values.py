"""Setting value parsers: each returns the parsed value or raises ValueError(what is allowed)."""
from __future__ import annotations

import re
from datetime import UTC, datetime
from urllib.parse import urlsplit

from domain.parsing import unique
from domain.symbols import normalize_symbol
from domain.timeframe import Timeframe
from exchanges.registry import DEFAULT, get_venue  # pure data: no ccxt import

TRUE_WORDS = ("1", "true", "yes")
FALSE_WORDS = ("0", "false", "no")
# Plain ASCII numbers only: int()/float() would also take '1_0', '１０', 'inf', 'nan' and '0x1'.
HOST_NAME = re.compile(r"(?=.{1,253}$)[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?"
                       r"(\.[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?)*\.?")


def is_production_host(url: str, venue: str = DEFAULT) -> bool:
    """True when `url` points at `venue`'s production servers, where orders spend real money
    (its demo hosts are not production; each venue lists its own)."""
    return get_venue(venue).is_production_host(url)


def parse_exchange(text: str) -> str:
    """A supported venue name (any case), e.g. binance."""
    return get_venue(text).name


def parse_bool(text: str) -> bool:
    """1/0/true/false/yes/no, any case."""
    word = text.strip().lower()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    raise ValueError("one of 1/0/true/false/yes/no")


def parse_confirmation(text: str) -> bool:
    """Exactly `yes` confirms live trading, `no` declines: no other case, no spaces around."""
    if text not in ("yes", "no"):
        raise ValueError("exactly yes (lower case: allow real orders) or no")
    return text == "yes"


def parse_symbols(text: str) -> tuple[str, ...]:
    """Comma-separated USDT pairs, e.g. BTC/USDT,ETHUSDT; or ALL (-> ('ALL',))."""
    if text.strip().upper() == "ALL":
        return ("ALL",)
    return parse_symbol_list(text)


def parse_symbol_list(text: str) -> tuple[str, ...]:
    """Comma-separated USDT pairs, e.g. BTC/USDT,ETHUSDT (no ALL)."""
    parts = [p for p in text.split(",") if p.strip()]
    if not parts:
        raise ValueError("a comma-separated list of USDT pairs, e.g. BTC/USDT,ETH/USDT")
    return unique([normalize_symbol(p) for p in parts])


def check_timeframe(text: str) -> str:
    """A timeframe word (the grammar is timeframe.py's): 25m, 4h, 1d, 3d, 1w, 1M, ..."""
    return Timeframe.parse(text.strip()).text


def parse_timeframes(text: str) -> tuple[str, ...]:
    """Comma-separated timeframes, e.g. 15m,25m,1h."""
    parts = [p for p in text.split(",") if p.strip()]
    if not parts:
        raise ValueError("a comma-separated list of timeframes, e.g. 15m,1h")
    return unique([check_timeframe(p) for p in parts])


def _valid_host(host: str) -> bool:
    """A DNS name, an IPv4 address or a bracketed IPv6 address (urlsplit lower-cases it)."""
    return bool(HOST_NAME.fullmatch(host)) or (":" in host and bool(
        re.fullmatch(r"[0-9a-f:.]+", host)))


def parse_url(text: str) -> str:
    """An http(s) base URL such as http://127.0.0.1:8080 (no trailing slash kept)."""
    allowed = ("an http:// or https:// base URL with a host name and, optionally, a port "
               "1..65535, e.g. http://127.0.0.1:8080")
    parts = urlsplit(text.strip())
    try:
        port = parts.port  # raises for a port outside 0..65535 or not a number
    except ValueError:
        raise ValueError(allowed) from None
    if (parts.scheme not in ("http", "https") or "@" in parts.netloc or port == 0
            or not _valid_host(parts.hostname or "")):
        raise ValueError(allowed)
    return text.strip().rstrip("/")


def mask_userinfo(text: str) -> str:
    """A URL with the password of its user:password@ (or a lone user@ token) shown as ***."""
    scheme, slashes, rest = text.partition("//")
    if not slashes:
        return text
    end = min((i for i in (rest.find(c) for c in "/?#") if i >= 0), default=len(rest))
    userinfo, at, host = rest[:end].rpartition("@")
    if not at:
        return text
    user, colon, _ = userinfo.partition(":")
    shown = f"{user}:***" if colon else "***"
    return f"{scheme}//{shown}@{host}{rest[end:]}"


def parse_bot_token(text: str) -> str:
    """A Telegram bot token as BotFather gives it: digits, a colon, then letters."""
    token = text.strip()
    if not re.fullmatch(r"[0-9]{3,20}:[A-Za-z0-9_-]{20,100}", token):
        raise ValueError("a bot token from @BotFather, like 123456789:AA... (digits:letters)")
    return token


def parse_chat_id(text: str) -> str:
    """A Telegram chat id (an integer, negative for groups) or a channel's @username."""
    chat = text.strip()
    if not re.fullmatch(r"-?[0-9]{1,20}|@[A-Za-z][A-Za-z0-9_]{4,31}", chat):
        raise ValueError("a chat id such as 123456789 or -1001234567890, or @channelname")
    return chat


def parse_user_ids(text: str) -> tuple[int, ...]:
    """Comma-separated Telegram user ids (positive integers); empty for none."""
    parts = [p.strip() for p in text.split(",") if p.strip()]
    if any(not re.fullmatch(r"[0-9]{1,20}", p) or int(p) == 0 for p in parts):
        raise ValueError("comma-separated Telegram user ids, such as 123456789,987654321")
    return unique([int(p) for p in parts])


def plain_text(text: str) -> str:
    """The text without surrounding whitespace."""
    return text.strip()


def parse_utc_time(text: str) -> int:
    """YYYY-MM-DD or an ISO datetime (UTC unless it carries an offset) -> ms since the epoch."""
    try:
        when = datetime.fromisoformat(text.strip())
    except ValueError:
        raise ValueError("a date (YYYY-MM-DD) or an ISO datetime (YYYY-MM-DDTHH:MM[:SS]), "
                         "UTC unless an offset is given") from None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return int(when.timestamp() * 1000)
