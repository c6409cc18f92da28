"""Parsers of plain text into bounded values, shared by the settings and the command line (pure)."""
from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

T = TypeVar("T")

INT_TEXT = re.compile(r"[+-]?[0-9]+")
FLOAT_TEXT = re.compile(r"[+-]?[0-9]+(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?")


def _shown(bound: float) -> str:
    """A bound as people write it: 10000000, not 10000000.0 or 1e+07."""
    return str(int(bound)) if float(bound).is_integer() else str(bound)


def number(kind: type, low: float, high: float, low_open: bool = False
           ) -> Callable[[str], Any]:
    """A parser for a plain ASCII int or float within [low, high] (or (low, high] when low_open)."""
    allowed = (f"{'an integer' if kind is int else 'a number'} "
               f"{'>' if low_open else '>='} {_shown(low)} and <= {_shown(high)}")
    pattern = INT_TEXT if kind is int else FLOAT_TEXT

    def parse(text: str) -> Any:
        word = text.strip()
        if not pattern.fullmatch(word):
            raise ValueError(allowed)
        try:
            value = kind(word)
        except ValueError:  # an int longer than Python's digit limit
            raise ValueError(allowed) from None
        if not math.isfinite(value) or (value <= low if low_open else value < low) or value > high:
            raise ValueError(allowed)
        return value

    return parse


def choice(*options: str) -> Callable[[str], str]:
    """A parser for one word out of `options` (case-insensitive, returned as listed)."""
    def parse(text: str) -> str:
        for option in options:
            if text.strip().lower() == option.lower():
                return option
        raise ValueError("one of " + "/".join(options))

    return parse


def unique(items: Iterable[T]) -> tuple[T, ...]:
    """Keep the first of each item, in order."""
    return tuple(dict.fromkeys(items))


def parse_trade_on(text: str) -> tuple[str, ...]:
    """Comma-separated event kinds to trade: CHOCH, BOS or both."""
    kinds = [p.strip().upper() for p in text.split(",") if p.strip()]
    if not kinds or any(k not in ("CHOCH", "BOS") for k in kinds):
        raise ValueError("CHOCH, BOS or CHOCH,BOS")
    return unique(kinds)
