"""Deterministic client order ids: the same signal and role always give the same id."""
from __future__ import annotations

import hashlib
import re

PREFIX = "chx"
ROLES = {"entry": "e", "stop": "s", "target": "t", "close": "c"}
VALID = re.compile(r"^[\.A-Z\:/a-z0-9_-]{1,36}$")


def client_id(identity: str, role: str, generation: int = 0) -> str:
    """'chx' + 24 hex of sha256(identity) + '-' + role letter (+ generation): <= 36 chars."""
    digest = hashlib.sha256(identity.encode()).hexdigest()[:24]
    cid = f"{PREFIX}{digest}-{ROLES[role]}{generation if generation else ''}"
    assert VALID.match(cid), cid
    return cid


def is_ours(cid: str | None) -> bool:
    """True for ids this daemon made (orders it may cancel)."""
    return cid is not None and cid.startswith(PREFIX)
