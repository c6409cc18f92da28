"""CcxtSession: a trading instance's ccxt client and its one call path.

The construction checks (live needs its confirmation; the venue's lookups and protection style
are ones the subclass implements), the signing pair, the demo switch and host overrides, and
`_call`: reads retried by the shared backoff utility (a Retry-After is waited exactly), writes
sent once (an ambiguous failure is resolved by the caller looking the order up).
"""
from __future__ import annotations

import asyncio
import math
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, TypeVar

import structlog

from .ccxt_lean import ccxt
from .errors import translate
from .options import TradingConfig
from .port import LiveTradingRefused, MarketRules
from .retry import RetryPolicy, SharedPause, with_retry
from .tagging import RequestObserver, with_retry_after
from .urls import override_hosts, switch_to_demo
from .venue import TradingSpec, Venue

log = structlog.get_logger(__name__)
T = TypeVar("T")
READ_BACKOFF_CAP_S = 8.0


class CcxtSession:
    """A venue's signed ccxt client: keys, demo switch, hosts, and one call path (reads retried,
    writes sent once, a clock refusal resynced and resent)."""

    one_way_where = ""  # where the venue's web site switches the position mode

    def __init__(self, config: TradingConfig, venue: Venue, *, read_attempts: int = 4,
                 backoff_s: float = 0.25, timeout_s: float = 10.0, rate_limit: bool = True,
                 sleep: Callable[[float], Awaitable[None]] = asyncio.sleep) -> None:
        if config.live and not config.live_confirmed:
            raise LiveTradingRefused("DEMO_TRADING=0 places real orders: set "
                                     "CONFIRM_LIVE_TRADING=yes to confirm")
        spec = venue.trading_spec()  # NotTradable for a data-only venue
        self._require_implemented(venue, spec)
        self.venue = venue
        self.config = config
        self.mode = "demo" if config.demo else "live"
        self.slippage_bps = 0.0  # sizing uses the signal's close: the venue's fill is what it is
        if spec.client_ids is None:
            # ccxt's order calls all carry a client id: a venue keeping none has its own client.
            raise TypeError(f"{venue.label} keeps no client ids: its trading class must "
                            "implement the port itself")
        self._ids = spec.client_ids  # sent as the venue writes them (prefix, case), read back ours
        self.client_id_room = spec.client_ids.max_length - len(spec.client_ids.prefix)
        self.conditional_ids = spec.client_ids.on_conditional
        self.read_attempts = read_attempts
        # Reads share the data instance's retry path; no budget: a trading read has no cycle.
        self._read_policy = RetryPolicy(attempts=read_attempts, base_s=backoff_s,
                                        cap_s=READ_BACKOFF_CAP_S, budget_s=math.inf, sleep=sleep)
        self._pause = SharedPause(self._read_policy.clock)
        self.exchange: Any = self._client_class()(self._client_config(timeout_s, rate_limit))
        if config.demo:
            switch_to_demo(self.exchange, venue)
        # After the demo switch, which swaps urls.
        override_hosts(self.exchange, config.url)
        self._rules: dict[str, MarketRules] = {}
        self._prepared: set[str] = set()

    def _require_implemented(self, venue: Venue, spec: TradingSpec) -> None:
        """Raise TypeError when the venue's spec asks for what this class does not implement."""

    # -- construction hooks -----------------------------------------------------------------------
    def _client_class(self) -> type:
        """The ccxt class to instantiate (a venue may subclass it); errors carry Retry-After."""
        return with_retry_after(self.venue.ccxt_id)

    def _client_config(self, timeout_s: float, rate_limit: bool) -> dict[str, Any]:
        """ccxt constructor options: the signing pair (and passphrase), the venue's options."""
        keys = self.config.credentials
        config: dict[str, Any] = {
            "apiKey": keys.api_key, "secret": keys.secret,
            "enableRateLimit": rate_limit, "timeout": int(timeout_s * 1000),
            "options": dict(self.venue.ccxt_options)}
        if self.venue.needs_passphrase:
            config["password"] = keys.passphrase
        return config

    # -- plumbing ---------------------------------------------------------------------------------
    def _translate(self, error: Exception) -> Exception:
        """Our error for a ccxt one, by this venue's code table."""
        return translate(error, self.venue)

    def _is_clock_error(self, error: Exception) -> bool:
        """True when the venue refused the request for our clock (nothing was processed)."""
        return isinstance(error, ccxt.InvalidNonce)

    async def _resync(self) -> None:
        """Measure the offset between our clock and the venue's (ccxt applies it when signing)."""
        self.exchange.options["adjustForTimeDifference"] = True
        await self._call(self.exchange.load_time_difference, read=True)
        log.info("clock_synced", venue=self.venue.name,
                 offset_ms=self.exchange.options.get("timeDifference"))

    async def _once(self, fn: Callable[[], Awaitable[T]]) -> T:
        """One ccxt call; a clock refusal resyncs and sends the same request once more (it was
        refused before processing, so even an order is safe to send again)."""
        try:
            return await fn()
        except ccxt.BaseError as e:
            if not self._is_clock_error(e):
                raise self._translate(e) from e
        await self._resync()
        try:
            return await fn()
        except ccxt.BaseError as e:
            raise self._translate(e) from e

    async def _call(self, fn: Callable[[], Awaitable[T]], *, read: bool,
                    what: str = "read") -> T:
        """Run one ccxt call; reads retry transient errors with backoff, writes never retry."""
        if not read:
            return await self._once(fn)
        return await with_retry(lambda: self._once(fn), self._read_policy, what, self._pause,
                                self.venue, log_as="trading")

    def _market(self, symbol: str) -> Mapping[str, Any]:
        """ccxt's market of our symbol (after load_markets)."""
        return self.exchange.market(self.venue.ccxt_symbol(symbol))

    def _contract_size(self, symbol: str) -> float:
        """Base quantity of one contract (1 on venues that count in the base asset)."""
        return float(self._market(symbol).get("contractSize") or 1.0)

    def observe_requests(self, observer: RequestObserver) -> None:
        """Call `observer` after every HTTP request of this instance (with its error, if any)."""
        if self.exchange is not None:
            self.exchange.request_observer = observer

    async def close(self) -> None:
        """Close ccxt's HTTP session."""
        await self.exchange.close()
