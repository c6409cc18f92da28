"""load_settings: the environment and the env file, parsed, cross-checked and frozen."""
from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import fields
from pathlib import Path

from .checks import SECRET_KEYS, _cross_checks, _resolve_keys, _venue_keys_given
from .files import _read
from .problems import ConfigError, Problem
from .settings import DEFAULT_DOTENV, DEFAULT_STATE_DB, KEYS, STATE_DB_NAME, Settings, VenueKeys


def _state_db(raw: Mapping[str, str]) -> str:
    """STATE_DB unset: inside systemd's StateDirectory when it is set, else state/choch.db."""
    directories = [d for d in raw.get("STATE_DIRECTORY", "").split(":") if d.strip()]
    return str(Path(directories[0]) / STATE_DB_NAME) if directories else DEFAULT_STATE_DB


def load_settings(env: Mapping[str, str] | None = None,
                  dotenv_path: str | os.PathLike | None = DEFAULT_DOTENV,
                  required: bool | None = None) -> Settings:
    """Build and validate Settings; raise ConfigError listing every problem at once.

    The real environment wins over the env file. An empty value counts as unset (its default).
    `dotenv_path=None` reads no file; a missing file is a problem when `required`, which by
    default is true for any path but the default `.env` of the working directory.
    """
    raw, problems = _read(env, dotenv_path, required)
    parsed: dict = {}
    given: set[str] = set()
    for key, (name, parse) in KEYS.items():
        text = raw.get(key, "")
        if not text.strip():
            continue
        given.add(key)
        try:
            parsed[name] = parse(text)
        except ValueError as e:
            problems.append(Problem(key, text, str(e), secret=key in SECRET_KEYS))
    merged = {f.name: parsed.get(f.name, f.default) for f in fields(Settings)}
    if "STATE_DB" not in given:
        merged["state_db"] = _state_db(raw)
    if "TRADING_EXCHANGE" not in given:
        merged["trading_exchange"] = merged["data_exchange"]
    merged["_venues"], venue_given = _venue_keys_given(raw, problems)
    given |= venue_given
    problems += _cross_checks(merged, given)
    if problems:
        raise ConfigError(problems)
    _resolve_keys(merged)
    merged["venue_credentials"] = tuple(sorted(
        (name, VenueKeys(**keys)) for name, keys in merged.pop("_venues").items()))
    return Settings(**merged)
