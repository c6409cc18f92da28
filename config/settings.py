"""Settings: the frozen configuration of one daemon, and the table of env keys that fill it."""
from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable
from dataclasses import dataclass, field, fields

from domain.netloc import split_host_port
from domain.parsing import choice, number, parse_trade_on

# Pure data (no ccxt): which venues exist and what each needs, so that venue names, keys and
# host rules are validated up front.
from exchanges.registry import DEFAULT as DEFAULT_EXCHANGE
from exchanges.registry import VENUES
from exchanges.venue import Venue

from .problems import REDACTED, Problem
from .values import (
    HOST_NAME,
    parse_bool,
    parse_bot_token,
    parse_chat_id,
    parse_confirmation,
    parse_exchange,
    parse_symbol_list,
    parse_symbols,
    parse_timeframes,
    parse_url,
    parse_user_ids,
    parse_utc_time,
    plain_text,
    unique,
)

MAX_LEVERAGE = 125
DEFAULT_DOTENV = ".env"
DEFAULT_STATE_DB = "state/choch.db"
DEFAULT_DATA_DIR = "data"
STATE_DB_NAME = "choch.db"  # inside $STATE_DIRECTORY, which systemd's StateDirectory= sets


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
    data-only venue has its data URL only, and one served from this machine, the replay, none)."""
    return {f"{venue.env_prefix}_{suffix}": name for suffix, name in VENUE_KEY_SUFFIXES
            if (venue.needs_passphrase or "PASSPHRASE" not in suffix)
            and (venue.trades or suffix == "DATA_URL" and not venue.local)}


@dataclass(frozen=True)
class Settings:
    """The validated configuration of one daemon process. `repr` never shows a secret."""

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
    # --- the replay venue (DATA_EXCHANGE=replay): history served on an accelerated clock ---
    replay_source: str = ""  # candle files (comma-separated, or a directory), or store:<venue>
    replay_speed: float = 60.0  # venue seconds per host second
    replay_start: int | None = None  # ms; None: one day after the first candle

    def venue_keys(self, name: str) -> VenueKeys:
        """Credentials and URL overrides of venue `name` ({NAME}_* keys; demo keys fall back to
        the production pair unless that venue's trading URL is a production host)."""
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
    "REPLAY_SOURCE": ("replay_source", plain_text),
    "REPLAY_SPEED": ("replay_speed", number(float, 0, 1e6, low_open=True)),
    "REPLAY_START": ("replay_start", parse_utc_time),
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
    for part in (p for p in text.split(",") if p.strip()):
        parsed = split_host_port(part)
        if parsed is None:
            raise ValueError(allowed)
        host, port = parsed.host, parsed.port
        if port is not None and not 1 <= port <= 65535:
            raise ValueError(allowed)
        try:
            ip = ipaddress.ip_address(host)
        except ValueError:
            if parsed.bracketed or not HOST_NAME.fullmatch(host):
                raise ValueError(allowed) from None
            host = host.rstrip(".")
        else:
            if (ip.version == 6) != parsed.bracketed:
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
