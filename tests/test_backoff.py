"""The shared retry utility, on a fake clock: delays, jitter, Retry-After, stop conditions."""
from __future__ import annotations

import asyncio
import random

import pytest

from domain.backoff import Backoff, Failure, Jitter, Stopped, retry, sleep_unless
from tests.fetchers.conftest import FakeClock


class Flaky(Exception):
    """A retryable failure, optionally carrying a Retry-After hint."""

    def __init__(self, retry_after_s: float | None = None) -> None:
        super().__init__("flaky")
        self.retry_after_s = retry_after_s


class Fatal(Exception):
    """A failure that must never be retried."""


def failing(*errors: Exception, result: str = "ok"):
    """An async call raising `errors` one per call, then returning `result`; counts calls."""
    queue = list(errors)

    async def call() -> str:
        call.count += 1
        if queue:
            raise queue.pop(0)
        return result

    call.count = 0
    return call


def is_flaky(error: Exception) -> bool:
    return isinstance(error, Flaky)


async def test_delays_grow_by_the_factor_from_the_base_up_to_the_cap():
    clock = FakeClock()
    call = failing(*[Flaky() for _ in range(8)])
    assert await retry(call, backoff=Backoff(base_s=1, factor=2, cap_s=20), retry_on=is_flaky,
                       sleep=clock.sleep, clock=clock) == "ok"
    assert clock.sleeps == [1, 2, 4, 8, 16, 20, 20, 20]
    assert call.count == 9


def test_the_cap_holds_after_thousands_of_failures():
    b = Backoff(base_s=0.5, factor=3, cap_s=8)
    assert [b.delay(n) for n in (1, 2, 3, 4)] == [0.5, 1.5, 4.5, 8]
    assert b.delay(100_000) == 8  # no OverflowError


@pytest.mark.parametrize("jitter, low, high", [(Jitter.FULL, 0.0, 1.0),
                                                (Jitter.EQUAL, 0.5, 1.0)])
def test_jitter_stays_within_its_bounds_and_varies(jitter, low, high):
    b = Backoff(base_s=1, factor=2, cap_s=30, jitter=jitter, rng=random.Random(3))
    for n in range(1, 12):
        ceiling = b.ceiling(n)
        ratios = [b.delay(n) / ceiling for _ in range(50)]
        assert all(low <= r <= high for r in ratios)
        assert len({round(r, 6) for r in ratios}) > 40


def test_decorrelated_jitter_stays_between_base_and_three_times_the_previous_delay():
    b = Backoff(base_s=1, factor=2, cap_s=30, jitter=Jitter.DECORRELATED, rng=random.Random(5))
    previous = None
    for n in range(1, 40):
        d = b.delay(n, previous)
        assert 1 <= d <= min(30, 3 * (previous or 1))
        previous = d


async def test_decorrelated_jitter_is_fed_the_previous_delay_by_the_loop():
    clock = FakeClock()
    b = Backoff(base_s=1, factor=2, cap_s=1000, jitter=Jitter.DECORRELATED,
                rng=random.Random(11))
    await retry(failing(*[Flaky() for _ in range(10)]), backoff=b, retry_on=is_flaky,
                sleep=clock.sleep, clock=clock)
    previous = [1.0] + clock.sleeps[:-1]
    assert all(1 <= d <= 3 * p for d, p in zip(clock.sleeps, previous))
    assert max(clock.sleeps) > 3  # it does grow past what base alone allows


async def test_retry_after_overrides_the_backoff_exactly_and_unjittered():
    clock = FakeClock()
    b = Backoff(base_s=1, factor=2, cap_s=4, jitter=Jitter.FULL, rng=random.Random(1))
    call = failing(Flaky(retry_after_s=7), Flaky(retry_after_s=0.25), Flaky())
    await retry(call, backoff=b, retry_on=is_flaky, sleep=clock.sleep, clock=clock)
    assert clock.sleeps[:2] == [7, 0.25]  # longer than the cap, shorter than the backoff
    assert 0 <= clock.sleeps[2] <= 4


async def test_a_custom_hint_reads_another_attribute():
    clock = FakeClock()

    class Limited(Exception):
        retry_after = 13.0

    await retry(failing(Limited()), backoff=Backoff(), retry_on=lambda e: True,
                hint=lambda e: getattr(e, "retry_after", None), sleep=clock.sleep, clock=clock)
    assert clock.sleeps == [13.0]


async def test_gives_up_after_the_attempts_with_the_last_error():
    clock = FakeClock()
    errors = [Flaky() for _ in range(10)]
    call = failing(*errors)
    with pytest.raises(Flaky) as caught:
        await retry(call, backoff=Backoff(base_s=1), retry_on=is_flaky, attempts=3,
                    sleep=clock.sleep, clock=clock)
    assert caught.value is errors[2] and call.count == 3 and clock.sleeps == [1, 2]


async def test_a_wait_that_would_overrun_the_budget_is_not_started():
    clock = FakeClock()
    call = failing(*[Flaky() for _ in range(10)])
    with pytest.raises(Flaky):
        await retry(call, backoff=Backoff(base_s=1), retry_on=is_flaky, budget_s=10,
                    sleep=clock.sleep, clock=clock)
    assert clock.sleeps == [1, 2, 4]  # 1+2+4 = 7; a wait of 8 would end at 15 > 10
    assert call.count == 4


async def test_a_retry_after_beyond_the_deadline_gives_up_at_once():
    clock = FakeClock()
    call = failing(Flaky(retry_after_s=120))
    with pytest.raises(Flaky):
        await retry(call, backoff=Backoff(), retry_on=is_flaky, deadline=clock() + 60,
                    sleep=clock.sleep, clock=clock)
    assert clock.sleeps == [] and call.count == 1


async def test_a_non_retryable_error_propagates_at_once():
    clock = FakeClock()
    call = failing(Flaky(), Fatal("no"))
    seen: list[Failure] = []
    with pytest.raises(Fatal):
        await retry(call, backoff=Backoff(base_s=1), retry_on=is_flaky, attempts=10,
                    on_failure=seen.append, sleep=clock.sleep, clock=clock)
    assert call.count == 2 and clock.sleeps == [1] and len(seen) == 1


async def test_on_failure_reports_each_failure_and_marks_the_last_one_final():
    clock = FakeClock()
    seen: list[Failure] = []
    with pytest.raises(Flaky):
        await retry(failing(Flaky(), Flaky(retry_after_s=3), Flaky()),
                    backoff=Backoff(base_s=1), retry_on=is_flaky, attempts=3,
                    on_failure=seen.append, sleep=clock.sleep, clock=clock)
    assert [(f.attempt, f.delay_s, f.hinted, f.final) for f in seen] == [
        (1, 1, False, False), (2, 3, True, False), (3, 4, False, True)]
    assert [f.elapsed_s for f in seen] == [0, 1, 4]


async def test_a_stop_during_a_wait_ends_it_at_once_with_stopped():
    stop = asyncio.Event()
    errors = [Flaky() for _ in range(3)]
    # Real sleep: a one-hour backoff that only the stop event can cut short.
    task = asyncio.create_task(retry(failing(*errors), backoff=Backoff(base_s=3600),
                                     retry_on=is_flaky, stop=stop))
    await asyncio.sleep(0.01)
    stop.set()
    with pytest.raises(Stopped) as caught:
        await asyncio.wait_for(task, 1.0)
    assert caught.value.__cause__ is errors[0]


async def test_retry_forever_until_stopped_calls_again_after_each_wait():
    clock = FakeClock()
    stop = asyncio.Event()
    calls = 0

    async def call() -> None:
        nonlocal calls
        calls += 1
        if calls == 5:
            stop.set()  # e.g. SIGTERM arrives while the fifth try fails
        raise Flaky()

    with pytest.raises(Stopped):
        await retry(call, backoff=Backoff(base_s=1, cap_s=4), retry_on=is_flaky, stop=stop,
                    sleep=clock.sleep, clock=clock)
    assert calls == 5 and clock.sleeps == [1, 2, 4, 4]


async def test_success_returns_the_value_without_waiting():
    clock = FakeClock()
    assert await retry(failing(result="x"), backoff=Backoff(), retry_on=is_flaky,
                       sleep=clock.sleep, clock=clock) == "x"
    assert clock.sleeps == []


async def test_cancellation_is_never_retried():
    calls = 0

    async def call() -> None:
        nonlocal calls
        calls += 1
        raise asyncio.CancelledError()

    with pytest.raises(asyncio.CancelledError):
        await retry(call, backoff=Backoff(), retry_on=lambda e: True)
    assert calls == 1


def test_invalid_backoff_shapes_are_refused():
    with pytest.raises(ValueError):
        Backoff(factor=0.5)
    with pytest.raises(ValueError):
        Backoff(base_s=-1)


async def test_sleep_unless_waits_the_whole_time_without_an_event():
    clock = FakeClock()
    assert await sleep_unless(5, asyncio.Event(), sleep=clock.sleep) is False
    assert clock.sleeps == [5]


async def test_sleep_unless_returns_early_when_an_event_is_set():
    stop, wake = asyncio.Event(), asyncio.Event()
    task = asyncio.create_task(sleep_unless(3600, stop, wake))
    await asyncio.sleep(0.01)
    wake.set()
    assert await asyncio.wait_for(task, 1.0) is True


async def test_sleep_unless_does_not_sleep_when_already_stopped():
    clock = FakeClock()
    stop = asyncio.Event()
    stop.set()
    assert await sleep_unless(5, stop, sleep=clock.sleep) is True
    assert clock.sleeps == []
