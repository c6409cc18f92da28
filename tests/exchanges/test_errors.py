"""ccxt errors are translated once: retryable ones transient, refusals permanent, codes kept;
the venue's own code decides before ccxt's class."""
from __future__ import annotations

import dataclasses

import pytest

from exchanges.binance import BINANCE
from exchanges.ccxt_lean import ccxt
from exchanges.errors import (
    AuthError,
    PermanentExchangeError,
    RateLimited,
    Rejected,
    TransientExchangeError,
    reason_of,
    translate,
)
from exchanges.urls import override_hosts
from exchanges.venue import TRANSIENT, Reason, rejected


@pytest.mark.parametrize("error", [
    ccxt.RequestTimeout("binanceusdm GET https://fapi timed out"),
    ccxt.ExchangeNotAvailable("binanceusdm 503 Service Unavailable"),
    ccxt.DDoSProtection('binanceusdm 418 {"code":-1003,"msg":"banned"}'),
    ccxt.RateLimitExceeded('binanceusdm 429 {"code":-1003,"msg":"Too many requests"}'),
    ccxt.InvalidNonce('binanceusdm {"code":-1021,"msg":"Timestamp outside recvWindow."}'),
    ccxt.OperationFailed('binanceusdm {"code":-1000,"msg":"An unknown error occured"}'),
    ccxt.OperationFailed('binanceusdm {"code":-1001,"msg":"Internal error"}'),
    ccxt.ExchangeError('binanceusdm {"code":-1007,"msg":"Timeout waiting for response"}'),
])
def test_retryable_failures_are_transient(error):
    assert isinstance(translate(error, BINANCE), TransientExchangeError)


@pytest.mark.parametrize("error,code", [
    (ccxt.InsufficientFunds('binanceusdm {"code":-2019,"msg":"Margin is insufficient."}'), -2019),
    (ccxt.InvalidOrder('binanceusdm {"code":-4164,"msg":"notional must be >= 5"}'), -4164),
    (ccxt.AuthenticationError('binanceusdm {"code":-2015,"msg":"Invalid API-key"}'), -2015),
    (ccxt.BadSymbol("binanceusdm does not have market symbol FOO/USDT"), None),
])
def test_refusals_are_permanent_and_keep_binances_code(error, code):
    translated = translate(error, BINANCE)
    assert isinstance(translated, PermanentExchangeError) and translated.code == code


def test_override_replaces_scheme_and_host_of_every_endpoint_and_keeps_paths():
    import ccxt.async_support as ccxt_async

    exchange = ccxt_async.binanceusdm()
    exchange.enable_demo_trading(True)
    override_hosts(exchange, "http://127.0.0.1:8123")
    urls = exchange.urls["api"]
    assert urls["fapiPublic"] == "http://127.0.0.1:8123/fapi/v1"
    assert urls["fapiPrivateV3"] == "http://127.0.0.1:8123/fapi/v3"
    assert all(u.startswith("http://127.0.0.1:8123/") for u in urls.values())


def test_rate_limits_carry_their_retry_after_and_auth_failures_are_their_own_class():
    error = ccxt.RateLimitExceeded('binanceusdm 429 {"code":-1003,"msg":"Too many requests"}')
    error.retry_after_s = 7.0
    limited = translate(error, BINANCE)
    assert isinstance(limited, RateLimited) and limited.retry_after_s == 7.0
    auth = translate(ccxt.AuthenticationError('{"code":-2015,"msg":"Invalid API-key"}'), BINANCE)
    assert isinstance(auth, AuthError) and isinstance(auth, PermanentExchangeError)


@pytest.mark.parametrize("error, reason", [
    (ccxt.OrderNotFound('binanceusdm {"code":-2013,"msg":"Order does not exist."}'),
     Reason.NOT_FOUND),
    (ccxt.OrderImmediatelyFillable('binanceusdm {"code":-2021,"msg":"would trigger"}'),
     Reason.WOULD_TRIGGER_IMMEDIATELY),
    (ccxt.MarginModeAlreadySet('binanceusdm {"code":-4046,"msg":"No need to change"}'),
     Reason.NO_CHANGE),
    (ccxt.InsufficientFunds('binanceusdm {"code":-2019,"msg":"Margin is insufficient."}'),
     Reason.INSUFFICIENT_FUNDS),
    (ccxt.InvalidOrder('binanceusdm {"code":-2022,"msg":"ReduceOnly Order is rejected."}'),
     Reason.REDUCE_ONLY_REJECTED),
])
def test_a_rejection_says_why_as_a_typed_reason(error, reason):
    translated = translate(error, BINANCE)
    assert isinstance(translated, Rejected) and reason_of(translated) is reason


# Venues whose codes ccxt maps loosely, as their modules' tables would have them.
BYBIT_LIKE = dataclasses.replace(
    BINANCE, name="bybitlike", error_code_keys=("retCode",),
    error_codes={10001: rejected(Reason.INVALID_ORDER), 10016: TRANSIENT})
OKX_LIKE = dataclasses.replace(
    BINANCE, name="okxlike", error_code_keys=("sCode", "code"),
    error_codes={51053: rejected(Reason.WOULD_TRIGGER_IMMEDIATELY), 51149: TRANSIENT})


@pytest.mark.parametrize("venue, error, kind, reason", [
    # ccxt raises plain ExchangeError for OKX's 51053: the venue's table names it.
    (OKX_LIKE, ccxt.ExchangeError('okx {"code":"1","data":[{"sCode":"51053","sMsg":"SL '
                                  'wrong side"}],"msg":""}'), Rejected,
     Reason.WOULD_TRIGGER_IMMEDIATELY),
    # 51149 'order timed out' (HTTP 500, a plain ExchangeError): the outcome is unknown.
    (OKX_LIKE, ccxt.ExchangeError('okx {"code":"51149","msg":"Order timed out"}'),
     TransientExchangeError, None),
    # Bybit's 10016 internal error is a plain ExchangeError: by the table, worth a retry.
    (BYBIT_LIKE, ccxt.ExchangeError('bybit {"retCode":10016,"retMsg":"Internal error"}'),
     TransientExchangeError, None),
    (BYBIT_LIKE, ccxt.BadRequest('bybit {"retCode":10001,"retMsg":"params error"}'), Rejected,
     Reason.INVALID_ORDER),
])
def test_the_venues_code_decides_before_ccxts_class(venue, error, kind, reason):
    translated = translate(error, venue)
    assert type(translated) is kind and reason_of(translated) is reason
    assert translated.code in venue.error_codes  # the venue's code, kept on our error


def test_without_the_venue_table_the_same_error_is_misread():
    # Why the table comes first: by class alone OKX's refused stop is a generic rejection.
    error = ccxt.ExchangeError('okx {"code":"1","data":[{"sCode":"51053"}],"msg":""}')
    assert reason_of(translate(error)) is Reason.OTHER
    assert reason_of(translate(error, OKX_LIKE)) is Reason.WOULD_TRIGGER_IMMEDIATELY
