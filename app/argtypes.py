"""argparse types shared by the commands: what a flag accepts, with the error argparse prints."""
from __future__ import annotations

import argparse

from app.scan import parse_utc


def positive_int(text: str) -> int:
    """A whole number >= 1."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be >= 1, got {value}")
    return value


def utc_date(text: str) -> int:
    """YYYY-MM-DD or an ISO datetime (UTC unless an offset is given) -> ms."""
    try:
        return parse_utc(text)
    except ValueError as e:
        raise argparse.ArgumentTypeError(str(e)) from None
