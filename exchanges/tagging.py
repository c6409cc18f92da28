"""ccxt classes whose errors carry the answer's Retry-After (ccxt reads, then drops, headers),
and that tell an observer about every HTTP request they send (the metrics' hook)."""
from __future__ import annotations

import asyncio
from collections.abc import Callable
from functools import cache
from typing import Any

from .ccxt_lean import ccxt, exchange_class
from .retry import retry_after_header_s

RequestObserver = Callable[[BaseException | None], None]  # None: the request got an answer


@cache
def with_retry_after(ccxt_id: str) -> type:
    """A subclass of ccxt's `ccxt_id` class tagging each error with `retry_after_s`."""
    base: Any = exchange_class(ccxt_id)

    class Tagged(base):
        request_observer: RequestObserver | None = None

        async def fetch(self, *args: Any, **kwargs: Any) -> Any:
            """ccxt's HTTP request, reported to the observer with how it ended."""
            error: BaseException | None = None
            try:
                return await super().fetch(*args, **kwargs)
            except asyncio.CancelledError:
                raise
            except BaseException as e:
                error = e
                raise
            finally:
                if self.request_observer is not None:
                    self.request_observer(error)

        def handle_errors(self, code, reason, url, method, headers, body, response,
                          request_headers, request_body):
            """ccxt's error mapping, plus this response's own Retry-After."""
            try:
                return super().handle_errors(code, reason, url, method, headers, body, response,
                                             request_headers, request_body)
            except ccxt.BaseError as e:
                # From this response's headers: last_response_headers is shared by every
                # concurrent request of the instance and may belong to another one.
                e.retry_after_s = retry_after_header_s(headers)
                raise

    Tagged.__name__ = Tagged.__qualname__ = base.__name__
    return Tagged
