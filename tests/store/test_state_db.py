"""The state DB is checked before use, held by one daemon at a time, and watched while open."""
from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from store import StateDbBusy, StateDbError, StateLock, Store, check_state_db, open_exclusive

REPO = Path(__file__).resolve().parents[2]


def _filled_db(path: Path) -> Path:
    """A real state DB spread over many pages, closed (WAL checkpointed into the file)."""
    store = Store(path)
    with store.transaction():
        for i in range(3000):
            store.put(f"key-{i}", "x" * 100)
    store.close()
    return path


def test_a_new_path_and_a_healthy_db_pass(tmp_path):
    assert "new" in check_state_db(tmp_path / "sub" / "state.db")
    assert not (tmp_path / "sub").exists()  # checking creates nothing
    assert "integrity ok" in check_state_db(_filled_db(tmp_path / "state.db"))
    assert "memory" in check_state_db(":memory:")


def test_a_directory_is_refused(tmp_path):
    (tmp_path / "state.db").mkdir()
    with pytest.raises(StateDbError, match="is a directory"):
        check_state_db(tmp_path / "state.db")


def test_a_garbage_file_is_refused(tmp_path):
    (tmp_path / "state.db").write_bytes(b"not sqlite at all " * 100)
    with pytest.raises(StateDbError, match="not a usable SQLite database"):
        check_state_db(tmp_path / "state.db")


def test_a_partly_corrupt_db_is_refused_although_its_header_is_fine(tmp_path):
    path = _filled_db(tmp_path / "state.db")
    with open(path, "r+b") as f:  # page 1 (header, schema) intact; a data page overwritten
        f.seek(4096 * 20)
        f.write(bytes(range(256)) * 16)
    sqlite3.connect(path).execute("SELECT COUNT(*) FROM sqlite_master").fetchone()  # opens fine
    with pytest.raises(StateDbError, match="corrupt|not a usable"):
        check_state_db(path)


def test_a_db_from_a_newer_version_is_refused(tmp_path):
    path = _filled_db(tmp_path / "state.db")
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA user_version=999")
    conn.close()
    with pytest.raises(StateDbError, match="newer"):
        check_state_db(path)


def test_a_path_where_no_file_can_be_created_is_refused():
    with pytest.raises(StateDbError, match="cannot create /proc/choch-test.db"):
        check_state_db("/proc/choch-test.db")


def test_a_path_under_a_file_is_refused(tmp_path):
    (tmp_path / "file").write_text("")
    with pytest.raises(StateDbError, match="not a directory"):
        check_state_db(tmp_path / "file" / "state.db")


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes through any permission")
def test_a_read_only_directory_is_refused(tmp_path):
    path = _filled_db(tmp_path / "ro" / "state.db")
    os.chmod(path.parent, 0o555)
    try:
        with pytest.raises(StateDbError, match="not writable"):
            check_state_db(path)
        with pytest.raises(StateDbError, match="not writable"):
            check_state_db(tmp_path / "ro" / "other.db")
    finally:
        os.chmod(path.parent, 0o755)


def test_a_second_lock_on_the_same_db_is_refused_naming_the_holder(tmp_path):
    first, second = StateLock(tmp_path / "state.db"), StateLock(tmp_path / "state.db")
    first.acquire()
    holder = f"in use by another running daemon \\(pid {os.getpid()}\\)"
    with pytest.raises(StateDbBusy, match=holder):
        second.acquire()
    first.release()
    second.acquire()  # free again once released
    assert second.held
    second.release()


def test_open_exclusive_refuses_a_second_opener_and_memory_needs_no_lock(tmp_path):
    lock, store = open_exclusive(tmp_path / "state.db")
    with pytest.raises(StateDbBusy):
        open_exclusive(tmp_path / "state.db")
    store.close()
    lock.release()
    memory_lock, memory = open_exclusive(":memory:")
    assert not memory_lock.held
    memory.close()


def test_a_holder_killed_with_sigkill_releases_the_lock(tmp_path):
    db = tmp_path / "state.db"
    holder = subprocess.Popen(
        [sys.executable, "-c", "import sys, time\nfrom store import StateLock\n"
         f"StateLock({str(db)!r}).acquire()\nprint('locked', flush=True)\ntime.sleep(60)"],
        cwd=REPO, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "locked"
        with pytest.raises(StateDbBusy, match=f"pid {holder.pid}"):
            StateLock(db).acquire()
        holder.send_signal(signal.SIGKILL)
        holder.wait(timeout=10)
        lock = StateLock(db)
        lock.acquire()
        assert lock.held
        lock.release()
    finally:
        holder.kill()
        holder.wait()
        holder.stdout.close()


def test_the_store_notices_its_file_deleted_or_replaced(tmp_path):
    store = Store(tmp_path / "state.db")
    assert store.replaced() is None
    (tmp_path / "state.db").unlink()
    assert "deleted" in store.replaced()
    Store(tmp_path / "state.db").close()  # a new file at the same path
    assert "replaced" in store.replaced()
    store.close()
    assert Store(":memory:").replaced() is None
