"""Candles in shared memory for the local sweep workers: one file in /dev/shm per process, reused.

The main process copies each file's five columns into the arena and sends a task only where
they lie (a Slot); each worker maps the arena once and reads the columns in place, so candles
are neither pickled nor piped nor copied again. The arena outlives a sweep: its pages stay
allocated, so the next sweep's copy is a plain memory copy. It grows when a sweep needs more,
and is removed at exit (an arena left by a killed process is removed by the next one).
"""
from __future__ import annotations

import atexit
import contextlib
import mmap
import os
import shutil
import tempfile
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

SHM = Path("/dev/shm")  # noqa: S108 (files made by mkstemp: a random name, owner-only)
PREFIX = "choch-sweep-"
MIN_FREE = 64 * 1024 * 1024  # bytes of /dev/shm always left to the rest of the machine
WRITE_BUFFER = 1 << 20  # bytes a worker gathers before each write of a parcel
# Mapped with its pages at once: one call instead of a fault per page when the arrays are read.
MAP_FLAGS = mmap.MAP_SHARED | getattr(mmap, "MAP_POPULATE", 0)


@dataclass(frozen=True)
class Slot:
    """Where one file's candles lie in an arena: timestamp (int64), then open, high, low, close
    (float64), `rows` values each, from byte `offset`."""

    path: str
    offset: int
    rows: int

    def load(self) -> tuple[np.ndarray, ...]:
        """The five columns, read-only views of the worker's mapping of the arena."""
        cols = np.frombuffer(_mapped(self.path), np.float64, 5 * self.rows,
                             self.offset).reshape(5, self.rows)
        return (cols[0].view(np.int64), *cols[1:])


@dataclass(frozen=True)
class Pieces:
    """One array sent as the arrays that make it up, back to back (never joined in memory)."""

    dtype: str
    shape: tuple[int, ...]
    arrays: Sequence[np.ndarray]


@dataclass(frozen=True)
class Parcel:
    """Arrays a worker left in a shared-memory file for the main process (read once, removed)."""

    path: str
    specs: tuple[tuple[str, tuple[int, ...]], ...]  # (dtype, shape) of each, in order

    @classmethod
    def send(cls, slot: Slot, arrays: Sequence[np.ndarray | Pieces]) -> Parcel:
        """The arrays written next to `slot`'s arena (named after the same process, so that a
        parcel left by a killed sweep is removed with its arena)."""
        owner = Path(slot.path).name[len(PREFIX):].split("-")[0]
        whole = [Pieces(a.dtype.str, a.shape, [a]) if isinstance(a, np.ndarray) else a
                 for a in arrays]
        fd, path = tempfile.mkstemp(prefix=f"{PREFIX}{owner}-out-", dir=SHM)
        try:
            # Buffered: many small pieces go out in a few large writes.
            with os.fdopen(fd, "wb", buffering=WRITE_BUFFER) as f:
                for w in whole:
                    for a in w.arrays:
                        if a.size:  # an empty view cannot be cast to bytes
                            f.write(np.ascontiguousarray(a, w.dtype).data.cast("B"))
        except BaseException:
            Path(path).unlink(missing_ok=True)
            raise
        return cls(path, tuple((w.dtype, w.shape) for w in whole))

    def receive(self) -> tuple[np.ndarray, ...]:
        """The arrays, read-only views of the file mapped in place (no copy; the mapping lives
        as long as they do); the file is removed."""
        try:
            with Path(self.path).open("rb") as f:
                size = os.fstat(f.fileno()).st_size
                raw = np.frombuffer(mmap.mmap(f.fileno(), size, MAP_FLAGS, mmap.PROT_READ),
                                    np.uint8) if size else np.empty(0, np.uint8)
        finally:
            Path(self.path).unlink(missing_ok=True)
        out, at = [], 0
        for dtype, shape in self.specs:
            size = int(np.prod(shape)) * np.dtype(dtype).itemsize
            out.append(raw[at:at + size].view(dtype).reshape(shape))
            at += size
        return tuple(out)


_maps: dict[str, mmap.mmap] = {}  # a worker's mapping of the current arena


def _mapped(path: str) -> mmap.mmap:
    """The arena at `path` mapped read-only (once per worker and arena)."""
    if path not in _maps:
        _maps.clear()  # a grown arena replaced the old one; its views keep it mapped meanwhile
        with Path(path).open("rb") as f:
            _maps[path] = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
    return _maps[path]


# Shared memory needed beyond the candles: the tasks' result parcels, and room for the rest of
# the machine (a container's /dev/shm is often 64 MB).
HEADROOM = 3


def available(size: int = 0) -> bool:
    """Whether this machine has a writable /dev/shm with room for `size` bytes of candles and
    their results (a full tmpfs would kill the process on a write to its mapping)."""
    if not (SHM.is_dir() and os.access(SHM, os.W_OK)):
        return False
    return shutil.disk_usage(SHM).free >= HEADROOM * size + MIN_FREE


class Arena:
    """This process's arena (see the module docstring); `lock` is held while a sweep uses it."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.path = ""
        self.size = 0
        self.map: mmap.mmap | None = None

    def reserve(self, size: int) -> None:
        """At least `size` bytes (a new, larger file when needed)."""
        size = max(size, mmap.PAGESIZE)  # an empty mapping is not allowed
        if self.map is not None and self.size >= size:
            return
        self.close()
        _remove_stale()
        fd, self.path = tempfile.mkstemp(prefix=f"{PREFIX}{os.getpid()}-", dir=SHM)
        with os.fdopen(fd, "w+b") as f:
            try:
                # Allocated now, so that a full tmpfs is an OSError here, never a SIGBUS on a
                # later write to the mapping.
                os.posix_fallocate(f.fileno(), 0, size)
            except OSError:
                Path(self.path).unlink(missing_ok=True)
                raise
            self.map = mmap.mmap(f.fileno(), size)
        self.size = size

    def write(self, offset: int, cols: tuple[np.ndarray, ...]) -> Slot:
        """The five columns copied to `offset`."""
        if self.map is None:
            raise RuntimeError("arena: write before reserve")
        rows = len(cols[0])
        out = np.frombuffer(self.map, np.float64, 5 * rows, offset).reshape(5, rows)
        out[0].view(np.int64)[:] = cols[0]
        for k in range(1, 5):
            out[k] = cols[k]
        return Slot(self.path, offset, rows)

    def close(self) -> None:
        """Unmap and remove the file."""
        if self.map is not None:
            with contextlib.suppress(BufferError):  # a live view: the mapping goes with it
                self.map.close()
            self.map = None
            Path(self.path).unlink(missing_ok=True)


def _remove_stale() -> None:
    """Remove the arenas of processes that no longer run."""
    for path in SHM.glob(f"{PREFIX}*"):
        pid = path.name[len(PREFIX):].split("-")[0]
        if pid.isdigit() and not Path(f"/proc/{pid}").exists():
            path.unlink(missing_ok=True)


ARENA = Arena()
atexit.register(ARENA.close)
