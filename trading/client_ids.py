"""Deterministic client order ids: the same signal and role always give the same id.

Every format fits the strictest venue (OKX: 1-32 alphanumerics, no '-') and starts with 'chx'.
- An entry: 'chx', 24 hex digits of sha256(identity), 'e'. Shared by every instance on purpose:
  a venue that refuses a duplicate id then stops a second daemon's entry for the same signal.
- A stop, target or close: 'chxz', this instance's 4-character tag, 19 hex digits of
  sha256(identity), the role letter, then the generation when it is not 0. The tag tells this
  daemon's protective orders from another instance's on the same account, and two instances'
  stops never collide on one id.
A venue that allows fewer characters (after its own prefix) gets the same ids with the hash
cut short (`room`): still deterministic, still recognised by the patterns below.
Ids of the formats used before ('chx' + 24 hex + role letter for every role, and 'chx' + 24 hex
+ '-' + role) stay recognised as the daemon's own, with no tag.
"""
from __future__ import annotations

import hashlib
import re
import secrets

PREFIX = "chx"
TAGGED_PREFIX = "chxz"  # 'z' is no hex digit: an untagged id never has it after the prefix
ROLES = {"entry": "e", "stop": "s", "target": "t", "close": "c"}
MAX_GENERATION = 9999  # 4 + 4 + 19 + 1 + 4 = 32 characters at most
ROOM = 32  # characters an id may take where the venue allows at least that many
# Where a venue allows fewer, the hash is shortened (from its end), never below these digits:
# 64 bits for an entry, 48 for a tagged id (whose tag and role already tell it apart).
MIN_ENTRY_DIGITS, MIN_TAGGED_DIGITS = 16, 12
TAG_ALPHABET = "0123456789abcdefghijklmnopqrstuvwxyz"
TAG = re.compile(r"^[0-9a-z]{4}$")
UNTAGGED = re.compile(r"^chx[0-9a-f]{16,24}[estc](?:[1-9][0-9]{0,3})?$")
TAGGED = re.compile(r"^chxz([0-9a-z]{4})[0-9a-f]{12,19}[stc](?:[1-9][0-9]{0,3})?$")
VALID = re.compile(f"{UNTAGGED.pattern}|{TAGGED.pattern}")  # every id client_id() makes


def new_tag() -> str:
    """A random instance tag: 4 characters of [0-9a-z] (1.7 million values)."""
    return "".join(secrets.choice(TAG_ALPHABET) for _ in range(4))


def client_id(identity: str, role: str, generation: int = 0, tag: str | None = None,
              room: int = ROOM) -> str:
    """The id of `role` for `identity`: untagged for an entry or without `tag`, else tagged;
    at most `room` characters (the venue's limit after its own prefix), the same id for the
    same arguments."""
    if not 0 <= generation <= MAX_GENERATION:
        raise ValueError(f"generation {generation} outside 0..{MAX_GENERATION}")
    digest = hashlib.sha256(identity.encode()).hexdigest()
    gen = str(generation) if generation else ""
    if role == "entry" or tag is None:
        digits = _digits(24, room - len(PREFIX) - 1 - len(gen), MIN_ENTRY_DIGITS, room)
        return _checked(f"{PREFIX}{digest[:digits]}{ROLES[role]}{gen}", UNTAGGED)
    if not TAG.match(tag):
        raise ValueError(f"instance tag {tag!r} is not 4 characters of [0-9a-z]")
    digits = _digits(19, room - len(TAGGED_PREFIX) - 4 - 1 - len(gen), MIN_TAGGED_DIGITS, room)
    return _checked(f"{TAGGED_PREFIX}{tag}{digest[:digits]}{ROLES[role]}{gen}", TAGGED)


def _digits(natural: int, fits: int, least: int, room: int) -> int:
    """How many hash digits an id takes: all it has, or what fits the venue's room."""
    if fits < least:
        raise ValueError(f"a venue allowing {room} characters leaves no room for a client id")
    return min(natural, fits)


def _checked(cid: str, form: re.Pattern[str]) -> str:
    """`cid` if it has the format every venue accepts; an id that does not is never sent."""
    if not form.match(cid):
        raise RuntimeError(f"client id {cid!r} does not match {form.pattern}")
    return cid


def is_ours(cid: str | None) -> bool:
    """True for ids a daemon of this kind made (orders it may cancel, positions it may adopt),
    whichever instance and format: by the prefix."""
    return cid is not None and cid.startswith(PREFIX)


def tag_of(cid: str | None) -> str | None:
    """The instance tag of a tagged id; None for an untagged (entry or older) or foreign id."""
    match = TAGGED.match(cid or "")
    return match.group(1) if match else None
