"""The timeframe grammar is parsed in one place; config, fetchers and alerts all agree with it."""
from __future__ import annotations

import pytest

from alerts.messages import tradingview_interval
from config.values import parse_timeframes
from domain.timeframe import DAY_MS, MINUTE_MS, Timeframe
from exchanges.binance import BINANCE
from fetchers.timeframes import plan as venue_plan


def plan(text: str):
    """The plan over Binance's native timeframes."""
    return venue_plan(text, BINANCE.native_timeframes)


VALID = ["1m", "25m", "1439m", "1h", "7h", "23h", "1d", "3d", "1w", "1M"]
INVALID = ["", "m", "0m", "05m", "1440m", "24h", "2d", "2w", "3M", "1H", "1D", "1x", "1.5h",
           " 1h", "-1m"]


@pytest.mark.parametrize("text", VALID)
def test_a_valid_timeframe_parses_to_its_parts_and_length(text):
    tf = Timeframe.parse(text)
    assert tf.text == text and f"{tf.count}{tf.unit}" == text
    assert tf.ms == tf.count * {"m": MINUTE_MS, "h": 60 * MINUTE_MS, "d": DAY_MS,
                                "w": 7 * DAY_MS, "M": 30 * DAY_MS}[tf.unit]
    assert tf.is_native_long == (text in ("1d", "3d", "1w", "1M"))


@pytest.mark.parametrize("text", INVALID)
def test_an_unsupported_timeframe_is_refused_with_what_is_allowed(text):
    with pytest.raises(ValueError, match="timeframe"):
        Timeframe.parse(text)


def test_a_timeframe_must_be_text():
    with pytest.raises(TypeError):
        Timeframe.parse(15)  # type: ignore[arg-type]


@pytest.mark.parametrize("text", VALID + INVALID)
def test_config_and_fetchers_accept_exactly_what_the_grammar_accepts(text):
    def accepts(parse) -> bool:
        try:
            parse(text)
            return True
        except ValueError:
            return False

    grammar = accepts(Timeframe.parse)
    # The setting strips spaces around each item of the comma-separated list.
    assert accepts(parse_timeframes) == (grammar or accepts(lambda t: Timeframe.parse(t.strip())))
    assert accepts(plan) == grammar
    if grammar:
        assert plan(text).bucket_ms == Timeframe.parse(text).ms


def test_tradingview_interval_follows_the_parsed_timeframe():
    assert [tradingview_interval(t) for t in ("90m", "7h", "1d", "3d", "1w", "1M")] == \
        ["90", "420", "D", "3D", "W", "M"]
