"""Logging: structlog events, JSON lines off a terminal (journald), console on one; no secrets."""
from __future__ import annotations

import logging
import re
import sys
from collections.abc import Iterable, MutableMapping
from dataclasses import fields
from typing import IO, Any

import structlog
from structlog.typing import EventDict, Processor

from .log_ring import RECENT, LogRing

REDACTED = "***"
# Library loggers that must go through the same pipeline (and the same redaction).
LIBRARY_LOGGERS = ("ccxt", "apscheduler", "telegram", "httpx", "httpcore", "aiohttp", "asyncio")
# Libraries whose INFO lines are routine noise in journald: httpx logs every request,
# APScheduler "Running job ..." and "Job ... executed successfully" on every slot.
QUIET_UNLESS_DEBUG = ("httpx", "apscheduler")
# A Telegram token inside a URL (https://api.telegram.org/bot<token>/sendMessage) is a secret
# even when we don't know its value, e.g. in httpx's request log lines.
_BOT_TOKEN_IN_URL = re.compile(r"/bot[0-9]+:[A-Za-z0-9_-]+")


class Redactor:
    """Replaces every known secret value, and bot tokens in URLs, anywhere in an event."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        self.secrets = sorted({s for s in secrets if s and len(s) >= 4}, key=len, reverse=True)

    def scrub(self, text: str) -> str:
        """The text with secrets replaced by ***."""
        for secret in self.secrets:
            if secret in text:
                text = text.replace(secret, REDACTED)
        return _BOT_TOKEN_IN_URL.sub("/bot" + REDACTED, text)

    def _clean(self, value: Any) -> Any:
        if isinstance(value, str):
            return self.scrub(value)
        if isinstance(value, dict):
            return {k: self._clean(v) for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            return type(value)(self._clean(v) for v in value)
        scalar = isinstance(value, (int, float, bool, type(None)))
        if isinstance(value, BaseException) or not scalar:
            return self.scrub(str(value)) if not isinstance(value, BaseException) else value
        return value

    def __call__(self, logger: Any, method: str, event: MutableMapping[str, Any]) -> EventDict:
        return {k: self._clean(v) for k, v in event.items()}


class _ScrubRendered:
    """Last step: scrub the rendered line too (tracebacks are rendered from exc_info)."""

    def __init__(self, renderer: Processor, redactor: Redactor) -> None:
        self.renderer = renderer
        self.redactor = redactor

    def __call__(self, logger: Any, method: str, event: MutableMapping[str, Any]) -> str:
        return self.redactor.scrub(str(self.renderer(logger, method, event)))


def configure(level: str = "INFO", secrets: Iterable[str] = (), json: bool | None = None,
              stream: IO[str] | None = None, ring: LogRing = RECENT) -> Redactor:
    """Set up structlog and route the standard-library loggers through it; returns the redactor.

    Warnings and errors are also kept, redacted, in `ring` (the dashboard's recent log lines).
    """
    stream = stream or sys.stdout
    if json is None:
        json = not stream.isatty()
    redactor = Redactor(secrets)
    ring.use_redactor(redactor.scrub)
    shared: list[Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        redactor,
        ring,  # after the redactor: it only ever sees scrubbed values
    ]
    renderer: Processor = (structlog.processors.JSONRenderer() if json
                else structlog.dev.ConsoleRenderer(colors=False))
    final: list[Processor] = [structlog.processors.format_exc_info] if json else []
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=shared,
        processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, *final,
                    _ScrubRendered(renderer, redactor)],
    )
    handler = logging.StreamHandler(stream)
    handler.setFormatter(formatter)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for name in LIBRARY_LOGGERS:
        lib = logging.getLogger(name)
        lib.handlers[:] = []
        lib.propagate = True
        # Library chatter at DEBUG (httpx logs every request line) only when we ask for DEBUG.
        lib.setLevel(level if level == "DEBUG" else max(logging.getLevelName(level), logging.INFO))
    for name in QUIET_UNLESS_DEBUG:
        quiet = max(logging.getLevelName(level), logging.WARNING)
        logging.getLogger(name).setLevel(logging.DEBUG if level == "DEBUG" else quiet)
    structlog.configure(
        processors=[*shared, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=False,
    )
    return redactor


def settings_secrets(settings: Any) -> list[str]:
    """The secret values of a Settings object: its fields marked secret and every venue's keys,
    secrets and passphrases."""
    found = _secret_fields(settings)
    for _venue, keys in getattr(settings, "venue_credentials", ()):
        found += _secret_fields(keys)
    return found


def _secret_fields(obj: Any) -> list[str]:
    return [getattr(obj, f.name) for f in fields(obj)
            if f.metadata.get("secret") and getattr(obj, f.name)]
