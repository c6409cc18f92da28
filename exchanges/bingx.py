"""BingX USDT-M perpetual swaps as data: timeframes, hosts, client-id rule, error codes (no ccxt
here).

The behaviour that differs (positionSide BOTH, stops found by BingX's order id, a stop replaced
by cancelling first, swap-only markets) lives in exchanges/bingx_client.py, imported only when
BingX is used.
"""
from __future__ import annotations

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

# BingX answers {"code": n, "msg": ...}; 0 is success (https://bingx-api.github.io/docs/,
# USDT-M Perpetual Futures > Common error codes). ccxt maps several of these loosely.
SIGNATURE_FAILED = 100001
PERMISSION_DENIED = 100004
NULL_SIGNATURE = 100412
INCORRECT_API_KEY = 100413
IP_NOT_WHITELISTED = 100419
# "Null timestamp or timestamp mismatch": our clock outside the 5 s window, nothing processed.
# ccxt maps it to BadSymbol (a pair restricted from API trading), which would read as refused.
STALE_TIMESTAMP = 100421
FREQUENCY_LIMIT = 100410      # also sent with HTTP 429 (ccxt: OperationFailed)
INTERNAL_ERROR = 100500
SERVICE_UNAVAILABLE = 80012
ORDER_PROCESSING = 80019      # "the order is being processed": its outcome is unknown
RPC_TIMEOUT = 101500
SYSTEM_BUSY = 109500
ORDER_SYSTEM_BUSY = 110500
ORDER_NOT_EXIST = 80016
POSITION_NOT_EXIST = 80017
ORDER_ALREADY_FILLED = 80018
ORDER_NOT_FOUND = 109421
NO_POSITION_TO_CLOSE = 101205
INSUFFICIENT_MARGIN = 101204
INSUFFICIENT_BALANCE = 100202
DUPLICATE_CLIENT_ORDER_ID = 101481
SUBMITTED_TWICE = 109201      # the same order submitted twice within a second
INVALID_PARAMETER = 80014
ARGUMENTS_INVALID = 100400
ORDER_SIZE_ERROR = 101400
BELOW_MIN_NOTIONAL = 110425
# A stop or take-profit whose trigger is already crossed by the mark price (ccxt: unmapped,
# a plain ExchangeError; 110414 would even be read as 100414 AccountSuspended by nobody but us).
SL_LONG_WRONG_SIDE = 110411
SL_SHORT_WRONG_SIDE = 110412
TP_LONG_WRONG_SIDE = 110413
TP_SHORT_WRONG_SIDE = 110414

WRONG_SIDE_CODES = frozenset({SL_LONG_WRONG_SIDE, SL_SHORT_WRONG_SIDE, TP_LONG_WRONG_SIDE,
                              TP_SHORT_WRONG_SIDE})
SERVER_SIDE_CODES = frozenset({INTERNAL_ERROR, SERVICE_UNAVAILABLE, ORDER_PROCESSING,
                               RPC_TIMEOUT, SYSTEM_BUSY, ORDER_SYSTEM_BUSY})
AUTH_CODES = frozenset({SIGNATURE_FAILED, PERMISSION_DENIED, NULL_SIGNATURE, INCORRECT_API_KEY,
                        IP_NOT_WHITELISTED})
GONE_CODES = frozenset({ORDER_NOT_EXIST, ORDER_ALREADY_FILLED, ORDER_NOT_FOUND})

ERROR_CODES: dict[Code, CodeMeaning] = {
    **{code: TRANSIENT for code in SERVER_SIDE_CODES},
    STALE_TIMESTAMP: TRANSIENT,   # resynced and resent once by the client
    FREQUENCY_LIMIT: RATE_LIMITED,
    **{code: AUTH for code in AUTH_CODES},
    **{code: rejected(Reason.NOT_FOUND) for code in GONE_CODES},
    **{code: rejected(Reason.WOULD_TRIGGER_IMMEDIATELY) for code in WRONG_SIDE_CODES},
    POSITION_NOT_EXIST: rejected(Reason.REDUCE_ONLY_REJECTED),
    NO_POSITION_TO_CLOSE: rejected(Reason.REDUCE_ONLY_REJECTED),
    INSUFFICIENT_MARGIN: rejected(Reason.INSUFFICIENT_FUNDS),
    INSUFFICIENT_BALANCE: rejected(Reason.INSUFFICIENT_FUNDS),
    DUPLICATE_CLIENT_ORDER_ID: rejected(Reason.DUPLICATE_CLIENT_ID),
    SUBMITTED_TWICE: rejected(Reason.DUPLICATE_CLIENT_ID),
    INVALID_PARAMETER: rejected(Reason.INVALID_ORDER),
    ARGUMENTS_INVALID: rejected(Reason.INVALID_ORDER),
    ORDER_SIZE_ERROR: rejected(Reason.INVALID_ORDER),
    BELOW_MIN_NOTIONAL: rejected(Reason.INVALID_ORDER),
}

ONE_WAY = "BOTH"  # positionSide of every order in one-way mode
STOP_TYPES = frozenset({"STOP_MARKET", "STOP"})
TARGET_TYPES = frozenset({"TAKE_PROFIT_MARKET", "TAKE_PROFIT"})


def swap_id(symbol: str) -> str:
    """'BTC/USDT' (or 'BTC/USDT:USDT') -> BingX's 'BTC-USDT'."""
    return symbol.split(":")[0].replace("/", "-")


def kind_of(order_type: str | None) -> str | None:
    """'stop' or 'target' of a conditional order type; None for any other order."""
    text = (order_type or "").upper()
    if text in STOP_TYPES:
        return "stop"
    if text in TARGET_TYPES:
        return "target"
    return None


BINGX = Venue(
    name="bingx",
    ccxt_id="bingx",
    label="BingX USDT-M perpetuals",
    # /openApi/swap/v3/quote/klines intervals on the UTC grid (swap klines are UTC-anchored;
    # 3d, 1w and 1M left out: their anchors are not documented).
    native_timeframes=("1m", "3m", "5m", "15m", "30m", "1h", "2h", "4h", "6h", "8h", "12h",
                       "1d"),
    # limit: default 500, at most 1440; a page of 1,000 is always whole while history lasts.
    max_page=1000,
    default_page=500,
    closed_rule=ClosedRule.END_BY_SERVER_CLOCK,  # the forming candle is served as the last row
    # ccxt's set_sandbox_mode: the VST demo (open-api-vst.bingx.com), a host of its own.
    demo_switch=DemoSwitch.SANDBOX_MODE,
    demo_hosts=frozenset({"open-api-vst.bingx.com"}),
    production_domains=("bingx.com", "bingx.pro"),
    data_hosts=("open-api.bingx.com", "open-api-vst.bingx.com"),
    trading=TradingSpec(
        hosts=("open-api.bingx.com", "open-api-vst.bingx.com"),
        # clientOrderId: 1-40 characters, stored lower-cased, kept on LIMIT/MARKET orders only:
        # stops and targets are found by BingX's order id. A reused id is documented as refused,
        # but that is no safety net: a market order's id is sent once per process.
        client_ids=ClientIdRule(40, "0-9A-Za-z_-", lower_case=True, refuses_duplicates=False,
                                on_conditional=False),
        sltp_style=SlTpStyle.SEPARATE,  # reduce-only STOP_MARKET / TAKE_PROFIT_MARKET orders
    ),
    error_codes=ERROR_CODES,
    error_code_keys=("code",),
    client_module="exchanges.bingx_client",
    tradingview="BINGX",
    ccxt_options={"defaultType": "swap"},
)
