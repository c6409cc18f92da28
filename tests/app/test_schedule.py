"""Jobs on a replay venue's clock: each candle close fires once, at the host time the venue's
clock shows it; a real venue's triggers are not wrapped."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

from structlog.testing import capture_logs

from app.schedule import VenueTimeTrigger
from app.slots import fire_times, trigger_for
from exchanges.replay_clock import ReplayClock

T0 = 1_769_918_400_000  # 2026-02-01 04:00 UTC
SPEED = 120.0


def clock(wall0: float = 1_000_000.0) -> ReplayClock:
    return ReplayClock(T0, SPEED, T0 + 86_400_000, wall=lambda: wall0)


def venue(dt: datetime, c: ReplayClock) -> datetime:
    return datetime.fromtimestamp(round(c.venue_at(dt.timestamp())) / 1000, UTC)


def test_each_close_fires_once_at_the_host_time_the_venue_shows_it():
    c = clock()
    trigger = VenueTimeTrigger(trigger_for("5m", 2.0), c)
    start = datetime.fromtimestamp(c.wall0, UTC)
    fires = fire_times(trigger, start, 6)
    shown = [venue(f, c).strftime("%H:%M:%S") for f in fires]
    assert shown == ["04:00:02", "04:05:02", "04:10:02", "04:15:02", "04:20:02", "04:25:02"]
    gaps = {round((b - a).total_seconds(), 3) for a, b in zip(fires, fires[1:])}
    assert gaps == {300 / SPEED}  # a 5m candle every 2.5 host seconds


def test_an_earlier_fire_time_passed_back_never_fires_the_same_close_again():
    c = clock()
    trigger = VenueTimeTrigger(trigger_for("15m", 2.0), c)
    now = datetime.fromtimestamp(c.wall0, UTC)
    first = trigger.get_next_fire_time(None, now)
    second = trigger.get_next_fire_time(first, first + timedelta(seconds=30))
    # APScheduler asks again from the run time it already ran (its catch-up loop does).
    again = trigger.get_next_fire_time(first, second - timedelta(microseconds=1))
    assert first < second == again


def test_past_the_end_of_the_history_the_job_has_no_next_run():
    c = ReplayClock(T0, SPEED, T0 + 10 * 60_000, wall=lambda: 0.0)
    trigger = VenueTimeTrigger(trigger_for("5m", 2.0), c)
    fires = [trigger.get_next_fire_time(None, datetime.fromtimestamp(0.0, UTC))]
    with capture_logs() as logs:
        while fires[-1] is not None:
            fires.append(trigger.get_next_fire_time(fires[-1], fires[-1]))
        assert trigger.get_next_fire_time(fires[-2], fires[-2]) is None
    assert [e["event"] for e in logs] == ["venue_history_ended"]  # said once
    # 04:10:02 would come after the last candle's close (04:10:00): never.
    assert [venue(f, c).strftime("%H:%M:%S") for f in fires[:-1]] == ["04:00:02", "04:05:02"]


def test_a_daemon_on_a_real_venue_has_no_venue_clock():
    from exchanges.ccxt_market_data import CcxtMarketData

    assert not hasattr(CcxtMarketData, "venue_clock")
