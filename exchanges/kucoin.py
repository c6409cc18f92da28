"""KuCoin Futures USDT-M perpetuals as data: timeframes, hosts, client-id rule, error codes, lot
maths and stop directions (no ccxt here).

The behaviour that differs (separate stop orders with their own direction, the side checked
before a stop is sent, leverage and margin mode on every order, candle windows that skip the
minutes nothing traded) lives in exchanges/kucoin_client.py, imported only when KuCoin is used.
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

# KuCoin Futures' codes (docs: basic-info/errors-code/futures-errors-code and the gateway's
# 400xxx). The envelope is {"code": "200000", "data": ...}; an error is {"code", "msg"}.
CLOUDFLARE_RATE_LIMIT = 1015        # per IP, blocked 30 s
INVALID_PARAMETERS = 100001         # ccxt reads it as OrderNotFound (its 'orderNotExist' text)
CONTRACT_INVALID = 100003
NOT_CANCELABLE = 100004             # no such order, or no longer cancelable
TOO_MANY_REQUESTS = 200002          # the endpoint's own limit, blocked 10 s
SYMBOL_INVALID = 200003
PARAMETER_ILLEGAL = 300000
PLACEMENT_SUSPENDED = 300002        # "try again later": nothing was placed
BALANCE_NOT_ENOUGH = 300003
NO_POSITION_TO_CLOSE = 300009
MARGIN_MODE_MISMATCH = 330005       # the order's marginMode is not the symbol's
MARGIN_LIMIT_REACHED = 330008
ONE_WAY_ORDER_IN_HEDGE_MODE = 330012
KEY_HEADER_MISSING = 400001
TIMESTAMP_INVALID = 400002          # more than 5 s from the server clock: resync, resend
KEY_NOT_FOUND = 400003
PASSPHRASE_INVALID = 400004
SIGNATURE_INVALID = 400005
IP_NOT_WHITELISTED = 400006
PERMISSION_DENIED = 400007
RATE_LIMIT = 429000                 # HTTP 429
INTERNAL_ERROR = 500000

AUTH_CODES = frozenset({KEY_HEADER_MISSING, KEY_NOT_FOUND, PASSPHRASE_INVALID,
                        SIGNATURE_INVALID, IP_NOT_WHITELISTED, PERMISSION_DENIED})
ERROR_CODES: dict[Code, CodeMeaning] = {
    CLOUDFLARE_RATE_LIMIT: RATE_LIMITED,
    TOO_MANY_REQUESTS: RATE_LIMITED,
    RATE_LIMIT: RATE_LIMITED,
    INTERNAL_ERROR: TRANSIENT,
    PLACEMENT_SUSPENDED: TRANSIENT,
    TIMESTAMP_INVALID: TRANSIENT,
    **{code: AUTH for code in AUTH_CODES},
    INVALID_PARAMETERS: rejected(Reason.INVALID_ORDER),
    CONTRACT_INVALID: rejected(Reason.INVALID_ORDER),
    SYMBOL_INVALID: rejected(Reason.INVALID_ORDER),
    PARAMETER_ILLEGAL: rejected(Reason.INVALID_ORDER),
    MARGIN_MODE_MISMATCH: rejected(Reason.INVALID_ORDER),
    ONE_WAY_ORDER_IN_HEDGE_MODE: rejected(Reason.INVALID_ORDER),
    NOT_CANCELABLE: rejected(Reason.NOT_FOUND),
    BALANCE_NOT_ENOUGH: rejected(Reason.INSUFFICIENT_FUNDS),
    MARGIN_LIMIT_REACHED: rejected(Reason.INSUFFICIENT_FUNDS),
    NO_POSITION_TO_CLOSE: rejected(Reason.REDUCE_ONLY_REJECTED),
}
# A duplicate clientOid (of an ACTIVE order only) answers a parameter error whose message names
# it; the code alone is the generic one, so the message decides (kucoin_client).
DUPLICATE_CLIENT_OID_MARK = "clientoidduplicated"

# Granularities of /api/v1/kline/query, in minutes, by ccxt's names. 1w is left out: where
# KuCoin's weeks open is not documented, so weeks are built from 1d on Mondays.
GRANULARITY = {"1m": 1, "5m": 5, "15m": 15, "30m": 30, "1h": 60, "2h": 120, "4h": 240,
               "8h": 480, "12h": 720, "1d": 1440}
CONTRACT_SUFFIX = "USDTM"
BASE_ALIASES = {"BTC": "XBT"}  # KuCoin calls bitcoin XBT in contract ids


def contract_id(symbol: str) -> str:
    """'BTC/USDT' (or 'BTC/USDT:USDT') -> KuCoin's contract id 'XBTUSDTM'."""
    base = symbol.split(":")[0].split("/")[0]
    return BASE_ALIASES.get(base, base) + CONTRACT_SUFFIX


def to_lots(quantity: float, multiplier: float, lot_size: float = 1.0) -> int:
    """A base quantity as whole lots (KuCoin's `size`), rounded down; float noise kept whole."""
    lots = quantity / multiplier / lot_size
    return int(math.floor(lots + 1e-9) * lot_size)


def to_base(lots: float, multiplier: float) -> float:
    """Lots -> the base quantity they stand for."""
    return round(lots * multiplier, 12)


def stop_direction(side: str, kind: str) -> str:
    """KuCoin's `stop` of a closing order: a long's stop (a sell) and a short's target (a buy)
    wait for the price to fall ('down'); the other two for it to rise ('up')."""
    falls = (side == "sell") == (kind == "stop")
    return "down" if falls else "up"


def crossed(side: str, kind: str, trigger: float, price: float) -> bool:
    """True when a closing stop or target at `trigger` would fire at once at `price` (KuCoin
    does not refuse such an order: it triggers it)."""
    if stop_direction(side, kind) == "down":
        return price <= trigger
    return price >= trigger


KUCOIN = Venue(
    name="kucoin",
    ccxt_id="kucoinfutures",
    label="KuCoin Futures",
    native_timeframes=tuple(GRANULARITY),
    # 200 rows per request in the older docs, 500 in today's: windows of 200 intervals are whole
    # on both. Minutes nothing traded are missing from a window: the client walks on to fill
    # the page (kucoin_client), so a short page still means the end of the history.
    max_page=200,
    default_page=200,
    closed_rule=ClosedRule.END_BY_SERVER_CLOCK,
    # No sandbox any more (ccxt's set_sandbox_mode raises): paper or confirmed live only.
    demo_switch=DemoSwitch.NONE,
    demo_hosts=frozenset(),
    production_domains=("kucoin.com",),
    data_hosts=("api-futures.kucoin.com", "api-futures.kucoin.com"),
    trading=TradingSpec(
        hosts=("api-futures.kucoin.com", "api-futures.kucoin.com"),
        # clientOid: at most 40 of [A-Za-z0-9_-]; refused again only while the order is ACTIVE:
        # a filled market order's id is taken again, so it is sent at most once by a process.
        client_ids=ClientIdRule(40, "A-Za-z0-9_-", refuses_duplicates=False),
        # Reduce-only stop orders, one per level, each with its own stop direction: ccxt's
        # attached SL/TP sends down=stop, up=target whatever the side (a short's fire at once).
        sltp_style=SlTpStyle.SEPARATE,
        needs_passphrase=True,
    ),
    error_codes=ERROR_CODES,
    error_code_keys=("code",),
    client_module="exchanges.kucoin_client",
    ccxt_options={
        "defaultType": "swap",
        # The classic futures account: no request to the spot host asking whether the account
        # is unified (UTA) or high-frequency (hf).
        "uta": False,
        "hf": False,
        "fetchMarkets": {"types": ["swap"], "fetchTickersFees": False},
    },
)
