"""Why the exchange was not reached, read from the whole exception chain, not ccxt's wrapper."""
from __future__ import annotations

import socket
import ssl

import pytest

from app import components
from config import load_settings
from exchanges.binance import BINANCE
from exchanges.binance_client import BinanceMarketData
from exchanges.ccxt_lean import ccxt
from exchanges.errors import TransientExchangeError
from exchanges.reasons import network_reason


def _wrapped(inner: BaseException) -> TransientExchangeError:
    """inner -> ccxt.ExchangeNotAvailable -> our TransientExchangeError, as the fetcher raises."""
    try:
        try:
            raise inner
        except BaseException as e:
            raise ccxt.ExchangeNotAvailable("binanceusdm GET https://fapi/time") from e
    except ccxt.BaseError as e:
        try:
            raise TransientExchangeError(f"ExchangeNotAvailable: {e}") from e
        except TransientExchangeError as ours:
            return ours


async def test_a_closed_port_reads_connection_refused_with_the_address():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    settings = load_settings({"BINANCE_DATA_URL": f"http://127.0.0.1:{port}",
                              "FETCH_CYCLE_BUDGET_S": "1", "FETCH_TIMEOUT_S": "1"},
                             dotenv_path=None)
    fetcher = BinanceMarketData(components.market_data_config(settings, BINANCE), BINANCE)
    try:
        with pytest.raises(TransientExchangeError) as failed:
            await fetcher.server_time_ms()
    finally:
        await fetcher.close()
    # What the log showed so far: ccxt's wrapper, which does not say what went wrong.
    assert str(failed.value) == \
        f"ExchangeNotAvailable: binanceusdm GET http://127.0.0.1:{port}/fapi/v1/time"
    assert network_reason(failed.value) == f"connection refused (127.0.0.1:{port})"


@pytest.mark.parametrize("inner,reason", [
    (socket.gaierror(-2, "Name or service not known"),
     "DNS lookup failed: Name or service not known"),
    (ConnectionResetError(104, "Connection reset by peer"), "connection reset"),
    (TimeoutError(), "timed out"),
    (OSError(101, "Network is unreachable"), "network is unreachable"),
    (ssl.SSLError(1, "[SSL: WRONG_VERSION_NUMBER] wrong version number"), "TLS handshake failed"),
])
def test_the_cause_under_ccxts_wrapper_is_named(inner, reason):
    assert network_reason(_wrapped(inner)).startswith(reason)


def test_a_rejected_certificate_is_named_as_such():
    error = ssl.SSLCertVerificationError(1, "certificate verify failed")
    error.verify_message = "self-signed certificate"
    assert network_reason(_wrapped(error)) == "TLS certificate rejected: self-signed certificate"


def test_without_a_network_cause_the_innermost_error_is_shown():
    assert network_reason(_wrapped(ValueError("HTTP 503"))) == "ValueError: HTTP 503"
