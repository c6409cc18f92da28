"""Bybit in the configuration: its keys, its demo and production hosts, the banner."""
from __future__ import annotations

import re

import pytest

from app import banner, components
from config import lint_environment
from exchanges.bybit import BYBIT
from tests.config_env import load, problems

DEMO_ON = dict(TRADING_EXCHANGE="bybit", ENABLE_TRADING="1", DEMO_TRADING="1",
               BYBIT_API_KEY="bk-123456", BYBIT_SECRET="bs-654321")


def test_bybit_is_a_venue_for_data_and_trading():
    s = load(DATA_EXCHANGE="Bybit")
    assert (s.data_exchange, s.trading_exchange) == ("bybit", "bybit")
    assert s.data_venue is BYBIT and s.trading_venue is BYBIT


def test_bybit_keys_pair_up_fall_back_for_demo_and_stay_redacted():
    s = load(**DEMO_ON)
    keys = s.venue_keys("bybit")
    assert (keys.api_key, keys.secret) == ("bk-123456", "bs-654321")
    assert (keys.api_key_demo, keys.secret_demo) == ("bk-123456", "bs-654321")
    assert s.signing_pair == "BYBIT_API_KEY"
    demo = load(**DEMO_ON, BYBIT_API_KEY_DEMO="dk-1", BYBIT_SECRET_DEMO="ds-1")
    assert demo.signing_pair == "BYBIT_API_KEY_DEMO" and demo.venue_keys("bybit").secret_demo \
        == "ds-1"
    text = repr(s) + str(s.redacted()) + repr(keys)
    assert "bk-123456" not in text and "bs-654321" not in text


def test_a_bybit_key_without_its_secret_is_refused_and_no_passphrase_is_asked():
    found = problems(BYBIT_API_KEY="bk", BYBIT_API_KEY_DEMO="dk")
    assert {"BYBIT_SECRET", "BYBIT_SECRET_DEMO"} <= set(found)
    assert not any("PASSPHRASE" in key for key in found)
    warnings = lint_environment({"BYBIT_PASSPHRASE": "x", "BYBIT_SECRT": "y"}, dotenv_path=None)
    assert any("BYBIT_SECRT" in w and "BYBIT_SECRET" in w for w in warnings)


def test_live_trading_on_bybit_needs_the_confirmation_and_the_production_pair():
    found = problems(**{**DEMO_ON, "DEMO_TRADING": "0"})
    assert "CONFIRM_LIVE_TRADING" in found
    s = load(**{**DEMO_ON, "DEMO_TRADING": "0", "CONFIRM_LIVE_TRADING": "yes"})
    assert s.live_trading and s.signing_pair == "BYBIT_API_KEY"


@pytest.mark.parametrize("url", ["https://api.bybit.com", "https://api.bytick.com",
                                 "https://api.bybit.nl", "https://api.bybit-tr.com",
                                 "https://api.bybit.kz", "https://api.bybitgeorgia.ge",
                                 "https://api.bybit.ae", "https://api.bybit.eu",
                                 "https://api.bybit.id", "https://API.BYBIT.COM."])
def test_a_bybit_production_host_is_real_money_even_in_demo(url):
    found = problems(**DEMO_ON, BYBIT_TRADING_URL=url)
    assert set(found) == {"BYBIT_TRADING_URL"} and "REAL" in found["BYBIT_TRADING_URL"]
    live = load(**DEMO_ON, BYBIT_TRADING_URL=url, CONFIRM_LIVE_TRADING="yes")
    assert live.live_trading and live.venue_keys("bybit").api_key_demo == ""


@pytest.mark.parametrize("url", ["https://api-demo.bybit.com", "https://api-testnet.bybit.com",
                                 "http://127.0.0.1:9000"])
def test_bybit_demo_and_test_hosts_are_not_real_money(url):
    s = load(**DEMO_ON, BYBIT_TRADING_URL=url)
    assert s.demo_trading and not s.live_trading


def test_another_venues_production_host_is_not_bybits():
    assert not load(**DEMO_ON, BYBIT_TRADING_URL="https://fapi.binance.com").live_trading
    assert not BYBIT.is_production_host("https://api.bybit.com.evil.example")


def test_the_banner_shows_bybit_and_its_host():
    s = load(**DEMO_ON, DATA_EXCHANGE="binance")
    data, trading = banner.describe(s)[:2]
    assert data == ("data instance:    production market data from fapi.binance.com, "
                    "venue binance")
    assert trading == ("trading instance: demo on api-demo.bybit.com, venue bybit, signed with "
                       "the BYBIT_API_KEY pair")
    on_bybit = load(DATA_EXCHANGE="bybit", USE_REALTIME_DATA="0")
    assert banner.describe(on_bybit)[0] == ("data instance:    demo market data from "
                                            "api-demo.bybit.com, venue bybit")


async def test_ccxt_sends_to_the_hosts_the_venue_declares():
    """The banner's hosts are where ccxt really goes: demo switch and production alike."""
    demo = components.trading(load(**DEMO_ON))
    live = components.trading(load(**{**DEMO_ON, "DEMO_TRADING": "0",
                                   "CONFIRM_LIVE_TRADING": "yes"}))
    try:
        hosts = [t.exchange.implode_hostname(t.exchange.urls["api"]["private"])
                 for t in (demo, live)]
    finally:
        await demo.close()
        await live.close()
    spec = BYBIT.trading_spec()
    assert hosts == [f"https://{spec.hosts[1]}", f"https://{spec.hosts[0]}"]


def test_every_bybit_key_is_documented_in_env_example():
    from config import VENUE_KEYS
    from tests.shared_data import REPO
    text = (REPO / ".env.example").read_text()
    documented = set(re.findall(r"^#?\s*([A-Z][A-Z0-9_]+)=", text, flags=re.M))
    bybit = {k for k in VENUE_KEYS if k.startswith("BYBIT_")} | {"BYBIT_DATA_URL",
                                                                  "BYBIT_TRADING_URL"}
    assert bybit == {"BYBIT_API_KEY", "BYBIT_SECRET", "BYBIT_API_KEY_DEMO", "BYBIT_SECRET_DEMO",
                     "BYBIT_DATA_URL", "BYBIT_TRADING_URL", "BYBIT_WS_URL"}
    assert bybit - documented == set()
