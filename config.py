"""Settings: one frozen object built from the environment and an optional .env, validated once."""
from __future__ import annotations

import io
import math
import os
import re
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Callable, Mapping
from urllib.parse import urlsplit

from dotenv import dotenv_values
from dotenv.parser import parse_stream

TRUE_WORDS = ("1", "true", "yes")
FALSE_WORDS = ("0", "false", "no")
NATIVE_LONG_TIMEFRAMES = ("1d", "3d", "1w", "1M")
MAX_LEVERAGE = 125
REDACTED = "***"
DEFAULT_DOTENV = ".env"
DEFAULT_STATE_DB = "state/choch.db"
STATE_DB_NAME = "choch.db"  # inside $STATE_DIRECTORY, which systemd's StateDirectory= sets
# Plain ASCII numbers only: int()/float() would also take '1_0', '１０', 'inf', 'nan' and '0x1'.
INT_TEXT = re.compile(r"[+-]?[0-9]+")
FLOAT_TEXT = re.compile(r"[+-]?[0-9]+(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?")
HOST_NAME = re.compile(r"(?=.{1,253}$)[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?"
                       r"(\.[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?)*\.?")
# Binance hosts that are not production: the demo (testnet) futures API.
DEMO_HOSTS = frozenset({"demo-fapi.binance.com", "testnet.binancefuture.com"})
PRODUCTION_DOMAINS = ("binance.com",)


def is_production_host(url: str) -> bool:
    """True when `url` points at a venue's production servers, where orders spend real money."""
    host = (urlsplit(url.strip()).hostname or "").rstrip(".")
    if not host or host in DEMO_HOSTS:
        return False
    return any(host == d or host.endswith("." + d) for d in PRODUCTION_DOMAINS)


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


@dataclass(frozen=True)
class FileProblem(Problem):
    """An env file that cannot be used: `key` names the file (and line), never a value."""

    def __str__(self) -> str:
        return f"{self.key}: {self.allowed}"


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
    # Demo keys fall back to the production pair when unset, unless trading targets production.
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
    state_db: str = DEFAULT_STATE_DB  # STATE_DB, else $STATE_DIRECTORY/choch.db
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
        """True when real orders would go to a production exchange (also via BINANCE_TRADING_URL)."""
        return self.enable_trading and (
            not self.demo_trading or is_production_host(self.binance_trading_url))

    @property
    def signing_pair(self) -> str:
        """The env key whose pair signs orders ('' when not trading): shown at start-up."""
        if not self.enable_trading:
            return ""
        if self.live_trading or self.binance_api_key_demo == self.binance_api_key:
            return "BINANCE_API_KEY"
        return "BINANCE_API_KEY_DEMO"

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
    """Exactly `yes` confirms live trading, `no` declines: no other case, no spaces around."""
    if text not in ("yes", "no"):
        raise ValueError("exactly yes (lower case: allow real orders) or no")
    return text == "yes"


def _shown(bound: float) -> str:
    """A bound as people write it: 10000000, not 10000000.0 or 1e+07."""
    return str(int(bound)) if float(bound).is_integer() else str(bound)


def _number(kind: type, low: float, high: float, low_open: bool = False) -> Callable:
    """A parser for a plain ASCII int or float within [low, high] (or (low, high] when low_open)."""
    allowed = (f"{'an integer' if kind is int else 'a number'} "
               f"{'>' if low_open else '>='} {_shown(low)} and <= {_shown(high)}")
    pattern = INT_TEXT if kind is int else FLOAT_TEXT

    def parse(text: str):
        word = text.strip()
        if not pattern.fullmatch(word):
            raise ValueError(allowed)
        try:
            value = kind(word)
        except ValueError:  # an int longer than Python's digit limit
            raise ValueError(allowed) from None
        if not math.isfinite(value) or (value <= low if low_open else value < low) or value > high:
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
    "POSITION_SIZE": ("position_size", _number(float, 0, 1e7, low_open=True)),
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
    "MIN_VOLUME_24H": ("min_volume_24h", _number(float, 0, 1e13)),
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
    "MAX_DAILY_LOSS": ("max_daily_loss", _number(float, 0, 1e9)),
}
SECRET_KEYS = frozenset(k for k, (name, _) in KEYS.items()
                        if Settings.__dataclass_fields__[name].metadata.get("secret"))


def _pair_problems(given: set[str], key_env: str, secret_env: str) -> list[Problem]:
    """A key without its secret (or the reverse) is ambiguous: name the missing one."""
    has_key, has_secret = key_env in given, secret_env in given
    if has_key == has_secret:
        return []
    missing, other = (secret_env, key_env) if has_key else (key_env, secret_env)
    return [Problem(missing, "", f"must be set together with {other}", secret=True)]


def _trading_problems(s: dict, given: set[str]) -> list[Problem]:
    """Live trading needs the confirmation and the production pair; demo needs some pair."""
    if not s["enable_trading"]:
        return []
    url = s["binance_trading_url"]
    if s["demo_trading"] and not is_production_host(url):
        if "BINANCE_API_KEY_DEMO" in given or "BINANCE_API_KEY" in given:
            return []
        return [Problem("BINANCE_API_KEY_DEMO", "", "required for demo trading "
                        "(or BINANCE_API_KEY as a fallback)", secret=True)]
    problems = []
    if not s["confirm_live_trading"]:
        if s["demo_trading"]:  # DEMO_TRADING=1 but the orders would reach production
            problems.append(Problem(
                "BINANCE_TRADING_URL", url,
                "a production host: orders there are REAL even with DEMO_TRADING=1; use the demo "
                "host (https://demo-fapi.binance.com) or set CONFIRM_LIVE_TRADING=yes and "
                "BINANCE_API_KEY/BINANCE_SECRET to trade live"))
        else:
            problems.append(Problem(
                "CONFIRM_LIVE_TRADING", "",
                "ENABLE_TRADING=1 with DEMO_TRADING=0 places real orders; set "
                "CONFIRM_LIVE_TRADING=yes to confirm, or DEMO_TRADING=1"))
    if "BINANCE_API_KEY" not in given:
        problems.append(Problem("BINANCE_API_KEY", "", "required for live trading (the "
                                "production pair; demo keys are never used there)", secret=True))
    return problems


def _cross_checks(s: dict, given: set[str]) -> list[Problem]:
    """Rules that involve more than one key; a value that was given counts even when invalid."""
    problems = _pair_problems(given, "BINANCE_API_KEY", "BINANCE_SECRET")
    problems += _pair_problems(given, "BINANCE_API_KEY_DEMO", "BINANCE_SECRET_DEMO")
    problems += _trading_problems(s, given)
    problems += _pair_problems(given, "TELEGRAM_BOT_TOKEN", "TELEGRAM_CHAT_ID")
    return problems


def _line_key(line: str) -> str:
    """The key a broken .env line seems to set ('' if none), to name it in the problem."""
    m = re.match(r"\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_.]*)\s*=", line)
    return m.group(1) if m else ""


def _file_text(path: Path) -> tuple[str, list[Problem]]:
    """The file as strict UTF-8 text, or the problem that prevents reading it."""
    try:
        data = path.read_bytes()
    except OSError as e:
        return "", [FileProblem(str(path), "", f"cannot be read ({e.strerror or e})")]
    if b"\0" in data:
        line = data[: data.index(b"\0")].count(b"\n") + 1
        return "", [FileProblem(f"{path} line {line}", "", "contains a NUL byte: not a text "
                                "file (save it as UTF-8 text, e.g. not as UTF-16)")]
    try:
        return data.decode("utf-8"), []
    except UnicodeDecodeError as e:
        line = data[: e.start].count(b"\n") + 1
        return "", [FileProblem(f"{path} line {line}", "", "is not UTF-8 text (save it as UTF-8)")]


def _broken_lines(path: Path, text: str) -> list[Problem]:
    """Lines python-dotenv cannot parse (it would silently drop them, e.g. an unclosed quote)."""
    problems = []
    for binding in parse_stream(io.StringIO(text)):
        if binding.error:
            key = _line_key(binding.original.string)
            problems.append(FileProblem(
                f"{path} line {binding.original.line}", "",
                f"cannot be parsed{f' (sets {key})' if key else ''}: write KEY=value, and close "
                "every quote on the line it opens"))
    return problems


def read_dotenv(path: str | os.PathLike) -> tuple[dict[str, str], list[Problem]]:
    """Key -> text from one env file, and every problem of the file (nothing from a bad one)."""
    text, problems = _file_text(Path(path))
    if problems:
        return {}, problems
    problems = _broken_lines(Path(path), text)
    values = dotenv_values(stream=io.StringIO(text))
    return {k: v for k, v in values.items() if v is not None}, problems


def _read(env: Mapping[str, str] | None, dotenv_path: str | os.PathLike | None,
          required: bool | None) -> tuple[dict[str, str], list[Problem]]:
    """Raw key -> text (the env file overlaid by the environment) and the file's problems."""
    raw: dict[str, str] = {}
    problems: list[Problem] = []
    if dotenv_path is not None:
        if required is None:  # a file named by the caller must exist; the default may not
            required = os.fspath(dotenv_path) != DEFAULT_DOTENV
        if Path(dotenv_path).is_file():
            raw, problems = read_dotenv(dotenv_path)
        elif required:
            problems = [FileProblem(os.fspath(dotenv_path), "", "no such env file")]
    raw.update(os.environ if env is None else env)
    return raw, problems


def read_environment(env: Mapping[str, str] | None = None,
                     dotenv_path: str | os.PathLike | None = DEFAULT_DOTENV,
                     required: bool | None = None) -> dict[str, str]:
    """Raw key -> text: the .env file (if any) overlaid by the process environment."""
    raw, problems = _read(env, dotenv_path, required)
    if problems:
        raise ConfigError(problems)
    return raw


def _state_db(raw: Mapping[str, str]) -> str:
    """STATE_DB unset: inside systemd's StateDirectory when it is set, else state/choch.db."""
    directories = [d for d in raw.get("STATE_DIRECTORY", "").split(":") if d.strip()]
    return str(Path(directories[0]) / STATE_DB_NAME) if directories else DEFAULT_STATE_DB


def _resolve_keys(s: dict) -> None:
    """Pick the pair that signs orders, once the rules above have passed."""
    if s["enable_trading"] and s["demo_trading"] and is_production_host(s["binance_trading_url"]):
        s["demo_trading"] = False  # confirmed above: this is live trading, with the live pair
    if not s["binance_api_key_demo"] and not is_production_host(s["binance_trading_url"]):
        s["binance_api_key_demo"] = s["binance_api_key"]
        s["binance_secret_demo"] = s["binance_secret"]


def load_settings(env: Mapping[str, str] | None = None,
                  dotenv_path: str | os.PathLike | None = DEFAULT_DOTENV,
                  required: bool | None = None) -> Settings:
    """Build and validate Settings; raise ConfigError listing every problem at once.

    The real environment wins over the env file. An empty value counts as unset (its default).
    `dotenv_path=None` reads no file; a missing file is a problem when `required`, which by
    default is true for any path but the default `.env` of the working directory.
    """
    raw, problems = _read(env, dotenv_path, required)
    parsed: dict = {}
    given: set[str] = set()
    for key, (name, parse) in KEYS.items():
        text = raw.get(key, "")
        if not text.strip():
            continue
        given.add(key)
        try:
            parsed[name] = parse(text)
        except ValueError as e:
            problems.append(Problem(key, text, str(e), secret=key in SECRET_KEYS))
    merged = {f.name: parsed.get(f.name, f.default) for f in fields(Settings)}
    if "STATE_DB" not in given:
        merged["state_db"] = _state_db(raw)
    problems += _cross_checks(merged, given)
    if problems:
        raise ConfigError(problems)
    _resolve_keys(merged)
    return Settings(**merged)


def _distance(a: str, b: str, limit: int) -> int:
    """Levenshtein distance of a and b, or limit + 1 once it is certainly larger."""
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    row = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        prev, row[0] = row[0], i
        for j, cb in enumerate(b, 1):
            prev, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, prev + (ca != cb))
    return row[-1]


def _look_alike(key: str) -> str:
    """The known key that `key` probably meant ('' when it does not look like one of ours)."""
    upper = key.upper()
    if key in KEYS:
        return ""
    if upper in KEYS:
        return upper
    best = min(KEYS, key=lambda k: _distance(upper, k, 2))
    limit = 1 if len(best) <= 6 else 2  # short keys: two edits reach unrelated words
    return best if _distance(upper, best, limit) <= limit else ""


def _shares_prefix(key: str) -> bool:
    """An environment variable that starts like one of our keys (so PATH, HOME are never ours)."""
    return any(key[:3].upper() == known[:3] for known in KEYS)


def lint_environment(env: Mapping[str, str] | None = None,
                     dotenv_path: str | os.PathLike | None = DEFAULT_DOTENV) -> list[str]:
    """Warnings for keys that look like a misspelt or lower-case setting (they are ignored).

    Keys of the env file are all considered; environment variables only when they start like
    one of ours. Never raises: problems of the file itself are load_settings' to report.
    """
    file_keys: list[str] = []
    if dotenv_path is not None and Path(dotenv_path).is_file():
        file_keys = list(read_dotenv(dotenv_path)[0])
    env_keys = [k for k in (os.environ if env is None else env) if _shares_prefix(k)]
    warnings = []
    for key in _unique(file_keys + env_keys):
        meant = _look_alike(key)
        if meant:
            where = f" (in {os.fspath(dotenv_path)})" if key in file_keys else ""
            warnings.append(f"warning: {key}{where} is not a setting and is ignored; "
                            f"did you mean {meant}?")
    return warnings
