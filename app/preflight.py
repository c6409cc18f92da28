"""`main.py check`: the effective mode, then one line per component probe; non-zero on failure."""
from __future__ import annotations

import asyncio
import sys
from collections.abc import Awaitable, Callable

from alerts import TelegramNotifier
from app import components
from config import Settings
from domain.checks import CheckLine
from store import StateDbError, Store, check_state_db

from . import banner
from .logs import configure, settings_secrets

Probe = Callable[[], Awaitable[list[CheckLine]]]
PROBE_TIMEOUT_S = 30.0


async def _data_probe(settings: Settings) -> list[CheckLine]:
    fetcher = components.market_data(settings)
    try:
        return await fetcher.check(components.watched_symbols(settings, fetcher))
    finally:
        await fetcher.close()


async def _trading_probe(settings: Settings) -> list[CheckLine]:
    store = Store(":memory:")
    manager = components.position_manager(settings, store, components.make_broker(settings, store))
    try:
        return await manager.check()
    finally:
        await manager.close_session()
        store.close()


async def _telegram_probe(settings: Settings) -> list[CheckLine]:
    notifier = TelegramNotifier(settings.telegram_bot_token, settings.telegram_chat_id,
                                settings.telegram_api_url)  # probed only when a token is set
    try:
        return await notifier.check()
    finally:
        await notifier.close()


def _state_db_line(settings: Settings) -> CheckLine:
    """The state DB opened read-write, integrity-checked, or why the daemon could not use it."""
    try:
        return CheckLine("state DB", True, f"STATE_DB={check_state_db(settings.state_db)}")
    except StateDbError as e:
        return CheckLine("state DB", False, f"STATE_DB={settings.state_db}: {e}")


async def _run(name: str, probe: Probe, out) -> bool:
    """Run one probe; an exception is a failed line, never a crash of the command."""
    try:
        lines = await asyncio.wait_for(probe(), timeout=PROBE_TIMEOUT_S)
    except Exception as e:  # noqa: BLE001 - report and go on with the other components
        lines = [CheckLine(name, False, f"{type(e).__name__}: {e}")]
    for label, ok, detail in lines:
        print(f"{'ok  ' if ok else 'FAIL'} {label}: {detail}", file=out)
    return all(ok for _, ok, _ in lines) and bool(lines)


async def check(settings: Settings, out=None) -> int:
    """Print the mode and the result of every probe; 0 when all pass, 1 otherwise."""
    out = out or sys.stdout
    configure("WARNING", settings_secrets(settings), stream=sys.stderr)
    print("configuration: ok", file=out)
    for line in banner.describe(settings):
        print(f"  {line}", file=out)
    probes: list[tuple[str, Probe]] = [("data instance", lambda: _data_probe(settings))]
    if settings.enable_trading:
        probes.append(("trading instance", lambda: _trading_probe(settings)))
    else:
        print(f"skip trading instance: {banner.PAPER} mode (ENABLE_TRADING=0), no exchange "
              "account used", file=out)
    if settings.telegram_bot_token:
        probes.append(("telegram", lambda: _telegram_probe(settings)))
    else:
        print(f"skip telegram: no TELEGRAM_BOT_TOKEN, alerts: {banner.CONSOLE}", file=out)
    label, state_ok, detail = _state_db_line(settings)
    print(f"{'ok  ' if state_ok else 'FAIL'} {label}: {detail}", file=out)
    results = [await _run(name, probe, out) for name, probe in probes]
    return 0 if state_ok and all(results) else 1
