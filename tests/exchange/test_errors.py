"""ccxt errors are translated once: retryable ones transient, refusals permanent, codes kept."""
from __future__ import annotations

import pytest

from exchange import PermanentExchangeError, TransientExchangeError, override_hosts, translate
from exchange.ccxt_lean import ccxt


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
    assert isinstance(translate(error), TransientExchangeError)


@pytest.mark.parametrize("error,code", [
    (ccxt.InsufficientFunds('binanceusdm {"code":-2019,"msg":"Margin is insufficient."}'), -2019),
    (ccxt.InvalidOrder('binanceusdm {"code":-4164,"msg":"notional must be >= 5"}'), -4164),
    (ccxt.AuthenticationError('binanceusdm {"code":-2015,"msg":"Invalid API-key"}'), -2015),
    (ccxt.BadSymbol("binanceusdm does not have market symbol FOO/USDT"), None),
])
def test_refusals_are_permanent_and_keep_binances_code(error, code):
    translated = translate(error)
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
