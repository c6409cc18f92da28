"""What a sweep moves and merges: pooled metrics equal to backtest.metrics to the bit, candles
through the shared-memory arena, a task's results packed and unpacked."""
from __future__ import annotations

import os

import numpy as np
import pytest

from backtest import arena, metrics
from backtest.calendar import covered_days
from backtest.pooled import pooled, pooled_ranges
from backtest.sweep_work import Batch, Digest

DAY = 86_400_000
START = 1_735_689_600_000


def files(rng: np.random.Generator, count: int, grid: int, sort: bool) -> list[tuple]:
    """Per file (exit_time, pnl, fees): exits on a `grid` of ms (1: anywhere), often tied."""
    out = []
    for _ in range(count):
        n = int(rng.integers(0, 60))
        exits = START + grid * rng.integers(0, 30 * DAY // grid, n)
        exits = np.sort(exits) if sort else exits
        pnl = np.round(rng.normal(0, 5, n), int(rng.integers(0, 3)))  # zeros and ties too
        out.append((exits.astype(np.int64), pnl, np.abs(rng.normal(0, 0.1, n))))
    return out


@pytest.mark.parametrize(("grid", "sort"), [(900_000, True), (900_000, False), (1, True),
                                            (1, False), (7, True)])
def test_pooled_figures_equal_the_metrics_of_the_joined_trades_bit_for_bit(grid, sort):
    rng = np.random.default_rng(grid + sort)
    for _ in range(30):
        parts = files(rng, int(rng.integers(1, 8)), grid, sort)
        args = [np.concatenate([p[k] for p in parts]) for k in range(3)]
        days = covered_days([(START, START + 20 * DAY), (START + 25 * DAY, START + 28 * DAY)])
        want = metrics.summarize_arrays(*args, 123, START, START + 28 * DAY, days)
        got = pooled(*args, 123, START, START + 28 * DAY, days)
        assert repr(got) == repr(want)  # same keys, same order, same bits (-0.0 included)
        # The same trades as ranges of larger arrays, other trades around and between them.
        noise = files(rng, len(parts) + 1, grid, sort)
        pieces = [x for pair in zip(noise, [*parts, None]) for x in pair if x is not None]
        sizes = np.array([p[0].size for p in pieces])
        stops = np.cumsum(sizes)[1::2]
        wide = [np.concatenate([p[k] for p in pieces]) for k in range(3)]
        ranged = pooled_ranges(*wide, stops - sizes[1::2], stops, 123, START,
                               START + 28 * DAY, days)
        assert repr(ranged) == repr(want)


def test_pooled_figures_of_no_trades():
    empty = (np.empty(0, np.int64), np.empty(0), np.empty(0), 0, START, START + DAY,
             covered_days([(START, START + DAY)]))
    assert repr(pooled(*empty)) == repr(metrics.summarize_arrays(*empty))


def test_a_batch_gives_back_its_digests_in_order():
    digests = [Digest(np.array([5, 9], np.int64), np.array([1.5, -2.0]), np.array([0.1, 0.2]),
                      7, 0, 10, 3),
               Digest(np.empty(0, np.int64), np.empty(0), np.empty(0), 0, 0, 10, 3),
               Digest(np.array([4], np.int64), np.array([0.25]), np.array([0.3]), 1, 2, 12, 4)]
    back = Batch.pack(digests).digests()
    assert len(back) == 3
    for a, b in zip(digests, back, strict=True):
        assert (a.held, a.start_ms, a.end_ms, a.candles) == (b.held, b.start_ms, b.end_ms,
                                                             b.candles)
        for name in ("exit_time", "pnl", "fees"):
            assert np.array_equal(getattr(a, name), getattr(b, name))
            assert getattr(a, name).dtype == getattr(b, name).dtype


def test_a_batch_splits_into_the_batches_of_consecutive_tasks():
    d = [Digest(np.arange(k, dtype=np.int64), np.full(k, k + 0.5), np.full(k, k / 10), k, k, 9, 1)
         for k in (2, 0, 3, 1, 0)]
    parts = Batch.pack(d).split([2, 0, 3])
    assert [len(p.digests()) for p in parts] == [2, 0, 3]
    for got, want in zip([x for p in parts for x in p.digests()], d, strict=True):
        assert np.array_equal(got.exit_time, want.exit_time)
        assert np.array_equal(got.pnl, want.pnl) and np.array_equal(got.fees, want.fees)
        assert got.held == want.held


def test_batches_join_into_one_in_a_kept_buffer_that_grows_when_too_small():
    from backtest.sweep import Joined
    d = [Digest(np.arange(k, dtype=np.int64), np.full(k, k + 0.5), np.full(k, -k / 10), k, k, 9,
                k + 1) for k in (2, 0, 3, 1)]
    want = Batch.pack(d)
    kept = Joined()
    joined = Batch.join(Batch.pack(d).split([1, 0, 3]) + [Batch.pack([])], kept.room)
    space = kept.space
    for name in ("meta", "exit_time", "money"):
        assert np.array_equal(getattr(joined, name), getattr(want, name))
        assert np.shares_memory(getattr(joined, name), space)
    again = Batch.join([Batch.pack(d[:2])], kept.room)
    assert kept.space is space and np.array_equal(again.money, Batch.pack(d[:2]).money)
    Batch.join([want, want], kept.room)
    assert kept.space.size > space.size
    assert Batch.join([]).exit_time.size == 0


def test_chunks_hand_out_every_task_once_costliest_first_and_shrink():
    from backtest.sweep_work import chunked
    costs = [5, 1, 9, 3, 3, 7, 2, 8, 4, 6] * 10
    plan = chunked(costs, 2)
    flat = [i for chunk in plan for i in chunk]
    assert sorted(flat) == list(range(len(costs)))
    assert [costs[i] for i in flat] == sorted(costs, reverse=True)
    sums = [sum(costs[i] for i in chunk) for chunk in plan]
    assert [len(c) for c in plan[:2]] == [1, 1]  # each worker starts at once
    assert sums[2] >= (sum(costs) - sums[0] - sums[1]) / 4 and sums[-1] == min(costs)
    assert max(sums[len(sums) // 2:]) < sums[2] / 4  # small last chunks: the workers end together
    assert len(plan) < len(costs) / 4  # far fewer messages than tasks
    assert chunked([], 2) == [] and chunked([4], 3) == [[0]]


@pytest.mark.skipif(not arena.available(), reason="no writable /dev/shm")
def test_candles_written_to_the_arena_read_back_in_place_and_the_file_goes_at_close():
    space = arena.Arena()
    cols = (np.arange(4, dtype=np.int64) * 60_000, *(np.linspace(1, 2, 4) + k for k in range(4)))
    more = (np.arange(3, dtype=np.int64), *(np.full(3, float(k)) for k in range(4)))
    space.reserve(5 * 8 * 7)
    first, second = space.write(0, cols), space.write(5 * 8 * 4, more)
    assert (first.path == second.path and os.stat(first.path).st_mode & 0o077 == 0)
    for slot, want in ((first, cols), (second, more)):
        got = slot.load()
        assert [a.dtype for a in got] == [np.int64] + [np.float64] * 4
        assert all(np.array_equal(a, b) for a, b in zip(got, want, strict=True))
        assert not got[1].flags.writeable
    space.reserve(5 * 8 * 7)  # big enough: the same file
    assert space.path == first.path
    space.reserve(10 * space.size)  # grows: a new file, the old one removed
    assert space.path != first.path and not os.path.exists(first.path)
    space.close()
    assert not os.path.exists(space.path)


@pytest.mark.skipif(not arena.available(), reason="no writable /dev/shm")
def test_an_arena_left_by_a_process_that_no_longer_runs_is_removed():
    pid = 2 ** 22 + 12_345  # above any pid this machine hands out
    stale = arena.SHM / f"{arena.PREFIX}{pid}-abc"
    stale.write_bytes(b"x")
    space = arena.Arena()
    space.reserve(1)
    try:
        assert not stale.exists()
    finally:
        space.close()
        stale.unlink(missing_ok=True)


@pytest.mark.skipif(not arena.available(), reason="no writable /dev/shm")
def test_a_parcel_brings_arrays_back_once_and_its_file_goes():
    space = arena.Arena()
    space.reserve(1)
    try:
        slot = arena.Slot(space.path, 0, 0)
        sent = (np.arange(6, dtype=np.int64).reshape(2, 3), np.empty((2, 0)),
                np.array([1.5, -0.0]), np.empty(0, np.int64))
        parcel = arena.Parcel.send(slot, sent)
        assert os.path.basename(parcel.path).startswith(f"{arena.PREFIX}{os.getpid()}-")
        got = parcel.receive()
        assert not os.path.exists(parcel.path)  # the arrays outlive the file
        for a, b in zip(sent, got, strict=True):
            assert a.dtype == b.dtype and a.shape == b.shape and np.array_equal(a, b)
        nothing = arena.Parcel.send(slot, (np.empty((0, 5), np.int64), np.empty(0)))
        assert [a.shape for a in nothing.receive()] == [(0, 5), (0,)]
        assert not os.path.exists(nothing.path)
    finally:
        space.close()


@pytest.mark.slow
@pytest.mark.skipif(not arena.available(), reason="no writable /dev/shm")
def test_a_failed_local_sweep_raises_and_leaves_no_file_in_shared_memory():
    from backtest.sweep_work import LocalExecutor
    from trading.rules import TradeRules
    good = (np.arange(50, dtype=np.int64) * 60_000, *(np.full(50, 1.0 + k) for k in range(4)))
    bad = (np.zeros(50, dtype=np.int64), *good[1:])  # timestamps not increasing
    groups = [((3, 3, "close"), [TradeRules()])]
    ex = LocalExecutor(2)
    with pytest.raises(ValueError, match="not after the previous"):
        ex.run([(good, 60_000, groups), (bad, 60_000, groups), (good, 60_000, groups)])
    assert list(arena.SHM.glob(f"{arena.PREFIX}{os.getpid()}-out-*")) == []
    assert len(ex.run([(good, 60_000, groups)])) == 1


@pytest.mark.slow
def test_without_shared_memory_the_tasks_carry_the_candles_and_give_the_same_batches(
        monkeypatch):
    from backtest.sweep_work import LocalExecutor, run_file
    from trading.rules import TradeRules
    rng = np.random.default_rng(3)
    close = 100 + np.cumsum(rng.normal(0, 1, 400))
    cols = (np.arange(400, dtype=np.int64) * 60_000, close, close + 1, close - 1, close)
    groups = [((3, 3, "close"), [TradeRules(), TradeRules(risk_reward=3.0)])]
    want = run_file(cols, 60_000, groups)
    monkeypatch.setattr(arena, "available", lambda *_: False)
    (got,) = LocalExecutor(2).run([(cols, 60_000, groups)])
    assert want.exit_time.size > 0
    for name in ("meta", "exit_time", "money"):
        assert np.array_equal(getattr(got, name), getattr(want, name))


def test_a_small_or_full_dev_shm_is_not_used(monkeypatch):
    """A container's 64 MB /dev/shm: the candles and their results would not fit, so the tasks
    carry the arrays (a full tmpfs kills a process that writes to its mapping)."""
    import collections

    from backtest import arena

    usage = collections.namedtuple("usage", "total used free")
    monkeypatch.setattr(arena.shutil, "disk_usage", lambda _: usage(64 << 20, 0, 64 << 20))
    assert not arena.available(140 << 20)
    monkeypatch.setattr(arena.shutil, "disk_usage", lambda _: usage(24 << 30, 0, 24 << 30))
    assert arena.available(140 << 20) == (arena.SHM.is_dir() and arena.os.access(arena.SHM,
                                                                                 arena.os.W_OK))


def test_an_arena_that_cannot_be_allocated_raises_and_leaves_no_file(monkeypatch):
    from backtest import arena

    if not arena.available():
        pytest.skip("no writable /dev/shm")

    def full(fd, offset, size):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(arena.os, "posix_fallocate", full)
    a = arena.Arena()
    with pytest.raises(OSError, match="No space"):
        a.reserve(1 << 20)
    assert a.path and not arena.Path(a.path).exists() and a.map is None


@pytest.mark.slow
@pytest.mark.parametrize("share", [1, 2, 1000])  # a chunk per worker, the default, one per task
@pytest.mark.parametrize("shared", [True, False])
def test_a_local_run_gives_each_task_its_own_batch_whatever_the_chunks(monkeypatch, share,
                                                                        shared):
    import pandas as pd

    from backtest import sweep_work
    from trading.rules import TradeRules
    rng = np.random.default_rng(share)
    frames = []
    for n in (300, 520, 80, 410, 300):  # unequal sizes: the chunks reorder the tasks
        close = 100 + np.cumsum(rng.normal(0, 1, n))
        frames.append(pd.DataFrame({"timestamp": np.arange(n, dtype=np.int64) * 60_000,
                                    "open": close, "high": close + 1, "low": close - 1,
                                    "close": close}))
    g1 = [((3, 3, "close"), [TradeRules(), TradeRules(risk_reward=3.0)])]
    g2 = [((2, 4, "wick"), [TradeRules(on_opposite="close")])]
    tasks = [(f, 60_000, g) for f in frames for g in (g1, g2)]  # two tasks on each file
    want = [sweep_work.run_file(*t) for t in tasks]
    monkeypatch.setattr(sweep_work, "SHARE", share)
    if not shared:
        monkeypatch.setattr(arena, "available", lambda *_: False)
    got = sweep_work.LocalExecutor(2).run(tasks)
    assert len(got) == len(tasks) and sum(b.exit_time.size for b in want) > 0
    for a, b in zip(got, want, strict=True):
        for name in ("meta", "exit_time", "money"):
            assert np.array_equal(getattr(a, name), getattr(b, name))
