"""OKX in the configuration: its keys with their passphrase, demo on the production host behind
a header (not live), live only when confirmed, the banner naming venue and host."""
from __future__ import annotations

import re

import pytest

from app import banner
from exchanges.okx import OKX
from exchanges.registry import get_venue
from tests.config_env import load, problems
from tests.shared_data import REPO

DEMO = dict(TRADING_EXCHANGE="okx", ENABLE_TRADING="1", DEMO_TRADING="1")


def test_okx_is_registered_with_its_venue_data():
    venue = get_venue("OKX")
    assert venue is OKX and venue.needs_passphrase and venue.has_demo
    ids = venue.trading_spec().client_ids
    assert ids is not None and ids.accepts("a" * 32) and not ids.accepts("a" * 33)
    assert not ids.accepts("abc-def")  # no '-' in a clOrdId
    assert not {"8h", "3d"} & set(venue.native_timeframes)


def test_okx_keys_need_their_passphrase_demo_ones_included():
    found = problems(**DEMO, OKX_API_KEY_DEMO="k", OKX_SECRET_DEMO="s")
    assert set(found) == {"OKX_PASSPHRASE_DEMO"}
    found = problems(OKX_API_KEY="k", OKX_SECRET="s")
    assert set(found) == {"OKX_PASSPHRASE"} and "'k'" not in found["OKX_PASSPHRASE"]


def test_okx_demo_keys_sign_demo_orders_and_stay_redacted():
    s = load(**DEMO, OKX_API_KEY_DEMO="dk-123456", OKX_SECRET_DEMO="ds-654321",
             OKX_PASSPHRASE_DEMO="dp-secret-99")
    keys = s.venue_keys("okx")
    assert (keys.api_key_demo, keys.secret_demo, keys.passphrase_demo) == (
        "dk-123456", "ds-654321", "dp-secret-99")
    assert s.signing_pair == "OKX_API_KEY_DEMO" and not s.live_trading
    assert not any(v in repr(s) + str(s.redacted())
                   for v in ("dk-123456", "ds-654321", "dp-secret-99"))


@pytest.mark.parametrize("url", ["https://www.okx.com", "https://aws.okx.com", ""])
def test_demo_on_the_okx_production_host_is_demo_not_live(url):
    # OKX's demo is www.okx.com plus x-simulated-trading: 1, so the host proves nothing.
    assert OKX.is_production_host("https://www.okx.com") and not OKX.demo_by_host
    s = load(**DEMO, OKX_API_KEY_DEMO="k", OKX_SECRET_DEMO="s", OKX_PASSPHRASE_DEMO="p",
             **({"OKX_TRADING_URL": url} if url else {}))
    assert s.demo_trading and not s.live_trading


def test_live_okx_needs_the_confirmation_and_the_production_keys():
    live = dict(TRADING_EXCHANGE="okx", ENABLE_TRADING="1", DEMO_TRADING="0")
    found = problems(**live)
    assert {"CONFIRM_LIVE_TRADING", "OKX_API_KEY"} <= set(found)
    s = load(**live, CONFIRM_LIVE_TRADING="yes", OKX_API_KEY="k", OKX_SECRET="s",
             OKX_PASSPHRASE="p")
    assert s.live_trading and s.signing_pair == "OKX_API_KEY"


def test_the_banner_names_okx_and_its_host():
    demo = load(**DEMO, DATA_EXCHANGE="binance", OKX_API_KEY_DEMO="k", OKX_SECRET_DEMO="s",
                OKX_PASSPHRASE_DEMO="p")
    lines = "\n".join(banner.describe(demo))
    assert "demo on www.okx.com, venue okx" in lines and "REAL MONEY" not in lines
    assert "from fapi.binance.com, venue binance" in lines
    live = load(TRADING_EXCHANGE="okx", DATA_EXCHANGE="okx", ENABLE_TRADING="1",
                DEMO_TRADING="0", CONFIRM_LIVE_TRADING="yes", OKX_API_KEY="k", OKX_SECRET="s",
                OKX_PASSPHRASE="p", OKX_TRADING_URL="http://127.0.0.1:9")
    lines = "\n".join(banner.describe(live))
    assert "live on 127.0.0.1:9 (REAL MONEY), venue okx" in lines
    assert "from www.okx.com, venue okx" in lines


def test_env_example_lists_the_okx_keys_commented():
    text = (REPO / ".env.example").read_text()
    listed = set(re.findall(r"^# (OKX_[A-Z_]+)=$", text, flags=re.M))
    assert listed == {"OKX_API_KEY", "OKX_SECRET", "OKX_PASSPHRASE", "OKX_API_KEY_DEMO",
                      "OKX_SECRET_DEMO", "OKX_PASSPHRASE_DEMO", "OKX_DATA_URL",
                      "OKX_TRADING_URL", "OKX_WS_URL"}
