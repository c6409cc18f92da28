"""ccxt errors translated once, at the venue boundary, into the classes the code acts on.

Classification looks at the venue's own code first (each venue's table in its module), then at
ccxt's class: ccxt maps some codes loosely (Bybit's 10001, a stop on the wrong side, becomes
BadRequest; OKX's 51053 stays a plain ExchangeError), so the class alone would misread them.
"""
from __future__ import annotations

import re
from collections.abc import Mapping

from .ccxt_lean import ccxt
from .venue import Code, CodeMeaning, ErrorKind, Reason, Venue


class ExchangeUnavailable(Exception):
    """Base of our exchange errors; `code` is the venue's error code when it gave one."""

    def __init__(self, message: str, code: Code | None = None,
                 retry_after_s: float | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.retry_after_s = retry_after_s


class TransientExchangeError(ExchangeUnavailable):
    """Timeouts, 5xx, clock drift: worth retrying later (reads) or resolving (orders)."""


class RateLimited(TransientExchangeError):
    """The venue asks us to slow down; `retry_after_s` is its Retry-After when it sent one."""


class PermanentExchangeError(ExchangeUnavailable):
    """Bad keys, insufficient margin, an invalid order or symbol: retrying will not help."""


class Rejected(PermanentExchangeError):
    """The venue refused the request, for a typed `reason`."""

    def __init__(self, message: str, code: Code | None = None,
                 retry_after_s: float | None = None, reason: Reason = Reason.OTHER) -> None:
        super().__init__(message, code, retry_after_s)
        self.reason = reason


class AuthError(PermanentExchangeError):
    """Keys refused, permission missing, account restricted: an operator must act."""


def reason_of(error: BaseException) -> Reason | None:
    """The rejection reason of one of our errors (None when it is not a rejection)."""
    return error.reason if isinstance(error, Rejected) else None


def venue_code(error: Exception, keys: tuple[str, ...]) -> Code | None:
    """The venue's code from a ccxt error message holding the answer's JSON body: a number
    ('{"code":-2019}', '{"sCode":"51280"}') or a label ('{"label":"ORDER_NOT_FOUND"}'); the
    first of `keys` with a code that is not a success wins."""
    text = str(error)
    for key in keys:
        match = re.search(rf'"{re.escape(key)}"\s*:\s*(?:"([^"]*)"|(-?[0-9]+))', text)
        if not match:
            continue
        raw = match.group(1) if match.group(1) is not None else match.group(2)
        code: Code = int(raw) if re.fullmatch(r"-?[0-9]+", raw) else raw
        if code not in (0, "") or len(keys) == 1:  # a success code beside the real one
            return code
    return None


# ccxt's classes, most specific first, for errors whose code the venue table does not hold.
_BY_CLASS: tuple[tuple[type, CodeMeaning], ...] = (
    (ccxt.NoChange, CodeMeaning(ErrorKind.REJECTED, Reason.NO_CHANGE)),
    (ccxt.RateLimitExceeded, CodeMeaning(ErrorKind.RATE_LIMITED)),
    (ccxt.DDoSProtection, CodeMeaning(ErrorKind.RATE_LIMITED)),
    # The rest of OperationFailed: NetworkError (timeouts, 5xx, InvalidNonce) and the server
    # errors ccxt raises for 500 bodies. None says the request was refused, so for an order
    # the outcome is unknown until it is looked up.
    (ccxt.OperationFailed, CodeMeaning(ErrorKind.TRANSIENT)),
    (ccxt.AuthenticationError, CodeMeaning(ErrorKind.AUTH)),
    (ccxt.InsufficientFunds, CodeMeaning(ErrorKind.REJECTED, Reason.INSUFFICIENT_FUNDS)),
    (ccxt.OrderNotFound, CodeMeaning(ErrorKind.REJECTED, Reason.NOT_FOUND)),
    (ccxt.DuplicateOrderId, CodeMeaning(ErrorKind.REJECTED, Reason.DUPLICATE_CLIENT_ID)),
    (ccxt.OrderImmediatelyFillable,
     CodeMeaning(ErrorKind.REJECTED, Reason.WOULD_TRIGGER_IMMEDIATELY)),
    (ccxt.InvalidOrder, CodeMeaning(ErrorKind.REJECTED, Reason.INVALID_ORDER)),
    (ccxt.BadRequest, CodeMeaning(ErrorKind.REJECTED, Reason.INVALID_ORDER)),
)


def classify(error: Exception, codes: Mapping[Code, CodeMeaning], code: Code | None
             ) -> CodeMeaning:
    """What `error` means: the venue's table for its code, else ccxt's class, else OTHER."""
    if code is not None and code in codes:
        return codes[code]
    for cls, meaning in _BY_CLASS:
        if isinstance(error, cls):
            return meaning
    return CodeMeaning(ErrorKind.REJECTED, Reason.OTHER)


def translate(error: Exception, venue: Venue | None = None) -> ExchangeUnavailable:
    """Our error for a ccxt one (use as `raise translate(e, venue) from e`); without a venue
    only ccxt's class decides."""
    codes: Mapping[Code, CodeMeaning] = venue.error_codes if venue else {}
    code = venue_code(error, venue.error_code_keys if venue else ("code",))
    retry_after = getattr(error, "retry_after_s", None)
    message = f"{type(error).__name__}: {error}"
    meaning = classify(error, codes, code)
    if meaning.kind is ErrorKind.RATE_LIMITED:
        return RateLimited(message, code, retry_after)
    if meaning.kind is ErrorKind.TRANSIENT:
        return TransientExchangeError(message, code, retry_after)
    if meaning.kind is ErrorKind.AUTH:
        return AuthError(message, code, retry_after)
    return Rejected(message, code, retry_after, meaning.reason)
