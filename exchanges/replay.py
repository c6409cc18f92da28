"""The replay venue as data: candles from files or the history store on an accelerated clock.

A data-only venue served from this machine (no ccxt, no network): `DATA_EXCHANGE=replay` with
REPLAY_SOURCE (candle files, or the history store) and REPLAY_SPEED rehearses a configuration
on downloaded history; `main.py demo` runs the daemon over the shipped samples with it.
"""
from __future__ import annotations

from .venue import ClosedRule, DemoSwitch, Venue

HOST = "replay (this machine)"

REPLAY = Venue(
    name="replay",
    ccxt_id="",  # not a ccxt exchange: nothing of ccxt's exchange classes is loaded for it
    label="Replay (candle files or the history store)",
    # What the adapter builds every other timeframe from; the instance reports the timeframe
    # of the candles it was given (exchanges/replay_client.py).
    native_timeframes=("1m",),
    max_page=1000,
    default_page=500,
    closed_rule=ClosedRule.END_BY_SERVER_CLOCK,  # closed once its end passed on the replay clock
    demo_switch=DemoSwitch.NONE,
    demo_hosts=frozenset(),
    production_domains=(),
    data_hosts=(HOST, HOST),
    error_codes={},
    error_code_keys=(),
    client_module="exchanges.replay_client",
    local=True,
)
