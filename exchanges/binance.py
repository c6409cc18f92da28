"""Binance USD-M futures as data: timeframes, hosts, client-id rule, error codes (no ccxt here).

The behaviour that differs (raw endpoints, request weights, clock resync, algo orders) lives in
exchanges/binance_client.py, which the registry imports only when Binance is used.
"""
from __future__ import annotations

from .binance_ws import SPEC as WS_SPEC
from .venue import (
                    AUTH,
                    RATE_LIMITED,
                    TRANSIENT,
                    ClientIdRule,
                    ClosedRule,
                    Code,
                    CodeMeaning,
                    DemoSwitch,
                    Reason,
                    SlTpStyle,
                    TradingSpec,
                    Venue,
                    rejected,
)

# Binance's numeric error codes (https://developers.binance.com/docs/derivatives/usds-margined-
# futures/error-code).
UNKNOWN = -1000            # an unknown error while processing the request
DISCONNECTED = -1001       # internal error; unable to process your request
TOO_MANY_REQUESTS = -1003
TIMEOUT = -1007            # backend timeout: an order's status is unknown
SERVER_BUSY = -1008
TIMESTAMP_OUTSIDE_RECV_WINDOW = -1021  # resync the clock: the same request is then safe
INVALID_SIGNATURE = -1022
NEW_ORDER_REJECTED = -2010
CANCEL_REJECTED = -2011    # e.g. unknown order sent on cancel
NO_SUCH_ORDER = -2013
REJECTED_MBX_KEY = -2014
INVALID_API_KEY = -2015
MARGIN_INSUFFICIENT = -2019
WOULD_IMMEDIATELY_TRIGGER = -2021
REDUCE_ONLY_REJECT = -2022
NO_NEED_TO_CHANGE_MARGIN_TYPE = -4046
NO_NEED_TO_CHANGE_POSITION_SIDE = -4059
DUPLICATE_CLIENT_ORDER_ID = -4116
MIN_NOTIONAL = -4164
ALGO_ORDER_NOT_FOUND = -20124

# The server's own trouble: safe to retry a read; for an order the outcome is unknown.
SERVER_SIDE_CODES = frozenset({UNKNOWN, DISCONNECTED, TIMEOUT, SERVER_BUSY})
# Answers of a cancel whose order is gone already (filled, canceled, never placed).
GONE_CODES = frozenset({CANCEL_REJECTED, NO_SUCH_ORDER, ALGO_ORDER_NOT_FOUND})

ERROR_CODES: dict[Code, CodeMeaning] = {
    **{code: TRANSIENT for code in SERVER_SIDE_CODES},
    TOO_MANY_REQUESTS: RATE_LIMITED,
    TIMESTAMP_OUTSIDE_RECV_WINDOW: TRANSIENT,
    INVALID_SIGNATURE: AUTH,
    REJECTED_MBX_KEY: AUTH,
    INVALID_API_KEY: AUTH,
    CANCEL_REJECTED: rejected(Reason.NOT_FOUND),
    NO_SUCH_ORDER: rejected(Reason.NOT_FOUND),
    ALGO_ORDER_NOT_FOUND: rejected(Reason.NOT_FOUND),
    MARGIN_INSUFFICIENT: rejected(Reason.INSUFFICIENT_FUNDS),
    WOULD_IMMEDIATELY_TRIGGER: rejected(Reason.WOULD_TRIGGER_IMMEDIATELY),
    REDUCE_ONLY_REJECT: rejected(Reason.REDUCE_ONLY_REJECTED),
    NO_NEED_TO_CHANGE_MARGIN_TYPE: rejected(Reason.NO_CHANGE),
    NO_NEED_TO_CHANGE_POSITION_SIDE: rejected(Reason.NO_CHANGE),
    DUPLICATE_CLIENT_ORDER_ID: rejected(Reason.DUPLICATE_CLIENT_ID),
    MIN_NOTIONAL: rejected(Reason.INVALID_ORDER),
    NEW_ORDER_REJECTED: rejected(Reason.INVALID_ORDER),
}

BINANCE = Venue(
    name="binance",
    ccxt_id="binanceusdm",
    label="Binance USD-M",
    native_timeframes=("1m", "3m", "5m", "15m", "30m", "1h", "2h", "4h", "6h", "8h", "12h",
                       "1d", "3d", "1w", "1M"),
    max_page=1500,
    default_page=500,
    closed_rule=ClosedRule.END_BY_SERVER_CLOCK,
    demo_switch=DemoSwitch.ENABLE_DEMO_TRADING,  # set_sandbox_mode raises on futures now
    demo_hosts=frozenset({"demo-fapi.binance.com", "testnet.binancefuture.com"}),
    production_domains=("binance.com",),
    data_hosts=("fapi.binance.com", "demo-fapi.binance.com"),
    trading=TradingSpec(
        hosts=("fapi.binance.com", "demo-fapi.binance.com"),
        client_ids=ClientIdRule(36, r".A-Z:/a-z0-9_-"),
        sltp_style=SlTpStyle.SEPARATE,
    ),
    error_codes=ERROR_CODES,
    error_code_keys=("code",),
    client_module="exchanges.binance_client",
    ws=WS_SPEC,
)
