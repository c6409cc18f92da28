"""The replay venue's clock: history's time, running `speed` times faster than the host's.

Venue time is a straight line over host (wall) time: `start + (wall - wall0) * speed`, stopped
at `end` (the close of the last candle served). Both directions are exact functions, so the
daemon's scheduler can turn a candle close in venue time into the host time it fires at
(`wall_at`) and back (`venue_at`); see app/schedule.py.
"""
from __future__ import annotations

import time
from collections.abc import Callable


class ReplayClock:
    """History's clock, accelerated: venue ms from host seconds, and the way back."""

    def __init__(self, start_ms: int, speed: float, end_ms: int,
                 wall: Callable[[], float] = time.time) -> None:
        if not speed > 0:
            raise ValueError(f"replay speed must be above 0, got {speed!r}")
        if end_ms < start_ms:
            raise ValueError("the replay ends before it starts")
        self.start_ms, self.speed, self.end_ms = int(start_ms), float(speed), int(end_ms)
        self.wall = wall
        self.wall0 = wall()  # host time at which the venue's clock shows start_ms

    def venue_at(self, wall_s: float) -> float:
        """Venue time (ms, not stopped at the end) at host time `wall_s` (seconds)."""
        return self.start_ms + (wall_s - self.wall0) * self.speed * 1000.0

    def wall_at(self, venue_ms: float) -> float | None:
        """Host time (seconds) at which the venue's clock shows `venue_ms`; None past the end."""
        if venue_ms > self.end_ms:
            return None
        return self.wall0 + (venue_ms - self.start_ms) / 1000.0 / self.speed

    def now_ms(self) -> int:
        """The venue's clock now (ms), stopped at the end of the history."""
        return min(int(self.venue_at(self.wall())), self.end_ms)

    def now_s(self) -> float:
        """The venue's clock now in seconds: the daemon's clock while it replays."""
        return min(self.venue_at(self.wall()), float(self.end_ms)) / 1000.0

    @property
    def finished(self) -> bool:
        """True once the clock has reached the end of the history."""
        return self.venue_at(self.wall()) >= self.end_ms
