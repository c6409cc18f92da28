"""The start-up description of the dual-exchange setup (printed by `run` and `check`)."""
from __future__ import annotations

from urllib.parse import urlsplit

from config import Settings
from trading.notices import num


def _host(override: str, default: str) -> str:
    return urlsplit(override).netloc if override else default


def data_host(settings: Settings) -> str:
    """The host the data instance reads from: its URL override, else the venue's own."""
    venue = settings.data_venue
    return _host(settings.venue_keys(venue.name).data_url,
                 venue.data_hosts[0 if settings.use_realtime_data else 1])


def trading_host(settings: Settings) -> str:
    """The host the trading instance sends orders to: its URL override, else the venue's own."""
    venue = settings.trading_venue
    hosts = venue.trading.hosts if venue.trading else venue.data_hosts
    return _host(settings.venue_keys(venue.name).trading_url,
                 hosts[1 if trading_mode(settings) == DEMO else 0])


# One word per mode, the same in the banner, `check`, alerts, /status and logs.
PAPER, DEMO, LIVE = "paper", "demo", "live"
TELEGRAM, CONSOLE = "telegram", "console"


def trading_mode(settings: Settings) -> str:
    """'paper' (ENABLE_TRADING=0: signals traded on the simulated broker), 'demo' or 'live'."""
    if not settings.enable_trading:
        return PAPER
    return LIVE if settings.live_trading else DEMO


def alert_mode(settings: Settings) -> str:
    """The mode word alerts carry: the trading mode itself."""
    return trading_mode(settings)


def alerts_channel(settings: Settings) -> str:
    """'telegram' when a bot token is set, else 'console'."""
    return TELEGRAM if getattr(settings, "telegram_bot_token", "") else CONSOLE


def describe(settings: Settings) -> list[str]:
    """Human lines: data instance, trading instance, size, symbols and timeframes."""
    data_kind = "production" if settings.use_realtime_data else "demo"
    mode = trading_mode(settings)
    if mode == PAPER:
        trading = (f"{PAPER} (paper broker: simulated fills, fees {settings.paper_fee_rate:g} "
                   f"per leg, slippage {settings.paper_slippage_bps:g} bps, no orders sent)")
    else:
        trading = (f"{mode} on {trading_host(settings)}"
                   + (" (REAL MONEY)" if mode == LIVE else "")
                   + f", venue {settings.trading_exchange}"
                   + f", signed with the {settings.signing_pair} pair")
    data = (f"{data_kind} market data from {data_host(settings)}, venue "
            f"{settings.data_exchange}")
    if settings.data_exchange == "replay":
        data = (f"replay of {settings.replay_source} at {settings.replay_speed:g}x host time "
                "(history, served from this machine)")
    return [
        f"data instance:    {data}",
        f"trading instance: {trading}",
        f"position size:    {num(settings.position_size)} USDT margin x {settings.leverage} "
        "leverage",
        f"symbols:          {', '.join(settings.data_venue.shown(x) for x in settings.symbols)}",
        f"timeframes:       {', '.join(settings.timeframes)}",
        f"detector:         left={settings.pivot_left} right={settings.pivot_right} "
        f"break_on={settings.break_on}",
        f"alerts:           {alerts_channel(settings)}",
        f"state:            {settings.state_db}",
    ]
