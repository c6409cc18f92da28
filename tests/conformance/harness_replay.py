"""The replay venue in the conformance suite: the same 1m candles written to a candle file,
served by the replay venue on a clock started at the fakes' frozen time and run so slowly
(a millionth of real time) that it stands still for the length of a test."""
from __future__ import annotations

import shutil
import tempfile
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd

from exchanges.replay import REPLAY
from fetchers.csv_files import write_candles


class ReplayHarness:
    """A candle file of the harness symbol behind the replay venue; nothing to trade on."""

    venue = REPLAY
    symbol = "BTC/USDT"
    price = 50_000.0

    def __init__(self) -> None:
        self.folder: Path | None = None
        self.start_at = ""

    async def start(self, one_minute: pd.DataFrame, now_ms: int) -> None:
        self.folder = Path(tempfile.mkdtemp(prefix="replay-harness-"))
        write_candles(self.folder / "BTCUSDT-1m.csv", one_minute)  # the forming candle too
        self.start_at = datetime.fromtimestamp(now_ms / 1000, UTC).isoformat()

    async def stop(self) -> None:
        if self.folder is not None:
            shutil.rmtree(self.folder, ignore_errors=True)

    def env(self) -> dict[str, str]:
        """Market data from the file; trading stays on the paper broker."""
        assert self.folder is not None
        return {"DATA_EXCHANGE": self.venue.name, "REPLAY_SOURCE": str(self.folder),
                "REPLAY_START": self.start_at, "REPLAY_SPEED": "0.000001"}
