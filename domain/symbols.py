"""Our symbol grammar: a coin's USDT linear perpetual is 'BTC/USDT' everywhere (pure)."""
from __future__ import annotations

import re


def normalize_symbol(text: str) -> str:
    """'btcusdt', 'BTC/USDT' or 'BTC/USDT:USDT' -> 'BTC/USDT' (USDT-margined only)."""
    s = text.strip().upper()
    if s.endswith(":USDT"):
        s = s[: -len(":USDT")]
    if "/" not in s and s.endswith("USDT") and len(s) > 4:
        s = s[:-4] + "/USDT"
    if not re.fullmatch(r"[A-Z0-9]{1,20}/USDT", s):
        raise ValueError(f"{text.strip()!r} is not a USDT pair like BTC/USDT or BTCUSDT")
    return s
