"""Market-structure (CHoCH/BOS) detection: pure, no I/O. The rules are in docs/choch-spec.md."""
from .batch import (
    Bars,
    candle_arrays,
    checked_bars,
    pivots,
    scan,
    scan_arrays,
    scan_columns,
    scan_streaming,
)
from .columns import EventColumns
from .detector import Bar, StructureDetector
from .event import BEARISH, BOS, BULLISH, CHOCH, Event

__all__ = ["Bar", "Bars", "BEARISH", "BOS", "BULLISH", "CHOCH", "Event", "EventColumns",
           "StructureDetector", "candle_arrays", "checked_bars", "pivots", "scan", "scan_arrays",
           "scan_columns", "scan_streaming"]
