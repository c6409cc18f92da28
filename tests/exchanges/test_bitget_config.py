"""Bitget in the configuration: its keys with their passphrase, demo on the production host
behind the PAPTRADING header (not live), live only when confirmed, the banner naming venue and
host; the venue's data (client ids, timeframes, paging window)."""
from __future__ import annotations

import re

import pytest

from app import banner
from exchanges.bitget import (
    BITGET,
    DAY_MS,
    ERROR_CODES,
    HISTORY_MAX_ROWS,
    MAX_SPAN_MS,
    page_window,
    recent_edge,
    symbol_id,
)
from exchanges.bitget_client import candle_rows
from exchanges.registry import get_venue
from exchanges.retry import MalformedResponse
from exchanges.venue import ErrorKind, Reason
from tests.config_env import load, problems
from tests.shared_data import REPO

DEMO = dict(TRADING_EXCHANGE="bitget", ENABLE_TRADING="1", DEMO_TRADING="1")
MIN = 60_000


def test_bitget_is_registered_with_its_venue_data():
    venue = get_venue("Bitget")
    assert venue is BITGET and venue.needs_passphrase and venue.has_demo
    assert not venue.demo_by_host  # a header, not a host, makes a request demo
    ids = venue.trading_spec().client_ids
    assert ids is not None and ids.accepts("a_1" * 10) and not ids.accepts("a" * 33)
    assert not ids.accepts("abc-def") and ids.refuses_duplicates
    assert symbol_id("BTC/USDT") == symbol_id("BTC/USDT:USDT") == "BTCUSDT"
    assert venue.chart_symbol("BTC/USDT") == "BITGET:BTCUSDT.P"


def test_every_native_page_fits_one_request():
    # 200 rows of the longest native granularity stay inside the 90 days one request may span.
    longest = max(BITGET.native_timeframes, key=lambda tf: int(tf[:-1]) * (
        {"m": 1, "h": 60}[tf[-1]]))
    assert longest == "6h" and BITGET.max_page == HISTORY_MAX_ROWS
    assert HISTORY_MAX_ROWS * 6 * 60 * MIN < MAX_SPAN_MS


def test_the_code_table_reads_what_ccxt_leaves_loose():
    assert ERROR_CODES[40786].reason is Reason.DUPLICATE_CLIENT_ID
    assert ERROR_CODES[43025].reason is Reason.NOT_FOUND  # ccxt: InvalidOrder
    assert ERROR_CODES[40917].reason is Reason.WOULD_TRIGGER_IMMEDIATELY
    assert ERROR_CODES[40010].kind is ErrorKind.TRANSIENT  # ccxt: AuthenticationError
    assert ERROR_CODES[429].kind is ErrorKind.RATE_LIMITED


def test_a_forward_page_ends_limit_candles_after_since():
    first, end = page_window(MIN, since=10 * MIN + 5, until=None, limit=200, now_ms=10**12)
    assert first == 11 * MIN and end == first + 200 * MIN - 1  # the 200th opens before end


def test_a_backward_page_ends_at_until_or_now():
    assert page_window(MIN, since=None, until=500 * MIN, limit=3, now_ms=10**12) == (
        498 * MIN, 500 * MIN)
    assert page_window(MIN, since=None, until=None, limit=1, now_ms=42 * MIN + 7) == (
        42 * MIN, 42 * MIN + 7)


def test_the_recent_endpoint_window_has_a_day_of_margin():
    assert recent_edge(100 * DAY_MS, "1m") == 71 * DAY_MS
    assert recent_edge(100 * DAY_MS, "15m") == 49 * DAY_MS


def test_bitget_keys_need_their_passphrase_demo_ones_included():
    found = problems(**DEMO, BITGET_API_KEY_DEMO="k", BITGET_SECRET_DEMO="s")
    assert set(found) == {"BITGET_PASSPHRASE_DEMO"}
    found = problems(BITGET_API_KEY="k", BITGET_SECRET="s")
    assert set(found) == {"BITGET_PASSPHRASE"} and "'k'" not in found["BITGET_PASSPHRASE"]


@pytest.mark.parametrize("url", ["https://api.bitget.com", ""])
def test_demo_on_the_bitget_production_host_is_demo_not_live(url):
    assert BITGET.is_production_host("https://api.bitget.com")
    s = load(**DEMO, BITGET_API_KEY_DEMO="k", BITGET_SECRET_DEMO="s", BITGET_PASSPHRASE_DEMO="p",
             **({"BITGET_TRADING_URL": url} if url else {}))
    assert s.demo_trading and not s.live_trading and s.signing_pair == "BITGET_API_KEY_DEMO"


def test_live_bitget_needs_the_confirmation_and_the_production_keys():
    live = dict(TRADING_EXCHANGE="bitget", ENABLE_TRADING="1", DEMO_TRADING="0")
    assert {"CONFIRM_LIVE_TRADING", "BITGET_API_KEY"} <= set(problems(**live))
    s = load(**live, CONFIRM_LIVE_TRADING="yes", BITGET_API_KEY="k", BITGET_SECRET="s",
             BITGET_PASSPHRASE="p")
    assert s.live_trading and s.signing_pair == "BITGET_API_KEY"


def test_the_banner_names_bitget_and_its_host():
    demo = load(**DEMO, DATA_EXCHANGE="bitget", BITGET_API_KEY_DEMO="k",
                BITGET_SECRET_DEMO="s", BITGET_PASSPHRASE_DEMO="p")
    lines = "\n".join(banner.describe(demo))
    assert "demo on api.bitget.com, venue bitget" in lines and "REAL MONEY" not in lines


def test_env_example_lists_the_bitget_keys_commented():
    text = (REPO / ".env.example").read_text()
    listed = set(re.findall(r"^# (BITGET_[A-Z_]+)=$", text, flags=re.M))
    assert listed == {"BITGET_API_KEY", "BITGET_SECRET", "BITGET_PASSPHRASE",
                      "BITGET_API_KEY_DEMO", "BITGET_SECRET_DEMO", "BITGET_PASSPHRASE_DEMO",
                      "BITGET_DATA_URL", "BITGET_TRADING_URL"}


def test_candle_rows_are_read_oldest_first_with_the_base_volume():
    payload = {"code": "00000", "data": [["120000", "2", "3", "1", "2.5", "10", "25"],
                                         ["60000", "1", "2", "0.5", "2", "4", "8"]]}
    assert candle_rows(payload) == [[60000, 1.0, 2.0, 0.5, 2.0, 4.0],
                                    [120000, 2.0, 3.0, 1.0, 2.5, 10.0]]
    assert candle_rows("") == []
    with pytest.raises(MalformedResponse):
        candle_rows({"code": "00000", "data": None})
