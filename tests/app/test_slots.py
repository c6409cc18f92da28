"""Scheduler triggers fire just after each candle close, day-aligned in UTC."""
from __future__ import annotations

from datetime import datetime

import pytest
from apscheduler.triggers.cron import CronTrigger

from app.slots import (
    UTC,
    CandleCloseTrigger,
    candle_end,
    candle_open_before,
    fire_times,
    last_close,
    trigger_for,
    utc_ms,
)


def _t(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


@pytest.mark.parametrize("tf,expected", [
    ("15m", ["23:15:02", "23:30:02", "23:45:02", "00:00:02"]),
    ("1h", ["00:00:02", "01:00:02", "02:00:02", "03:00:02"]),
    ("25m", ["23:20:02", "23:45:02", "00:00:02", "00:25:02"]),  # 23:45 bucket is cut at midnight
    ("7h", ["00:00:02", "07:00:02", "14:00:02", "21:00:02"]),
])
def test_fires_fetch_delay_after_each_close(tf, expected):
    times = fire_times(trigger_for(tf, 2), _t(2024, 1, 1, 23, 14, 59), 4)
    assert [t.strftime("%H:%M:%S") for t in times] == expected


def test_cron_where_cron_can_say_it_and_candle_trigger_elsewhere():
    assert isinstance(trigger_for("15m", 2), CronTrigger)
    assert isinstance(trigger_for("4h", 2), CronTrigger)
    assert isinstance(trigger_for("25m", 2), CandleCloseTrigger)
    assert isinstance(trigger_for("15m", 2.5), CandleCloseTrigger)  # cron has whole seconds


def test_fractional_delay_is_kept():
    [first] = fire_times(trigger_for("1m", 1.5), _t(2024, 1, 1, 0, 0, 30), 1)
    assert first == _t(2024, 1, 1, 0, 1, 1, 500_000)


def test_weekly_and_monthly_closes_follow_binance():
    assert fire_times(trigger_for("1w", 2), _t(2024, 1, 3), 1) == [_t(2024, 1, 8, 0, 0, 2)]
    assert fire_times(trigger_for("1M", 2), _t(2024, 2, 10), 1) == [_t(2024, 3, 1, 0, 0, 2)]
    assert candle_end("1M", utc_ms(_t(2024, 12, 1))) == utc_ms(_t(2025, 1, 1))


def test_the_candle_a_slot_waits_for():
    close = utc_ms(_t(2024, 1, 2))
    assert candle_open_before("25m", close) == utc_ms(_t(2024, 1, 1, 23, 45))  # 15 min long
    assert candle_open_before("15m", close) == utc_ms(_t(2024, 1, 1, 23, 45))
    assert last_close("25m", utc_ms(_t(2024, 1, 2, 0, 24, 59))) == close
    assert last_close("25m", utc_ms(_t(2024, 1, 2, 0, 25))) == utc_ms(_t(2024, 1, 2, 0, 25))
