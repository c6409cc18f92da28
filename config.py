"""Settings: one frozen object built from the environment and an optional .env, validated once."""
from __future__ import annotations

import os
import re
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Callable, Mapping
from urllib.parse import urlsplit

from dotenv import dotenv_values

TRUE_WORDS = ("1", "true", "yes")
FALSE_WORDS = ("0", "false", "no")
NATIVE_LONG_TIMEFRAMES = ("1d", "3d", "1w", "1M")
MAX_LEVERAGE = 125
REDACTED = "***"


@dataclass(frozen=True)
class Problem:
    """One invalid setting: the key, the value given and what is allowed."""

    key: str
    value: str
    allowed: str
    secret: bool = False

    def __str__(self) -> str:
        shown = REDACTED if self.secret and self.value else repr(self.value)
        return f"{self.key}={shown}: {self.allowed}"


class ConfigError(Exception):
    """Every configuration problem found, reported together."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


@dataclass(frozen=True)
class Settings:
    """The validated configuration of one daemon process. `repr` never shows a secret."""

    binance_api_key: str = field(default="", metadata={"secret": True})
    binance_secret: str = field(default="", metadata={"secret": True})
    # Demo keys fall back to the production pair when unset (the seed's behaviour).
    binance_api_key_demo: str = field(default="", metadata={"secret": True})
    binance_secret_demo: str = field(default="", metadata={"secret": True})
    use_realtime_data: bool = True
    enable_trading: bool = False
    demo_trading: bool = True
    confirm_live_trading: bool = False
    position_size: float = 100.0
    leverage: int = 20
    symbols: tuple[str, ...] = ("BTC/USDT", "ETH/USDT")
    timeframes: tuple[str, ...] = ("15m", "1h")
    pivot_left: int = 5
    pivot_right: int = 5
    break_on: str = "close"
    binance_data_url: str = ""
    binance_trading_url: str = ""
    telegram_api_url: str = ""
    log_level: str = "INFO"
    # Market data (fetchers/): the SYMBOLS=ALL filter, and how long one read may retry.
    min_volume_24h: float = 10_000_000.0
    max_pairs: int = 30
    exclude_symbols: tuple[str, ...] = ()
    fetch_cycle_budget_s: float = 30.0
    fetch_timeout_s: float = 10.0
    data_weight_per_min: int = 1200
    # --- the daemon (issue 4) ---
    state_db: str = "state/choch.db"
    fetch_delay_s: float = 2.0
    warmup_bars: int = 500
    alert_max_age: float = 2.0  # in candles of the signal's timeframe
    slot_retry_s: float = 20.0
    misfire_grace_s: int = 60
    # --- Telegram alerts and commands (issue 5) ---
    telegram_bot_token: str = field(default="", metadata={"secret": True})
    telegram_chat_id: str = field(default="", metadata={"secret": True})
    telegram_admin_ids: tuple[int, ...] = ()  # who may pause, resume and close from the chat
    chart: bool = True
    alert_late_after_s: float = 120.0
    command_max_age_s: float = 120.0
    # --- trading (issue 6) ---
    margin_mode: str = "isolated"
    trade_on: tuple[str, ...] = ("CHOCH",)
    risk_reward: float = 2.0
    on_opposite: str = "reverse"
    max_open_positions: int = 3
    max_daily_trades: int = 10
    max_daily_loss: float = 0.0  # USDT of realised loss per UTC day; 0 = no limit

    @property
    def live_trading(self) -> bool:
        """True only when real orders would go to the production exchange."""
        return self.enable_trading and not self.demo_trading

    def redacted(self) -> dict:
        """All settings as a dict, secrets replaced by *** (or '' when unset): safe to log."""
        out = {}
        for f in fields(self):
            value = getattr(self, f.name)
            out[f.name] = (REDACTED if value else "") if f.metadata.get("secret") else value
        return out

    def __repr__(self) -> str:
        body = ", ".join(f"{k}={v!r}" for k, v in self.redacted().items())
        return f"Settings({body})"


# -- value parsers: each returns the parsed value or raises ValueError(what is allowed) -------

def parse_bool(text: str) -> bool:
    """1/0/true/false/yes/no, any case."""
    word = text.strip().lower()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    raise ValueError("one of 1/0/true/false/yes/no")


def parse_confirmation(text: str) -> bool:
    """Exactly `yes` (any case) confirms live trading; `no` declines; nothing else is accepted."""
    word = text.strip().lower()
    if word not in ("yes", "no"):
        raise ValueError("yes (to allow real orders with DEMO_TRADING=0) or no")
    return word == "yes"


def _number(kind: type, low: float, high: float | None, low_open: bool = False) -> Callable:
    """A parser for an int or float within [low, high] (or (low, high] when low_open)."""
    span = f"{'>' if low_open else '>='} {low}" + (f" and <= {high}" if high is not None else "")
    allowed = f"{'an integer' if kind is int else 'a number'} {span}"

    def parse(text: str):
        try:
            value = kind(text.strip())
        except ValueError:
            raise ValueError(allowed) from None
        if value != value or (value <= low if low_open else value < low) or (
                high is not None and value > high):
            raise ValueError(allowed)
        return value

    return parse


def _choice(*options: str) -> Callable:
    """A parser for one word out of `options` (case-insensitive, returned as listed)."""
    def parse(text: str) -> str:
        for option in options:
            if text.strip().lower() == option.lower():
                return option
        raise ValueError("one of " + "/".join(options))

    return parse


def normalize_symbol(text: str) -> str:
    """'btcusdt', 'BTC/USDT' or 'BTC/USDT:USDT' -> 'BTC/USDT' (USDT-margined only)."""
    s = text.strip().upper()
    if s.endswith(":USDT"):
        s = s[: -len(":USDT")]
    if "/" not in s and s.endswith("USDT") and len(s) > 4:
        s = s[:-4] + "/USDT"
    if not re.fullmatch(r"[A-Z0-9]{1,20}/USDT", s):
        raise ValueError(f"{text.strip()!r} is not a USDT pair like BTC/USDT or BTCUSDT")
    return s


def _unique(items: list) -> tuple:
    """Keep the first of each item, in order."""
    return tuple(dict.fromkeys(items))


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
    return _unique([normalize_symbol(p) for p in parts])


def check_timeframe(text: str) -> str:
    """A timeframe word: N minutes (< 1 day), N hours (< 24), or 1d/3d/1w/1M."""
    tf = text.strip()
    m = re.fullmatch(r"([1-9][0-9]*)([mhdwM])", tf)
    ok = bool(m) and (
        (m.group(2) == "m" and int(m.group(1)) < 1440)
        or (m.group(2) == "h" and int(m.group(1)) < 24)
        or tf in NATIVE_LONG_TIMEFRAMES)
    if not ok:
        raise ValueError(f"{tf!r} is not a timeframe: use Nm (N < 1440), Nh (N < 24), "
                         "1d, 3d, 1w or 1M")
    return tf


def parse_timeframes(text: str) -> tuple[str, ...]:
    """Comma-separated timeframes, e.g. 15m,25m,1h."""
    parts = [p for p in text.split(",") if p.strip()]
    if not parts:
        raise ValueError("a comma-separated list of timeframes, e.g. 15m,1h")
    return _unique([check_timeframe(p) for p in parts])


def parse_url(text: str) -> str:
    """An http(s) base URL such as http://127.0.0.1:8080 (no trailing slash kept)."""
    parts = urlsplit(text.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError("an http:// or https:// base URL, e.g. http://127.0.0.1:8080")
    return text.strip().rstrip("/")


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
    return _unique([int(p) for p in parts])


def _text(text: str) -> str:
    return text.strip()



def parse_trade_on(text: str) -> tuple[str, ...]:
    """Comma-separated event kinds to trade: CHOCH, BOS or both."""
    kinds = [p.strip().upper() for p in text.split(",") if p.strip()]
    if not kinds or any(k not in ("CHOCH", "BOS") for k in kinds):
        raise ValueError("CHOCH, BOS or CHOCH,BOS")
    return _unique(kinds)

# Env key -> (Settings field, parser). Defaults live on Settings and in .env.example.
KEYS: dict[str, tuple[str, Callable]] = {
    "BINANCE_API_KEY": ("binance_api_key", _text),
    "BINANCE_SECRET": ("binance_secret", _text),
    "BINANCE_API_KEY_DEMO": ("binance_api_key_demo", _text),
    "BINANCE_SECRET_DEMO": ("binance_secret_demo", _text),
    "USE_REALTIME_DATA": ("use_realtime_data", parse_bool),
    "ENABLE_TRADING": ("enable_trading", parse_bool),
    "DEMO_TRADING": ("demo_trading", parse_bool),
    "CONFIRM_LIVE_TRADING": ("confirm_live_trading", parse_confirmation),
    "POSITION_SIZE": ("position_size", _number(float, 0, None, low_open=True)),
    "LEVERAGE": ("leverage", _number(int, 1, MAX_LEVERAGE)),
    "SYMBOLS": ("symbols", parse_symbols),
    "TIMEFRAMES": ("timeframes", parse_timeframes),
    "PIVOT_LEFT": ("pivot_left", _number(int, 1, 500)),
    "PIVOT_RIGHT": ("pivot_right", _number(int, 1, 500)),
    "BREAK_ON": ("break_on", _choice("close", "wick")),
    "BINANCE_DATA_URL": ("binance_data_url", parse_url),
    "BINANCE_TRADING_URL": ("binance_trading_url", parse_url),
    "TELEGRAM_API_URL": ("telegram_api_url", parse_url),
    "LOG_LEVEL": ("log_level", _choice("DEBUG", "INFO", "WARNING", "ERROR")),
    "MIN_VOLUME_24H": ("min_volume_24h", _number(float, 0, None)),
    "MAX_PAIRS": ("max_pairs", _number(int, 1, 1000)),
    "EXCLUDE_SYMBOLS": ("exclude_symbols", parse_symbol_list),
    "FETCH_CYCLE_BUDGET_S": ("fetch_cycle_budget_s", _number(float, 0, 600, low_open=True)),
    "FETCH_TIMEOUT_S": ("fetch_timeout_s", _number(float, 0, 120, low_open=True)),
    "DATA_WEIGHT_PER_MIN": ("data_weight_per_min", _number(int, 60, 2400)),
    "STATE_DB": ("state_db", _text),
    "FETCH_DELAY_S": ("fetch_delay_s", _number(float, 0, 59)),
    "WARMUP_BARS": ("warmup_bars", _number(int, 50, 5000)),
    "ALERT_MAX_AGE": ("alert_max_age", _number(float, 0, 1000)),
    "SLOT_RETRY_S": ("slot_retry_s", _number(float, 0, 600)),
    "MISFIRE_GRACE_S": ("misfire_grace_s", _number(int, 1, 3600)),
    "TELEGRAM_BOT_TOKEN": ("telegram_bot_token", parse_bot_token),
    "TELEGRAM_CHAT_ID": ("telegram_chat_id", parse_chat_id),
    "TELEGRAM_ADMIN_IDS": ("telegram_admin_ids", parse_user_ids),
    "CHART": ("chart", parse_bool),
    "ALERT_LATE_AFTER_S": ("alert_late_after_s", _number(float, 0, 86400)),
    "COMMAND_MAX_AGE_S": ("command_max_age_s", _number(float, 1, 86400)),
    "MARGIN_MODE": ("margin_mode", _choice("isolated", "cross")),
    "TRADE_ON": ("trade_on", parse_trade_on),
    "RISK_REWARD": ("risk_reward", _number(float, 0, 100, low_open=True)),
    "ON_OPPOSITE": ("on_opposite", _choice("reverse", "close", "ignore")),
    "MAX_OPEN_POSITIONS": ("max_open_positions", _number(int, 1, 1000)),
    "MAX_DAILY_TRADES": ("max_daily_trades", _number(int, 0, 100000)),
    "MAX_DAILY_LOSS": ("max_daily_loss", _number(float, 0, None)),
}
SECRET_KEYS = frozenset(k for k, (name, _) in KEYS.items()
                        if Settings.__dataclass_fields__[name].metadata.get("secret"))


def _pair_problems(s: dict, key_env: str, secret_env: str) -> list[Problem]:
    """A key without its secret (or the reverse) is ambiguous: name the missing one."""
    has_key, has_secret = bool(s[KEYS[key_env][0]]), bool(s[KEYS[secret_env][0]])
    if has_key == has_secret:
        return []
    missing, other = (secret_env, key_env) if has_key else (key_env, secret_env)
    return [Problem(missing, "", f"must be set together with {other}", secret=True)]


def _cross_checks(s: dict) -> list[Problem]:
    """Rules that involve more than one key."""
    problems = _pair_problems(s, "BINANCE_API_KEY", "BINANCE_SECRET")
    problems += _pair_problems(s, "BINANCE_API_KEY_DEMO", "BINANCE_SECRET_DEMO")
    if s["enable_trading"] and not s["demo_trading"] and not s["confirm_live_trading"]:
        problems.append(Problem(
            "CONFIRM_LIVE_TRADING", "",
            "ENABLE_TRADING=1 with DEMO_TRADING=0 places real orders; set "
            "CONFIRM_LIVE_TRADING=yes to confirm, or DEMO_TRADING=1"))
    if s["enable_trading"] and not s["demo_trading"] and not s["binance_api_key"]:
        problems.append(Problem("BINANCE_API_KEY", "", "required for live trading", secret=True))
    if s["enable_trading"] and s["demo_trading"] and not (
            s["binance_api_key_demo"] or s["binance_api_key"]):
        problems.append(Problem("BINANCE_API_KEY_DEMO", "", "required for demo trading "
                                "(or BINANCE_API_KEY as a fallback)", secret=True))
    problems += _pair_problems(s, "TELEGRAM_BOT_TOKEN", "TELEGRAM_CHAT_ID")
    return problems


def read_environment(env: Mapping[str, str] | None = None,
                     dotenv_path: str | os.PathLike | None = ".env") -> dict[str, str]:
    """Raw key -> text: the .env file (if any) overlaid by the process environment."""
    raw: dict[str, str] = {}
    if dotenv_path is not None and Path(dotenv_path).is_file():
        raw.update({k: v for k, v in dotenv_values(dotenv_path).items() if v is not None})
    raw.update(os.environ if env is None else env)
    return raw


def load_settings(env: Mapping[str, str] | None = None,
                  dotenv_path: str | os.PathLike | None = ".env") -> Settings:
    """Build and validate Settings; raise ConfigError listing every problem at once.

    The real environment wins over `.env`. An empty value counts as unset (its default).
    """
    raw = read_environment(env, dotenv_path)
    parsed: dict = {}
    problems: list[Problem] = []
    for key, (name, parse) in KEYS.items():
        text = raw.get(key, "")
        if not text.strip():
            continue
        try:
            parsed[name] = parse(text)
        except ValueError as e:
            problems.append(Problem(key, text, str(e), secret=key in SECRET_KEYS))
    merged = {f.name: parsed.get(f.name, f.default) for f in fields(Settings)}
    problems += _cross_checks(merged)
    if problems:
        raise ConfigError(problems)
    if not merged["binance_api_key_demo"]:
        merged["binance_api_key_demo"] = merged["binance_api_key"]
        merged["binance_secret_demo"] = merged["binance_secret"]
    return Settings(**merged)
