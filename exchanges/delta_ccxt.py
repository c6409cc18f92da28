"""ccxt's `delta` class for Delta India: India hosts, a User-Agent, signatures stamped on the
venue's clock, the rate-limit reset as the pause, a 404 order lookup as OrderNotFound, server
time where /v2/settings is not served."""
from __future__ import annotations

from collections.abc import Mapping
from email.utils import parsedate_to_datetime
from functools import cache
from typing import Any

from .ccxt_lean import ccxt
from .delta import DEMO_HOST, PRODUCTION_HOST, USER_AGENT
from .tagging import with_retry_after


def india_urls() -> dict[str, Any]:
    """ccxt urls for Delta India: production as 'api', the India testnet as 'test'."""
    prod, demo = f"https://{PRODUCTION_HOST}", f"https://{DEMO_HOST}"
    return {"api": {"public": prod, "private": prod},
            "test": {"public": demo, "private": demo}}


def reset_after_s(headers: Mapping[str, Any] | None) -> float | None:
    """Seconds until the rate-limit window resets, from X-RATE-LIMIT-RESET (milliseconds)."""
    for key, value in (headers or {}).items():
        if key.lower() == "x-rate-limit-reset":
            try:
                return max(0.0, float(value) / 1000)
            except (TypeError, ValueError):
                return None
    return None


_BadRequest: Any = ccxt.BadRequest


class NoSettings(_BadRequest):
    """GET /v2/settings answered 404; `server_ms` is the answer's Date."""

    def __init__(self, message: str, server_ms: int) -> None:
        super().__init__(message)
        self.server_ms = server_ms


def date_header_ms(headers: Mapping[str, Any] | None) -> int | None:
    """The HTTP Date header as epoch milliseconds (None when absent or unreadable)."""
    for key, value in (headers or {}).items():
        if key.lower() == "date":
            try:
                return int(parsedate_to_datetime(str(value)).timestamp() * 1000)
            except (TypeError, ValueError):
                return None
    return None


def is_order_lookup(code: int, method: str, url: str) -> bool:
    """A 404 answering GET /v2/orders/...: the order does not exist."""
    return code == 404 and method == "GET" and "/orders/" in url


def settings_time(code: int, url: str, headers: Mapping[str, Any] | None) -> None:
    """NoSettings with the answer's Date when a host answers GET /v2/settings with 404."""
    server_ms = date_header_ms(headers) if code == 404 else None
    if server_ms is not None and url.split("?")[0].endswith("/settings"):
        raise NoSettings(f"delta {url} 404", server_ms)


@cache
def delta_class() -> type:
    """ccxt's delta class (errors tagged) whose 404 on an order lookup is OrderNotFound."""
    base: Any = with_retry_after("delta")

    class DeltaIndia(base):
        def seconds(self) -> int:
            """Unix seconds on the venue's clock (ccxt's own offset, once measured): Delta
            refuses a signature more than 5 s old, and ccxt signs with these seconds."""
            return (self.milliseconds() - int(self.options.get("timeDifference") or 0)) // 1000

        def handle_errors(self, code, reason, url, method, headers, body, response,
                          request_headers, request_body):
            try:
                return self._delta_errors(code, reason, url, method, headers, body, response,
                                          request_headers, request_body)
            except ccxt.BaseError as e:
                if getattr(e, "retry_after_s", None) is None:
                    e.retry_after_s = reset_after_s(headers)
                raise

        async def fetch_time(self, params: dict[str, Any] | None = None) -> int:
            """ccxt's GET /v2/settings; where a host does not serve it (the India docs do not
            list it), the Date header of its 404: whole seconds, rounded down, so never
            ahead of the venue (a candle is never taken for closed too early)."""
            try:
                return int(await super().fetch_time(params or {}))
            except NoSettings as e:
                return e.server_ms

        def _delta_errors(self, code, reason, url, method, headers, body, response,
                          request_headers, request_body):
            settings_time(code, url, headers)
            try:
                done = super().handle_errors(code, reason, url, method, headers, body,
                                             response, request_headers, request_body)
            except ccxt.ExchangeError as e:
                if type(e) is ccxt.ExchangeError and is_order_lookup(code, method, url):
                    raise ccxt.OrderNotFound(str(e)) from e  # a label ccxt does not know
                raise
            if is_order_lookup(code, method, url):
                raise ccxt.OrderNotFound(f"delta {body}")
            return done

    DeltaIndia.__name__ = DeltaIndia.__qualname__ = "delta"
    return DeltaIndia


def india_config(config: dict[str, Any]) -> dict[str, Any]:
    config["urls"] = india_urls()
    config["userAgent"] = USER_AGENT
    return config


