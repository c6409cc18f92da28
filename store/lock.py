"""One daemon per state DB: an exclusive flock on `<db>.lock`, dropped by the OS on any exit."""
from __future__ import annotations

import fcntl
import os
import sqlite3
from pathlib import Path

from .db import Store
from .health import StateDbError, check_state_db


class StateDbBusy(StateDbError):
    """Another process holds the state DB's lock: a second daemon would alert everything twice."""


class StateLock:
    """Held for the life of the daemon; a kill -9 releases it with the process's descriptors."""

    def __init__(self, db_path: str | os.PathLike[str]) -> None:
        self.db_path = str(db_path)
        self.path = None if self.db_path == ":memory:" else Path(self.db_path + ".lock")
        self._fd: int | None = None

    @property
    def held(self) -> bool:
        """True while this object holds the lock (always False for ':memory:')."""
        return self._fd is not None

    def acquire(self) -> None:
        """Take the lock without waiting; StateDbBusy names the holder's pid when another has it."""
        if self.path is None or self._fd is not None:
            return
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        except OSError as e:
            raise StateDbError(f"cannot create the lock file {self.path}: "
                               f"{e.strerror or type(e).__name__}") from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            holder = _read_pid(fd)
            os.close(fd)
            raise StateDbBusy(f"{self.db_path} is in use by another running daemon"
                              f"{f' (pid {holder})' if holder else ''}; "
                              "two would send every alert twice") from None
        # The holder's pid, for the message above (the lock itself is the flock, not this text).
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        self._fd = fd

    def release(self) -> None:
        """Drop the lock (the file stays: removing it would race with a starting daemon)."""
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None


def _read_pid(fd: int) -> str:
    try:
        return os.pread(fd, 32, 0).decode().strip()
    except (OSError, UnicodeDecodeError):
        return ""


def open_exclusive(path: str | os.PathLike[str]) -> tuple[StateLock, Store]:
    """The daemon's way in: check the DB, take its lock, open it; StateDbError says why not."""
    check_state_db(path)
    lock = StateLock(path)
    lock.acquire()
    try:
        return lock, Store(path)
    except (sqlite3.Error, OSError) as e:
        lock.release()
        raise StateDbError(f"cannot open {path}: {e}") from None
