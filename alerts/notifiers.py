"""Where alerts go: Telegram (python-telegram-bot) or, with no token configured, stdout.

Telegram's exceptions are translated here, once, into three outcomes the delivery loop acts on:
Transient (retry with backoff), RateLimited (wait exactly what Telegram said), Permanent (give up).
"""
from __future__ import annotations

import datetime as dtm
import logging
import sys
import warnings
from typing import Any, Protocol, TextIO

import httpx
import structlog
from telegram import Bot, LinkPreviewOptions
from telegram.constants import ParseMode
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Conflict,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TelegramError,
    TimedOut,
)
from telegram.request import HTTPXRequest
from telegram.warnings import PTBDeprecationWarning

from domain.checks import CheckLine

from .messages import clip, plain

log = structlog.get_logger(__name__)
DEFAULT_API_URL = "https://api.telegram.org"
NO_PREVIEW = LinkPreviewOptions(is_disabled=True)  # the chart is the preview


class DeliveryError(Exception):
    """A message could not be delivered; `text` is safe to log (no token, no chat id)."""


class Transient(DeliveryError):
    """Worth retrying later. `ambiguous`: the request may have reached Telegram anyway."""

    def __init__(self, text: str, ambiguous: bool = False) -> None:
        super().__init__(text)
        self.ambiguous = ambiguous


class RateLimited(DeliveryError):
    """Telegram's flood control (429): wait `retry_after` seconds, then retry."""

    def __init__(self, retry_after: float) -> None:
        super().__init__(f"flood control: retry after {retry_after:g} s")
        self.retry_after = retry_after


class Permanent(DeliveryError):
    """Retrying cannot help (bad request, chat not found, bot blocked)."""


class Notifier(Protocol):
    """What the delivery loop needs from a destination."""

    supports_photos: bool
    rate_limited: bool  # subject to Telegram's flood control (the console is not)
    chat_key: str  # identifies the destination for rate limiting; never logged

    @property
    def is_group(self) -> bool:
        """True for a group or channel (Telegram allows it about 20 messages a minute)."""

    async def send_text(self, text_html: str) -> None:
        """Send one HTML message; raise a DeliveryError subclass on failure."""

    async def send_photo(self, png: bytes, caption_html: str | None) -> None:
        """Send one picture with an optional HTML caption; raise a DeliveryError on failure."""

    async def close(self) -> None:
        """Release connections."""


def _seconds(value: Any) -> float:
    """RetryAfter.retry_after is an int or a timedelta depending on PTB settings."""
    return value.total_seconds() if isinstance(value, dtm.timedelta) else float(value)


def telegram_retry_after_s(exc: RetryAfter) -> float:
    """Seconds Telegram asked us to wait, from the public RetryAfter.retry_after."""
    with warnings.catch_warnings():
        # PTB 22 warns that the int will become a timedelta (PTB_TIMEDELTA=1 opts in early):
        # _seconds reads both, so the notice is not the operator's concern.
        warnings.simplefilter("ignore", PTBDeprecationWarning)
        return _seconds(exc.retry_after)


def _ambiguous(exc: BaseException) -> bool:
    """True when the request may have been processed: it was written but no reply came back."""
    cause = exc.__cause__
    if isinstance(cause, (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)):
        return False
    return isinstance(cause, (httpx.ReadTimeout, httpx.WriteTimeout, httpx.ReadError,
                              httpx.RemoteProtocolError))


def delivery_error(exc: TelegramError) -> DeliveryError:
    """The delivery outcome a python-telegram-bot error means: Transient, RateLimited or
    Permanent."""
    if isinstance(exc, RetryAfter):
        return RateLimited(telegram_retry_after_s(exc))
    if isinstance(exc, InvalidToken):
        # Its message contains the token: never pass it on. A revoked token is fixed by the
        # operator; until then alerts wait in the outbox rather than being thrown away.
        return Transient("the bot token was rejected (401/404): check TELEGRAM_BOT_TOKEN")
    if isinstance(exc, (Forbidden, BadRequest)):
        return Permanent(f"{type(exc).__name__}: {exc.message}")
    if isinstance(exc, TimedOut):
        return Transient(f"timed out: {exc.message}", ambiguous=_ambiguous(exc))
    if isinstance(exc, NetworkError):  # includes 5xx answers and connection errors
        # Drop the echoed HTML page of a gateway error: the status says it all.
        text = exc.message.split(". Parsing the server response")[0]
        return Transient(f"network: {text}", ambiguous=_ambiguous(exc))
    if isinstance(exc, Conflict):
        return Transient(f"conflict: {exc.message}")
    return Transient(f"{type(exc).__name__}: {exc.message}")


class _RedactSecrets(logging.Filter):
    """Scrub the bot token and chat id from httpx/PTB records (URLs and debug dumps hold them)."""

    def __init__(self, secrets: tuple[str, ...]) -> None:
        super().__init__()
        self.secrets = tuple(s for s in secrets if s)

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if any(s in message for s in self.secrets):
            for secret in self.secrets:
                message = message.replace(secret, "***")
            record.msg, record.args = message, ()
        return True


def _guard_logs(token: str, chat_id: str) -> None:
    """Install the scrubber on the loggers that print request URLs and API answers."""
    secrets = (token, chat_id)
    for name in ("httpx", "httpcore", "telegram.Bot", "telegram.ext.Updater"):
        logger = logging.getLogger(name)
        if not any(isinstance(f, _RedactSecrets) and f.secrets == secrets
                   for f in logger.filters):
            logger.addFilter(_RedactSecrets(secrets))


class TelegramNotifier:
    """Sends to the one configured chat through python-telegram-bot's Bot."""

    supports_photos = True
    rate_limited = True

    def __init__(self, token: str, chat_id: str, api_url: str = "", *,
                 timeout_s: float = 10.0, poll_timeout_s: float = 30.0) -> None:
        _guard_logs(token, chat_id)
        base = (api_url or DEFAULT_API_URL).rstrip("/")
        # PTB appends the token to base_url itself: '<base>/bot' + token + '/sendMessage'.
        self.bot = Bot(token, base_url=base + "/bot", base_file_url=base + "/file/bot",
                       request=HTTPXRequest(connect_timeout=timeout_s, read_timeout=timeout_s,
                                            write_timeout=timeout_s, media_write_timeout=timeout_s),
                       get_updates_request=HTTPXRequest(connect_timeout=timeout_s,
                                                        read_timeout=timeout_s))
        self.chat_id = chat_id
        self.chat_key = chat_id
        self.poll_timeout_s = poll_timeout_s
        self._ready = False

    @property
    def is_group(self) -> bool:
        """Negative ids are groups/channels; @name is a channel."""
        return self.chat_id.startswith(("-", "@"))

    async def start(self) -> None:
        """Open the HTTP pools and learn the bot's username (getMe); retried on the next call."""
        if self._ready:
            return
        try:
            await self.bot.initialize()
        except TelegramError as e:
            raise delivery_error(e) from None
        self._ready = True

    async def _call(self, method: str, **kwargs: Any) -> Any:
        """One Bot API call with errors translated (and a migrated group followed)."""
        await self.start()
        try:
            return await getattr(self.bot, method)(chat_id=self.chat_id, **kwargs)
        except ChatMigrated as e:
            # A group upgraded to a supergroup gets a new id: follow it for this run, ask for
            # the setting to be updated. Neither id is logged.
            self.chat_id = str(e.new_chat_id)
            log.warning("telegram_chat_migrated", hint="update TELEGRAM_CHAT_ID to the new id")
            raise Transient("chat migrated to a supergroup; retrying there") from None
        except TelegramError as e:
            raise delivery_error(e) from None

    async def send_text(self, text_html: str) -> None:
        """sendMessage in HTML parse mode, link previews off."""
        await self._call("send_message", text=clip(text_html), parse_mode=ParseMode.HTML,
                         link_preview_options=NO_PREVIEW)

    async def send_photo(self, png: bytes, caption_html: str | None) -> None:
        """sendPhoto (multipart upload) with an optional HTML caption."""
        kwargs: dict[str, Any] = {"photo": png}
        if caption_html:
            kwargs.update(caption=caption_html, parse_mode=ParseMode.HTML)
        await self._call("send_photo", **kwargs)

    async def reply(self, chat_id: int | str, text_html: str) -> None:
        """Answer a command in the chat it came from (interactive: not via the outbox)."""
        await self.start()
        try:
            await self.bot.send_message(chat_id=chat_id, text=clip(text_html),
                                        parse_mode=ParseMode.HTML, link_preview_options=NO_PREVIEW)
        except TelegramError as e:
            raise delivery_error(e) from None

    async def check(self) -> list[CheckLine]:
        """For `main.py check`: the token works (getMe) and the chat is reachable (getChat).

        Sends nothing. Lines name neither the token nor the chat id.
        """
        try:
            await self.start()
        except DeliveryError as e:
            return [CheckLine("telegram bot", False, str(e))]
        lines = [CheckLine("telegram bot", True, f"@{self.bot.username}")]
        try:
            chat = await self.bot.get_chat(chat_id=self.chat_id)
            lines.append(CheckLine("telegram chat", True, f"reachable ({chat.type})"))
        except TelegramError as e:
            lines.append(CheckLine("telegram chat", False, str(delivery_error(e))))
        return lines

    async def close(self) -> None:
        """Close the HTTP pools."""
        if self._ready:
            await self.bot.shutdown()
            self._ready = False


class ConsoleNotifier:
    """Prints readable alerts to stdout: the default when no bot token is configured."""

    supports_photos = False
    rate_limited = False  # printing is not subject to Telegram's flood control
    chat_key = "console"
    is_group = False

    def __init__(self, stream: TextIO | None = None) -> None:
        self.stream = stream

    async def send_text(self, text_html: str) -> None:
        """Print the alert as plain text between rules."""
        out = self.stream or sys.stdout
        print("─" * 60, plain(text_html), sep="\n", file=out, flush=True)

    async def send_photo(self, png: bytes, caption_html: str | None) -> None:
        """No pictures on a console: print the caption only."""
        if caption_html:
            await self.send_text(caption_html)

    async def close(self) -> None:
        """Nothing to release."""


def notifier_for(token: str, chat_id: str, api_url: str = ""
                 ) -> TelegramNotifier | ConsoleNotifier:
    """TelegramNotifier when a bot token is given, else ConsoleNotifier."""
    if token:
        log.info("alerts_channel", alerts="telegram")
        return TelegramNotifier(token, chat_id, api_url)
    log.info("alerts_channel", alerts="console", reason="TELEGRAM_BOT_TOKEN is not set")
    return ConsoleNotifier()
