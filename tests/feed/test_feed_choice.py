"""Which feed the daemon uses: the stream only where the venue has one and its candles cannot
come from two different servers."""
from __future__ import annotations

import pytest

from app.feed import LiveFeed, NoStream, build_feed
from config import ConfigError, load_settings


class Rest:
    native_timeframes = ("1m", "5m", "15m", "1h")


def feed(**env):
    return build_feed(load_settings(env, dotenv_path=None), Rest())


def test_the_stream_is_used_on_production_data_by_default_and_rest_on_request():
    live = feed(DATA_EXCHANGE="bybit")
    assert isinstance(live, LiveFeed) and live.feed.url == "wss://stream.bybit.com/v5/public/linear"
    assert isinstance(feed(MARKET_DATA_FEED="rest"), NoStream)


def test_a_moved_rest_url_or_demo_data_needs_its_own_stream_url():
    assert isinstance(feed(BINANCE_DATA_URL="http://127.0.0.1:9"), NoStream)
    assert isinstance(feed(USE_REALTIME_DATA="0"), NoStream)
    live = feed(BINANCE_DATA_URL="http://127.0.0.1:9", BINANCE_WS_URL="ws://127.0.0.1:8")
    assert isinstance(live, LiveFeed) and live.feed.url == "ws://127.0.0.1:8"


def test_a_venue_without_a_stream_polls_rest_and_gate_streams():
    assert isinstance(feed(DATA_EXCHANGE="kucoin"), NoStream)
    live = feed(DATA_EXCHANGE="gate")
    assert isinstance(live, LiveFeed) and live.feed.url == "wss://fx-ws.gateio.ws/v4/ws/usdt"


def test_slot_jobs_wait_past_the_venues_publication_delay():
    assert feed().fallback_delay_s(2.0) == 4.0  # Binance publishes ~2 s after the close
    assert feed(MARKET_DATA_FEED="rest").fallback_delay_s(2.0) == 2.0


@pytest.mark.parametrize("env", [{"MARKET_DATA_FEED": "websocket"},
                                 {"OKX_WS_URL": "https://ws.okx.com"},
                                 {"BYBIT_WS_URL": "wss://user:pw@stream.bybit.com"}])
def test_bad_feed_settings_are_refused_by_name(env):
    with pytest.raises(ConfigError) as e:
        load_settings(env, dotenv_path=None)
    assert next(iter(env)) in str(e.value)
