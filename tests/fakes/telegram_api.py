"""A local fake of the Telegram Bot API (aiohttp) for python-telegram-bot to talk to for real.

Paths, JSON shapes, HTTP statuses and error descriptions follow core.telegram.org/bots/api:
POST /bot<token>/<method>; answers {"ok": true, "result": ...} or
{"ok": false, "error_code": N, "description": "...", "parameters": {...}}. It records every call,
keeps what it accepted, and fails on demand (scripted errors, an outage on a test clock, a reply
lost after the message was accepted).
"""
from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import time
from collections import defaultdict, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from . import serve_locally

TOKEN = "123456789:" + "AAFakeTokenForTestsOnly_" + "abcdefghijk"  # made up
BOT_ID = 123456789
BOT_USERNAME = "choch_test_bot"
MIGRATED_TO = -1009876543210  # the supergroup id a 'migrated' failure points to

# Real descriptions, so code keyed on them meets the same text.
ERRORS = {
    "chat_not_found": (400, "Bad Request: chat not found"),
    "bad_request": (400, "Bad Request: can't parse entities: unsupported start tag"),
    "blocked": (403, "Forbidden: bot was blocked by the user"),
    "unauthorized": (401, "Unauthorized"),
    "conflict": (409, "Conflict: terminated by other getUpdates request; make sure that only "
                      "one bot instance is running"),
}


@dataclass
class Failure:
    """One scripted failure: an HTTP status (429 carries retry_after), or a lost reply."""

    kind: str                      # '429', '502', '500', 'lost_reply', 'migrated', or ERRORS key
    retry_after: int = 0


@dataclass
class Call:
    """One request as received."""

    method: str
    params: dict[str, Any]
    at: float                      # on the test clock
    photo_bytes: int = 0


@dataclass
class Sent:
    """One message the fake accepted (sendMessage or sendPhoto)."""

    method: str
    chat_id: str
    text: str | None            # text, or the photo caption
    parse_mode: str | None
    photo_bytes: int
    at: float
    message_id: int


@dataclass
class FakeTelegram:
    """The fake server. `clock` is the test's clock (outages and dates use it)."""

    token: str = TOKEN
    clock: Callable[[], float] = time.time
    calls: list[Call] = field(default_factory=list)
    sent: list[Sent] = field(default_factory=list)
    blocked_chats: set[str] = field(default_factory=set)
    known_chats: set[str] | None = None   # None: every chat exists
    down_until: float = 0.0                  # test-clock time until which every call gets 502
    down_kind: str = "502"
    _failures: dict[str, deque[Failure]] = field(default_factory=lambda: defaultdict(deque))
    _updates: list[dict] = field(default_factory=list)
    _update_ids: Any = field(default_factory=lambda: itertools.count(1000))
    _message_ids: Any = field(default_factory=lambda: itertools.count(1))
    _new_update: asyncio.Event | None = None
    _runner: web.AppRunner | None = None
    url: str = ""

    # -- control ---------------------------------------------------------------------------------

    def fail(self, method: str, kind: str, times: int = 1, retry_after: int = 0) -> None:
        """The next `times` calls of `method` fail with `kind`."""
        for _ in range(times):
            self._failures[method].append(Failure(kind, retry_after))

    def outage(self, until: float, kind: str = "502") -> None:
        """Every call fails (502 by default) until the test clock reaches `until`."""
        self.down_until, self.down_kind = until, kind

    def push_message(self, chat_id: int, text: str, *, user_id: int | None = None,
                     date: float | None = None, chat_type: str | None = None) -> int:
        """Queue an incoming message update; returns its update_id."""
        chat_type = chat_type or ("private" if chat_id > 0 else "supergroup")
        chat: dict[str, Any] = {"id": chat_id, "type": chat_type}
        chat.update({"first_name": "Op"} if chat_type == "private" else {"title": "Desk"})
        uid = user_id if user_id is not None else abs(chat_id)
        update_id = next(self._update_ids)
        self._updates.append({"update_id": update_id, "message": {
            "message_id": next(self._message_ids), "date": int(date if date is not None
                                                                else self.clock()),
            "chat": chat, "from": {"id": uid, "is_bot": False, "first_name": "Op"},
            "text": text,
            **({"entities": [{"type": "bot_command", "offset": 0,
                              "length": len(text.split()[0])}]} if text.startswith("/") else {}),
        }})
        if self._new_update is not None:
            self._new_update.set()
        return update_id

    def texts(self) -> list[str]:
        """Text (or caption) of every accepted message, in order."""
        return [s.text or "" for s in self.sent]

    def count(self, method: str) -> int:
        """How many calls of `method` arrived (including failed ones)."""
        return sum(1 for c in self.calls if c.method == method)

    # -- server ----------------------------------------------------------------------------------

    async def start(self) -> str:
        """Listen on 127.0.0.1 (a free port); returns the base URL for TELEGRAM_API_URL."""
        self._new_update = asyncio.Event()
        app = web.Application(client_max_size=20 * 1024 * 1024)
        app.router.add_route("*", "/bot{token}/{method}", self._handle)
        self._runner, self.url = await serve_locally(app)
        return self.url

    async def stop(self) -> None:
        """Stop listening."""
        if self._new_update is not None:
            self._new_update.set()
        if self._runner is not None:
            await self._runner.cleanup()

    @staticmethod
    def _error(code: int, description: str, parameters: dict | None = None) -> web.Response:
        body: dict[str, Any] = {"ok": False, "error_code": code, "description": description}
        if parameters:
            body["parameters"] = parameters
        return web.json_response(body, status=code)

    @staticmethod
    def _ok(result: Any) -> web.Response:
        return web.json_response({"ok": True, "result": result})

    async def _params(self, request: web.Request) -> tuple[dict[str, Any], int]:
        """JSON, urlencoded or multipart parameters (PTB sends the latter two); photo size."""
        if request.content_type == "application/json":
            return (await request.json()) or {}, 0
        form = await request.post()
        params: dict[str, Any] = {}
        photo = 0
        for key, value in form.items():
            if hasattr(value, "file"):
                data = value.file.read()
                photo = len(data)
                params[key] = f"<file {value.filename} {len(data)} bytes>"
            else:
                params[key] = value
        # PTB sends a multipart photo as 'attach://<name>' in the photo field.
        if isinstance(params.get("photo"), str) and params["photo"].startswith("attach://"):
            name = params["photo"][len("attach://"):]
            if name in form and hasattr(form[name], "file"):
                photo = photo or 1
        return params, photo

    def _failure_response(self, failure: Failure) -> web.Response | None:
        """The HTTP answer for a scripted failure (None for 'lost_reply', handled by the caller)."""
        if failure.kind == "429":
            return self._error(429, f"Too Many Requests: retry after {failure.retry_after}",
                               {"retry_after": failure.retry_after})
        if failure.kind in ("502", "500", "504"):
            code = int(failure.kind)
            # nginx in front of the Bot API answers gateway errors with an HTML page.
            return web.Response(status=code, content_type="text/html",
                                text=f"<html><body><h1>{code} Bad Gateway</h1></body></html>")
        if failure.kind == "migrated":
            return self._error(400, "Bad Request: group chat was upgraded to a supergroup chat",
                               {"migrate_to_chat_id": MIGRATED_TO})
        if failure.kind in ERRORS:
            return self._error(*ERRORS[failure.kind])
        return None

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        method = request.match_info["method"]
        if request.match_info["token"] != self.token:
            return self._error(401, "Unauthorized")
        params, photo = await self._params(request)
        self.calls.append(Call(method, params, self.clock(), photo))
        failure: Failure | None = None
        if self.clock() < self.down_until:
            failure = Failure(self.down_kind)
        elif self._failures[method]:
            failure = self._failures[method].popleft()
        if failure is not None and failure.kind != "lost_reply":
            response = self._failure_response(failure)
            assert response is not None, f"unknown failure kind {failure.kind!r}"
            return response
        handler = getattr(self, "_m_" + method, None)
        if handler is None:
            return self._error(404, "Not Found")
        response = await handler(params, photo)
        if failure is not None:  # processed, but the client never hears back
            request.transport.close()
        return response

    # -- methods ---------------------------------------------------------------------------------

    async def _m_getMe(self, params: dict, photo: int) -> web.Response:
        return self._ok({"id": BOT_ID, "is_bot": True, "first_name": "CHoCH", "username":
                         BOT_USERNAME, "can_join_groups": True,
                         "can_read_all_group_messages": False, "supports_inline_queries": False})

    def _chat_problem(self, chat_id: str) -> web.Response | None:
        if self.known_chats is not None and chat_id not in self.known_chats:
            return self._error(*ERRORS["chat_not_found"])
        if chat_id in self.blocked_chats:
            return self._error(*ERRORS["blocked"])
        return None

    def _message(self, chat_id: str, **extra: Any) -> dict:
        cid: Any = int(chat_id) if chat_id.lstrip("-").isdigit() else chat_id
        chat = ({"id": cid, "type": "private", "first_name": "Op"} if isinstance(cid, int)
                and cid > 0 else {"id": cid if isinstance(cid, int) else -1001,
                                  "type": "supergroup", "title": "Desk"})
        return {"message_id": next(self._message_ids), "date": int(self.clock()), "chat": chat,
                "from": {"id": BOT_ID, "is_bot": True, "first_name": "CHoCH",
                         "username": BOT_USERNAME}, **extra}

    async def _m_sendMessage(self, params: dict, photo: int) -> web.Response:
        chat_id = str(params.get("chat_id", ""))
        text = params.get("text")
        if not text:
            return self._error(400, "Bad Request: message text is empty")
        if len(text) > 4096:
            return self._error(400, "Bad Request: message is too long")
        problem = self._chat_problem(chat_id)
        if problem is not None:
            return problem
        msg = self._message(chat_id, text=text)
        self.sent.append(Sent("sendMessage", chat_id, text, params.get("parse_mode"), 0,
                              self.clock(), msg["message_id"]))
        return self._ok(msg)

    async def _m_sendPhoto(self, params: dict, photo: int) -> web.Response:
        chat_id = str(params.get("chat_id", ""))
        caption = params.get("caption")
        if not photo:
            return self._error(400, "Bad Request: there is no photo in the request")
        if caption and len(caption) > 1024:
            return self._error(400, "Bad Request: message caption is too long")
        problem = self._chat_problem(chat_id)
        if problem is not None:
            return problem
        sizes = [{"file_id": f"AgAD{n}", "file_unique_id": f"u{n}", "width": w, "height": h,
                  "file_size": photo // (4 - n)} for n, (w, h) in enumerate(
                      [(90, 50), (320, 178), (900, 500)], start=1)]
        msg = self._message(chat_id, photo=sizes, **({"caption": caption} if caption else {}))
        self.sent.append(Sent("sendPhoto", chat_id, caption, params.get("parse_mode"), photo,
                              self.clock(), msg["message_id"]))
        return self._ok(msg)

    async def _m_getChat(self, params: dict, photo: int) -> web.Response:
        chat_id = str(params.get("chat_id", ""))
        problem = self._chat_problem(chat_id)
        if problem is not None:
            return problem
        chat = self._message(chat_id)["chat"]
        return self._ok({**chat, "accent_color_id": 0, "max_reaction_count": 11,
                         "accepted_gift_types": {"unlimited_gifts": False,
                                                 "limited_gifts": False,
                                                 "unique_gifts": False,
                                                 "premium_subscription": False,
                                                 "gifts_from_channels": False}})

    async def _m_getUpdates(self, params: dict, photo: int) -> web.Response:
        offset = int(params.get("offset") or 0)
        timeout = float(params.get("timeout") or 0)
        limit = int(params.get("limit") or 100)
        if offset:
            # Telegram forgets every update below the offset: they count as confirmed.
            self._updates = [u for u in self._updates if u["update_id"] >= offset]
        if not self._updates and timeout > 0 and self._new_update is not None:
            self._new_update.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._new_update.wait(), timeout)
        return self._ok(self._updates[:limit])

    def __repr__(self) -> str:  # dataclass repr would dump every call
        return f"FakeTelegram(url={self.url!r}, sent={len(self.sent)}, calls={len(self.calls)})"


def dump(obj: Any) -> str:
    """Compact JSON, for debugging a failing test."""
    return json.dumps(obj, default=str)
