"""Warnings for keys that look like a misspelt or lower-case setting (they are ignored)."""
from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from .checks import venue_keys_table
from .files import read_dotenv
from .settings import DEFAULT_DOTENV, KEYS
from .values import unique


def _distance(a: str, b: str, limit: int) -> int:
    """Levenshtein distance of a and b, or limit + 1 once it is certainly larger."""
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    row = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        prev, row[0] = row[0], i
        for j, cb in enumerate(b, 1):
            prev, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, prev + (ca != cb))
    return row[-1]


def _look_alike(key: str) -> str:
    """The known key that `key` probably meant ('' when it does not look like one of ours)."""
    upper = key.upper()
    known = {**KEYS, **venue_keys_table()}
    if key in known:
        return ""
    if upper in known:
        return upper
    best = min(known, key=lambda k: _distance(upper, k, 2))
    limit = 1 if len(best) <= 6 else 2  # short keys: two edits reach unrelated words
    return best if _distance(upper, best, limit) <= limit else ""


def _shares_prefix(key: str) -> bool:
    """An environment variable that starts like one of our keys (so PATH, HOME are never ours)."""
    return any(key[:3].upper() == known[:3] for known in (*KEYS, *venue_keys_table()))


def lint_environment(env: Mapping[str, str] | None = None,
                     dotenv_path: str | os.PathLike | None = DEFAULT_DOTENV) -> list[str]:
    """Warnings for keys that look like a misspelt or lower-case setting (they are ignored).

    Keys of the env file are all considered; environment variables only when they start like
    one of ours. Never raises: problems of the file itself are load_settings' to report.
    """
    file_keys: list[str] = []
    source = ""  # the env file, as named in warnings
    if dotenv_path is not None and Path(dotenv_path).is_file():
        file_keys = list(read_dotenv(dotenv_path)[0])
        source = os.fspath(dotenv_path)
    env_keys = [k for k in (os.environ if env is None else env) if _shares_prefix(k)]
    warnings = []
    for key in unique(file_keys + env_keys):
        meant = _look_alike(key)
        if meant:
            where = f" (in {source})" if key in file_keys else ""
            warnings.append(f"warning: {key}{where} is not a setting and is ignored; "
                            f"did you mean {meant}?")
    return warnings
