"""One word per mode (paper, demo, live; telegram, console) in the banner, `check` and alerts."""
from __future__ import annotations

import asyncio
import io

import pytest

from app import banner, preflight
from config import load_settings

KEYS = {"BINANCE_API_KEY": "k" * 16, "BINANCE_SECRET": "s" * 16,
        "BINANCE_API_KEY_DEMO": "d" * 16, "BINANCE_SECRET_DEMO": "e" * 16}


def _settings(**env):
    return load_settings(env, dotenv_path=None)


@pytest.mark.parametrize("env, mode", [
    ({}, "paper"),
    ({"ENABLE_TRADING": "1", "DEMO_TRADING": "1", **KEYS}, "demo"),
    ({"ENABLE_TRADING": "1", "DEMO_TRADING": "0", "CONFIRM_LIVE_TRADING": "yes", **KEYS}, "live"),
])
def test_the_banner_alerts_and_status_name_each_mode_with_the_same_word(env, mode):
    s = _settings(**env)
    assert banner.trading_mode(s) == banner.alert_mode(s) == mode
    [trading] = [l for l in banner.describe(s) if l.startswith("trading instance:")]
    assert trading.split()[2] == mode


def test_paper_is_what_enable_trading_0_does_and_alerts_name_their_channel():
    s = _settings()
    lines = banner.describe(s)
    assert ("trading instance: paper (paper broker: simulated fills, fees 0.0005 per leg, "
            "slippage 0 bps, no orders sent)") in lines
    assert "alerts:           console" in lines
    with_bot = _settings(TELEGRAM_BOT_TOKEN="123456789:" + "AAExample" * 4,
                         TELEGRAM_CHAT_ID="1")
    assert "alerts:           telegram" in banner.describe(with_bot)


def test_live_says_real_money_next_to_its_mode_word():
    s = _settings(ENABLE_TRADING="1", DEMO_TRADING="0", CONFIRM_LIVE_TRADING="yes", **KEYS)
    assert any(l.startswith("trading instance: live on fapi.binance.com (REAL MONEY)")
               for l in banner.describe(s))


def test_check_uses_the_same_mode_words(monkeypatch):
    async def data_ok(settings):
        return [("data", True, "ok")]

    monkeypatch.setattr(preflight, "_data_probe", data_ok)
    # check() configures process-wide logging; other tests must keep the default.
    monkeypatch.setattr("app.logs.configure", lambda *a, **k: None)
    out = io.StringIO()
    assert asyncio.run(preflight.check(_settings(), out)) == 0
    lines = out.getvalue().splitlines()
    assert "skip trading instance: paper mode (ENABLE_TRADING=0), no exchange account used" \
        in lines
    assert "skip telegram: no TELEGRAM_BOT_TOKEN, alerts: console" in lines
    assert not [l for l in lines if "alerts only" in l or " off " in l or "LIVE" in l]


def test_the_banner_shows_the_position_size_in_full_not_cut_to_six_digits():
    lines = banner.describe(_settings(POSITION_SIZE="1234567.5"))
    assert "position size:    1234567.5 USDT margin x 20 leverage" in lines
