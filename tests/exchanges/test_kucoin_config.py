"""KuCoin Futures in the configuration: no demo (DEMO_TRADING=1 refused with a clear line),
live only when confirmed with the production pair and its passphrase, every host overridden."""
from __future__ import annotations

from exchanges.kucoin import KUCOIN, contract_id, crossed, stop_direction, to_base, to_lots
from exchanges.registry import get_venue
from exchanges.urls import override_hosts
from tests.config_env import load, problems

LIVE = dict(TRADING_EXCHANGE="kucoin", ENABLE_TRADING="1", DEMO_TRADING="0")


def test_kucoin_is_registered_without_a_demo():
    venue = get_venue("KuCoin")
    assert venue is KUCOIN and venue.needs_passphrase and not venue.has_demo
    ids = venue.trading_spec().client_ids
    assert ids is not None and ids.accepts("a" * 40) and not ids.accepts("a" * 41)
    assert ids.accepts("ab-c_d") and not ids.accepts("a.b")
    assert "1w" not in venue.native_timeframes and "8h" in venue.native_timeframes


def test_demo_trading_on_kucoin_is_refused_naming_the_ways_out():
    found = problems(TRADING_EXCHANGE="kucoin", ENABLE_TRADING="1", DEMO_TRADING="1")
    assert "no demo environment" in found["DEMO_TRADING"]
    assert "ENABLE_TRADING=0" in found["DEMO_TRADING"]
    assert "CONFIRM_LIVE_TRADING=yes" in found["DEMO_TRADING"]


def test_paper_trading_with_kucoin_data_needs_no_keys():
    s = load(DATA_EXCHANGE="kucoin", ENABLE_TRADING="0")
    assert s.data_exchange == "kucoin"


def test_live_kucoin_needs_the_confirmation_the_pair_and_its_passphrase():
    assert {"CONFIRM_LIVE_TRADING", "KUCOIN_API_KEY"} <= set(problems(**LIVE))
    found = problems(**LIVE, CONFIRM_LIVE_TRADING="yes", KUCOIN_API_KEY="k", KUCOIN_SECRET="s")
    assert set(found) == {"KUCOIN_PASSPHRASE"}
    s = load(**LIVE, CONFIRM_LIVE_TRADING="yes", KUCOIN_API_KEY="k", KUCOIN_SECRET="s",
             KUCOIN_PASSPHRASE="p")
    assert s.live_trading and s.signing_pair == "KUCOIN_API_KEY"


def test_a_kucoin_host_is_real_money():
    assert KUCOIN.is_production_host("https://api-futures.kucoin.com")
    assert KUCOIN.is_production_host("https://api.kucoin.com")
    assert not KUCOIN.is_production_host("http://127.0.0.1:8080")


def test_the_url_override_replaces_the_futures_and_the_spot_hosts():
    class Client:
        urls = {"api": {"futuresPublic": "https://api-futures.kucoin.com",
                        "futuresPrivate": "https://api-futures.kucoin.com",
                        "public": "https://api.kucoin.com", "private": "https://api.kucoin.com",
                        "utaPrivate": "https://api.kucoin.com"}}

    client = Client()
    override_hosts(client, "http://127.0.0.1:9999")
    assert set(client.urls["api"].values()) == {"http://127.0.0.1:9999"}


def test_contract_ids_and_lots():
    assert contract_id("BTC/USDT") == contract_id("BTC/USDT:USDT") == "XBTUSDTM"
    assert contract_id("ETH/USDT") == "ETHUSDTM"
    assert to_lots(0.04, 0.001) == 40 and to_lots(0.0409, 0.001) == 40  # down, never up
    assert to_lots(0.003, 0.001) == 3  # 2.9999999999999996 in floats: still 3
    assert to_base(40, 0.001) == 0.04


def test_stop_directions_follow_the_closing_side():
    # A long closes by selling: its stop waits for a fall, its target for a rise.
    assert stop_direction("sell", "stop") == "down" and stop_direction("sell", "target") == "up"
    assert stop_direction("buy", "stop") == "up" and stop_direction("buy", "target") == "down"
    assert crossed("sell", "stop", 49_000, 48_500) and not crossed("sell", "stop", 49_000, 50_000)
    assert crossed("buy", "stop", 51_000, 51_000) and not crossed("buy", "target", 48_000, 50_000)


def test_kucoin_market_data_has_no_demo_to_read_from():
    found = problems(DATA_EXCHANGE="kucoin", USE_REALTIME_DATA="0")
    assert "no demo environment" in found["USE_REALTIME_DATA"]
