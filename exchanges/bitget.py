"""Bitget USDT-M perpetual futures as data: timeframes, hosts, client-id rule, error codes (no
ccxt here).

The behaviour that differs (raw candle endpoints on the venue's clock, position TP/SL orders
found by listing them, the one-way check at start) lives in exchanges/bitget_client.py.
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

# Bitget's codes (https://www.bitget.com/api-doc/contract/error-code/restapi): strings in the
# envelope {"code": "40786", "msg": ..., "requestTime": ..., "data": null}; "00000" is success.
RATE_LIMIT = 429                 # HTTP 429 {"code":"429","msg":"Too Many Requests"}
TIMESTAMP_EXPIRED = 40008        # our clock: resync, then the same request is safe
TIMESTAMP_INVALID = 40005
REQUEST_TIMED_OUT = 40010        # ccxt: AuthenticationError; the server's trouble
INVALID_KEY = 40006
SIGNATURE_ERROR = 40009
PASSPHRASE_ERROR = 40012
PERMISSION_DENIED = 40014
KEY_NOT_FOUND = 40037
ENVIRONMENT_MISMATCH = 40099     # a demo key without PAPTRADING: 1, or the reverse (ccxt: plain)
# A unified trading account (UTA) refuses the classic v2 API this venue module speaks.
UNIFIED_ACCOUNT = 40085
MAINTENANCE = 40200
PARAMETER_ERROR = 40808
ORDER_NOT_FOUND = 40109          # order detail: no such order
CANCEL_NOT_FOUND = 40768
ORDER_NOT_EXIST = 43001
TPSL_NOT_FOUND = 43020
PLAN_NOT_FOUND = 43025           # ccxt: InvalidOrder, though it only means 'gone'
NO_ORDER_TO_CANCEL = 22001
NO_POSITION_TO_CLOSE = 22002     # a reduce-only order with nothing to reduce
INSUFFICIENT_BALANCE = 43012
AMOUNT_EXCEEDS_BALANCE = 40762
NO_POSITION_FOR_TPSL = 40891     # a position TP/SL with no position
CLIENT_OID_INVALID = 43011
BELOW_MIN_AMOUNT = 45110
# A one-way order on a hedge-mode account: refused at start instead (BitgetTrading).
HEDGE_MODE_ACCOUNT = 40774
# The clientOid of an order that exists (any state): ccxt leaves it a plain ExchangeError.
DUPLICATE_CLIENT_OID = 40786
# A position stop on the wrong side of the mark price (ccxt: InvalidOrder).
LONG_STOP_ABOVE_MARK = 40917     # "Stop price for long positions please < mark price"
SHORT_STOP_BELOW_MARK = 45122    # "Short position stop loss price please > mark price"

NOT_FOUND_CODES = frozenset({ORDER_NOT_FOUND, CANCEL_NOT_FOUND, ORDER_NOT_EXIST, TPSL_NOT_FOUND,
                             PLAN_NOT_FOUND, NO_ORDER_TO_CANCEL})
AUTH_CODES = frozenset({INVALID_KEY, SIGNATURE_ERROR, PASSPHRASE_ERROR, PERMISSION_DENIED,
                        KEY_NOT_FOUND, ENVIRONMENT_MISMATCH, UNIFIED_ACCOUNT})
WRONG_SIDE_CODES = frozenset({LONG_STOP_ABOVE_MARK, SHORT_STOP_BELOW_MARK})

ERROR_CODES: dict[Code, CodeMeaning] = {
    RATE_LIMIT: RATE_LIMITED,
    TIMESTAMP_EXPIRED: TRANSIENT,
    TIMESTAMP_INVALID: TRANSIENT,
    REQUEST_TIMED_OUT: TRANSIENT,
    MAINTENANCE: TRANSIENT,
    **{code: AUTH for code in AUTH_CODES},
    **{code: rejected(Reason.NOT_FOUND) for code in NOT_FOUND_CODES},
    **{code: rejected(Reason.WOULD_TRIGGER_IMMEDIATELY) for code in WRONG_SIDE_CODES},
    DUPLICATE_CLIENT_OID: rejected(Reason.DUPLICATE_CLIENT_ID),
    HEDGE_MODE_ACCOUNT: rejected(Reason.INVALID_ORDER),
    NO_POSITION_TO_CLOSE: rejected(Reason.REDUCE_ONLY_REJECTED),
    NO_POSITION_FOR_TPSL: rejected(Reason.REDUCE_ONLY_REJECTED),
    INSUFFICIENT_BALANCE: rejected(Reason.INSUFFICIENT_FUNDS),
    AMOUNT_EXCEEDS_BALANCE: rejected(Reason.INSUFFICIENT_FUNDS),
    PARAMETER_ERROR: rejected(Reason.INVALID_ORDER),
    CLIENT_OID_INVALID: rejected(Reason.INVALID_ORDER),
    BELOW_MIN_AMOUNT: rejected(Reason.INVALID_ORDER),
}

PRODUCT_TYPE = "USDT-FUTURES"  # the endpoint family naming the perpetual, not the spot pair
MARGIN_COIN = "USDT"
ONE_WAY_MODE = "one_way_mode"
HEDGE_MODE = "hedge_mode"
DAY_MS = 86_400_000
# /market/candles serves a limited past per granularity (contract Get-Candle-Data: 1m-5m one
# month, 15m 52 days, 30m 62 days, 1H 83 days, 4H 240 days, 6H 360 days); older ranges need
# /market/history-candles. A day of margin keeps a page just inside the window off the edge.
RECENT_DAYS = {"1m": 30, "3m": 30, "5m": 30, "15m": 52, "30m": 62, "1h": 83, "4h": 240,
               "6h": 360}
# Bitget's granularity names; 6h in its UTC variant (plain 6H opens on UTC+8).
GRANULARITY = {"1m": "1m", "3m": "3m", "5m": "5m", "15m": "15m", "30m": "30m", "1h": "1H",
               "4h": "4H", "6h": "6Hutc"}
CANDLE_REQUESTS_PER_S = 20  # market data: 20 requests/s per IP (contract Get-Candle-Data)
# A candle request spans at most 90 days; /market/history-candles gives at most 200 rows.
HISTORY_MAX_ROWS = 200
MAX_SPAN_MS = 90 * DAY_MS


def recent_edge(now_ms: int, timeframe: str) -> int:
    """The oldest open time /market/candles still serves for `timeframe` (one day of margin)."""
    return now_ms - (RECENT_DAYS[timeframe] - 1) * DAY_MS


def page_window(tf_ms: int, *, since: int | None, until: int | None, limit: int,
                now_ms: int) -> tuple[int, int]:
    """(oldest open, endTime) of a page: Bitget anchors a page at endTime and serves the newest
    `limit` candles opening at or before it, so a forward page's end is set `limit` candles
    after `since` and a backward page ends at `until` (or the venue's now)."""
    if since is not None:
        first = since + (-since) % tf_ms
        return first, first + limit * tf_ms - 1
    end = until if until is not None else now_ms
    return end - end % tf_ms - (limit - 1) * tf_ms, end


def symbol_id(symbol: str) -> str:
    """'BTC/USDT' (or 'BTC/USDT:USDT') -> 'BTCUSDT', named with productType USDT-FUTURES."""
    return symbol.split(":")[0].replace("/", "")


BITGET = Venue(
    name="bitget",
    ccxt_id="bitget",
    label="Bitget USDT-M futures",
    # Granularities up to 6H: a page of 200 rows of 12H or more spans over the 90 days one
    # request may cover, so those (and 1d, 1w) are built from 6h on the UTC grid. 2H is missing
    # from the contract granularity list; 8h and 3d are built too.
    native_timeframes=("1m", "3m", "5m", "15m", "30m", "1h", "4h", "6h"),
    max_page=HISTORY_MAX_ROWS,  # both endpoints fill a page of 200 (recent: up to 1000)
    default_page=HISTORY_MAX_ROWS,
    closed_rule=ClosedRule.END_BY_SERVER_CLOCK,  # the forming candle is served: dropped by time
    # Demo trading runs on the production host with demo keys and the header PAPTRADING: 1,
    # which ccxt's set_sandbox_mode sends on every request but the time.
    demo_switch=DemoSwitch.SANDBOX_MODE,
    demo_hosts=frozenset(),  # no host of its own: a production URL is not proof of live
    production_domains=("bitget.com",),
    data_hosts=("api.bitget.com", "api.bitget.com"),
    trading=TradingSpec(
        hosts=("api.bitget.com", "api.bitget.com"),
        client_ids=ClientIdRule(32, "A-Za-z0-9_"),  # clientOid; a reused one is 40786
        # Position stop-loss and take-profit orders (place-tpsl-order pos_loss/pos_profit):
        # they close the whole position and carry our clientOid.
        sltp_style=SlTpStyle.SEPARATE,
        needs_passphrase=True,
    ),
    error_codes=ERROR_CODES,
    error_code_keys=("code",),
    client_module="exchanges.bitget_client",
    tradingview="BITGET",  # BITGET:BTCUSDT.P is the USDT-M perpetual's chart
    ccxt_options={
        "defaultType": "swap",
        "defaultSubType": "linear",
        "fetchMarkets": {"types": ["swap"]},  # contracts only: no spot BTCUSDT twin
        "uta": False,  # the classic account API; no /v3/account/settings probe per call
    },
)
