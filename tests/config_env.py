"""Settings from an explicit environment, for the configuration tests."""
from __future__ import annotations

import pytest

from config import ConfigError, Settings, load_settings


def load(**env: str) -> Settings:
    """Settings from exactly these variables (no process environment, no .env)."""
    return load_settings(env=env, dotenv_path=None)


def problems(**env: str) -> dict[str, str]:
    """key -> the printed problem, for an environment that must be refused."""
    with pytest.raises(ConfigError) as err:
        load(**env)
    return {p.key: str(p) for p in err.value.problems}
