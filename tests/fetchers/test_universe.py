"""The watch list: explicit SYMBOLS, or SYMBOLS=ALL filtered, refreshed hourly."""
from __future__ import annotations

import pytest

from app import components
from config import load_settings
from exchanges.errors import TransientExchangeError
from tests.fakes.binance_data import Listing
from tests.fetchers.conftest import NOON, HostClock

LISTINGS = [
    Listing("BTCUSDT", 9e9), Listing("ETHUSDT", 5e9),
    Listing("SOLUSDT", 2e9), Listing("ADAUSDT", 2e9),  # a tie: broken by name, ADA first
    Listing("XRPUSDT", 1e9), Listing("DOGEUSDT", 4e6),  # under a 5M minimum
    Listing("LUNAUSDT", 8e9, status="SETTLING"),  # not trading
    Listing("BTCUSDT_260327", 7e9, contract_type="CURRENT_QUARTER"),  # not a perpetual
    Listing("ETHUSDC", 6e9, quote="USDC"),  # not USDT-margined
]


class Universe:
    """The watch list as the daemon builds it, over a Binance data instance on the fake."""

    def __init__(self, fetcher, env, clock) -> None:
        settings = load_settings({**env}, dotenv_path=None)
        self.watched = components.watched_symbols(settings, fetcher, clock=clock)

    async def universe(self) -> list[str]:
        return await self.watched()


async def _universe(fake_binance, make_fetcher, env, clock=None):
    fake = await fake_binance(now_ms=NOON, listings=LISTINGS)
    clock = clock or HostClock(NOON)
    fetcher = await make_fetcher(fake, env=env, clock=clock)
    return fake, Universe(fetcher, env, clock)


async def test_all_is_filtered_by_volume_ranked_and_capped_deterministically(
        fake_binance, make_fetcher):
    _, fetcher = await _universe(fake_binance, make_fetcher, {
        "SYMBOLS": "ALL", "MIN_VOLUME_24H": "5000000", "MAX_PAIRS": "4"})
    assert await fetcher.universe() == ["BTC/USDT", "ETH/USDT", "ADA/USDT", "SOL/USDT"]


async def test_all_keeps_only_trading_usdt_perpetuals(fake_binance, make_fetcher):
    _, fetcher = await _universe(fake_binance, make_fetcher, {
        "SYMBOLS": "ALL", "MIN_VOLUME_24H": "0", "MAX_PAIRS": "100"})
    assert set(await fetcher.universe()) == {"BTC/USDT", "ETH/USDT", "SOL/USDT", "ADA/USDT",
                                             "XRP/USDT", "DOGE/USDT"}


async def test_excluded_symbols_are_removed_before_the_cap(fake_binance, make_fetcher):
    _, fetcher = await _universe(fake_binance, make_fetcher, {
        "SYMBOLS": "ALL", "MIN_VOLUME_24H": "5000000", "MAX_PAIRS": "3",
        "EXCLUDE_SYMBOLS": "ETHUSDT,ada/usdt"})
    assert await fetcher.universe() == ["BTC/USDT", "SOL/USDT", "XRP/USDT"]


async def test_explicit_symbols_keep_their_order_and_drop_untradable_ones(
        fake_binance, make_fetcher):
    fake, fetcher = await _universe(fake_binance, make_fetcher, {
        "SYMBOLS": "XRPUSDT,BTC/USDT,LUNA/USDT,NOPE/USDT"})
    assert await fetcher.universe() == ["XRP/USDT", "BTC/USDT"]
    assert "/fapi/v1/ticker/24hr" not in fake.paths()  # volumes only matter for ALL


async def test_universe_is_refreshed_hourly_not_per_cycle(fake_binance, make_fetcher):
    host = HostClock(NOON)
    fake, fetcher = await _universe(fake_binance, make_fetcher, {
        "SYMBOLS": "ALL", "MIN_VOLUME_24H": "5000000", "MAX_PAIRS": "2"}, clock=host)
    assert await fetcher.universe() == ["BTC/USDT", "ETH/USDT"]
    fake.listings[2].quote_volume = 99e9  # SOL becomes the top pair
    for _ in range(5):
        host.ms += 60_000 * 11
        assert await fetcher.universe() == ["BTC/USDT", "ETH/USDT"]
    assert fake.paths().count("/fapi/v1/ticker/24hr") == 1
    assert fake.paths().count("/fapi/v1/exchangeInfo") == 1
    host.ms += 60_000 * 6  # 61 minutes after the first load
    assert await fetcher.universe() == ["SOL/USDT", "BTC/USDT"]
    assert fake.paths().count("/fapi/v1/ticker/24hr") == 2


async def test_a_failed_refresh_keeps_the_previous_universe(fake_binance, make_fetcher):
    host = HostClock(NOON)
    fake, fetcher = await _universe(fake_binance, make_fetcher, {"SYMBOLS": "ALL"}, clock=host)
    first = await fetcher.universe()
    host.ms += 3_601_000
    fake.fail("/fapi/v1/exchangeInfo", 503, times=100)
    assert await fetcher.universe() == first


async def test_a_failed_first_load_raises_a_transient_error(fake_binance, make_fetcher):
    fake, fetcher = await _universe(fake_binance, make_fetcher, {"SYMBOLS": "ALL"})
    fake.fail("/fapi/v1/exchangeInfo", 503, times=100)
    with pytest.raises(TransientExchangeError):
        await fetcher.universe()


async def test_explicit_symbols_are_watched_unverified_while_markets_are_down(
        fake_binance, make_fetcher):
    fake, fetcher = await _universe(fake_binance, make_fetcher, {"SYMBOLS": "BTCUSDT,LUNAUSDT"})
    fake.fail("/fapi/v1/exchangeInfo", 503, times=100)
    assert await fetcher.universe() == ["BTC/USDT", "LUNA/USDT"]
    fake.faults.clear()
    assert await fetcher.universe() == ["BTC/USDT"]  # verified as soon as markets load
