"""The typed configs each component is given, built from Settings, and the components built
with them: nothing below app/ reads Settings."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from config import Settings
from exchanges.options import Credentials, MarketDataConfig, TradingConfig
from exchanges.registry import get_venue
from exchanges.venue import Venue

if TYPE_CHECKING:  # ccxt, pandas and telegram load only when a component is built
    import pandas as pd

    from alerts.commands import CommandSettings
    from alerts.delivery import AlertSettings
    from alerts.notifiers import ConsoleNotifier, TelegramNotifier
    from exchanges.ccxt_trading import CcxtTrading
    from exchanges.port import MarketData
    from exchanges.retry import RetryPolicy
    from fetchers.watchlist import Listing, WatchedSymbols, WatchList
    from store import Store
    from trading import Broker, PositionManager
    from trading.policy import TradingPolicy


def watch_list(s: Settings) -> WatchList:
    """SYMBOLS, EXCLUDE_SYMBOLS, MIN_VOLUME_24H and MAX_PAIRS."""
    from fetchers.watchlist import WatchList

    return WatchList(tuple(s.symbols), tuple(s.exclude_symbols), s.min_volume_24h, s.max_pairs)


def watched_symbols(s: Settings, listing: Listing, **options: Any) -> WatchedSymbols:
    """The watch list over a data instance's perpetuals (refreshed hourly)."""
    from fetchers.watchlist import WatchedSymbols

    return WatchedSymbols(listing, watch_list(s), venue_name=s.data_exchange, **options)


def market_data_config(s: Settings, venue: Venue) -> MarketDataConfig:
    """The data instance's config on `venue` (its {NAME}_DATA_URL)."""
    return MarketDataConfig(production=s.use_realtime_data,
                            url=s.venue_keys(venue.name).data_url, timeout_s=s.fetch_timeout_s,
                            budget_s=s.fetch_cycle_budget_s, weight_per_min=s.data_weight_per_min)


def trading_config(s: Settings, venue: Venue) -> TradingConfig:
    """The trading instance's config on `venue`: the demo or the live keys, as DEMO_TRADING says."""
    keys = s.venue_keys(venue.name)
    demo = s.demo_trading
    credentials = Credentials(keys.api_key_demo if demo else keys.api_key,
                              keys.secret_demo if demo else keys.secret,
                              keys.passphrase_demo if demo else keys.passphrase)
    return TradingConfig(credentials=credentials, demo=demo, live=s.live_trading,
                         live_confirmed=s.confirm_live_trading, url=keys.trading_url,
                         leverage=s.leverage, margin_mode=s.margin_mode,
                         signed_by=s.signing_pair)


def trading_policy(s: Settings) -> TradingPolicy:
    """The position manager's rules and limits."""
    from trading.policy import TradingPolicy

    return TradingPolicy(venue=s.trading_exchange, symbols=tuple(s.symbols),
                         trade_on=tuple(s.trade_on), on_opposite=s.on_opposite,
                         risk_reward=s.risk_reward, position_size=s.position_size,
                         leverage=s.leverage, max_open_positions=s.max_open_positions,
                         max_daily_trades=s.max_daily_trades, max_daily_loss=s.max_daily_loss)


def market_data(s: Settings, venue: Venue | None = None, **options: Any) -> MarketData:
    """The data instance of `venue` (default: DATA_EXCHANGE); no request is sent yet. The
    replay venue's candles are read here (ReplaySourceError when they cannot be)."""
    from exchanges import factory

    venue = venue or get_venue(s.data_exchange)
    if venue.name == "replay":
        options = {**replay_parts(s), **options}
    return factory.market_data(market_data_config(s, venue), venue, **options)


def replay_parts(s: Settings) -> dict[str, Any]:
    """The replay venue's book (REPLAY_SOURCE) and clock (REPLAY_START, REPLAY_SPEED)."""
    from exchanges.replay_clock import ReplayClock
    from fetchers.replay_book import load_book

    book = load_book(s.replay_source, s.data_dir)
    start = s.replay_start if s.replay_start is not None else book.first_open_ms + 86_400_000
    end = book.last_close_ms
    return {"book": book, "clock": ReplayClock(min(start, end), s.replay_speed, end)}


def trading(s: Settings, venue: Venue | None = None, **options: Any) -> CcxtTrading:
    """The trading instance of `venue` (default: TRADING_EXCHANGE); no request is sent yet."""
    from exchanges import factory

    venue = venue or get_venue(s.trading_exchange)
    return factory.trading(trading_config(s, venue), venue, **options)


def make_broker(s: Settings, store: Store, **adapter_options: Any) -> Broker:
    """The paper broker when ENABLE_TRADING=0, else TRADING_EXCHANGE's trading instance (demo,
    or confirmed live)."""
    if not s.enable_trading:
        from trading import PaperBroker

        return PaperBroker(store, fee_rate=s.paper_fee_rate, slippage_bps=s.paper_slippage_bps)
    return trading(s, **adapter_options)


def position_manager(s: Settings, store: Store, broker: Broker, **options: Any
                     ) -> PositionManager:
    """The position manager over `broker` with the settings' rules."""
    from trading import PositionManager

    return PositionManager(trading_policy(s), store, broker, **options)


def make_notifier(s: Settings) -> TelegramNotifier | ConsoleNotifier:
    """Telegram when TELEGRAM_BOT_TOKEN is set, else the console."""
    from alerts.notifiers import notifier_for

    return notifier_for(s.telegram_bot_token, s.telegram_chat_id, s.telegram_api_url)


def one_shot_retry(s: Settings) -> RetryPolicy:
    """The retries of a one-shot command (scan, download): it may wait longer than a daemon
    cycle before giving up."""
    from exchanges.retry import RetryPolicy

    return RetryPolicy(budget_s=max(s.fetch_cycle_budget_s, 60.0))


async def fetch_history(s: Settings, symbol: str, timeframe: str, since_ms: int,
                        until_ms: int | None = None, *, retry: RetryPolicy | None = None,
                        exchange: str | None = None) -> pd.DataFrame:
    """Closed candles of `symbol` on `exchange` (default: DATA_EXCHANGE), as history fetches."""
    from fetchers import history

    venue = get_venue(exchange or s.data_exchange)
    return await history.fetch_history(market_data_config(s, venue), venue, symbol, timeframe,
                                       since_ms, until_ms, retry=retry or one_shot_retry(s))


def alert_settings(s: Settings) -> AlertSettings:
    """ALERT_LATE_AFTER_S and CHART, for the outbox delivery."""
    from alerts.delivery import AlertSettings

    return AlertSettings(alert_late_after_s=s.alert_late_after_s, chart=s.chart)


def command_settings(s: Settings) -> CommandSettings:
    """TELEGRAM_CHAT_ID, TELEGRAM_ADMIN_IDS and COMMAND_MAX_AGE_S, for the command channel."""
    from alerts.commands import CommandSettings

    return CommandSettings(s.telegram_chat_id, tuple(s.telegram_admin_ids), s.command_max_age_s)
