"""PASS/FAIL next to a bench figure, so a missed target is never left for the reader to spot."""
from __future__ import annotations


def verdict(ok: bool) -> str:
    """PASS or FAIL."""
    return "PASS" if ok else "FAIL"


def judged(ok: bool, target: str) -> str:
    """'PASS (target < 5 s)' or 'FAIL (target < 5 s)'."""
    return f"{verdict(ok)} (target {target})"
