"""OKX USDT swaps as data: timeframes, hosts, client-id rule, error codes, contract sizes (no
ccxt here).

The behaviour that differs (margin mode on every order, contracts, algo stops, which candle
endpoint holds a range) lives in exchanges/okx_client.py, imported only when OKX is used.
"""
from __future__ import annotations

import math

from .okx_ws import SPEC as WS_SPEC
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

# OKX's error codes (https://www.okx.com/docs-v5/en/#error-code). Order endpoints answer them
# per order as data[i].sCode (the envelope's code is then "1"); the rest as the envelope's code.
SERVICE_UNAVAILABLE = 50001
REQUEST_TIMEOUT = 50004       # the API endpoint timed out
SYSTEM_BUSY = 50013
SYSTEM_ERROR = 50026
RATE_LIMIT = 50011
SUB_ACCOUNT_RATE_LIMIT = 50061
API_FROZEN = 50100
KEY_ENVIRONMENT_MISMATCH = 50101  # a demo key without x-simulated-trading, or the reverse
TIMESTAMP_EXPIRED = 50102      # our clock: the same request is safe once resynced
PASSPHRASE_INCORRECT = 50105
IP_NOT_WHITELISTED = 50110
INVALID_KEY = 50111
INVALID_SIGNATURE = 50113
ORDER_TIMED_OUT = 51149        # HTTP 500 "order timed out": the order's outcome is unknown
PARAMETER_ERROR = 51000        # also a malformed clOrdId
INSTRUMENT_NOT_FOUND = 51001
INSUFFICIENT_MARGIN = 51008
DUPLICATE_CLORDID = 51016      # the clOrdId of a PENDING order (a filled one is accepted again!)
BELOW_MIN_SIZE = 51020
NOT_LOT_MULTIPLE = 51121
DUPLICATE_ALGO_CLORDID = 51065
DUPLICATE_ATTACHED_CLORDID = 51068
# A market entry's attached TP/SL on the wrong side of the market (ccxt leaves 51050, 51052 and
# 51053 plain ExchangeError, and 51051 InvalidOrder).
ENTRY_TP_BELOW_ASK = 51050
ENTRY_SL_ABOVE_ASK = 51051
ENTRY_TP_ABOVE_BID = 51052
ENTRY_SL_BELOW_BID = 51053
# A conditional (algo) order's trigger on the wrong side of the last price.
BUY_TP_ABOVE_LAST = 51277
BUY_SL_BELOW_LAST = 51278
SELL_TP_BELOW_LAST = 51279
SELL_SL_ABOVE_LAST = 51280
CLOSE_SIZE_EXCEEDS_POSITION = 51112
NO_POSITION_TO_REDUCE = 51169
REDUCE_ONLY_SAME_SIDE = 51170
CANCEL_FAILED_GONE = 51400     # filled, canceled or never placed
ALREADY_CANCELED = 51401
ALREADY_COMPLETED = 51402
ORDER_NOT_FOUND = 51603
LEVERAGE_ABOVE_MAX = 59102

SERVER_SIDE_CODES = frozenset({SERVICE_UNAVAILABLE, REQUEST_TIMEOUT, SYSTEM_BUSY, SYSTEM_ERROR,
                               ORDER_TIMED_OUT})
WRONG_SIDE_CODES = frozenset({ENTRY_TP_BELOW_ASK, ENTRY_SL_ABOVE_ASK, ENTRY_TP_ABOVE_BID,
                              ENTRY_SL_BELOW_BID, BUY_TP_ABOVE_LAST, BUY_SL_BELOW_LAST,
                              SELL_TP_BELOW_LAST, SELL_SL_ABOVE_LAST})
GONE_CODES = frozenset({CANCEL_FAILED_GONE, ALREADY_CANCELED, ALREADY_COMPLETED, ORDER_NOT_FOUND})
AUTH_CODES = frozenset({API_FROZEN, KEY_ENVIRONMENT_MISMATCH, PASSPHRASE_INCORRECT,
                        IP_NOT_WHITELISTED, INVALID_KEY, INVALID_SIGNATURE})

ERROR_CODES: dict[Code, CodeMeaning] = {
    **{code: TRANSIENT for code in SERVER_SIDE_CODES},
    TIMESTAMP_EXPIRED: TRANSIENT,
    RATE_LIMIT: RATE_LIMITED,
    SUB_ACCOUNT_RATE_LIMIT: RATE_LIMITED,
    **{code: AUTH for code in AUTH_CODES},
    **{code: rejected(Reason.WOULD_TRIGGER_IMMEDIATELY) for code in WRONG_SIDE_CODES},
    **{code: rejected(Reason.NOT_FOUND) for code in GONE_CODES},
    INSUFFICIENT_MARGIN: rejected(Reason.INSUFFICIENT_FUNDS),
    DUPLICATE_CLORDID: rejected(Reason.DUPLICATE_CLIENT_ID),
    DUPLICATE_ALGO_CLORDID: rejected(Reason.DUPLICATE_CLIENT_ID),
    DUPLICATE_ATTACHED_CLORDID: rejected(Reason.DUPLICATE_CLIENT_ID),
    NO_POSITION_TO_REDUCE: rejected(Reason.REDUCE_ONLY_REJECTED),
    REDUCE_ONLY_SAME_SIDE: rejected(Reason.REDUCE_ONLY_REJECTED),
    CLOSE_SIZE_EXCEEDS_POSITION: rejected(Reason.REDUCE_ONLY_REJECTED),
    PARAMETER_ERROR: rejected(Reason.INVALID_ORDER),
    INSTRUMENT_NOT_FOUND: rejected(Reason.INVALID_ORDER),
    BELOW_MIN_SIZE: rejected(Reason.INVALID_ORDER),
    NOT_LOT_MULTIPLE: rejected(Reason.INVALID_ORDER),
    LEVERAGE_ABOVE_MAX: rejected(Reason.INVALID_ORDER),
}

# /market/candles holds only the latest 1,440 bars of each timeframe; older ones are served by
# /market/history-candles.
RECENT_CANDLES_KEPT = 1440
SWAP_SUFFIX = "-SWAP"


def inst_id(symbol: str) -> str:
    """'BTC/USDT' (or 'BTC/USDT:USDT') -> OKX's instrument id 'BTC-USDT-SWAP'."""
    return symbol.split(":")[0].replace("/", "-") + SWAP_SUFFIX


def symbol_of(inst: str) -> str:
    """'BTC-USDT-SWAP' -> our 'BTC/USDT'."""
    base, quote = inst.removesuffix(SWAP_SUFFIX).split("-")[:2]
    return f"{base}/{quote}"


def to_contracts(quantity: float, ct_val: float, lot_sz: float) -> float:
    """A base quantity as whole lots of contracts (OKX's `sz`), rounded down; a quantity that is
    a lot multiple up to float noise (0.0003 BTC / 0.01 / 0.01) is kept whole."""
    lots = quantity / ct_val / lot_sz
    whole = math.floor(lots + 1e-9)
    return round(whole * lot_sz, 12)


def to_base(contracts: float, ct_val: float) -> float:
    """OKX's contracts -> the base quantity they stand for."""
    return round(contracts * ct_val, 12)


def base_step(ct_val: float, lot_sz: float) -> float:
    """The base-quantity step of an order: one lot of contracts."""
    return round(ct_val * lot_sz, 12)


OKX = Venue(
    name="okx",
    ccxt_id="okx",
    label="OKX",
    # ccxt asks 6h and longer in their UTC variants (6Hutc ... 1Mutc; okx_client pins it): the
    # plain 6H/12H/1D/1W/1M open on Hong Kong time. OKX has no 8h and no 3d.
    native_timeframes=("1m", "3m", "5m", "15m", "30m", "1h", "2h", "4h", "6h", "12h", "1d",
                       "1w", "1M"),
    # 300 on /market/candles; /market/history-candles serves 100 in older documentation: a page
    # of 100 is whole on both, so a short page always means the end of the history.
    max_page=100,
    default_page=100,
    closed_rule=ClosedRule.END_BY_SERVER_CLOCK,  # ccxt drops OKX's confirm flag
    # Demo trading runs on the production host: set_sandbox_mode sends x-simulated-trading: 1.
    demo_switch=DemoSwitch.SANDBOX_MODE,
    demo_hosts=frozenset(),  # no host of its own, so a production host is not proof of live
    production_domains=("okx.com",),
    data_hosts=("www.okx.com", "www.okx.com"),
    trading=TradingSpec(
        hosts=("www.okx.com", "www.okx.com"),
        # clOrdId is unique among pending orders only: a filled order's id is taken again.
        client_ids=ClientIdRule(32, "A-Za-z0-9", refuses_duplicates=False),
        sltp_style=SlTpStyle.SEPARATE,  # reduce-only conditional algo orders, one per level
        needs_passphrase=True,
    ),
    error_codes=ERROR_CODES,
    error_code_keys=("sCode", "code"),  # an order's own sCode before the envelope's "1"
    client_module="exchanges.okx_client",
    ws=WS_SPEC,
    tradingview="OKX",
    demo_header="x-simulated-trading: 1",
    ccxt_options={
        "fetchMarkets": {"types": ["swap"]},  # one instruments call, not five
        "fetchOHLCV": {"timezone": "UTC"},    # 1d -> 1Dutc: days on the UTC grid
        "createOrder": "privatePostTradeOrder",  # one order per request, one answer
        "defaultType": "swap",
    },
)
