"""Bybit USDT linear perpetuals as data: timeframes, hosts, client-id rule, error codes (no ccxt).

The behaviour that differs (lookups by client id over open orders and order history, refused
stops read by their code, per-symbol risk limits) lives in exchanges/bybit_client.py, which the
registry imports only when Bybit is used.
"""
from __future__ import annotations

from .bybit_ws import SPEC as WS_SPEC
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

# Bybit V5 retCodes (https://bybit-exchange.github.io/docs/v5/error).
SERVER_TIMEOUT = 10000          # the server timed out: an order's outcome is unknown
PARAMS_ERROR = 10001            # any parameter refused (a stop on the wrong side among them)
TIMESTAMP_OUT_OF_WINDOW = 10002  # our clock: resync, then the same request is safe
INVALID_API_KEY = 10003
INVALID_SIGNATURE = 10004
PERMISSION_DENIED = 10005
TOO_MANY_VISITS = 10006
AUTH_FAILED = 10007
IP_BANNED = 10009
UNMATCHED_IP = 10010
INTERNAL_ERROR = 10016          # HTTP 200 with a plain ExchangeError in ccxt: retry a read
IP_RATE_LIMIT = 10018
DEMO_UNSUPPORTED = 10032        # an endpoint the demo environment does not serve
ORDER_NOT_FOUND = 110001        # no such order, or finished already (cancel)
WALLET_INSUFFICIENT = 110004
AVAILABLE_INSUFFICIENT = 110007
REDUCE_ONLY_NOTHING = 110017    # reduce-only with no position (left) to reduce
POSITION_MODE_NOT_MODIFIED = 110025
MARGIN_MODE_NOT_MODIFIED = 110026
LEVERAGE_NOT_MODIFIED = 110043  # ccxt raises BadRequest: it only means 'already so'
DUPLICATE_ORDER_LINK_ID = 110072  # the client id exists (even filled): look it up
EXPECT_RISING = 110092          # a rising trigger at or below the market: would trigger now
EXPECT_FALLING = 110093         # a falling trigger at or above the market
BELOW_MIN_ORDER_VALUE = 110094

# The server's own trouble: safe to retry a read; for an order the outcome is unknown.
SERVER_SIDE_CODES = frozenset({SERVER_TIMEOUT, INTERNAL_ERROR})
# Codes that refuse a stop or target for its trigger price. On a protective order Bybit's
# catch-all 10001 is the wrong side of the market (an attached or position stop answers it so),
# so there it means the stop would trigger at once; elsewhere it stays a refused parameter.
STOP_REFUSED_CODES = frozenset({PARAMS_ERROR, EXPECT_RISING, EXPECT_FALLING})

ERROR_CODES: dict[Code, CodeMeaning] = {
    **{code: TRANSIENT for code in SERVER_SIDE_CODES},
    TIMESTAMP_OUT_OF_WINDOW: TRANSIENT,
    TOO_MANY_VISITS: RATE_LIMITED,
    IP_RATE_LIMIT: RATE_LIMITED,
    INVALID_API_KEY: AUTH,
    INVALID_SIGNATURE: AUTH,
    PERMISSION_DENIED: AUTH,
    AUTH_FAILED: AUTH,
    IP_BANNED: AUTH,
    UNMATCHED_IP: AUTH,
    PARAMS_ERROR: rejected(Reason.INVALID_ORDER),
    DEMO_UNSUPPORTED: rejected(Reason.OTHER),
    ORDER_NOT_FOUND: rejected(Reason.NOT_FOUND),
    WALLET_INSUFFICIENT: rejected(Reason.INSUFFICIENT_FUNDS),
    AVAILABLE_INSUFFICIENT: rejected(Reason.INSUFFICIENT_FUNDS),
    REDUCE_ONLY_NOTHING: rejected(Reason.REDUCE_ONLY_REJECTED),
    POSITION_MODE_NOT_MODIFIED: rejected(Reason.NO_CHANGE),
    MARGIN_MODE_NOT_MODIFIED: rejected(Reason.NO_CHANGE),
    LEVERAGE_NOT_MODIFIED: rejected(Reason.NO_CHANGE),
    DUPLICATE_ORDER_LINK_ID: rejected(Reason.DUPLICATE_CLIENT_ID),
    EXPECT_RISING: rejected(Reason.WOULD_TRIGGER_IMMEDIATELY),
    EXPECT_FALLING: rejected(Reason.WOULD_TRIGGER_IMMEDIATELY),
    BELOW_MIN_ORDER_VALUE: rejected(Reason.INVALID_ORDER),
}

# Production REST hosts are api.<domain>: the global pair and the regional sites
# (https://bybit-exchange.github.io/docs/v5/guide), and ccxt's hostname choices.
PRODUCTION_DOMAINS = ("bybit.com", "bytick.com", "bybit.nl", "bybit-tr.com", "bybit.kz",
                      "bybitgeorgia.ge", "bybit.ae", "bybit.eu", "bybit.id", "bybit.com.hk",
                      "byhkbit.com")
DEMO_HOST = "api-demo.bybit.com"      # demo trading: paper money on production prices
TESTNET_HOST = "api-testnet.bybit.com"  # test money too (its own keys)

BYBIT = Venue(
    name="bybit",
    ccxt_id="bybit",
    label="Bybit USDT perpetuals",
    # No 8h and no 3d candles on Bybit: the timeframe adapter builds them from 4h and 1d.
    native_timeframes=("1m", "3m", "5m", "15m", "30m", "1h", "2h", "4h", "6h", "12h", "1d",
                       "1w", "1M"),
    max_page=1000,
    default_page=200,
    closed_rule=ClosedRule.END_BY_SERVER_CLOCK,  # the forming candle is served: dropped by time
    demo_switch=DemoSwitch.ENABLE_DEMO_TRADING,
    demo_hosts=frozenset({DEMO_HOST, TESTNET_HOST}),
    production_domains=PRODUCTION_DOMAINS,
    data_hosts=("api.bybit.com", DEMO_HOST),
    trading=TradingSpec(
        hosts=("api.bybit.com", DEMO_HOST),
        client_ids=ClientIdRule(36, "A-Za-z0-9_-"),  # orderLinkId
        # Reduce-only conditional orders, each carrying our client id: found and cancelled by it.
        # The position's own TP/SL (trading-stop) has no client id to look up.
        sltp_style=SlTpStyle.SEPARATE,
    ),
    error_codes=ERROR_CODES,
    error_code_keys=("retCode",),
    client_module="exchanges.bybit_client",
    ws=WS_SPEC,
    tradingview="BYBIT",
    ccxt_options={
        "defaultType": "swap",
        "defaultSubType": "linear",
        "fetchMarkets": {"types": ["linear"]},  # linear instruments only, no spot/options
    },
)
