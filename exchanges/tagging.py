"""ccxt classes whose errors carry the answer's Retry-After (ccxt reads, then drops, headers)."""
from __future__ import annotations

from functools import cache
from typing import Any

from .ccxt_lean import ccxt, exchange_class
from .retry import retry_after_s


@cache
def with_retry_after(ccxt_id: str) -> type:
    """A subclass of ccxt's `ccxt_id` class tagging each error with `retry_after_s`."""
    base: Any = exchange_class(ccxt_id)

    class Tagged(base):
        def handle_errors(self, code, reason, url, method, headers, body, response,
                          request_headers, request_body):
            """ccxt's error mapping, plus this response's own Retry-After."""
            try:
                return super().handle_errors(code, reason, url, method, headers, body, response,
                                             request_headers, request_body)
            except ccxt.BaseError as e:
                # From this response's headers: last_response_headers is shared by every
                # concurrent request of the instance and may belong to another one.
                e.retry_after_s = retry_after_s(headers)
                raise

    Tagged.__name__ = Tagged.__qualname__ = base.__name__
    return Tagged
