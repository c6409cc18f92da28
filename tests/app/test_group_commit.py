"""GroupCommit: a burst of series commits in one transaction, each isolated in its savepoint."""
from __future__ import annotations

import asyncio
import sqlite3

import pytest

from app.group_commit import GroupCommit
from app.pipeline import Freshness, Stream
from store import Store

from ..choch.candles import random_candles

TF_MS = 60_000


class Counting:
    """The store's connection, counting the COMMITs it is asked for."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.commits = 0

    def transaction(self):
        outer = self.store.transaction()
        counter = self

        class Counted:
            def __enter__(self):
                return outer.__enter__()

            def __exit__(self, *exc):
                if exc[0] is None:
                    counter.commits += 1
                return outer.__exit__(*exc)

        return Counted()


def _kv(store: Store, key: str, value: str):
    def work():
        store.conn.execute("INSERT INTO kv (key, value) VALUES (?, ?)", (key, value))
        return key
    return work


async def test_the_commits_of_one_burst_share_one_transaction(tmp_path):
    store = Store(tmp_path / "s.db")
    counting = Counting(store)
    group = GroupCommit(counting.transaction)
    got = await asyncio.gather(*(group.run(_kv(store, f"k{i}", "v")) for i in range(50)))
    assert got == [f"k{i}" for i in range(50)]
    assert counting.commits == 1 and group.groups == 1
    assert store.conn.execute("SELECT COUNT(*) FROM kv WHERE key LIKE 'k%'").fetchone()[0] == 50
    store.close()


async def test_a_failing_commit_is_left_out_and_raises_in_its_caller_the_others_land(tmp_path):
    store = Store(tmp_path / "s.db")
    group = GroupCommit(store.transaction)

    def half_then_fail():
        store.conn.execute("INSERT INTO kv (key, value) VALUES ('half', 'x')")
        raise ValueError("series bug")

    got = await asyncio.gather(group.run(_kv(store, "a", "1")), group.run(half_then_fail),
                               group.run(_kv(store, "b", "2")), return_exceptions=True)
    assert got[0] == "a" and got[2] == "b" and isinstance(got[1], ValueError)
    keys = {r[0] for r in store.conn.execute("SELECT key FROM kv")}
    assert {"a", "b"} <= keys and "half" not in keys
    store.close()


async def test_a_failed_commit_fails_every_caller_and_writes_nothing(tmp_path):
    store = Store(tmp_path / "s.db")

    class FullDisk:
        def __enter__(self):
            store.conn.execute("BEGIN IMMEDIATE")

        def __exit__(self, *exc):
            store.conn.execute("ROLLBACK")
            raise sqlite3.OperationalError("database or disk is full")

    group = GroupCommit(FullDisk)
    got = await asyncio.gather(group.run(_kv(store, "a", "1")), group.run(_kv(store, "b", "2")),
                               return_exceptions=True)
    assert all(isinstance(g, sqlite3.OperationalError) for g in got)
    assert store.conn.execute("SELECT COUNT(*) FROM kv WHERE key IN ('a', 'b')").fetchone()[0] == 0
    store.close()


async def test_a_stream_whose_group_failed_keeps_its_detector_and_feeds_again(tmp_path):
    """The grouped path leaves the stream as it was when its commit fails: the same candles
    fed again give the signals a stream that never failed records."""
    df = random_candles(11, 400)
    df["volume"] = 1.0
    f = Freshness(TF_MS, 10**15, 30_000)

    def stream(store):
        return Stream(store, "BTC/USDT", "1m", 2, 2, "close", f, lambda *a: {"x": 1},
                      venue="binance")

    reference_store, store = Store(tmp_path / "r.db"), Store(tmp_path / "s.db")
    reference, s = stream(reference_store), stream(store)
    reference.feed(df.iloc[:200], 0)
    s.feed(df.iloc[:200], 0)
    want = reference.feed(df.iloc[200:], 10**13)
    step = s.prepare(df.iloc[200:], 10**13)
    assert step is not None

    def broken():
        raise sqlite3.OperationalError("disk I/O error")

    group = GroupCommit(store.transaction)
    with pytest.raises(sqlite3.OperationalError):
        await group.run(broken)
    assert s.last_ts == int(df["timestamp"].iloc[199])  # not applied
    step = s.prepare(df.iloc[200:], 10**13)
    got = s.apply(step, await group.run(step.commit))
    assert [r.event for r in got] == [r.event for r in want] and want
    reference_store.close()
    store.close()
