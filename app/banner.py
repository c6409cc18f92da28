"""The start-up description of the dual-exchange setup (printed by `run` and `check`)."""
from __future__ import annotations

from urllib.parse import urlsplit

from config import Settings

DATA_HOSTS = {True: "fapi.binance.com", False: "demo-fapi.binance.com"}
TRADING_HOSTS = {True: "demo-fapi.binance.com", False: "fapi.binance.com"}


def _host(override: str, default: str) -> str:
    return urlsplit(override).netloc if override else default


def trading_mode(settings: Settings) -> str:
    """'paper' (alerts only, simulated fills), 'demo' or 'LIVE'."""
    if not settings.enable_trading:
        return "paper"
    return "LIVE" if settings.live_trading else "demo"


def alert_mode(settings: Settings) -> str:
    """How alerts name the mode: 'alerts only', 'demo' or 'LIVE'."""
    mode = trading_mode(settings)
    return "alerts only" if mode == "paper" else mode


def describe(settings: Settings) -> list[str]:
    """Human lines: data instance, trading instance, size, symbols and timeframes."""
    data_kind = "production" if settings.use_realtime_data else "demo"
    data_host = _host(settings.binance_data_url, DATA_HOSTS[settings.use_realtime_data])
    mode = trading_mode(settings)
    if mode == "paper":
        trading = "off (paper broker: simulated fills, no orders sent)"
    else:
        host = _host(settings.binance_trading_url, TRADING_HOSTS[mode == "demo"])
        trading = (f"{'LIVE, REAL MONEY' if mode == 'LIVE' else 'demo'} on {host}, "
                   f"signed with the {settings.signing_pair} pair")
    telegram = "Telegram" if getattr(settings, "telegram_bot_token", "") else "console"
    return [
        f"data instance:    {data_kind} market data from {data_host}",
        f"trading instance: {trading}",
        f"position size:    {settings.position_size:g} USDT margin x {settings.leverage} leverage",
        f"symbols:          {', '.join(settings.symbols)}",
        f"timeframes:       {', '.join(settings.timeframes)}",
        f"detector:         left={settings.pivot_left} right={settings.pivot_right} "
        f"break_on={settings.break_on}",
        f"alerts:           {telegram}",
        f"state:            {settings.state_db}",
    ]
