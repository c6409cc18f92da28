"""Why a file cannot be read, in words that name the cause and the fix."""
from __future__ import annotations

import grp
import os
import pwd
from pathlib import Path


def unreadable(path: str, *, missing_ok: bool = False) -> str | None:
    """None when the file can be read, else the reason (permission denied names what blocks)."""
    try:
        with Path(path).open("rb"):
            return None
    except FileNotFoundError:
        return None if missing_ok else "no such file"
    except IsADirectoryError:
        return "is a directory, not a file"
    except PermissionError:
        return denied(Path(path))
    except OSError as e:
        return e.strerror or str(e)


def hidden(path: Path) -> str | None:
    """Why this user may not reach `path` at all (a directory on the way it may not enter), or
    None (also when the file is simply missing)."""
    try:
        path.stat()
    except PermissionError:
        return denied(path)
    except OSError:
        return None
    return None


def denied(path: Path) -> str:
    """Permission denied, naming the first directory or the file that this user may not use."""
    user = _name(pwd.getpwuid, os.geteuid())
    # Not resolved: the directories named are the ones the kernel walks, '..' and links included.
    absolute = path.absolute()
    for directory in reversed(absolute.parents):
        if not os.access(directory, os.X_OK):
            return (f"permission denied: user {user} may not enter {directory} "
                    f"({_owner_and_mode(directory)}); e.g. chgrp {user} {directory} && "
                    f"chmod g+rx {directory}")
    return (f"permission denied: user {user} may not read {absolute} "
            f"({_owner_and_mode(absolute)}); e.g. chgrp {user} {absolute} && "
            f"chmod g+r {absolute}")


def _owner_and_mode(path: Path) -> str:
    st = path.stat()
    owner, group = _name(pwd.getpwuid, st.st_uid), _name(grp.getgrgid, st.st_gid)
    return f"{owner}:{group} {st.st_mode & 0o7777:04o}"


def _name(lookup, number: int) -> str:
    try:
        return str(lookup(number)[0])
    except KeyError:  # an id without a name (e.g. inside a container)
        return str(number)
