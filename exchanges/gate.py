"""Gate USDT-settled perpetual futures as data: timeframes, hosts, client-id rule, error labels,
contract maths (no ccxt here).

The behaviour that differs (separate price-triggered stops, whole contracts, candle ranges asked
as from/to, the 10,000-interval horizon, cross margin as leverage 0) lives in
exchanges/gate_client.py, imported only when Gate is used.
"""
from __future__ import annotations

import math

from .gate_ws import SPEC as WS_SPEC
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

# Gate answers errors as {"label": "...", "message": "..."} with a 4xx/5xx status
# (https://www.gate.com/docs/developers/apiv4/#error-handling).
TOO_MANY_REQUESTS = "TOO_MANY_REQUESTS"   # HTTP 429
TOO_FAST = "TOO_FAST"
INTERNAL = "INTERNAL"                     # HTTP 5xx: the outcome of an order is unknown
SERVER_ERROR = "SERVER_ERROR"
TOO_BUSY = "TOO_BUSY"
INVALID_KEY = "INVALID_KEY"
INVALID_SIGNATURE = "INVALID_SIGNATURE"
INVALID_CREDENTIALS = "INVALID_CREDENTIALS"
MISSING_REQUIRED_HEADER = "MISSING_REQUIRED_HEADER"
REQUEST_EXPIRED = "REQUEST_EXPIRED"       # our clock outside the 60 s window: nothing processed
IP_FORBIDDEN = "IP_FORBIDDEN"
READ_ONLY = "READ_ONLY"
FORBIDDEN = "FORBIDDEN"
ACCOUNT_LOCKED = "ACCOUNT_LOCKED"
USER_NOT_FOUND = "USER_NOT_FOUND"         # futures account not opened
ORDER_NOT_FOUND = "ORDER_NOT_FOUND"       # also a client id asked for > 1 h after the end
CLIENT_ID_NOT_FOUND = "CLIENT_ID_NOT_FOUND"
ORDER_FINISHED = "ORDER_FINISHED"         # cancel of a finished order: ccxt ExchangeError
ORDER_CLOSED = "ORDER_CLOSED"
ORDER_CANCELLED = "ORDER_CANCELLED"
INSUFFICIENT_AVAILABLE = "INSUFFICIENT_AVAILABLE"
FUTURES_BALANCE_NOT_ENOUGH = "FUTURES_BALANCE_NOT_ENOUGH"
BALANCE_NOT_ENOUGH = "BALANCE_NOT_ENOUGH"
# A price-triggered order whose trigger is already crossed (ccxt: InvalidOrder, read as a
# plain invalid order without the table).
TRIGGER_BELOW_LAST = "AUTO_TRIGGER_PRICE_LESS_LAST"
TRIGGER_ABOVE_LAST = "AUTO_TRIGGER_PRICE_GREATE_LAST"
REDUCE_EXCEEDED = "REDUCE_EXCEEDED"        # reduce-only larger than (or without) the position
POSITION_EMPTY = "POSITION_EMPTY"
INCREASE_POSITION = "INCREASE_POSITION"    # reduce-only that would increase the position
SIZE_TOO_SMALL = "SIZE_TOO_SMALL"
SIZE_TOO_LARGE = "SIZE_TOO_LARGE"
CONTRACT_NOT_FOUND = "CONTRACT_NOT_FOUND"
INVALID_PARAM_VALUE = "INVALID_PARAM_VALUE"  # also "Candlestick too long ago"
LEVERAGE_TOO_HIGH = "LEVERAGE_TOO_HIGH"
RISK_LIMIT_EXCEEDED = "RISK_LIMIT_EXCEEDED"
POSITION_DUAL_MODE = "POSITION_DUAL_MODE"   # one-way order on a dual-mode (hedge) account
NO_CHANGE = "NO_CHANGE"

SERVER_SIDE = frozenset({INTERNAL, SERVER_ERROR, TOO_BUSY})
AUTH_LABELS = frozenset({INVALID_KEY, INVALID_SIGNATURE, INVALID_CREDENTIALS,
                         MISSING_REQUIRED_HEADER, IP_FORBIDDEN, READ_ONLY, FORBIDDEN,
                         ACCOUNT_LOCKED, USER_NOT_FOUND})
GONE = frozenset({ORDER_NOT_FOUND, CLIENT_ID_NOT_FOUND, ORDER_FINISHED, ORDER_CLOSED,
                  ORDER_CANCELLED})

ERROR_CODES: dict[Code, CodeMeaning] = {
    **{label: TRANSIENT for label in SERVER_SIDE},
    REQUEST_EXPIRED: TRANSIENT,  # ccxt: AuthenticationError; our clock, resynced and resent
    TOO_MANY_REQUESTS: RATE_LIMITED,
    TOO_FAST: RATE_LIMITED,
    **{label: AUTH for label in AUTH_LABELS},
    **{label: rejected(Reason.NOT_FOUND) for label in GONE},
    TRIGGER_BELOW_LAST: rejected(Reason.WOULD_TRIGGER_IMMEDIATELY),
    TRIGGER_ABOVE_LAST: rejected(Reason.WOULD_TRIGGER_IMMEDIATELY),
    INSUFFICIENT_AVAILABLE: rejected(Reason.INSUFFICIENT_FUNDS),
    FUTURES_BALANCE_NOT_ENOUGH: rejected(Reason.INSUFFICIENT_FUNDS),
    BALANCE_NOT_ENOUGH: rejected(Reason.INSUFFICIENT_FUNDS),
    REDUCE_EXCEEDED: rejected(Reason.REDUCE_ONLY_REJECTED),
    POSITION_EMPTY: rejected(Reason.REDUCE_ONLY_REJECTED),
    INCREASE_POSITION: rejected(Reason.REDUCE_ONLY_REJECTED),
    SIZE_TOO_SMALL: rejected(Reason.INVALID_ORDER),
    SIZE_TOO_LARGE: rejected(Reason.INVALID_ORDER),
    CONTRACT_NOT_FOUND: rejected(Reason.INVALID_ORDER),
    INVALID_PARAM_VALUE: rejected(Reason.INVALID_ORDER),
    LEVERAGE_TOO_HIGH: rejected(Reason.INVALID_ORDER),
    RISK_LIMIT_EXCEEDED: rejected(Reason.INVALID_ORDER),
    POSITION_DUAL_MODE: rejected(Reason.INVALID_ORDER),
    NO_CHANGE: rejected(Reason.NO_CHANGE),  # ccxt: InvalidOrder
}

# A candle request whose `from` lies more than this many intervals before now is refused
# (INVALID_PARAM_VALUE "Candlestick too long ago. Maximum 10000 points ago are allowed").
MAX_INTERVALS_BACK = 10_000
SETTLE = "usdt"


def contract(symbol: str) -> str:
    """'BTC/USDT' (or 'BTC/USDT:USDT') -> Gate's contract name 'BTC_USDT'."""
    return symbol.split(":")[0].replace("/", "_")


def to_contracts(quantity: float, multiplier: float) -> int:
    """A base quantity as whole contracts (quanto_multiplier base units each), rounded down; a
    quantity that is a multiple up to float noise (0.0003 / 0.0001) stays whole."""
    return int(math.floor(quantity / multiplier + 1e-9))


def to_base(contracts: float, multiplier: float) -> float:
    """Gate's contracts (signed or not) -> the base quantity they stand for."""
    return round(contracts * multiplier, 12)


def oldest_served(now_ms: int, tf_ms: int) -> int:
    """Open time of the oldest candle of a timeframe Gate still serves (10,000 intervals back
    from the forming one)."""
    return now_ms - now_ms % tf_ms - MAX_INTERVALS_BACK * tf_ms


def stop_or_target(size: float, rule: int) -> str:
    """'stop' or 'target' of a closing price-triggered order: rule 1 fires at price >= trigger,
    rule 2 at <=; a buy (size > 0) closes a short, whose stop is above."""
    rises = rule == 1
    return "stop" if rises == (size > 0) else "target"


GATE = Venue(
    name="gate",
    ccxt_id="gate",
    label="Gate USDT perpetuals",
    # /futures/usdt/candlesticks intervals (10s and 7d/30d left out: 7d's week start is not
    # documented). All open on the epoch (UTC) grid.
    native_timeframes=("1m", "5m", "15m", "30m", "1h", "4h", "8h", "1d"),
    # A range (from, to) returns every candle in it, up to 2,000 points: a page of 1,000 is
    # always whole while history lasts.
    max_page=1000,
    default_page=100,
    closed_rule=ClosedRule.END_BY_SERVER_CLOCK,  # the forming candle is served as the last row
    # ccxt's set_sandbox_mode: the futures testnet (its own host, its own keys).
    demo_switch=DemoSwitch.SANDBOX_MODE,
    demo_hosts=frozenset({"api-testnet.gateapi.io", "fx-api-testnet.gateio.ws"}),
    production_domains=("gateio.ws", "gate.io", "gate.com", "gateapi.io"),
    data_hosts=("api.gateio.ws", "api-testnet.gateapi.io"),
    trading=TradingSpec(
        hosts=("api.gateio.ws", "api-testnet.gateapi.io"),
        # text: 't-' + at most 28 of [0-9A-Za-z_.-]; a reused text is taken (the later order
        # wins), and found by text only up to an hour after the order ends.
        # A price order's initial.text says how it was made (web/api/app): stops keep no id.
        client_ids=ClientIdRule(30, "0-9A-Za-z_.-", prefix="t-", refuses_duplicates=False,
                                on_conditional=False),
        # ccxt sends stopLoss/takeProfit on the entry as unknown body fields, ignored: the
        # entry would fill naked. Separate price-triggered orders (/price_orders) instead.
        sltp_style=SlTpStyle.SEPARATE,
    ),
    error_codes=ERROR_CODES,
    error_code_keys=("label",),
    client_module="exchanges.gate_client",
    ws=WS_SPEC,
    ccxt_options={
        "defaultType": "swap",
        "fetchMarkets": {"types": ["swap"]},  # one contracts call, not four market types
        "swap": {"fetchMarkets": {"settlementCurrencies": ["usdt"]}},  # not the BTC-settled
        "unifiedAccount": False,  # skip /account/detail on every order (futures API as is)
    },
)
