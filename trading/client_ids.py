"""Deterministic client order ids: the same signal and role always give the same id.

One format valid on every venue (the strictest, OKX: 1-32 alphanumerics, no '-'): 'chx', 24 hex
digits of sha256(identity), the role letter, then the generation when it is not 0. The identity
includes the venue, so the same symbol on two venues never shares an id.
"""
from __future__ import annotations

import hashlib
import re

PREFIX = "chx"
ROLES = {"entry": "e", "stop": "s", "target": "t", "close": "c"}
MAX_GENERATION = 9999  # 3 + 24 + 1 + 4 = 32 characters at most
VALID = re.compile(r"^chx[0-9a-f]{24}[estc](?:[1-9][0-9]{0,3})?$")


def client_id(identity: str, role: str, generation: int = 0) -> str:
    """'chx' + 24 hex of sha256(identity) + role letter (+ generation): alphanumeric, <= 32."""
    if not 0 <= generation <= MAX_GENERATION:
        raise ValueError(f"generation {generation} outside 0..{MAX_GENERATION}")
    digest = hashlib.sha256(identity.encode()).hexdigest()[:24]
    cid = f"{PREFIX}{digest}{ROLES[role]}{generation if generation else ''}"
    assert VALID.match(cid), cid
    return cid


def is_ours(cid: str | None) -> bool:
    """True for ids this daemon made (orders it may cancel, positions it may adopt): by the
    prefix, so the format used before venues ('chx' + 24 hex + '-' + role, up to 36
    characters) is recognised too and orders placed before an upgrade stay managed."""
    return cid is not None and cid.startswith(PREFIX)
