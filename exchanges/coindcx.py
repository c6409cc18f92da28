"""CoinDCX Futures (USDT-margined perpetuals) as data: hosts, timeframes, pairs, the error
table and the refusal messages (no aiohttp, no ccxt here: config reads it).

ccxt does not speak CoinDCX futures, so the venue has its own client behind the port
(exchanges/coindcx_client.py and the modules it names). Facts from CoinDCX's API documentation
(docs.coindcx.com, "Futures End Points" and "Errors"):
- Pairs are 'B-BTC_USDT'; the same string names the spot market on the public candle endpoint:
  futures candles need pcode=f. Candles take from/to in SECONDS and resolutions 1, 5, 60, 1D.
- An error is an HTTP status (400, 401, 404, 422, 429, 500, 503) with a JSON body
  {"code": <status>, "message": "...", "status": "error"}: the message, not a code, tells the
  reason, so the client reads the message through REFUSALS below.
- Futures orders carry no client order id: an order whose answer was lost is found by listing
  recent orders and matching pair, side, quantity and creation time (OrderLookup.INTENT_MATCH).
- Stops and targets are the position's own TP/SL (positions/create_tpsl): SlTpStyle.ATTACHED.
- No testnet: DemoSwitch.NONE (DEMO_TRADING=1 is refused by config).
- About 16 requests a second (960 a minute) per account: the client paces itself.
"""
from __future__ import annotations

from .venue import (
    AUTH,
    RATE_LIMITED,
    TRANSIENT,
    ClosedRule,
    Code,
    CodeMeaning,
    DemoSwitch,
    OrderLookup,
    Reason,
    SlTpStyle,
    TradingSpec,
    Venue,
    rejected,
)

DATA_HOST = "public.coindcx.com"
TRADING_HOST = "api.coindcx.com"
SETTLE = "USDT"
REQUESTS_PER_S = 16.0
PAGE = 500  # candles asked per request (a window of this many candle lengths)

# ccxt's timeframe names -> CoinDCX's resolutions.
RESOLUTIONS = {"1m": "1", "5m": "5", "1h": "60", "1d": "1D"}

# HTTP statuses as error "codes" (the body's "code" repeats the status).
ERROR_CODES: dict[Code, CodeMeaning] = {
    401: AUTH,
    403: AUTH,
    429: RATE_LIMITED,
    500: TRANSIENT,   # "Invalid input" too, per the docs: never a sure refusal of an order
    502: TRANSIENT,
    503: TRANSIENT,
    504: TRANSIENT,
    404: rejected(Reason.NOT_FOUND),
    400: rejected(Reason.OTHER),
    422: rejected(Reason.INVALID_ORDER),
}

# Lower-case message fragments -> the reason they say (first match wins). A trigger on the
# wrong side of the market is told only by words.
REFUSALS: tuple[tuple[str, Reason], ...] = (
    ("trigger price should be", Reason.WOULD_TRIGGER_IMMEDIATELY),
    ("stop price should be", Reason.WOULD_TRIGGER_IMMEDIATELY),
    ("should be less than the current price", Reason.WOULD_TRIGGER_IMMEDIATELY),
    ("should be greater than the current price", Reason.WOULD_TRIGGER_IMMEDIATELY),
    ("would trigger immediately", Reason.WOULD_TRIGGER_IMMEDIATELY),
    ("insufficient funds", Reason.INSUFFICIENT_FUNDS),
    ("cannot be cancelled", Reason.NOT_FOUND),
    ("order not found", Reason.NOT_FOUND),
    ("already exists", Reason.DUPLICATE_CLIENT_ID),  # "SL already exists" on the position
    ("leverage", Reason.INVALID_ORDER),
    ("quantity", Reason.INVALID_ORDER),
    ("minimum order value", Reason.INVALID_ORDER),
    *((f"than {where}", Reason.WOULD_TRIGGER_IMMEDIATELY) for where in (
        "the current", "current", "the mark", "mark", "the last", "last", "ltp", "the ltp",
        "market")),
    ("price", Reason.INVALID_ORDER),
)
AUTH_WORDS = ("invalid credentials", "unauthorized", "invalid api key", "signature")


def reason_of_message(message: str) -> Reason | None:
    """The reason a refusal's message says, or None when no known words are in it."""
    text = message.lower()
    return next((reason for words, reason in REFUSALS if words in text), None)


def pair_of(symbol: str) -> str:
    """Our 'BTC/USDT' -> CoinDCX's 'B-BTC_USDT'."""
    return f"B-{symbol.split('/')[0]}_{SETTLE}"


def symbol_of(pair: str) -> str | None:
    """'B-BTC_USDT' -> 'BTC/USDT'; None for a pair that is no USDT-margined perpetual."""
    if not pair.startswith("B-") or not pair.endswith("_" + SETTLE):
        return None
    return f"{pair[2:-len(SETTLE) - 1]}/USDT"


def decimals(step: float) -> int:
    """Digits after the point a multiple of `step` needs (0.001 -> 3)."""
    text = f"{step:.12f}".rstrip("0")
    return len(text.partition(".")[2])


def on_step(value: float, step: float) -> float:
    """`value` as the venue reads a multiple of `step`, without float noise."""
    return round(value, decimals(step)) if step > 0 else value


COINDCX = Venue(
    name="coindcx", ccxt_id="", label="CoinDCX USDT perpetuals",
    native_timeframes=tuple(RESOLUTIONS),
    max_page=PAGE, default_page=200,
    closed_rule=ClosedRule.END_BY_SERVER_CLOCK,
    demo_switch=DemoSwitch.NONE,
    demo_hosts=frozenset(),
    production_domains=("coindcx.com",),
    data_hosts=(DATA_HOST, DATA_HOST),
    trading=TradingSpec(hosts=(TRADING_HOST, TRADING_HOST), client_ids=None,
                        sltp_style=SlTpStyle.ATTACHED, lookup=OrderLookup.INTENT_MATCH),
    error_codes=ERROR_CODES,
    error_code_keys=("code",),
    client_module="exchanges.coindcx_client",
    tradingview="BINANCE",  # CoinDCX's perpetuals follow Binance's prices; TradingView has none
)
