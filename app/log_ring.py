"""The last warnings and errors, kept in memory for the dashboard (already redacted, bounded)."""
from __future__ import annotations

import sys
import threading
from collections import deque
from collections.abc import Callable, MutableMapping
from typing import Any

from structlog.typing import EventDict

KEPT = 200             # lines kept; older ones drop off
VALUE_CHARS = 300      # one field's text at most
LINE_FIELDS = 12       # fields kept per line
LEVELS = frozenset({"warning", "error", "critical", "exception"})
# Not copied: the rendering's own bookkeeping and what the line already says.
SKIPPED = frozenset({"event", "level", "timestamp", "logger", "exc_info", "stack_info",
                     "_record", "_from_structlog"})


class LogRing:
    """A structlog processor that keeps a copy of each warning or error, after redaction.

    It must run after the Redactor (app.logs.configure puts it there), and it scrubs once more
    with the same redactor, so a line in it never holds a known secret.
    """

    def __init__(self, size: int = KEPT) -> None:
        self._lines: deque[dict] = deque(maxlen=size)
        self._lock = threading.Lock()  # library loggers may log from other threads
        self._scrub: Callable[[str], str] = lambda text: text

    def use_redactor(self, scrub: Callable[[str], str]) -> None:
        """Scrub every kept text with `scrub` (the Redactor's) as well."""
        self._scrub = scrub

    def __call__(self, logger: Any, method: str, event: MutableMapping[str, Any]) -> EventDict:
        level = str(event.get("level", method)).lower()
        if level in LEVELS:
            self._keep(level, event)
        return dict(event)

    def _keep(self, level: str, event: MutableMapping[str, Any]) -> None:
        fields: dict[str, str] = {}
        for key, value in list(event.items())[:LINE_FIELDS + len(SKIPPED)]:
            if key in SKIPPED or len(fields) >= LINE_FIELDS:
                continue
            fields[str(key)[:40]] = self._scrub(str(value)[:VALUE_CHARS])
        error = event.get("exc_info")
        if error is True:  # log.exception(...): the exception being handled
            error = sys.exc_info()[1]
        if isinstance(error, BaseException):
            fields["error"] = self._scrub(f"{type(error).__name__}: {error}"[:VALUE_CHARS])
        line = {"at": str(event.get("timestamp", "")), "level": level,
                "logger": str(event.get("logger", "")),
                "event": self._scrub(str(event.get("event", ""))[:VALUE_CHARS]),
                "fields": fields}
        with self._lock:
            self._lines.append(line)

    def recent(self, limit: int) -> list[dict]:
        """The newest `limit` lines, newest first."""
        with self._lock:
            lines = list(self._lines)
        return lines[::-1][:limit]

    def clear(self) -> None:
        """Forget every line."""
        with self._lock:
            self._lines.clear()


RECENT = LogRing()  # the process's ring: logging is process-wide too
