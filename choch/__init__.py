"""Market-structure (CHoCH/BOS) detection: pure, no I/O. The rules are in docs/choch-spec.md."""
from .batch import pivots, scan, scan_streaming
from .detector import Bar, StructureDetector
from .event import BEARISH, BOS, BULLISH, CHOCH, Event

__all__ = ["Bar", "BEARISH", "BOS", "BULLISH", "CHOCH", "Event", "StructureDetector", "pivots",
           "scan", "scan_streaming"]
