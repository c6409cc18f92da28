"""Access to the real candles in ../shared/data: read at test time, skipped when absent."""
from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

REPO = Path(__file__).resolve().parent.parent
SHARED_DATA = REPO.parent / "shared" / "data"


def shared_path(name: str) -> Path:
    """Path of a file in ../shared/data, or skip the calling test when it is absent."""
    path = SHARED_DATA / name
    if not path.is_file():
        pytest.skip(f"{path} not present")
    return path


def load_candles(name: str) -> pd.DataFrame:
    """A shared kline CSV as timestamp/open/high/low/close/volume (both header styles)."""
    df = pd.read_csv(shared_path(name))
    if "open_time" in df.columns:
        df = df.rename(columns={"open_time": "timestamp"})
    return df[["timestamp", "open", "high", "low", "close", "volume"]]
