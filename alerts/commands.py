"""The command channel: long polling (getUpdates) in the daemon's loop, one authorised chat.

Only messages from TELEGRAM_CHAT_ID are obeyed; anything else is logged (command word only)
and ignored without a reply. Commands that change trading (CONTROL) also need the sender to be
in TELEGRAM_ADMIN_IDS or, when that is empty, a chat where only the operator can write (private,
or a channel): in a group any member could otherwise close the operator's positions.
A command older than COMMAND_MAX_AGE_S (sent while the daemon was down) is not run: closing
positions an hour after the operator asked is not what they meant.

Why our own getUpdates loop and not PTB's Application/Updater with filters.Chat: the guarantee
the operator relies on sits between fetching an update and running it, where the Updater gives
no hook. The next update id is stored in the state DB before the command runs, so a command
that crashes the handler, or the daemon, is never run twice, not even after a restart (the
Updater keeps its offset in memory and confirms it to Telegram only with its next
getUpdates, so a crash mid-command re-delivers it). The too-old refusal and the chat filter
would port to handlers easily; the offset would not. The Updater would also bring its own task,
retry/backoff loop and shutdown order next to the daemon's stop event and the shared backoff
utility. What remains is small and uses public API only: Bot.get_updates, Bot.initialize
(getMe) and Bot.username.
"""
from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

import structlog
from telegram import Bot, Update
from telegram.constants import ParseMode
from telegram.error import Conflict, TelegramError

from domain.backoff import Backoff, sleep_unless
from domain.symbols import normalize_symbol

from .messages import clip, esc
from .notifiers import NO_PREVIEW, TelegramNotifier, delivery_error
from .replies import HELP, duration, positions_text, signals_text, status_text

log = structlog.get_logger(__name__)
OFFSET_KEY = "telegram_update_offset"  # kv: the next update id, so a restart never re-runs one
CONFIRM_WINDOW_S = 60.0
CONTROL = frozenset({"pause", "resume", "close", "closeall"})  # commands that change trading
MAX_SIGNALS = 50


class Controller(Protocol):
    """What the commands act on; implemented by the daemon and the trading code."""

    def status(self) -> dict:
        """uptime_s, mode, paused, symbols, timeframes, last_candles {(symbol, tf): open ms},
        health {'data': str, 'trading': str} and anything else worth showing."""

    async def positions(self) -> list[dict]:
        """Open positions: symbol, direction, quantity, entry_price, stop, target, pnl, mode."""

    def pause(self) -> None:
        """Stop opening trades (alerts continue; open positions keep their stops)."""

    def resume(self) -> None:
        """Trade new signals again."""

    async def close(self, symbol: str) -> str:
        """Close one symbol's position at market; a one-line result for the operator."""

    async def close_all(self) -> str:
        """Close every open position at market; a short result for the operator."""


@dataclass(frozen=True)
class CommandSettings:
    """What the command channel is told: whose commands count and how old they may be."""

    telegram_chat_id: str                     # the one chat whose commands are answered
    telegram_admin_ids: tuple[int, ...] = ()  # who may pause, resume and close (README)
    command_max_age_s: float = 120.0          # older commands are ignored (queued while down)


@runtime_checkable
class SignalSource(Protocol):
    """Where /signals reads the newest signals: the store, or a controller that has them."""

    def recent_signals(self, n: int) -> list[Any]:
        """The newest `n` signals, newest first."""


class OffsetStore(SignalSource, Protocol):
    """The state DB as the channel uses it: the persisted update offset and the signals."""

    def get(self, key: str, default: Any = None) -> Any:
        """A stored value."""

    def put(self, key: str, value: Any) -> None:
        """Store a value."""


def _bot_of(bot_or_notifier: TelegramNotifier | Bot | object) -> Bot | None:
    """The PTB Bot behind a TelegramNotifier (or the Bot itself); None for the console."""
    if isinstance(bot_or_notifier, TelegramNotifier):
        return bot_or_notifier.bot
    if isinstance(bot_or_notifier, Bot):
        return bot_or_notifier
    return None


def parse_command(text: str, bot_username: str | None) -> tuple[str, list[str]] | None:
    """'/close@MyBot btcusdt' -> ('close', ['btcusdt']); None if not a command for this bot."""
    words = text.strip().split()
    if not words or not words[0].startswith("/"):
        return None
    name, _, target = words[0][1:].partition("@")
    if target and bot_username and target.lower() != bot_username.lower():
        return None  # addressed to another bot in the same group
    return name.lower(), words[1:]


def signals_count(word: str) -> int:
    """N of '/signals N', capped at MAX_SIGNALS; 0 unless ASCII digits ('²' and '٣' are not)."""
    if not re.fullmatch(r"[0-9]+", word):
        return 0
    digits = word.lstrip("0")
    # int() of thousands of digits raises: any long number is simply "the most we show".
    return MAX_SIGNALS if len(digits) > 3 else min(int(digits or "0"), MAX_SIGNALS)


class CommandChannel:
    """Receives commands by long polling and answers them directly (not via the outbox)."""

    def __init__(self, bot_or_notifier: TelegramNotifier | Bot | object, settings: CommandSettings,
                 controller: Controller, *, store: OffsetStore | None = None,
                 clock: Callable[[], float] = time.time,
                 sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
                 poll_timeout_s: int = 30, retry_base_s: float = 1.0,
                 retry_cap_s: float = 60.0, confirm_window_s: float = CONFIRM_WINDOW_S) -> None:
        self.notifier = bot_or_notifier
        self.bot = _bot_of(bot_or_notifier)
        self.chat_id = settings.telegram_chat_id
        self.admin_ids = frozenset(settings.telegram_admin_ids)
        self.max_age_s = settings.command_max_age_s
        self.controller = controller
        self.store = store
        self.clock = clock
        self.sleep = sleep
        self.poll_timeout_s = poll_timeout_s
        self.retry_base_s = retry_base_s
        self.retry_cap_s = retry_cap_s
        self.backoff = Backoff(base_s=retry_base_s, factor=2.0, cap_s=retry_cap_s)
        self.confirm_window_s = confirm_window_s
        self.offset: int | None = store.get(OFFSET_KEY) if store is not None else None
        self._closeall_asked_at: float | None = None
        self._failures = 0

    # -- polling -------------------------------------------------------------------------------

    async def run(self, stop_event: asyncio.Event) -> None:
        """Poll and handle commands until `stop_event` is set."""
        if self.bot is None or not self.chat_id:
            log.info("commands_disabled", reason="no Telegram bot configured")
            return
        log.info("commands_started")
        while not stop_event.is_set():
            poll = asyncio.ensure_future(self.poll_once())
            stop = asyncio.ensure_future(stop_event.wait())
            try:
                await asyncio.wait([poll, stop], return_when=asyncio.FIRST_COMPLETED)
            finally:
                stop.cancel()
            if not poll.done():  # stopping: abandon the long poll (nothing was consumed)
                poll.cancel()
                await asyncio.gather(poll, return_exceptions=True)
                break
            try:
                wait = poll.result()
            except Exception:  # a bug must not end the command channel for the daemon's life
                log.exception("commands_error")
                wait = self.retry_cap_s
            if wait:
                await self._pause(wait, stop_event)
        await self._acknowledge()
        log.info("commands_stopped")

    async def _acknowledge(self) -> None:
        """Confirm the handled updates to Telegram before exiting (getUpdates with the offset)."""
        if self.offset is None or self.bot is None:
            return
        try:
            await asyncio.wait_for(self.bot.get_updates(offset=self.offset, timeout=0, limit=1),
                                   timeout=2.0)
        except Exception:  # noqa: BLE001 - best effort: the stored offset and the age check still protect
            log.warning("commands_ack_failed")

    async def _pause(self, delay: float, stop_event: asyncio.Event) -> None:
        """Sleep `delay` seconds or until stopped."""
        await sleep_unless(delay, stop_event, sleep=self.sleep)

    async def poll_once(self) -> float:
        """One getUpdates round and its commands; seconds to wait before the next (0 = none)."""
        try:
            updates = await self._fetch_updates()
        except TelegramError as e:
            return self._poll_failed(e)
        self._failures = 0
        await self._consume(updates)
        return 0.0

    def _bot_username(self) -> str | None:
        """Our @username once the Bot is initialised (getMe done), else None."""
        if self.bot is None:
            return None
        try:
            return self.bot.username
        except RuntimeError:  # PTB's way of saying initialize() has not run yet
            return None

    async def _fetch_updates(self) -> tuple[Update, ...]:
        """getUpdates from the stored offset, learning our @username first (once)."""
        bot = self.bot
        if bot is None:
            raise RuntimeError("no Telegram bot configured: there are no updates to fetch")
        if self._bot_username() is None:  # needed for '/cmd@bot' in groups
            await bot.initialize()
        return await bot.get_updates(offset=self.offset, timeout=self.poll_timeout_s,
                                     allowed_updates=["message", "channel_post"])

    def _poll_failed(self, error: TelegramError) -> float:
        """Log a failed poll; the capped exponential wait before the next one."""
        self._failures += 1
        wait = self.backoff.delay(self._failures)
        if isinstance(error, Conflict):
            log.error("commands_conflict", hint="another process polls this bot, or a "
                      "webhook is set; stop it", retry_in_s=wait)
        else:
            log.warning("commands_poll_failed", error=str(delivery_error(error)),
                        retry_in_s=wait)
        return wait

    async def _consume(self, updates: tuple[Update, ...]) -> None:
        """Handle updates in order, each acknowledged (offset stored) before it runs."""
        for update in updates:
            # Acknowledge first: a command that crashes the handler must not run again forever.
            self.offset = update.update_id + 1
            if self.store is not None:
                self.store.put(OFFSET_KEY, self.offset)
            await self.handle(update)

    # -- one update ----------------------------------------------------------------------------

    def _authorised(self, update: Update) -> bool:
        """True when the update comes from the configured chat."""
        chat = update.effective_chat
        if chat is None:
            return False
        if self.chat_id.startswith("@"):
            return (chat.username or "").lower() == self.chat_id[1:].lower()
        return str(chat.id) == self.chat_id

    def _may_control(self, update: Update) -> bool:
        """Trading commands: from TELEGRAM_ADMIN_IDS when set, else not from a group."""
        if self.admin_ids:
            user = update.effective_user  # None for a channel post: refused
            return user is not None and user.id in self.admin_ids
        chat = update.effective_chat
        # Only the owner writes in a private chat, only the channel's admins post in a channel.
        return chat is not None and chat.type in ("private", "channel")

    async def handle(self, update: Update) -> None:
        """Run the command in one update, if it is one from the authorised chat."""
        message = update.effective_message
        if message is None or not message.text:
            return
        parsed = parse_command(message.text, self._bot_username())
        if not self._authorised(update):
            chat = update.effective_chat
            # The stranger's ids are not our secret; their text is not echoed, only its start.
            log.warning("command_ignored", reason="unauthorised chat",
                        from_chat=chat.id if chat else None,
                        from_user=update.effective_user.id if update.effective_user else None,
                        command=(parsed[0][:20] if parsed else None), length=len(message.text))
            return
        if parsed is None:
            return
        name, args = parsed
        age = self.clock() - message.date.timestamp()
        if age > self.max_age_s:
            log.warning("command_too_old", command=name[:20], age_s=round(age))
            await self.reply(f"Ignored /{esc(name[:20])}: sent {esc(duration(age))} ago, while I "
                             "was not listening. Send it again if you still mean it.")
            return
        if name in CONTROL and not self._may_control(update):
            log.warning("command_refused", reason="not an admin", command=name,
                        from_user=update.effective_user.id if update.effective_user else None)
            await self.reply(f"⛔ /{name} is for the bot's admins only. The operator can allow "
                             "it by adding their Telegram user id to TELEGRAM_ADMIN_IDS.")
            return
        log.info("command_received", command=name[:20], args=len(args))
        try:
            text = await self.dispatch(name, args)
        except Exception as e:  # the controller failed: tell the operator, keep polling
            log.exception("command_failed", command=name[:20])
            text = f"⚠️ /{esc(name[:20])} failed: {esc(type(e).__name__)}: {esc(str(e)[:300])}"
        await self.reply(text)

    async def dispatch(self, name: str, args: list[str]) -> str:
        """The reply (HTML) to one authorised command."""
        c = self.controller
        if name in ("help", "start"):
            return HELP
        if name == "status":
            try:
                positions: list | None = await c.positions()
            except Exception:
                log.exception("status_positions_failed")
                positions = None
            return status_text(c.status(), positions, self.clock())
        if name == "signals":
            return self._signals(args)
        if name == "positions":
            return positions_text(await c.positions())
        if name == "pause":
            c.pause()
            return ("⏸ Trading paused: new signals are not traded. Alerts continue; open "
                    "positions keep their stops. /resume to trade again.")
        if name == "resume":
            c.resume()
            return "▶️ Trading resumed: new signals will be traded."
        if name == "close":
            if len(args) != 1:
                return "Usage: /close SYMBOL, e.g. /close BTCUSDT"
            try:
                symbol = normalize_symbol(args[0])
            except ValueError as e:
                return f"⚠️ {esc(e)}"
            return esc(await c.close(symbol))
        if name == "closeall":
            return await self._closeall(args)
        return f"Unknown command /{esc(name[:20])}. /help lists the commands."

    def _signals(self, args: list[str]) -> str:
        """The /signals [N] reply, from the store (or the controller's recent_signals(n))."""
        source: SignalSource | None = self.store
        if source is None and isinstance(self.controller, SignalSource):
            source = self.controller
        if source is None:
            return "Signals are not available."
        n = 5
        if args:
            n = signals_count(args[0])
            if n < 1:
                return f"Usage: /signals [N], N from 1 to {MAX_SIGNALS}"
        return signals_text(source.recent_signals(n))

    async def _closeall(self, args: list[str]) -> str:
        """Two steps: /closeall asks, '/closeall confirm' within the window does it."""
        now = self.clock()
        if args and args[0].lower() == "confirm":
            asked = self._closeall_asked_at
            self._closeall_asked_at = None
            if asked is None or now - asked > self.confirm_window_s:
                return "Nothing to confirm: send /closeall first, then /closeall confirm."
            log.warning("closeall_confirmed")
            return "🛑 " + esc(await self.controller.close_all())
        positions = await self.controller.positions()
        if not positions:
            self._closeall_asked_at = None
            return "No open positions: nothing to close."
        self._closeall_asked_at = now
        return (f"⚠️ This closes <b>all {len(positions)}</b> open position"
                f"{'s' if len(positions) > 1 else ''} at market.\n"
                f"Reply <code>/closeall confirm</code> within {self.confirm_window_s:.0f} s.")

    async def reply(self, text_html: str) -> None:
        """Send a reply to the authorised chat; a failure is logged, not raised."""
        if self.bot is None:
            return
        try:
            await self.bot.send_message(chat_id=self.chat_id, text=clip(text_html),
                                        parse_mode=ParseMode.HTML, link_preview_options=NO_PREVIEW)
        except TelegramError as e:
            log.warning("command_reply_failed", error=str(delivery_error(e)))
