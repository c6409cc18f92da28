"""The event type the detector emits, with the spec's field names."""
from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

CHOCH = "CHOCH"
BOS = "BOS"
BULLISH = "bullish"
BEARISH = "bearish"
BREAK_ON = ("close", "wick")


@dataclass(frozen=True, slots=True)
class Event:
    """One break of an armed pivot level: a CHoCH or a BOS (see docs/choch-spec.md)."""

    kind: str
    direction: str
    level: float
    pivot_time: int
    break_time: int
    confirmed_at: int
    extreme: float
    close: float

    def to_dict(self) -> dict[str, Any]:
        """The event as a plain dict with the spec's field names (JSON-ready)."""
        return asdict(self)


def check_parameters(left: int, right: int, break_on: str) -> None:
    """Raise ValueError unless the detector parameters are valid."""
    for name, value in (("left", left), ("right", right)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValueError(f"{name} must be an integer >= 1, got {value!r}")
    if break_on not in BREAK_ON:
        raise ValueError(f"break_on must be one of {BREAK_ON}, got {break_on!r}")
