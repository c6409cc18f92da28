"""A symbol names the coin's linear perpetual: USDT-quoted, or USD-quoted where a venue lists
only those; quantities and our symbols stay the same across the port."""
from __future__ import annotations

import dataclasses

from exchanges import universe as uni
from exchanges.binance import BINANCE

USD_QUOTED = dataclasses.replace(BINANCE, name="usdvenue", quote="USD", settle="USD")


def test_our_symbol_names_the_usd_quoted_perpetual_on_a_usd_venue_and_back():
    assert USD_QUOTED.ccxt_symbol("BTC/USDT") == "BTC/USD:USD"
    assert USD_QUOTED.our_symbol("BTC/USD:USD") == "BTC/USDT"
    assert BINANCE.ccxt_symbol("BTC/USDT") == "BTC/USDT:USDT"
    assert BINANCE.our_symbol("BTC/USDT:USDT") == "BTC/USDT"


def test_the_venue_shows_its_own_contract_beside_ours():
    assert USD_QUOTED.shown("BTC/USDT") == "BTC/USDT (BTCUSD perpetual)"
    assert BINANCE.shown("BTC/USDT") == "BTC/USDT"


def test_the_universe_of_a_usd_venue_holds_its_usd_perpetuals_under_our_names():
    markets = {
        "BTC/USD:USD": {"base": "BTC", "quote": "USD", "settle": "USD", "swap": True,
                        "linear": True, "id": "BTCUSD"},
        "ETH/USDT:USDT": {"base": "ETH", "quote": "USDT", "settle": "USDT", "swap": True,
                          "linear": True, "id": "ETHUSDT"},
    }

    def on_usd_venue(m):
        return uni.usdt_perpetual(m, USD_QUOTED.quote, USD_QUOTED.settle)

    assert uni.tradable_perpetuals(markets, on_usd_venue) == {"BTC/USDT": "BTCUSD"}
    assert uni.tradable_perpetuals(markets) == {"ETH/USDT": "ETHUSDT"}


def test_the_banner_names_the_usd_contract_behind_our_symbol(monkeypatch):
    from app.banner import describe
    from config import load_settings
    from exchanges import registry

    monkeypatch.setitem(registry.VENUES, USD_QUOTED.name, USD_QUOTED)
    s = load_settings({"DATA_EXCHANGE": "usdvenue", "SYMBOLS": "BTC/USDT"}, dotenv_path=None)
    assert any("BTC/USDT (BTCUSD perpetual)" in line for line in describe(s))


def test_the_alert_names_the_usd_contract_and_links_the_venues_chart(monkeypatch):
    from alerts.messages import plain, signal_text
    from app.pipeline import alert_payload
    from config import load_settings
    from exchanges import registry
    from tests.alerts.signals import DF, EVENTS

    venue = dataclasses.replace(USD_QUOTED, tradingview="DELTA")
    monkeypatch.setitem(registry.VENUES, venue.name, venue)
    s = load_settings({"DATA_EXCHANGE": "usdvenue", "SYMBOLS": "BTC/USDT"}, dotenv_path=None)
    payload = alert_payload(s, "BTC/USDT", "15m", EVENTS[0], DF)
    text = plain(signal_text(payload, EVENTS[0].confirmed_at, late_after_s=120))
    assert "BTC/USDT (BTCUSD perpetual) · 15m" in text
    assert "symbol=DELTA:BTCUSD.P&interval=15" in text
    usdt = alert_payload(load_settings({"SYMBOLS": "BTC/USDT"}, dotenv_path=None),
                         "BTC/USDT", "15m", EVENTS[0], DF)
    assert "shown" not in usdt and usdt["chart"] == "BINANCE:BTCUSDT.P"
