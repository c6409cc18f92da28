"""A venue as data: what differs between exchanges, with no ccxt import (config reads it)."""
from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from types import MappingProxyType
from typing import Any
from urllib.parse import urlsplit


class ErrorKind(StrEnum):
    """What a failed request means for the caller."""

    TRANSIENT = "transient"          # the server's or the network's trouble: retry, or look up
    RATE_LIMITED = "rate_limited"    # slow down (Retry-After when given), then retry
    REJECTED = "rejected"            # the venue refused the request: retrying will not help
    AUTH = "auth"                    # keys, permissions or account: an operator must act


class Reason(StrEnum):
    """Why the venue rejected a request; callers branch on it, never on message text."""

    WOULD_TRIGGER_IMMEDIATELY = "would_trigger_immediately"  # a stop on the wrong side
    INSUFFICIENT_FUNDS = "insufficient_funds"
    INVALID_ORDER = "invalid_order"          # size, price, symbol or a parameter refused
    NOT_FOUND = "not_found"                  # no such order (or already finished)
    DUPLICATE_CLIENT_ID = "duplicate_client_id"
    REDUCE_ONLY_REJECTED = "reduce_only_rejected"  # nothing to reduce
    NO_CHANGE = "no_change"                  # the setting is already what was asked
    OTHER = "other"


Code = int | str  # a venue's error code: a number, or a label where the venue answers words


@dataclass(frozen=True)
class CodeMeaning:
    """One entry of a venue's error-code table."""

    kind: ErrorKind
    reason: Reason = Reason.OTHER


TRANSIENT = CodeMeaning(ErrorKind.TRANSIENT)
RATE_LIMITED = CodeMeaning(ErrorKind.RATE_LIMITED)
AUTH = CodeMeaning(ErrorKind.AUTH)


def rejected(reason: Reason) -> CodeMeaning:
    """A code table entry for a refusal with `reason`."""
    return CodeMeaning(ErrorKind.REJECTED, reason)


class ClosedRule(StrEnum):
    """How a venue's candle answer tells the closed candles from the forming one."""

    # A candle is closed once its end (open + length) is not after the venue's clock. Binance
    # also sends a close time (open + length - 1): the same rule.
    END_BY_SERVER_CLOCK = "end_by_server_clock"


class DemoSwitch(StrEnum):
    """How ccxt is switched to a venue's demo (paper money) environment."""

    NONE = "none"                                # no demo: DEMO_TRADING=1 is refused
    ENABLE_DEMO_TRADING = "enable_demo_trading"  # ccxt's enable_demo_trading(True): demo hosts
    SANDBOX_MODE = "set_sandbox_mode"            # ccxt's set_sandbox_mode(True)


class SlTpStyle(StrEnum):
    """Where the stop and the take-profit live on the venue."""

    ATTACHED = "attached"    # on the entry order or the position (ccxt stopLoss/takeProfit)
    SEPARATE = "separate"    # their own reduce-only conditional orders


class OrderLookup(StrEnum):
    """How an order whose answer was lost is found again on the venue."""

    CLIENT_ID = "client_id"            # asked for by our client id
    VENUE_ORDER_ID = "venue_order_id"  # the venue's order id, stored when the order is placed
    INTENT_MATCH = "intent_match"      # recent orders listed, matched on pair, side, size, time


@dataclass(frozen=True)
class ClientIdRule:
    """What a venue accepts as a client order id, and how ours are written on its wire."""

    max_length: int                  # the whole id as sent, prefix included
    charset: str                     # a regex character class body, e.g. 'A-Za-z0-9'
    prefix: str = ""                 # required in front of every id (Gate's 't-')
    lower_case: bool = False         # the venue stores ids lower-cased (BingX)
    # A market order's id is refused when sent again, and the venue's "no such order" is
    # final: then an entry it says it never got may be re-sent once with the same id. Else
    # (Gate, KuCoin, Delta keep the later order; OKX takes a filled order's id again) a market
    # order's id is sent at most once by a process.
    refuses_duplicates: bool = True
    on_conditional: bool = True      # kept on stop/target orders too (BingX: market/limit only)

    def wire(self, client_id: str) -> str:
        """Our id as the venue stores it (prefix and case applied)."""
        text = client_id.lower() if self.lower_case else client_id
        return text if text.startswith(self.prefix) else self.prefix + text

    def unwire(self, sent: str) -> str:
        """The id as we made it, from the venue's copy (its prefix removed)."""
        return sent[len(self.prefix):] if self.prefix and sent.startswith(self.prefix) else sent

    def accepts(self, client_id: str) -> bool:
        """True when the venue takes `client_id` as we send it (after `wire`)."""
        sent = self.wire(client_id)
        body = sent[len(self.prefix):]
        room = self.max_length - len(self.prefix)
        return room > 0 and bool(re.fullmatch(f"[{self.charset}]{{1,{room}}}", body))


@dataclass(frozen=True)
class TradingSpec:
    """What only a venue that trades has: hosts, client ids, lookups, protection, passphrase."""

    hosts: tuple[str, str]             # shown in the banner: (production, demo) trading
    client_ids: ClientIdRule | None  # None: the venue keeps no client id on its orders
    sltp_style: SlTpStyle
    lookup: OrderLookup = OrderLookup.CLIENT_ID
    needs_passphrase: bool = False


class NotTradable(ValueError):
    """Trading asked of a data-only venue."""


@dataclass(frozen=True)
class WsSpec:
    """A venue's public candle stream, as its documentation states it (no I/O here)."""

    url: str                    # the documented production endpoint (<NAME>_WS_URL overrides)
    dialect: str                # the module with the venue's messages: 'exchanges.binance_ws'
    publish_delay_s: float      # how long after a close the closed candle usually arrives
    topics_per_connection: int  # topics one socket may carry
    topics_per_message: int     # topics one subscribe message may name
    messages_per_s: float       # client messages per second the venue accepts
    ping_every_s: float         # our keep-alive (0: the server pings, we answer)
    stall_s: float              # silence after which the socket is presumed dead
    max_life_s: float           # the venue closes a socket this old: reconnect before
    headers: tuple[tuple[str, str], ...] = ()  # sent with the upgrade request


def _host(url: str) -> str:
    """The lower-case host of a URL, without a trailing dot ('' when none)."""
    return (urlsplit(url.strip()).hostname or "").rstrip(".")


@dataclass(frozen=True)
class Venue:
    """Everything that differs between venues and can be said as data."""

    name: str                          # our name, as in DATA_EXCHANGE: 'binance'
    ccxt_id: str                       # ccxt's class: 'binanceusdm'
    label: str                         # for people: 'Binance USD-M'
    native_timeframes: tuple[str, ...]  # ccxt's names of the candles the venue serves itself
    max_page: int                      # candles per request at most
    default_page: int                  # candles per request when no limit is sent
    closed_rule: ClosedRule
    demo_switch: DemoSwitch
    demo_hosts: frozenset[str]         # REST hosts of the demo environment
    production_domains: tuple[str, ...]  # hosts (and their subdomains) where money is real
    data_hosts: tuple[str, str]        # shown in the banner: (production, demo) market data
    error_codes: Mapping[Code, CodeMeaning]
    error_code_keys: tuple[str, ...]   # JSON keys holding the venue's code in an error body
    client_module: str                 # the module with MarketData and Trading classes
    trading: TradingSpec | None = None  # None: a data-only venue
    quote: str = "USDT"   # the perpetuals' quote currency ('USD' where they are USD-quoted)
    settle: str = "USDT"  # the margin and PnL currency
    ccxt_options: Mapping[str, Any] = field(default_factory=dict)
    tradingview: str = "BINANCE"  # TradingView's exchange prefix of the venue's perpetuals
    demo_header: str = ""  # what marks a demo request where demo shares the production host
    local: bool = False  # served from this machine (the replay): no host to point, no keys
    ws: WsSpec | None = None  # the public candle stream with a closed flag; None: REST only

    def __post_init__(self) -> None:
        object.__setattr__(self, "error_codes", MappingProxyType(dict(self.error_codes)))
        object.__setattr__(self, "ccxt_options", MappingProxyType(dict(self.ccxt_options)))

    @property
    def env_prefix(self) -> str:
        """The prefix of this venue's environment keys: 'BINANCE'."""
        return self.name.upper()

    @property
    def trades(self) -> bool:
        """True when the daemon can trade on this venue (it has a trading spec)."""
        return self.trading is not None

    def trading_spec(self) -> TradingSpec:
        """The trading spec; NotTradable for a data-only venue."""
        if self.trading is None:
            raise NotTradable(f"{self.label} serves market data only: the daemon cannot trade "
                              "there")
        return self.trading

    @property
    def needs_passphrase(self) -> bool:
        """True when the venue's API keys come with a passphrase."""
        return self.trading is not None and self.trading.needs_passphrase

    @property
    def has_demo(self) -> bool:
        """True when the venue offers a demo environment ccxt can switch to."""
        return self.demo_switch is not DemoSwitch.NONE

    @property
    def demo_by_host(self) -> bool:
        """True when demo orders go to their own hosts (so a production host means real money);
        False when the same host serves both and a switch (header) decides."""
        return bool(self.demo_hosts)

    def ccxt_symbol(self, symbol: str) -> str:
        """Our 'BTC/USDT' -> the venue's linear perpetual of the coin in ccxt's words:
        'BTC/USDT:USDT', or 'BTC/USD:USD' on a venue whose perpetuals are USD-quoted."""
        if ":" in symbol:
            return symbol
        return f"{symbol.split('/')[0]}/{self.quote}:{self.settle}"

    @staticmethod
    def our_symbol(symbol: str) -> str:
        """The venue's 'BTC/USDT:USDT' or 'BTC/USD:USD' -> our 'BTC/USDT' (the coin's perpetual)."""
        return f"{symbol.split(':')[0].split('/')[0]}/USDT"

    def shown(self, symbol: str) -> str:
        """Our symbol as people should read it on this venue: 'BTC/USDT', or 'BTC/USDT (BTCUSD
        perpetual)', with the venue's own id, where its contract is quoted in another currency."""
        if self.quote == "USDT":
            return symbol
        return f"{symbol} ({symbol.split('/')[0]}{self.quote} perpetual)"

    def chart_symbol(self, symbol: str) -> str:
        """TradingView's symbol of the coin's perpetual here: 'BYBIT:BTCUSDT.P'."""
        return f"{self.tradingview}:{symbol.split('/')[0]}{self.quote}.P"

    def is_production_host(self, url: str) -> bool:
        """True when `url` points at this venue's production servers (real money)."""
        host = _host(url)
        if not host or host in self.demo_hosts:
            return False
        return any(host == d or host.endswith("." + d) for d in self.production_domains)

    def real_money_url(self, url: str) -> bool:
        """True when orders sent to `url` are real even with DEMO_TRADING=1: a production host
        of a venue whose demo lives on hosts of its own."""
        return self.demo_by_host and self.is_production_host(url)
