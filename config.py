"""Settings: one frozen object built from the environment and an optional .env, validated once."""
from __future__ import annotations

import io
import os
import re
import ipaddress
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Callable, Mapping

from dotenv import dotenv_values
from dotenv.parser import parse_stream

from config_values import (HOST_NAME, is_production_host, mask_userinfo, normalize_symbol,
                           parse_bool, parse_bot_token, parse_chat_id, parse_confirmation,
                           parse_exchange, parse_symbol_list, parse_symbols, parse_timeframes,
                           parse_url, parse_user_ids, plain_text, unique)
from domain.parsing import choice, number, parse_trade_on
# Pure data (no ccxt): which venues exist and what each needs. An architecture adjustment:
# config reads the registry so that venue names, keys and host rules are validated up front.
from exchanges.registry import DEFAULT as DEFAULT_EXCHANGE
from exchanges.registry import VENUES
from exchanges.venue import Venue

__all__ = ["ConfigError", "FileProblem", "KEYS", "Problem", "SECRET_KEYS", "Settings",
           "VenueKeys", "is_production_host", "lint_environment", "load_settings",
           "normalize_symbol", "read_data_dir", "read_dotenv", "read_environment"]

MAX_LEVERAGE = 125
REDACTED = "***"
DEFAULT_DOTENV = ".env"
DEFAULT_STATE_DB = "state/choch.db"
DEFAULT_DATA_DIR = "data"
STATE_DB_NAME = "choch.db"  # inside $STATE_DIRECTORY, which systemd's StateDirectory= sets


@dataclass(frozen=True)
class Problem:
    """One invalid setting: the key, the value given and what is allowed."""

    key: str
    value: str
    allowed: str
    secret: bool = False

    def __str__(self) -> str:
        # A URL's user:password@ is a credential even under a key that is not a secret.
        shown = REDACTED if self.secret and self.value else repr(mask_userinfo(self.value))
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
class VenueKeys:
    """One venue's credentials and URL overrides; `repr` never shows a secret."""

    api_key: str = field(default="", metadata={"secret": True})
    secret: str = field(default="", metadata={"secret": True})
    passphrase: str = field(default="", metadata={"secret": True})
    api_key_demo: str = field(default="", metadata={"secret": True})
    secret_demo: str = field(default="", metadata={"secret": True})
    passphrase_demo: str = field(default="", metadata={"secret": True})
    data_url: str = ""
    trading_url: str = ""

    def redacted(self) -> dict:
        """The fields as a dict, secrets replaced by *** (or '' when unset)."""
        return _redacted(self)

    def __repr__(self) -> str:
        return f"VenueKeys({', '.join(f'{k}={v!r}' for k, v in self.redacted().items())})"


def _redacted(obj: object) -> dict:
    """A dataclass's fields as a dict with secrets replaced by *** (or '' when unset)."""
    out = {}
    for f in fields(obj):  # type: ignore[arg-type]
        value = getattr(obj, f.name)
        if f.metadata.get("secret"):
            value = REDACTED if value else ""
        elif isinstance(value, tuple) and value and isinstance(value[0], tuple) \
                and len(value[0]) == 2 and isinstance(value[0][1], VenueKeys):
            value = {name: keys.redacted() for name, keys in value}
        out[f.name] = value
    return out


# (env suffix, VenueKeys field, secret): every venue's keys are {NAME}_{suffix}.
VENUE_KEY_SUFFIXES = (("API_KEY", "api_key"), ("SECRET", "secret"),
                      ("PASSPHRASE", "passphrase"), ("API_KEY_DEMO", "api_key_demo"),
                      ("SECRET_DEMO", "secret_demo"), ("PASSPHRASE_DEMO", "passphrase_demo"),
                      ("DATA_URL", "data_url"), ("TRADING_URL", "trading_url"))


def venue_env_keys(venue: Venue) -> dict[str, str]:
    """Env key -> VenueKeys field of one venue (passphrases only where the venue needs one; a
    data-only venue has its data URL only)."""
    return {f"{venue.env_prefix}_{suffix}": name for suffix, name in VENUE_KEY_SUFFIXES
            if (venue.needs_passphrase or "PASSPHRASE" not in suffix)
            and (venue.trades or suffix == "DATA_URL")}


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
    # Which venue each instance talks to (exchanges.registry names).
    data_exchange: str = DEFAULT_EXCHANGE
    trading_exchange: str = DEFAULT_EXCHANGE
    # Credentials and URLs of the other venues ({NAME}_API_KEY, ...): (name, keys) pairs.
    venue_credentials: tuple[tuple[str, VenueKeys], ...] = ()
    telegram_api_url: str = ""
    log_level: str = "INFO"
    # Market data (fetchers/): the SYMBOLS=ALL filter, and how long one read may retry.
    min_volume_24h: float = 10_000_000.0
    max_pairs: int = 30
    exclude_symbols: tuple[str, ...] = ()
    fetch_cycle_budget_s: float = 30.0
    fetch_timeout_s: float = 10.0
    data_weight_per_min: int = 1200
    # --- the daemon ---
    state_db: str = DEFAULT_STATE_DB  # STATE_DB, else $STATE_DIRECTORY/choch.db
    fetch_delay_s: float = 2.0
    warmup_bars: int = 500
    alert_max_age: float = 2.0  # in candles of the signal's timeframe
    slot_retry_s: float = 20.0
    misfire_grace_s: int = 60
    # --- Telegram alerts and commands ---
    telegram_bot_token: str = field(default="", metadata={"secret": True})
    telegram_chat_id: str = field(default="", metadata={"secret": True})
    telegram_admin_ids: tuple[int, ...] = ()  # who may pause, resume and close from the chat
    chart: bool = True
    alert_late_after_s: float = 120.0
    command_max_age_s: float = 120.0
    # --- trading ---
    margin_mode: str = "isolated"
    trade_on: tuple[str, ...] = ("CHOCH",)
    risk_reward: float = 2.0
    on_opposite: str = "reverse"
    max_open_positions: int = 3
    max_daily_trades: int = 10
    max_daily_loss: float = 0.0  # USDT of realised loss per UTC day; 0 = no limit
    # --- HTTP API, dashboard and /metrics (api/): off while api_listen is empty ---
    api_listen: str = ""  # host:port, e.g. 127.0.0.1:8080 or [::1]:8080
    api_username: str = ""
    api_password: str = field(default="", metadata={"secret": True})
    api_control: bool = False  # pause/resume/close over HTTP
    api_trusted_proxy: tuple[str, ...] = ()  # peers whose X-Forwarded-Proto is believed
    api_public_name: tuple[str, ...] = ()  # extra Host names (host or host:port) answered
    # --- the paper broker (ENABLE_TRADING=0): the backtest's fee and slippage rules ---
    paper_fee_rate: float = 0.0005  # per leg, a fraction of the notional
    paper_slippage_bps: float = 0.0  # market fills and stop exits worsened by this much
    # --- the history store (`main.py download`, `main.py backtest --exchange`) ---
    data_dir: str = DEFAULT_DATA_DIR

    def venue_keys(self, name: str) -> VenueKeys:
        """Credentials and URL overrides of venue `name` (BINANCE_* for binance)."""
        if name == "binance":
            return VenueKeys(self.binance_api_key, self.binance_secret, "",
                             self.binance_api_key_demo, self.binance_secret_demo, "",
                             self.binance_data_url, self.binance_trading_url)
        return dict(self.venue_credentials).get(name, VenueKeys())

    @property
    def data_venue(self) -> Venue:
        """The venue of the data instance."""
        return VENUES[self.data_exchange]

    @property
    def trading_venue(self) -> Venue:
        """The venue of the trading instance."""
        return VENUES[self.trading_exchange]

    @property
    def live_trading(self) -> bool:
        """True when real orders would reach production (DEMO_TRADING=0, or the trading URL)."""
        url = self.venue_keys(self.trading_exchange).trading_url
        return self.enable_trading and (
            not self.demo_trading or self.trading_venue.real_money_url(url))

    @property
    def signing_pair(self) -> str:
        """The env key whose pair signs orders ('' when not trading): shown at start-up."""
        if not self.enable_trading:
            return ""
        prefix = self.trading_venue.env_prefix
        keys = self.venue_keys(self.trading_exchange)
        if self.live_trading or keys.api_key_demo == keys.api_key:
            return f"{prefix}_API_KEY"
        return f"{prefix}_API_KEY_DEMO"

    def redacted(self) -> dict:
        """All settings as a dict, secrets replaced by *** (or '' when unset): safe to log."""
        return _redacted(self)

    def __repr__(self) -> str:
        body = ", ".join(f"{k}={v!r}" for k, v in self.redacted().items())
        return f"Settings({body})"


# Env key -> (Settings field, parser). Defaults live on Settings and in .env.example.
KEYS: dict[str, tuple[str, Callable]] = {
    "BINANCE_API_KEY": ("binance_api_key", plain_text),
    "BINANCE_SECRET": ("binance_secret", plain_text),
    "BINANCE_API_KEY_DEMO": ("binance_api_key_demo", plain_text),
    "BINANCE_SECRET_DEMO": ("binance_secret_demo", plain_text),
    "USE_REALTIME_DATA": ("use_realtime_data", parse_bool),
    "ENABLE_TRADING": ("enable_trading", parse_bool),
    "DEMO_TRADING": ("demo_trading", parse_bool),
    "CONFIRM_LIVE_TRADING": ("confirm_live_trading", parse_confirmation),
    "POSITION_SIZE": ("position_size", number(float, 0, 1e7, low_open=True)),
    "LEVERAGE": ("leverage", number(int, 1, MAX_LEVERAGE)),
    "SYMBOLS": ("symbols", parse_symbols),
    "TIMEFRAMES": ("timeframes", parse_timeframes),
    "PIVOT_LEFT": ("pivot_left", number(int, 1, 500)),
    "PIVOT_RIGHT": ("pivot_right", number(int, 1, 500)),
    "BREAK_ON": ("break_on", choice("close", "wick")),
    "BINANCE_DATA_URL": ("binance_data_url", parse_url),
    "BINANCE_TRADING_URL": ("binance_trading_url", parse_url),
    "DATA_EXCHANGE": ("data_exchange", parse_exchange),
    "TRADING_EXCHANGE": ("trading_exchange", parse_exchange),
    "TELEGRAM_API_URL": ("telegram_api_url", parse_url),
    "LOG_LEVEL": ("log_level", choice("DEBUG", "INFO", "WARNING", "ERROR")),
    "MIN_VOLUME_24H": ("min_volume_24h", number(float, 0, 1e13)),
    "MAX_PAIRS": ("max_pairs", number(int, 1, 1000)),
    "EXCLUDE_SYMBOLS": ("exclude_symbols", parse_symbol_list),
    "FETCH_CYCLE_BUDGET_S": ("fetch_cycle_budget_s", number(float, 0, 600, low_open=True)),
    "FETCH_TIMEOUT_S": ("fetch_timeout_s", number(float, 0, 120, low_open=True)),
    "DATA_WEIGHT_PER_MIN": ("data_weight_per_min", number(int, 60, 2400)),
    "STATE_DB": ("state_db", plain_text),
    "FETCH_DELAY_S": ("fetch_delay_s", number(float, 0, 59)),
    "WARMUP_BARS": ("warmup_bars", number(int, 50, 5000)),
    "ALERT_MAX_AGE": ("alert_max_age", number(float, 0, 1000)),
    "SLOT_RETRY_S": ("slot_retry_s", number(float, 0, 600)),
    "MISFIRE_GRACE_S": ("misfire_grace_s", number(int, 1, 3600)),
    "TELEGRAM_BOT_TOKEN": ("telegram_bot_token", parse_bot_token),
    "TELEGRAM_CHAT_ID": ("telegram_chat_id", parse_chat_id),
    "TELEGRAM_ADMIN_IDS": ("telegram_admin_ids", parse_user_ids),
    "CHART": ("chart", parse_bool),
    "ALERT_LATE_AFTER_S": ("alert_late_after_s", number(float, 0, 86400)),
    "COMMAND_MAX_AGE_S": ("command_max_age_s", number(float, 1, 86400)),
    "MARGIN_MODE": ("margin_mode", choice("isolated", "cross")),
    "TRADE_ON": ("trade_on", parse_trade_on),
    "RISK_REWARD": ("risk_reward", number(float, 0, 100, low_open=True)),
    "ON_OPPOSITE": ("on_opposite", choice("reverse", "close", "ignore")),
    "MAX_OPEN_POSITIONS": ("max_open_positions", number(int, 1, 1000)),
    "MAX_DAILY_TRADES": ("max_daily_trades", number(int, 0, 100000)),
    "MAX_DAILY_LOSS": ("max_daily_loss", number(float, 0, 1e9)),
    "PAPER_FEE_RATE": ("paper_fee_rate", number(float, 0, 0.01)),
    "PAPER_SLIPPAGE_BPS": ("paper_slippage_bps", number(float, 0, 1000)),
    "DATA_DIR": ("data_dir", plain_text),
}
# --- HTTP API keys: parsers, KEYS entries and the one cross-check --------------------------------
API_MIN_PASSWORD = 16  # on a non-loopback address: the API can close positions


def parse_listen(text: str) -> str:
    """host:port to serve the API on: an IPv4 address, [IPv6] or localhost, port 1..65535."""
    allowed = ("host:port with an IP address or localhost and a port 1..65535, e.g. "
               "127.0.0.1:8080, [::1]:8080 or 0.0.0.0:8080")
    m = re.fullmatch(r"\[([0-9A-Fa-f:.]+)\]:([0-9]{1,5})|([0-9.]+|localhost):([0-9]{1,5})",
                     text.strip())
    if not m:
        raise ValueError(allowed)
    host, port = (m.group(1), m.group(2)) if m.group(1) else (m.group(3), m.group(4))
    if host != "localhost":
        try:
            ip = ipaddress.ip_address(host)
        except ValueError:
            raise ValueError(allowed) from None
        if (ip.version == 6) != bool(m.group(1)):
            raise ValueError(allowed)
        host = str(ip)
    if not 1 <= int(port) <= 65535:
        raise ValueError(allowed)
    return f"[{host}]:{int(port)}" if ":" in host else f"{host}:{int(port)}"


def listen_address(listen: str) -> tuple[str, int]:
    """(host, port) of an API_LISTEN value as parse_listen returns it."""
    host, _, port = listen.rpartition(":")
    return host.strip("[]"), int(port)


def is_loopback(listen: str) -> bool:
    """True when the API listens on this machine only (127.0.0.0/8, ::1, localhost)."""
    host = listen_address(listen)[0]
    return host == "localhost" or ipaddress.ip_address(host).is_loopback


def parse_api_username(text: str) -> str:
    """A user name for HTTP Basic: no colon (it separates the name from the password)."""
    name = text.strip()
    if ":" in name:
        raise ValueError("a user name without ':'")
    return name


def parse_ip_list(text: str) -> tuple[str, ...]:
    """Comma-separated IP addresses (IPv4 or IPv6), e.g. 127.0.0.1 or 10.0.0.2,::1."""
    allowed = "an IP address or a comma-separated list of them, e.g. 127.0.0.1 or 10.0.0.2,::1"
    parts = [p.strip() for p in text.split(",") if p.strip()]
    try:
        return unique([str(ipaddress.ip_address(p)) for p in parts])
    except ValueError:
        raise ValueError(allowed) from None


def parse_host_names(text: str) -> tuple[str, ...]:
    """Comma-separated host[:port] names the API answers to, e.g. choch.example.com."""
    allowed = ("comma-separated host names, each with an optional port 1..65535, e.g. "
               "choch.example.com or choch.example.com:8443,10.0.0.5")
    names = []
    for part in (p.strip().lower() for p in text.split(",") if p.strip()):
        m = re.fullmatch(r"\[([0-9a-f:.]+)\](?::([0-9]{1,5}))?|([^:\[\]]+)(?::([0-9]{1,5}))?",
                         part)
        if not m:
            raise ValueError(allowed)
        host, port = (m.group(1), m.group(2)) if m.group(1) else (m.group(3), m.group(4))
        if port is not None and not 1 <= int(port) <= 65535:
            raise ValueError(allowed)
        try:
            ip = ipaddress.ip_address(host)
        except ValueError:
            if m.group(1) or not HOST_NAME.fullmatch(host):
                raise ValueError(allowed) from None
            host = host.rstrip(".")
        else:
            if (ip.version == 6) != bool(m.group(1)):
                raise ValueError(allowed)
            host = f"[{ip}]" if ip.version == 6 else str(ip)
        names.append(host if port is None else f"{host}:{int(port)}")
    return unique(names)


KEYS.update({
    "API_LISTEN": ("api_listen", parse_listen),
    "API_USERNAME": ("api_username", parse_api_username),
    "API_PASSWORD": ("api_password", plain_text),
    "API_CONTROL": ("api_control", parse_bool),
    "API_TRUSTED_PROXY": ("api_trusted_proxy", parse_ip_list),
    "API_PUBLIC_NAME": ("api_public_name", parse_host_names),
})


def _api_problems(s: dict, given: set[str]) -> list[Problem]:
    """The API needs credentials, and a long password when reachable from other machines."""
    if "API_LISTEN" not in given:
        return []
    problems = [Problem(key, "", "required when API_LISTEN is set", secret=key == "API_PASSWORD")
                for key in ("API_USERNAME", "API_PASSWORD") if key not in given]
    listen, password = s["api_listen"], s["api_password"]
    if listen and password and not is_loopback(listen) and len(password) < API_MIN_PASSWORD:
        problems.append(Problem("API_PASSWORD", password, f"at least {API_MIN_PASSWORD} "
                                f"characters when API_LISTEN ({listen}) is not a loopback "
                                "address", secret=True))
    return problems


def venue_keys_table() -> dict[str, tuple[str, str]]:
    """Env keys of the venues other than Binance (whose keys are Settings fields, in KEYS):
    env key -> (venue name, VenueKeys field), for every registered venue."""
    return {key: (venue.name, name) for venue in VENUES.values() if venue.name != "binance"
            for key, name in venue_env_keys(venue).items()}


def _venue_secret(key: str) -> bool:
    """True for another venue's key or secret (shown redacted in a problem)."""
    entry = venue_keys_table().get(key)
    return bool(entry and VenueKeys.__dataclass_fields__[entry[1]].metadata.get("secret"))


VENUE_KEYS = venue_keys_table()  # as registered at import; config reads the registry again
SECRET_KEYS = frozenset(
    [k for k, (name, _) in KEYS.items()
     if Settings.__dataclass_fields__[name].metadata.get("secret")]
    + [k for k in VENUE_KEYS if _venue_secret(k)])


def _venue_keys_given(raw: Mapping[str, str], problems: list[Problem]
                      ) -> tuple[dict[str, dict[str, str]], set[str]]:
    """Other venues' keys from the raw environment: venue -> field -> value, and the keys set."""
    out: dict[str, dict[str, str]] = {}
    given: set[str] = set()
    for key, (venue, name) in venue_keys_table().items():
        text = raw.get(key, "")
        if not text.strip():
            continue
        given.add(key)
        try:
            value = parse_url(text) if name.endswith("_url") else plain_text(text)
        except ValueError as e:
            problems.append(Problem(key, text, str(e), secret=_venue_secret(key)))
            continue
        out.setdefault(venue, {})[name] = value
    return out, given


def _keys_of(s: dict, venue: Venue) -> VenueKeys:
    """The (merged, not yet resolved) keys of `venue`."""
    if venue.name == "binance":
        return VenueKeys(s["binance_api_key"], s["binance_secret"], "",
                         s["binance_api_key_demo"], s["binance_secret_demo"], "",
                         s["binance_data_url"], s["binance_trading_url"])
    return VenueKeys(**s["_venues"].get(venue.name, {}))


def _pair_problems(given: set[str], key_env: str, secret_env: str) -> list[Problem]:
    """A key without its secret (or the reverse) is ambiguous: name the missing one."""
    has_key, has_secret = key_env in given, secret_env in given
    if has_key == has_secret:
        return []
    missing, other = (secret_env, key_env) if has_key else (key_env, secret_env)
    return [Problem(missing, "", f"must be set together with {other}", secret=True)]


def _venue_pair_problems(given: set[str]) -> list[Problem]:
    """Every venue's key/secret pairs (and passphrase, where the venue needs one)."""
    problems: list[Problem] = []
    for venue in VENUES.values():
        p = venue.env_prefix
        for suffix in ("", "_DEMO"):
            problems += _pair_problems(given, f"{p}_API_KEY{suffix}", f"{p}_SECRET{suffix}")
            if venue.needs_passphrase and f"{p}_API_KEY{suffix}" in given \
                    and f"{p}_PASSPHRASE{suffix}" not in given:
                problems.append(Problem(f"{p}_PASSPHRASE{suffix}", "", f"{venue.label} keys "
                                        f"need their passphrase: set it with {p}_API_KEY{suffix}",
                                        secret=True))
    return problems


def _demo_problems(s: dict) -> list[Problem]:
    """A demo environment asked of a venue that has none."""
    problems: list[Problem] = []
    trading, data = VENUES[s["trading_exchange"]], VENUES[s["data_exchange"]]
    if s["enable_trading"] and trading.trades and s["demo_trading"] and not trading.has_demo:
        problems.append(Problem("DEMO_TRADING", "1", f"{trading.label} has no demo "
                                "environment: trade on the paper broker (ENABLE_TRADING=0) or "
                                "live (DEMO_TRADING=0 with CONFIRM_LIVE_TRADING=yes)"))
    if not s["use_realtime_data"] and not data.has_demo:
        problems.append(Problem("USE_REALTIME_DATA", "0", f"{data.label} has no demo "
                                "environment to read market data from"))
    return problems


def _tradable_problems(s: dict, given: set[str]) -> list[Problem]:
    """A data-only venue named for trading, or traded on through DATA_EXCHANGE's default."""
    venue = VENUES[s["trading_exchange"]]
    if venue.trades or not ("TRADING_EXCHANGE" in given or s["enable_trading"]):
        return []
    tradable = ", ".join(sorted(v.name for v in VENUES.values() if v.trades))
    how = "" if "TRADING_EXCHANGE" in given else " (TRADING_EXCHANGE defaults to DATA_EXCHANGE)"
    return [Problem("TRADING_EXCHANGE", venue.name, f"{venue.label} serves market data only"
                    f"{how}: trade on one of {tradable}, or leave ENABLE_TRADING=0 for the "
                    "paper broker")]


def _trading_problems(s: dict, given: set[str]) -> list[Problem]:
    """Live trading needs the confirmation and the production pair; demo needs some pair."""
    venue = VENUES[s["trading_exchange"]]
    if not s["enable_trading"] or not venue.trades:
        return []
    p = venue.env_prefix
    url = _keys_of(s, venue).trading_url
    if s["demo_trading"] and not venue.real_money_url(url):
        if f"{p}_API_KEY_DEMO" in given or f"{p}_API_KEY" in given:
            return []
        return [Problem(f"{p}_API_KEY_DEMO", "", "required for demo trading "
                        f"(or {p}_API_KEY as a fallback)", secret=True)]
    problems: list[Problem] = []
    if not s["confirm_live_trading"]:
        if s["demo_trading"]:  # DEMO_TRADING=1 but the orders would reach production
            problems.append(Problem(
                f"{p}_TRADING_URL", url,
                "a production host: orders there are REAL even with DEMO_TRADING=1; use the demo "
                f"host (https://{venue.trading_spec().hosts[1]}) or set CONFIRM_LIVE_TRADING=yes "
                f"and {p}_API_KEY/{p}_SECRET to trade live"))
        else:
            problems.append(Problem(
                "CONFIRM_LIVE_TRADING", "",
                "ENABLE_TRADING=1 with DEMO_TRADING=0 places real orders; set "
                "CONFIRM_LIVE_TRADING=yes to confirm, or DEMO_TRADING=1"))
    if f"{p}_API_KEY" not in given:
        problems.append(Problem(f"{p}_API_KEY", "", "required for live trading (the "
                                "production pair; demo keys are never used there)", secret=True))
    return problems


def _cross_checks(s: dict, given: set[str]) -> list[Problem]:
    """Rules that involve more than one key; a value that was given counts even when invalid."""
    problems = _venue_pair_problems(given)
    problems += _tradable_problems(s, given)
    problems += _demo_problems(s)
    problems += _trading_problems(s, given)
    problems += _pair_problems(given, "TELEGRAM_BOT_TOKEN", "TELEGRAM_CHAT_ID")
    problems += _api_problems(s, given)
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
        return data.decode("utf-8-sig"), []  # a BOM would otherwise become part of the first key
    except UnicodeDecodeError as e:
        line = data[: e.start].count(b"\n") + 1
        return "", [FileProblem(f"{path} line {line}", "", "is not UTF-8 text (save it as UTF-8)")]


def _broken_lines(path: Path, text: str) -> tuple[str, list[Problem]]:
    """Lines python-dotenv cannot parse (it would silently drop them, e.g. an unclosed quote),
    and the text with them blanked (line numbers kept), so that they are reported only once."""
    problems: list[Problem] = []
    kept: list[str] = []
    for binding in parse_stream(io.StringIO(text)):
        line = binding.original.string
        kept.append("\n" * line.count("\n") if binding.error else line)
        if binding.error:
            key = _line_key(line)
            problems.append(FileProblem(
                f"{path} line {binding.original.line}", "",
                f"cannot be parsed{f' (sets {key})' if key else ''}: write KEY=value, and close "
                "every quote on the line it opens"))
    return "".join(kept), problems


def read_dotenv(path: str | os.PathLike) -> tuple[dict[str, str], list[Problem]]:
    """Key -> text from one env file, and every problem of the file (nothing from a bad one)."""
    text, problems = _file_text(Path(path))
    if problems:
        return {}, problems
    text, problems = _broken_lines(Path(path), text)
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
            why = "not a file" if Path(dotenv_path).exists() else "no such env file"
            problems = [FileProblem(os.fspath(dotenv_path), "", why)]
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


def read_data_dir(env: Mapping[str, str] | None = None,
                  dotenv_path: str | os.PathLike | None = DEFAULT_DOTENV) -> str:
    """DATA_DIR alone, for a command that reads no other setting (a backtest over the store)."""
    return read_environment(env, dotenv_path).get("DATA_DIR", "").strip() or DEFAULT_DATA_DIR


def _state_db(raw: Mapping[str, str]) -> str:
    """STATE_DB unset: inside systemd's StateDirectory when it is set, else state/choch.db."""
    directories = [d for d in raw.get("STATE_DIRECTORY", "").split(":") if d.strip()]
    return str(Path(directories[0]) / STATE_DB_NAME) if directories else DEFAULT_STATE_DB


def _resolve_keys(s: dict) -> None:
    """Pick the pair that signs orders, once the rules above have passed."""
    trading = VENUES[s["trading_exchange"]]
    if s["enable_trading"] and s["demo_trading"] and \
            trading.real_money_url(_keys_of(s, trading).trading_url):
        s["demo_trading"] = False  # confirmed above: this is live trading, with the live pair
    # Each venue's demo keys fall back to its production pair, unless its trading URL is a
    # production host (demo keys never sign there, and production keys never go unasked).
    if not s["binance_api_key_demo"] and not is_production_host(s["binance_trading_url"]):
        s["binance_api_key_demo"] = s["binance_api_key"]
        s["binance_secret_demo"] = s["binance_secret"]
    for name, keys in s["_venues"].items():
        if not keys.get("api_key_demo") and not VENUES[name].real_money_url(
                keys.get("trading_url", "")):
            for part in ("api_key", "secret", "passphrase"):
                if keys.get(part):
                    keys[f"{part}_demo"] = keys[part]


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
    if "TRADING_EXCHANGE" not in given:
        merged["trading_exchange"] = merged["data_exchange"]
    merged["_venues"], venue_given = _venue_keys_given(raw, problems)
    given |= venue_given
    problems += _cross_checks(merged, given)
    if problems:
        raise ConfigError(problems)
    _resolve_keys(merged)
    merged["venue_credentials"] = tuple(sorted(
        (name, VenueKeys(**keys)) for name, keys in merged.pop("_venues").items()))
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
    known = {**KEYS, **venue_keys_table()}
    if key in known:
        return ""
    if upper in known:
        return upper
    best = min(known, key=lambda k: _distance(upper, k, 2))
    limit = 1 if len(best) <= 6 else 2  # short keys: two edits reach unrelated words
    return best if _distance(upper, best, limit) <= limit else ""


def _shares_prefix(key: str) -> bool:
    """An environment variable that starts like one of our keys (so PATH, HOME are never ours)."""
    return any(key[:3].upper() == known[:3] for known in (*KEYS, *venue_keys_table()))


def lint_environment(env: Mapping[str, str] | None = None,
                     dotenv_path: str | os.PathLike | None = DEFAULT_DOTENV) -> list[str]:
    """Warnings for keys that look like a misspelt or lower-case setting (they are ignored).

    Keys of the env file are all considered; environment variables only when they start like
    one of ours. Never raises: problems of the file itself are load_settings' to report.
    """
    file_keys: list[str] = []
    source = ""  # the env file, as named in warnings
    if dotenv_path is not None and Path(dotenv_path).is_file():
        file_keys = list(read_dotenv(dotenv_path)[0])
        source = os.fspath(dotenv_path)
    env_keys = [k for k in (os.environ if env is None else env) if _shares_prefix(k)]
    warnings = []
    for key in unique(file_keys + env_keys):
        meant = _look_alike(key)
        if meant:
            where = f" (in {source})" if key in file_keys else ""
            warnings.append(f"warning: {key}{where} is not a setting and is ignored; "
                            f"did you mean {meant}?")
    return warnings
