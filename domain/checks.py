"""One line of `main.py check`: what was checked, whether it passed, and why (pure)."""
from __future__ import annotations

from typing import NamedTuple


class CheckLine(NamedTuple):
    """A component's self-check result, printed as 'ok' or 'FAIL' with its detail."""

    what: str
    ok: bool
    detail: str
