"""Delta Exchange India perpetuals as data: hosts, timeframes, client-id rule, error labels,
contract maths (no ccxt here).

ccxt's `delta` class knows only Delta Global (api.delta.exchange): the India hosts are set by
exchanges/delta_client.py, imported only when Delta is used. Delta Global is reachable only by
DELTA_DATA_URL / DELTA_TRADING_URL. Facts below are from docs.india.delta.exchange (the
delta-exchange/slate sources) unless marked.
"""
from __future__ import annotations

import math

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

PRODUCTION_HOST = "api.india.delta.exchange"
DEMO_HOST = "cdn-ind.testnet.deltaex.org"          # the India testnet (demo accounts)
GLOBAL_DEMO_HOST = "testnet-api.delta.exchange"    # Delta Global's testnet, by URL override
USER_AGENT = "python-ccxt"  # the docs: every request names its language or library, else 4xx

# Delta answers errors as labels: {"success": false, "error": {"code": "<label>", ...}}; the
# authentication layer answers {"error": "<Label>", "message": ...} instead (a string).
SIGNATURE_EXPIRED = "SignatureExpired"      # signed more than 5 s before it arrived
EXPIRED_SIGNATURE = "expired_signature"     # the same, in the {"code": ...} form
SIGNATURE_MISMATCH = "Signature Mismatch"   # ccxt: generic ExchangeError
INVALID_SIGNATURE = "invalid_signature"
INVALID_API_KEY = "InvalidApiKey"           # e.g. a testnet key on production, or the reverse
INVALID_API_KEY_CODE = "invalid_api_key"
UNAUTHORIZED_API_ACCESS = "UnauthorizedApiAccess"  # the key lacks the Trading permission
UNAUTHORIZED = "unauthorized"
IP_NOT_WHITELISTED = "ip_not_whitelisted_for_api_key"
IP_BLOCKED = "ip_blocked_for_api_key"
FORBIDDEN = "Forbidden"                     # HTTP 403 "Request blocked by CDN" (no User-Agent)
KYC_PENDING = "kyc_pending"
TRADING_BLOCKED = "trading_blocked"
DERIVATIVES_BLOCKED = "derivatives_trading_blocked"
RATE_LIMIT_EXCEEDED = "rate_limit_exceeded"
UNAVAILABLE = "unavailable"
INSUFFICIENT_MARGIN = "insufficient_margin"
INSUFFICIENT_COMMISSION = "insufficient_commission"
CLOSE_INSUFFICIENT_MARGIN = "close_position_insufficient_margin"
OPEN_ORDER_NOT_FOUND = "open_order_not_found"
ORDER_NOT_FOUND = "order_not_found"
NOT_FOUND = "not_found"
ORDER_ALREADY_FILLED = "order_already_filled"
NO_POSITION_FOR_REDUCE_ONLY = "no_position_for_reduce_only"
NO_POSITION_LEFT_FOR_REDUCE_ONLY = "no_position_left_for_reduce_only"
CLOSE_ORDER_POSITION_UNAVAILABLE = "close_order_position_unavailable"
NO_OPEN_POSITION = "no_open_position"
BAD_SCHEMA = "bad_schema"
INVALID_CONTRACT = "invalid_contract"
LESS_THAN_MIN_SIZE = "less_than_order_min_size"
MAX_SIZE_EXCEEDED = "order_max_size_exceeded"
MAX_LEVERAGE_EXCEEDED = "max_leverage_exceeded"
RISK_LIMITS_BREACHED = "risk_limits_breached"
IMMEDIATE_LIQUIDATION = "immediate_liquidation"
STALE_ORDER = "stale_order"
# A stop whose trigger is already crossed: Delta documents no label for it. This one is an
# assumption (the fake answers it); any other unknown label still reads as a refusal
# (REJECTED, OTHER), and a refused stop closes the position just the same.
INVALID_STOP_PRICE = "invalid_stop_price"

CLOCK_LABELS = frozenset({SIGNATURE_EXPIRED, EXPIRED_SIGNATURE})
AUTH_LABELS = frozenset({SIGNATURE_MISMATCH, INVALID_SIGNATURE, INVALID_API_KEY,
                         INVALID_API_KEY_CODE, UNAUTHORIZED_API_ACCESS, UNAUTHORIZED,
                         IP_NOT_WHITELISTED, IP_BLOCKED, FORBIDDEN, KYC_PENDING, TRADING_BLOCKED,
                         DERIVATIVES_BLOCKED})
GONE_LABELS = frozenset({OPEN_ORDER_NOT_FOUND, ORDER_NOT_FOUND, NOT_FOUND, ORDER_ALREADY_FILLED})
REDUCE_LABELS = frozenset({NO_POSITION_FOR_REDUCE_ONLY, NO_POSITION_LEFT_FOR_REDUCE_ONLY,
                           CLOSE_ORDER_POSITION_UNAVAILABLE, NO_OPEN_POSITION})
INVALID_LABELS = frozenset({BAD_SCHEMA, INVALID_CONTRACT, LESS_THAN_MIN_SIZE, MAX_SIZE_EXCEEDED,
                            MAX_LEVERAGE_EXCEEDED, RISK_LIMITS_BREACHED, IMMEDIATE_LIQUIDATION})

ERROR_CODES: dict[Code, CodeMeaning] = {
    # Our clock: refused before processing, so safe to look up or retry.
    **{label: TRANSIENT for label in CLOCK_LABELS},
    # "Order rejected as stale": not processed, but say transient so an order is looked up.
    STALE_ORDER: TRANSIENT,
    UNAVAILABLE: TRANSIENT,
    RATE_LIMIT_EXCEEDED: RATE_LIMITED,
    **{label: AUTH for label in AUTH_LABELS},
    **{label: rejected(Reason.NOT_FOUND) for label in GONE_LABELS},
    **{label: rejected(Reason.REDUCE_ONLY_REJECTED) for label in REDUCE_LABELS},
    **{label: rejected(Reason.INVALID_ORDER) for label in INVALID_LABELS},
    INVALID_STOP_PRICE: rejected(Reason.WOULD_TRIGGER_IMMEDIATELY),
    INSUFFICIENT_MARGIN: rejected(Reason.INSUFFICIENT_FUNDS),
    INSUFFICIENT_COMMISSION: rejected(Reason.INSUFFICIENT_FUNDS),
    CLOSE_INSUFFICIENT_MARGIN: rejected(Reason.INSUFFICIENT_FUNDS),
}

STOP_LOSS = "stop_loss_order"      # stop_order_type of a stop
TAKE_PROFIT = "take_profit_order"  # stop_order_type of a target
MARGIN_MODES = {"isolated": ("isolated",), "cross": ("cross", "portfolio")}  # ours -> Delta's


def product_symbol(symbol: str) -> str:
    """'BTC/USDT' (our name of the coin's perpetual) -> Delta's 'BTCUSD'."""
    return symbol.split(":")[0].split("/")[0] + "USD"


def to_contracts(quantity: float, contract_value: float) -> int:
    """A base quantity as whole contracts (Delta's integer `size`), rounded down; a quantity
    that is a whole number of contracts up to float noise stays whole."""
    return max(0, math.floor(quantity / contract_value + 1e-9))


def to_base(contracts: float, contract_value: float) -> float:
    """Delta's contracts -> the base quantity they stand for."""
    return round(abs(contracts) * contract_value, 12)


def margin_mode_ok(ours: str, delta_mode: str) -> bool:
    """True when the account's margin mode (Delta's word) is the one MARGIN_MODE asks for."""
    return delta_mode.lower() in MARGIN_MODES.get(ours, (ours,))


DELTA = Venue(
    name="delta",
    ccxt_id="delta",
    label="Delta Exchange India",
    # /v2/history/candles resolutions (ccxt names): no 8h, 12h or 3d.
    native_timeframes=("1m", "3m", "5m", "15m", "30m", "1h", "2h", "4h", "6h", "1d", "1w"),
    # The endpoint answers at most 2,000 candles; ccxt asks a start..end window of `limit`
    # candles, whose inclusive bounds may hold one more: 1,000 is always whole.
    max_page=1000,
    default_page=500,
    closed_rule=ClosedRule.END_BY_SERVER_CLOCK,  # the forming candle is served
    demo_switch=DemoSwitch.SANDBOX_MODE,  # ccxt's urls['test'], set to the India testnet
    demo_hosts=frozenset({DEMO_HOST, GLOBAL_DEMO_HOST}),
    production_domains=("delta.exchange",),  # India and Global alike: real money
    data_hosts=(PRODUCTION_HOST, DEMO_HOST),
    trading=TradingSpec(
        hosts=(PRODUCTION_HOST, DEMO_HOST),
        # client_order_id: at most 32 characters (changelog); a reused id is not documented as
        # refused, so it is never relied on: a lost answer is looked up.
        client_ids=ClientIdRule(32, "A-Za-z0-9_-", refuses_duplicates=False),
        sltp_style=SlTpStyle.SEPARATE,  # reduce-only stop_loss_order / take_profit_order
    ),
    error_codes=ERROR_CODES,
    error_code_keys=("code", "error"),  # {"error": {"code": label}} or {"error": "Label"}
    client_module="exchanges.delta_client",
    quote="USD",   # BTCUSD: quoted in USD
    settle="USD",  # India's perpetuals are margined and settled in USD
    ccxt_options={"defaultType": "swap"},
    tradingview="DELTA",  # DELTA:BTCUSD.P
)
