"""ccxt errors translated once, at the exchange boundary, into the two kinds the code acts on."""
from __future__ import annotations

from .ccxt_lean import ccxt


class ExchangeUnavailable(Exception):
    """Base of our exchange errors; `code` is Binance's error code when it gave one."""

    def __init__(self, message: str, code: int | None = None,
                 retry_after_s: float | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.retry_after_s = retry_after_s


class TransientExchangeError(ExchangeUnavailable):
    """Timeouts, 5xx, rate limits, clock drift: worth retrying later (reads) or resolving (orders)."""


class PermanentExchangeError(ExchangeUnavailable):
    """Bad keys, insufficient margin, an invalid order or symbol: retrying will not help."""


# Binance codes of the server's own trouble: unknown error, internal error (disconnected),
# backend timeout (-1007: an order's status is unknown), server busy. Safe to retry a read.
SERVER_SIDE_CODES = frozenset({-1000, -1001, -1007, -1008})
# The request's timestamp is outside recvWindow: resync the clock, then the same request is safe.
TIMESTAMP_ERROR = -1021
# Binance codes that mean "try again", whatever class ccxt maps them to: the server-side ones,
# too many requests (-1003) and clock drift.
TRANSIENT_CODES = SERVER_SIDE_CODES | {-1003, TIMESTAMP_ERROR}


def binance_code(error: Exception) -> int | None:
    """Binance's numeric error code from a ccxt error message like '... {"code":-2019,...}'."""
    text = str(error)
    marker = '"code":'
    at = text.find(marker)
    if at < 0:
        return None
    digits = text[at + len(marker):].lstrip().split(",")[0].split("}")[0].strip()
    try:
        return int(digits)
    except ValueError:
        return None


def translate(error: Exception) -> ExchangeUnavailable:
    """Our error for a ccxt one (use as `raise translate(e) from e`); InvalidNonce is transient."""
    code = binance_code(error)
    retry_after = getattr(error, "retry_after_s", None)
    message = f"{type(error).__name__}: {error}"
    if isinstance(error, ccxt.OperationFailed) or code in TRANSIENT_CODES:
        # OperationFailed is the parent of NetworkError (RequestTimeout, ExchangeNotAvailable,
        # DDoSProtection, RateLimitExceeded, InvalidNonce = -1021) and is what ccxt raises for
        # Binance's -1000 and -1001 (a 500/503 with an error body). None of these says the
        # request was refused, so for an order the outcome is unknown until it is looked up.
        return TransientExchangeError(message, code, retry_after)
    return PermanentExchangeError(message, code, retry_after)
