"""OKX through ccxt against the local OKX fake: contracts, margin mode and posSide on every
order, ids never re-sent, error codes by the venue's table, candles from the endpoint that
holds the range, UTC days."""
from __future__ import annotations

import json
import time

import numpy as np
import pandas as pd
import pytest

from app import components
from config import load_settings
from exchanges.ccxt_lean import ccxt
from exchanges.errors import Rejected, TransientExchangeError, translate
from exchanges.okx import (
    OKX,
    RECENT_CANDLES_KEPT,
    base_step,
    inst_id,
    symbol_of,
    to_base,
    to_contracts,
)
from exchanges.okx_client import candle_endpoint
from exchanges.retry import RetryPolicy
from exchanges.venue import Reason
from store import Store
from tests.fakes.okx import API_KEY, PASSPHRASE, SECRET, FakeOKX
from trading.execution import OrderDesk, OrderUnresolved

pytestmark = pytest.mark.slow  # the OKX client against its fake, over long ranges

BTC = "BTC-USDT-SWAP"
MIN = 60_000
ORDER, ALGO = "/api/v5/trade/order", "/api/v5/trade/order-algo"


def _settings(data_url: str = "", trading_url: str = "", **extra: str):
    env = {"DATA_EXCHANGE": "okx", "TRADING_EXCHANGE": "okx", "ENABLE_TRADING": "1",
           "DEMO_TRADING": "1", "OKX_API_KEY_DEMO": API_KEY, "OKX_SECRET_DEMO": SECRET,
           "OKX_PASSPHRASE_DEMO": PASSPHRASE, "SYMBOLS": "BTC/USDT", "LEVERAGE": "20",
           "FETCH_TIMEOUT_S": "2", "OKX_DATA_URL": data_url, "OKX_TRADING_URL": trading_url,
           **extra}
    return load_settings({k: v for k, v in env.items() if v}, dotenv_path=None)


@pytest.fixture
async def okx():
    """The trading fake (demo keys) and a started OKX trading instance on it."""
    fake = FakeOKX(demo=True)
    await fake.start()
    broker = components.trading(_settings(trading_url=fake.url), backoff_s=0.01, rate_limit=False)
    await broker.start(["BTC/USDT"])
    yield fake, broker
    await broker.close()
    await fake.stop()


# -- pure data ---------------------------------------------------------------------------------

def test_symbols_map_to_usdt_swaps_and_back():
    assert inst_id("BTC/USDT") == inst_id("BTC/USDT:USDT") == BTC
    assert symbol_of(BTC) == "BTC/USDT"


def test_base_quantities_become_whole_lots_of_contracts():
    # 0.0003 BTC / 0.01 ctVal / 0.01 lotSz is 2.9999999999999996 lots in floats: still 3.
    assert to_contracts(0.0003, 0.01, 0.01) == 0.03
    assert to_contracts(0.04, 0.01, 0.01) == 4
    assert to_contracts(0.04999, 0.01, 0.01) == 4.99  # rounded down, never up
    assert to_contracts(0.00009, 0.01, 0.01) == 0
    assert to_base(4.99, 0.01) == 0.0499 and base_step(0.01, 0.01) == 0.0001


def test_the_recent_candle_window_is_judged_on_the_venue_clock():
    now = 1_770_729_450_000
    edge = now - now % MIN - (RECENT_CANDLES_KEPT - 1) * MIN
    assert candle_endpoint(now - 100 * MIN, now, MIN) == "Candles"
    assert candle_endpoint(edge - MIN, now, MIN) == "HistoryCandles"
    assert candle_endpoint(edge, now, MIN) == "HistoryCandles"  # a margin before the edge


@pytest.mark.parametrize("code", [51050, 51052, 51053, 51277, 51278, 51279, 51280])
def test_a_wrong_side_stop_is_would_trigger_immediately_by_code(code):
    body = json.dumps({"code": "1", "data": [{"clOrdId": "x", "ordId": "", "sCode": str(code),
                                              "sMsg": "..."}], "msg": "Operation failed."},
                      separators=(",", ":"))
    error = translate(ccxt.ExchangeError("okx " + body), OKX)  # ccxt's class says nothing
    assert isinstance(error, Rejected) and error.reason is Reason.WOULD_TRIGGER_IMMEDIATELY
    assert error.code == code


def test_an_order_timed_out_is_transient_not_a_refusal():
    body = '{"code":"1","data":[{"sCode":"51149","sMsg":"Order timed out"}],"msg":""}'
    assert isinstance(translate(ccxt.ExchangeError("okx " + body), OKX), TransientExchangeError)


# -- trading against the fake ------------------------------------------------------------------

async def test_orders_carry_contracts_margin_mode_and_the_net_position_side(okx):
    fake, broker = okx
    rules = broker.rules("BTC/USDT")
    assert (rules.step, rules.min_qty, rules.contract_size) == (0.0001, 0.0001, 0.01)
    result = await broker.market_order("BTC/USDT", "buy", 0.04, "e1")
    assert result.filled == pytest.approx(0.04) and result.average == 50_000.0
    stop = await broker.protective_order("BTC/USDT", "sell", "stop", 49_000.0, "s1")
    [entry] = fake.calls("POST", ORDER)
    [algo] = fake.calls("POST", ALGO)
    assert (entry["sz"], entry["tdMode"], entry["posSide"], entry["clOrdId"]) == (
        "4", "isolated", "net", "e1")
    assert (algo["sz"], algo["tdMode"], algo["posSide"], algo["ordType"], algo["slTriggerPx"],
            algo["algoClOrdId"]) == ("4", "isolated", "net", "conditional", "49000", "s1")
    assert (stop.client_id, stop.kind) == ("s1", "stop")
    assert fake.position(BTC, "isolated") == 4
    lever = fake.calls("POST", "/api/v5/account/set-leverage")
    assert [(str(p["lever"]), p["mgnMode"]) for p in lever] == [("20", "isolated")]


async def test_open_protective_sees_conditional_stops_and_targets_by_our_ids(okx):
    fake, broker = okx
    await broker.market_order("BTC/USDT", "buy", 0.04, "e1")
    await broker.protective_order("BTC/USDT", "sell", "stop", 49_000.0, "s1")
    await broker.protective_order("BTC/USDT", "sell", "target", 52_000.0, "t1")
    found = {(o.client_id, o.kind, o.trigger, o.side) for o in await broker.open_protective()}
    assert found == {("s1", "stop", 49_000.0, "sell"), ("t1", "target", 52_000.0, "sell")}
    asked = fake.calls("GET", "/api/v5/trade/orders-algo-pending")
    assert asked[-1]["ordType"] == "conditional,oco"
    looked = await broker.find_order("BTC/USDT", "t1", conditional=True)
    assert (looked.client_id, looked.kind) == ("t1", "target")


async def test_a_market_order_id_is_never_sent_twice(okx):
    fake, broker = okx
    await broker.market_order("BTC/USDT", "buy", 0.04, "e1")
    with pytest.raises(TransientExchangeError):
        await broker.market_order("BTC/USDT", "buy", 0.04, "e1")  # OKX would take it again
    assert len(fake.calls("POST", ORDER)) == 1 and fake.position(BTC, "isolated") == 4


async def test_an_ambiguous_entry_is_looked_up_and_never_resent(okx, tmp_path):
    fake, broker = okx
    store = Store(tmp_path / "state.db")
    try:
        fake.fail(ORDER, 502, method="POST", lost=True)       # placed, answer lost
        fake.reject("/api/v5/trade/order", "51603", "Order does not exist.", method="GET",
                    times=2)                                  # lookups not caught up yet
        desk = OrderDesk(store, broker, venue="okx")
        with pytest.raises(OrderUnresolved):
            await desk.place(client_id="e1", signal_id=None, symbol="BTC/USDT", role="entry",
                             side="buy", quantity=0.04, price=None, conditional=False,
                             send=lambda: broker.market_order("BTC/USDT", "buy", 0.04, "e1"))
    finally:
        store.close()
    assert len(fake.calls("POST", ORDER)) == 1 and fake.position(BTC, "isolated") == 4


async def test_a_refused_stop_and_a_timed_out_order_are_read_by_their_codes(okx):
    fake, broker = okx
    await broker.market_order("BTC/USDT", "buy", 0.04, "e1")
    fake.reject(ALGO, "51053", "The stop loss trigger price must be higher than the best bid "
                               "price", method="POST")
    with pytest.raises(Rejected) as refused:
        await broker.protective_order("BTC/USDT", "sell", "stop", 49_000.0, "s1")
    assert refused.value.reason is Reason.WOULD_TRIGGER_IMMEDIATELY
    fake.reject(ORDER, "51149", "Order timed out", method="POST", status=500)
    with pytest.raises(TransientExchangeError):
        await broker.market_order("BTC/USDT", "sell", 0.04, "c1", reduce_only=True)


async def test_the_closing_fill_is_in_base_units_with_okx_pnl_and_fees(okx):
    fake, broker = okx
    opened_at = int(time.time() * 1000)
    await broker.market_order("BTC/USDT", "buy", 0.04, "e1")
    fake.set_price(BTC, 51_000.0)
    await broker.market_order("BTC/USDT", "sell", 0.04, "c1", reduce_only=True)
    from exchanges.port import Direction
    fill = await broker.closing_fill("BTC/USDT", Direction.LONG, opened_at - 60_000)
    assert fill is not None and fill.quantity == pytest.approx(0.04)
    assert fill.price == 51_000.0 and fill.pnl == pytest.approx(40.0)  # 0.04 x 1,000
    assert fill.fees == pytest.approx(0.04 * 50_000 * 0.0005 + 0.04 * 51_000 * 0.0005)


# -- market data against the fake --------------------------------------------------------------

def _minutes(start: int, n: int) -> pd.DataFrame:
    ts = start + np.arange(n, dtype=np.int64) * MIN
    close = 100.0 + np.sin(np.arange(n) / 50.0)
    return pd.DataFrame({"timestamp": ts, "open": close, "high": close + 0.5,
                         "low": close - 0.5, "close": close, "volume": 1.0})


async def _data(fake: FakeOKX, clock=None):
    options = {"retry": RetryPolicy(attempts=2, base_s=0.01, cap_s=0.02, budget_s=5.0)}
    if clock is not None:
        options["clock"] = clock
    data = components.market_data(_settings(data_url=fake.url), **options)
    await data.start()
    return data


async def test_a_range_past_the_recent_window_comes_whole_though_the_host_clock_lags():
    now = 1_770_729_450_000
    start = now - now % MIN - 3 * 1440 * MIN
    fake = FakeOKX({(BTC, "1m"): _minutes(start, 3 * 1440 + 1)}, now_ms=now)
    await fake.start()
    # The host clock 10 minutes behind the venue's: ccxt alone would pick the recent window.
    data = await _data(fake, clock=lambda: (now - 10 * MIN) / 1000)
    try:
        since = now - now % MIN - 1445 * MIN
        frame = await data.closed_candles("BTC/USDT", "1m", since_ms=since)
        last = await data.closed_candles("BTC/USDT", "1m", limit=1600)
    finally:
        await data.close()
        await fake.stop()
    assert frame["timestamp"].tolist() == list(range(since, now - now % MIN, MIN))
    assert len(last) == 1600 and int(last["timestamp"].iloc[-1]) == now - now % MIN - MIN
    assert "/api/v5/market/history-candles" in fake.paths()


async def test_days_and_six_hours_are_asked_on_the_utc_grid():
    now = 1_770_729_450_000
    fake = FakeOKX(now_ms=now)  # synthetic candles for every bar
    await fake.start()
    data = await _data(fake)
    try:
        days = await data.closed_candles("BTC/USDT", "1d", limit=3)
        await data.closed_candles("BTC/USDT", "6h", limit=3)
    finally:
        await data.close()
        await fake.stop()
    bars = {p["bar"] for p in fake.calls("GET", "/api/v5/market/candles")}
    assert bars == {"1Dutc", "6Hutc"}
    assert all(ts % 86_400_000 == 0 for ts in days["timestamp"])
    assert int(days["timestamp"].iloc[-1]) == now - now % 86_400_000 - 86_400_000


async def test_a_hedge_mode_account_is_refused_at_start():
    from exchanges.port import PositionModeError
    fake = FakeOKX(demo=True)
    fake.pos_mode = "long_short_mode"
    await fake.start()
    broker = components.trading(_settings(trading_url=fake.url), backoff_s=0.01, rate_limit=False)
    try:
        with pytest.raises(PositionModeError, match="One-way"):
            await broker.start(["BTC/USDT"])
        lines = {line.what: line.ok for line in await broker.check()}
        assert lines == {"trading host": True, "trading authentication": True,
                         "trading balance": True, "position mode": False, "margin mode": True}
    finally:
        await broker.close()
        await fake.stop()
    assert fake.calls("POST", "/api/v5/trade/order") == []
