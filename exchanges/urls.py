"""Point a ccxt exchange at the venue's demo environment, or every REST endpoint at another
scheme and host (tests, proxies)."""
from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit, urlunsplit

from .venue import DemoSwitch, Venue


def _rewrite(value: Any, scheme: str, netloc: str) -> Any:
    """The same URL tree with scheme and host replaced; the path is kept (/fapi/v1, ...)."""
    if isinstance(value, dict):
        return {k: _rewrite(v, scheme, netloc) for k, v in value.items()}
    if isinstance(value, str) and value.startswith(("http://", "https://")):
        parts = urlsplit(value)
        return urlunsplit((scheme, netloc, parts.path, parts.query, parts.fragment))
    return value


def override_hosts(exchange: Any, base_url: str) -> None:
    """Replace the scheme and host of every REST URL of `exchange` (call after demo switching)."""
    if not base_url:
        return
    parts = urlsplit(base_url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError(f"not an http(s) base URL: {base_url!r}")
    exchange.urls["api"] = _rewrite(exchange.urls["api"], parts.scheme, parts.netloc)


def switch_to_demo(exchange: Any, venue: Venue) -> None:
    """Point a ccxt instance at the venue's demo environment (call before override_hosts)."""
    if venue.demo_switch is DemoSwitch.ENABLE_DEMO_TRADING:
        exchange.enable_demo_trading(True)
    elif venue.demo_switch is DemoSwitch.SANDBOX_MODE:
        exchange.set_sandbox_mode(True)
    else:
        raise ValueError(f"{venue.label} has no demo environment")
