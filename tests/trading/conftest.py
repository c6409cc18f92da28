"""Fixtures: the fake trading server, settings pointing at it, a state DB, signals to trade."""
from __future__ import annotations

import time

import pytest

from app import components
from choch import Event
from config import load_settings
from domain.trade import Direction
from exchanges.binance import BINANCE
from exchanges.binance_client import BinanceTrading
from store import NewSignal, Store
from tests.fakes.binance_trading import API_KEY, SECRET, FakeBinanceTrading
from trading.outcomes import OutcomeKind, SignalOutcome

TF_MS = 15 * 60_000


@pytest.fixture
async def fake():
    server = FakeBinanceTrading()
    await server.start()
    yield server
    await server.stop()


@pytest.fixture
def fresh(tmp_path):
    """A second, empty state DB: the first one lost, or another instance's."""
    db = Store(tmp_path / "fresh.db")
    yield db
    db.close()


def make_settings(fake_url: str = "", **env: str):
    """Demo trading against the fake, BTC/ETH/LTC, 100 USDT x 20."""
    base = {"ENABLE_TRADING": "1", "DEMO_TRADING": "1", "BINANCE_API_KEY_DEMO": API_KEY,
            "BINANCE_SECRET_DEMO": SECRET, "BINANCE_TRADING_URL": fake_url,
            "SYMBOLS": "BTC/USDT,ETH/USDT,LTC/USDT", "POSITION_SIZE": "100", "LEVERAGE": "20"}
    base.update(env)
    return load_settings({k: v for k, v in base.items() if v != ""}, dotenv_path=None)


def make_signal(store: Store, symbol: str = "BTC/USDT", direction: str = "bullish",
                close: float = 50000.0, extreme: float = 49000.0, *, kind: str = "CHOCH",
                timeframe: str = "15m", pivot_time: int | None = None,
                confirmed_at: int | None = None):
    """Record one pending signal and return its row."""
    now = int(time.time() * 1000) if confirmed_at is None else confirmed_at
    pivot = pivot_time if pivot_time is not None else now - 10 * TF_MS
    event = Event(kind, direction, close * 0.999, pivot, now - TF_MS, now, extreme, close)
    rows = store.commit_candles(symbol, timeframe, "L5R5close", {}, now - TF_MS,
                                [NewSignal(event, False, "pending", None)], now, venue="binance")
    return rows[0]


def is_opened(outcome: SignalOutcome, direction: Direction = Direction.LONG,
              quantity: float | None = None, price: float | None = None) -> bool:
    """True when on_signal opened and protected a `direction` position (of `quantity` @ `price`
    when given)."""
    return (outcome.kind is OutcomeKind.OPENED and outcome.direction is direction
            and quantity in (None, outcome.quantity) and price in (None, outcome.price))


_open: list = []


async def make_manager(fake, store, settings=None, *, start: bool = True, **kw):
    """A (started) manager trading through the real adapter against the fake."""
    settings = settings or make_settings(fake.url)
    broker = BinanceTrading(components.trading_config(settings, BINANCE), BINANCE, backoff_s=0.01,
                            rate_limit=False)
    manager = components.position_manager(settings, store, broker, **kw)
    _open.append(manager)
    if start:
        await manager.start(list(settings.symbols))
    return manager


@pytest.fixture(autouse=True)
async def _close_sessions():
    yield
    while _open:
        await _open.pop().close_session()


def notices(store: Store) -> list[dict]:
    """Payloads of every queued trade/notice message."""
    rows = store.conn.execute("SELECT topic, payload FROM outbox ORDER BY id").fetchall()
    import json
    return [json.loads(r["payload"]) | {"topic": r["topic"]} for r in rows]
