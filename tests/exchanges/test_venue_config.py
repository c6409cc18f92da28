"""Venues in the configuration: names from the registry, keys per venue, demo and host rules."""
from __future__ import annotations

import dataclasses

import pytest

from app import banner
from config import lint_environment
from exchanges import registry
from exchanges.binance import BINANCE
from exchanges.venue import DemoSwitch
from tests.config_env import load, problems

# A venue with its demo on hosts of its own and a passphrase, and one without any demo, and one
# whose demo runs on the production host behind a switch (a header).
HOSTED = dataclasses.replace(
    BINANCE, name="hosted", label="Hosted",
    demo_hosts=frozenset({"demo.hosted.example"}), production_domains=("hosted.example",),
    data_hosts=("api.hosted.example", "demo.hosted.example"),
    trading=dataclasses.replace(BINANCE.trading_spec(), needs_passphrase=True,
                                hosts=("api.hosted.example", "demo.hosted.example")))
NODEMO = dataclasses.replace(BINANCE, name="nodemo", label="No Demo", demo_hosts=frozenset(),
                             demo_switch=DemoSwitch.NONE, production_domains=("nodemo.example",))
SWITCHED = dataclasses.replace(
    BINANCE, name="switched", label="Switched", demo_switch=DemoSwitch.SANDBOX_MODE,
    demo_hosts=frozenset(), production_domains=("switched.example",),
    trading=dataclasses.replace(BINANCE.trading_spec(),
                                hosts=("www.switched.example", "www.switched.example")))


@pytest.fixture(autouse=True)
def venues(monkeypatch):
    """The test venues registered beside Binance for one test."""
    for venue in (HOSTED, NODEMO, SWITCHED):
        monkeypatch.setitem(registry.VENUES, venue.name, venue)


def test_binance_is_the_default_for_both_instances():
    s = load()
    assert (s.data_exchange, s.trading_exchange) == ("binance", "binance")
    assert s.data_venue is BINANCE and s.trading_venue is BINANCE


@pytest.mark.parametrize("key", ["DATA_EXCHANGE", "TRADING_EXCHANGE"])
def test_an_unknown_venue_is_a_config_error_listing_the_supported_ones(key):
    found = problems(**{key: "kraken"})
    assert set(found) == {key}
    # Every registered venue, sorted (the test venues among them).
    assert "supported: " + ", ".join(registry.names()) in found[key]
    assert {"binance", "hosted", "nodemo", "switched"} <= set(registry.names())


def test_the_trading_venue_defaults_to_the_data_venue_and_may_differ():
    assert load(DATA_EXCHANGE="Hosted").trading_exchange == "hosted"
    s = load(DATA_EXCHANGE="binance", TRADING_EXCHANGE="hosted")
    assert (s.data_exchange, s.trading_exchange) == ("binance", "hosted")


def test_keys_follow_the_venue_pattern_with_a_passphrase_and_stay_redacted():
    env = dict(TRADING_EXCHANGE="hosted", ENABLE_TRADING="1", HOSTED_API_KEY="hk-123456",
               HOSTED_SECRET="hs-654321", HOSTED_PASSPHRASE="hp-secret-99",
               HOSTED_TRADING_URL="http://127.0.0.1:9000")
    s = load(**env)
    keys = s.venue_keys("hosted")
    assert (keys.api_key, keys.secret, keys.passphrase) == ("hk-123456", "hs-654321",
                                                            "hp-secret-99")
    # The demo pair (and passphrase) falls back to the production one off production hosts.
    assert (keys.api_key_demo, keys.passphrase_demo) == ("hk-123456", "hp-secret-99")
    assert keys.trading_url == "http://127.0.0.1:9000"
    assert s.signing_pair == "HOSTED_API_KEY"
    text = repr(s) + str(s.redacted()) + repr(keys)
    assert not any(v in text for v in ("hk-123456", "hs-654321", "hp-secret-99"))
    assert s.venue_keys("binance").api_key == ""


def test_a_venue_key_without_its_secret_or_passphrase_is_refused():
    found = problems(HOSTED_API_KEY="hk", HOSTED_PASSPHRASE_DEMO="x")
    assert {"HOSTED_SECRET", "HOSTED_PASSPHRASE"} <= set(found)
    assert "hk" not in found["HOSTED_SECRET"]


def test_binance_keys_keep_working_exactly_as_before():
    s = load(BINANCE_API_KEY="bk", BINANCE_SECRET="bs", ENABLE_TRADING="1")
    assert s.venue_keys("binance").api_key_demo == "bk" and s.signing_pair == "BINANCE_API_KEY"


def test_demo_trading_on_a_venue_without_demo_is_refused():
    found = problems(TRADING_EXCHANGE="nodemo", ENABLE_TRADING="1", DEMO_TRADING="1",
                     NODEMO_API_KEY="k", NODEMO_SECRET="s")
    assert "DEMO_TRADING" in found and "No Demo has no demo environment" in found["DEMO_TRADING"]
    assert "USE_REALTIME_DATA" in problems(DATA_EXCHANGE="nodemo", USE_REALTIME_DATA="0")
    # Paper trading needs no demo environment.
    assert load(TRADING_EXCHANGE="nodemo").trading_exchange == "nodemo"


def test_the_production_host_rule_is_each_venues_own():
    demo_on = dict(TRADING_EXCHANGE="hosted", ENABLE_TRADING="1", DEMO_TRADING="1",
                   HOSTED_API_KEY="k", HOSTED_SECRET="s", HOSTED_PASSPHRASE="p")
    found = problems(**demo_on, HOSTED_TRADING_URL="https://api.hosted.example")
    assert set(found) == {"HOSTED_TRADING_URL"} and "REAL" in found["HOSTED_TRADING_URL"]
    assert "https://demo.hosted.example" in found["HOSTED_TRADING_URL"]
    assert not load(**demo_on, HOSTED_TRADING_URL="https://demo.hosted.example").live_trading
    # Binance's production host is not this venue's: no confusion between venues.
    assert not load(**demo_on, HOSTED_TRADING_URL="https://fapi.binance.com").live_trading
    live = load(**demo_on, HOSTED_TRADING_URL="https://api.hosted.example",
                CONFIRM_LIVE_TRADING="yes")
    assert live.live_trading and live.venue_keys("hosted").api_key_demo == ""


def test_a_demo_behind_a_switch_on_the_production_host_is_not_live():
    s = load(TRADING_EXCHANGE="switched", ENABLE_TRADING="1", DEMO_TRADING="1",
             SWITCHED_API_KEY="k", SWITCHED_SECRET="s",
             SWITCHED_TRADING_URL="https://www.switched.example")
    assert s.demo_trading and not s.live_trading


def test_the_banner_shows_each_instances_venue_and_host():
    s = load(DATA_EXCHANGE="binance", TRADING_EXCHANGE="hosted", ENABLE_TRADING="1",
             HOSTED_API_KEY="k", HOSTED_SECRET="s", HOSTED_PASSPHRASE="p")
    data, trading = banner.describe(s)[:2]
    assert data == ("data instance:    production market data from fapi.binance.com, "
                    "venue binance")
    assert trading.startswith("trading instance: demo on demo.hosted.example, venue hosted, ")
    assert trading.endswith("signed with the HOSTED_API_KEY pair")


def test_a_misspelt_venue_key_is_pointed_out():
    warnings = lint_environment({"HOSTED_API_KY": "x"}, dotenv_path=None)
    assert warnings and "did you mean HOSTED_API_KEY?" in warnings[0]
