"""Is the state database usable? Checked before the daemon sends any request, and by `check`."""
from __future__ import annotations

import os
import sqlite3
import tempfile
from pathlib import Path

from .schema import MIGRATIONS

# A write probe waits this long for a running daemon's transaction before calling the DB busy.
PROBE_BUSY_S = 5.0


class StateDbError(Exception):
    """The state database cannot be used; the message says why (without the key's name)."""


def check_state_db(path: str | os.PathLike[str]) -> str:
    """A one-line description of a usable state DB at `path`; raises StateDbError otherwise.

    Nothing is created: a missing DB only needs a directory it can be created in.
    """
    if str(path) == ":memory:":
        return "in memory (nothing is kept across restarts)"
    p = Path(path)
    if p.exists() or p.is_symlink():
        if p.is_dir():
            raise StateDbError(f"{p} is a directory, not a database file")
        if not p.is_file():
            raise StateDbError(f"{p} is not a regular file")
        _check_writable_dir(p.parent)  # SQLite puts its -wal and -shm files next to the DB
        return _check_database(p)
    ancestor = p.parent
    while not ancestor.exists():
        ancestor = ancestor.parent
    if not ancestor.is_dir():
        raise StateDbError(f"cannot create {p}: {ancestor} is not a directory")
    _check_writable_dir(ancestor, creating=p)
    return f"{p} (new: will be created)"


def _check_writable_dir(directory: Path, creating: Path | None = None) -> None:
    """Create and remove a file in `directory`: the only test that also sees read-only mounts."""
    try:
        with tempfile.NamedTemporaryFile(dir=directory, prefix=".choch-probe-"):
            pass
    except OSError as e:
        what = f"cannot create {creating}" if creating else "cannot write next to the DB"
        # /proc answers ENOENT, a read-only mount EROFS, a permission EACCES: say what it said.
        raise StateDbError(f"{what}: no file can be created in {directory} "
                           f"({e.strerror or type(e).__name__})") from None


def _check_database(p: Path) -> str:
    """Open without creating, check integrity and schema version, and try a write (rolled back)."""
    try:
        conn = sqlite3.connect(f"file:{p}?mode=rw", uri=True, isolation_level=None,
                               timeout=PROBE_BUSY_S)
    except sqlite3.Error as e:
        raise StateDbError(f"cannot open {p}: {e}") from None
    try:
        problems = [row[0] for row in conn.execute("PRAGMA quick_check(5)")]
        if problems != ["ok"]:
            raise StateDbError(f"{p} is corrupt (SQLite integrity check: {'; '.join(problems)})")
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        if version > len(MIGRATIONS):
            raise StateDbError(f"{p} has schema version {version}, newer than this program "
                               f"knows ({len(MIGRATIONS)}): it was written by a newer version")
        busy = _write_probe(conn, version, p)
    except sqlite3.DatabaseError as e:
        raise StateDbError(f"{p} is not a usable SQLite database ({e})") from None
    finally:
        conn.close()
    size_kb = p.stat().st_size // 1024
    return f"{p} ({size_kb} KB, schema {version}/{len(MIGRATIONS)}, integrity ok" + \
        (", busy: another process is writing)" if busy else ")")


def _write_probe(conn: sqlite3.Connection, version: int, p: Path) -> bool:
    """Rewrite the schema version inside a rolled-back transaction; True if another writer holds
    the DB (a running daemon: fine for `check`, and `run` is stopped by the lock anyway)."""
    try:
        conn.execute("BEGIN IMMEDIATE")
    except sqlite3.OperationalError as e:
        if "locked" in str(e) or "busy" in str(e):
            return True
        raise StateDbError(f"cannot write to {p}: {e}") from None
    try:
        conn.execute(f"PRAGMA user_version={int(version)}")
    except sqlite3.OperationalError as e:
        raise StateDbError(f"cannot write to {p}: {e}") from None
    finally:
        conn.execute("ROLLBACK")
    return False

