"""What a venue's instances are told: small typed configs built by the application (no env)."""
from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class MarketDataConfig:
    """The data instance: which environment, which host, how long a request and a cycle may take."""

    production: bool = True      # production market data; False: the venue's demo environment
    url: str = ""                # overrides every host the client uses ('' keeps the venue's)
    timeout_s: float = 10.0      # one request
    budget_s: float = 30.0       # retries of one read within a cycle
    weight_per_min: int = 1200   # request weight per minute, where the venue counts weight


@dataclass(frozen=True)
class Credentials:
    """One environment's signing keys; `repr` never shows them."""

    api_key: str = field(default="", repr=False)
    secret: str = field(default="", repr=False)
    passphrase: str = field(default="", repr=False)


@dataclass(frozen=True)
class TradingConfig:
    """The trading instance: demo or live (live only when confirmed), keys, host, margin."""

    credentials: Credentials = Credentials()
    demo: bool = True
    live: bool = False           # real orders would reach production
    live_confirmed: bool = False  # CONFIRM_LIVE_TRADING=yes
    url: str = ""
    leverage: int = 20
    margin_mode: str = "isolated"
    signed_by: str = ""          # the env key of the pair that signs ('BYBIT_API_KEY_DEMO')
