"""A venue without a trading spec: watched for market data, refused for trading before any
request, by the settings and by `main.py check`."""
from __future__ import annotations

import pytest

from app.cli import main
from config import ConfigError, load_settings, venue_env_keys
from exchanges import registry
from exchanges.venue import NotTradable

from .harness_data_only import DATA_ONLY


@pytest.fixture(autouse=True)
def _registered(monkeypatch):
    monkeypatch.setitem(registry.VENUES, DATA_ONLY.name, DATA_ONLY)


def _problem_keys(env: dict) -> dict[str, str]:
    with pytest.raises(ConfigError) as refused:
        load_settings(env, dotenv_path=None)
    return {p.key: p.allowed for p in refused.value.problems}


def test_market_data_from_a_data_only_venue_with_the_paper_broker_is_accepted():
    s = load_settings({"DATA_EXCHANGE": "dataonly", "DATAONLY_DATA_URL": "http://127.0.0.1:9"},
                      dotenv_path=None)
    assert s.data_venue is DATA_ONLY and not s.enable_trading
    assert s.venue_keys("dataonly").data_url == "http://127.0.0.1:9"


def test_naming_a_data_only_venue_for_trading_is_refused():
    keys = _problem_keys({"DATA_EXCHANGE": "binance", "TRADING_EXCHANGE": "dataonly"})
    assert "serves market data only" in keys["TRADING_EXCHANGE"]
    assert "binance" in keys["TRADING_EXCHANGE"] and "dataonly" not in keys["TRADING_EXCHANGE"]


def test_trading_enabled_on_a_data_only_data_venue_is_refused_with_the_default_named():
    keys = _problem_keys({"DATA_EXCHANGE": "dataonly", "ENABLE_TRADING": "1"})
    assert "defaults to DATA_EXCHANGE" in keys["TRADING_EXCHANGE"]


def test_a_data_only_venue_has_its_data_url_setting_only():
    assert venue_env_keys(DATA_ONLY) == {"DATAONLY_DATA_URL": "data_url"}


def test_check_refuses_a_data_only_trading_venue_with_exit_2_before_any_request(
        monkeypatch, tmp_path, capsys):
    monkeypatch.chdir(tmp_path)
    for key, value in {"DATA_EXCHANGE": "dataonly", "TRADING_EXCHANGE": "dataonly",
                       "DATAONLY_DATA_URL": "http://127.0.0.1:9"}.items():
        monkeypatch.setenv(key, value)
    with pytest.raises(SystemExit) as stopped:
        main(["check"])
    err = capsys.readouterr().err
    assert stopped.value.code == 2
    assert "TRADING_EXCHANGE" in err and "serves market data only" in err


def test_the_trading_spec_of_a_data_only_venue_is_refused_by_name():
    with pytest.raises(NotTradable, match="Data Only"):
        DATA_ONLY.trading_spec()
