"""Who may use the API: HTTP Basic for scripts, a login form and a session cookie for browsers.

Credentials are compared in constant time. Repeated failures from one address slow that address
down: after each failure it must wait a growing pause, and an attempt inside the pause is refused
unchecked (429 with Retry-After), so guessing stays slow however many connections it opens. A
refused attempt waits for nothing and holds nothing, so a flood of wrong passwords never takes
the request slots the real user needs. A session cookie is random (256 bits), HttpOnly and
SameSite=Strict; state-changing requests of a cookie session also need its CSRF token.
"""
from __future__ import annotations

import base64
import binascii
import hmac
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from aiohttp import web

COOKIE = "choch_session"
CSRF_HEADER = "X-CSRF-Token"
SESSION_TTL_S = 12 * 3600.0
MAX_SESSIONS = 64
FREE_FAILURES = 5          # failures from one address before its attempts are slowed down
DELAY_BASE_S = 0.5         # the first slowed attempt waits this long, then twice as long ...
DELAY_CAP_S = 8.0          # ... up to this
FORGET_S = 900.0           # failures older than this are forgotten
MAX_ADDRESSES = 10_000     # addresses remembered at once (the oldest are dropped first)


@dataclass(frozen=True)
class Credentials:
    """The one user of the API."""

    username: str
    password: str = field(repr=False)

    def match(self, username: str, password: str) -> bool:
        """Both equal, compared in constant time (and both always compared)."""
        user_ok = hmac.compare_digest(username.encode(), self.username.encode())
        pass_ok = hmac.compare_digest(password.encode(), self.password.encode())
        return user_ok and pass_ok


@dataclass
class Session:
    """A browser login: the cookie's token, its CSRF token and when it ends."""

    token: str = field(repr=False)
    csrf: str = field(repr=False)
    user: str
    expires_at: float


@dataclass(frozen=True)
class Principal:
    """An authenticated request: the user and how (basic or session)."""

    user: str
    via: str
    session: Session | None = None


@dataclass
class _Failures:
    count: int = 0
    last_at: float = 0.0
    until: float = 0.0  # no attempt is checked before this


class TooManyAttempts(Exception):
    """An attempt inside its address's pause: refused without being checked."""

    def __init__(self, retry_after_s: float) -> None:
        super().__init__(f"try again in {retry_after_s:.1f} s")
        self.retry_after_s = retry_after_s


class SlowDown:
    """Per-address failure counting; after FREE_FAILURES each failure starts a growing pause."""

    def __init__(self, *, clock: Callable[[], float] = time.monotonic,
                 free: int = FREE_FAILURES, base_s: float = DELAY_BASE_S,
                 cap_s: float = DELAY_CAP_S) -> None:
        self.clock = clock
        self.free, self.base_s, self.cap_s = free, base_s, cap_s
        self._by_address: dict[str, _Failures] = {}

    def wait(self, address: str) -> float:
        """Seconds before `address` may try again (0: now)."""
        f = self._by_address.get(address)
        return max(0.0, f.until - self.clock()) if f is not None else 0.0

    def attempt(self, address: str, verify: Callable[[], bool]) -> bool:
        """Run `verify` for one attempt from `address` and count the outcome.

        Raises TooManyAttempts, without running `verify`, inside the address's pause.
        """
        wait = self.wait(address)
        if wait > 0:
            raise TooManyAttempts(wait)
        if verify():
            self._by_address.pop(address, None)
            return True
        f, now = self._entry(address), self.clock()
        if now - f.last_at > FORGET_S:
            f.count = 0
        f.count += 1
        f.last_at = now
        if f.count >= self.free:
            f.until = now + min(self.cap_s, self.base_s * 2 ** min(f.count - self.free, 30))
        return False

    def _entry(self, address: str) -> _Failures:
        if address not in self._by_address and len(self._by_address) >= MAX_ADDRESSES:
            oldest = sorted(self._by_address, key=lambda a: self._by_address[a].last_at)
            for a in oldest[:len(oldest) // 2 + 1]:
                del self._by_address[a]
        return self._by_address.setdefault(address, _Failures(last_at=self.clock()))


class Auth:
    """Authenticates requests and keeps the browser sessions (in memory: a restart logs out)."""

    def __init__(self, credentials: Credentials, *, slowdown: SlowDown | None = None,
                 clock: Callable[[], float] = time.time) -> None:
        self.credentials = credentials
        self.slowdown = slowdown or SlowDown()
        self.clock = clock
        self._sessions: dict[str, Session] = {}

    def check_password(self, request: web.Request, username: str, password: str) -> bool:
        """One credentials attempt (Basic or the login form); TooManyAttempts in a pause."""
        return self.slowdown.attempt(
            address(request), lambda: self.credentials.match(username, password))

    async def authenticate(self, request: web.Request) -> Principal | None:
        """The request's principal, or None (no or wrong credentials, unknown session).

        Raises TooManyAttempts for Basic credentials sent inside the address's pause.
        """
        header = request.headers.get("Authorization")
        if header is not None:
            pair = basic_pair(header)
            ok = self.check_password(request, *(pair or ("", "")))
            return Principal(pair[0], "basic") if ok and pair else None
        token = request.cookies.get(COOKIE)
        session = self._sessions.get(token) if token else None
        if session is None:
            return None
        if session.expires_at <= self.clock():
            self._sessions.pop(session.token, None)
            return None
        return Principal(session.user, "session", session)

    def open_session(self, user: str) -> Session:
        """A new browser session (the oldest goes when there are too many)."""
        if len(self._sessions) >= MAX_SESSIONS:
            oldest = min(self._sessions.values(), key=lambda s: s.expires_at)
            self._sessions.pop(oldest.token, None)
        session = Session(secrets.token_urlsafe(32), secrets.token_urlsafe(32), user,
                          self.clock() + SESSION_TTL_S)
        self._sessions[session.token] = session
        return session

    def close_session(self, session: Session) -> None:
        """Log out."""
        self._sessions.pop(session.token, None)


def basic_pair(header: str) -> tuple[str, str] | None:
    """(user, password) of an 'Authorization: Basic ...' header, None when malformed."""
    scheme, _, value = header.strip().partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        text = base64.b64decode(value.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None
    user, colon, password = text.partition(":")
    return (user, password) if colon else None


def address(request: web.Request) -> str:
    """The peer's address (no X-Forwarded-For: a client could forge it to dodge the slow-down)."""
    return request.remote or "unknown"


def same_origin(request: web.Request) -> bool:
    """False when a browser says the request comes from another site (a forged form or fetch)."""
    site = request.headers.get("Sec-Fetch-Site")
    if site is not None:  # set by the browser itself; Origin may be "null" (privacy settings)
        return site in ("same-origin", "none")
    origin = request.headers.get("Origin")
    return origin is None or urlsplit(origin).netloc == request.host


def csrf_ok(request: web.Request, principal: Principal, given: str | None = None) -> bool:
    """State changes: same origin, and for a cookie session its CSRF token (constant time)."""
    if not same_origin(request):
        return False
    if principal.session is None:
        return True  # Basic: same_origin() above stops a browser replaying cached credentials
    token = given if given is not None else request.headers.get(CSRF_HEADER, "")
    return hmac.compare_digest(token.encode(), principal.session.csrf.encode())
